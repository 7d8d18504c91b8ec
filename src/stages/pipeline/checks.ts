import { formatCheckReport } from '../data/check-report.ts';
import { runChecks } from '../data/checks.ts';
import { PipelineSpec } from '../spec.ts';
import { StageFailure, type StageFn } from '../stage.ts';
import { requireDataset } from './inputs.ts';

/** Data checks: the spec's declared rules and the automatic ones. A failure ends the run with the report. */
export const checks: StageFn = async (request) => {
  const spec = PipelineSpec.parse(request.run.spec);
  const table = requireDataset(request);
  const outcome = runChecks(table, { task: spec.task, target: spec.target, checks: spec.checks });
  if (!outcome.passed) throw new StageFailure(`data checks failed:\n${formatCheckReport(outcome.results)}`);
  const results = outcome.results.map((r) => ({
    check: r.check,
    column: r.column ?? null,
    passed: r.passed,
    observed: r.observed,
  }));
  return { output: { results }, summary: { passed: results.length, failed: 0, results } };
};
