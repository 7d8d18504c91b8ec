import type { CheckResult, ChecksOutcome } from './check-result.ts';
import { notEmptyChecks, numericChecks, type Task, targetChecks } from './checks-automatic.ts';
import { allowedChecks, maxMissingChecks, minRowsCheck, rangeChecks } from './checks-declared.ts';
import { parseChecksSpec } from './checks-spec.ts';
import type { Table } from './table.ts';

export { formatCheckReport } from './check-report.ts';
export type { CheckResult, ChecksOutcome } from './check-result.ts';
export type { Task } from './checks-automatic.ts';
export { ChecksSpec, type ChecksSpecInput, parseChecksSpec } from './checks-spec.ts';

/**
 * What `runChecks` needs from a pipeline spec; a whole `PipelineSpec` fits. `checks` is the
 * raw spec section and is validated here (a PIPELINE_INVALID error if it is wrong).
 */
export type RunChecksOptions = { task?: Task; target?: string; checks?: unknown };

/**
 * Data-quality gate before features and training. Runs the automatic checks (target
 * present and learnable, no empty column, declared numeric columns numeric), then the
 * spec's declared ones, and returns every verdict, passes included, so a report can say
 * what was verified as well as what failed. Pure: no I/O, same table, same results.
 */
export function runChecks(table: Table, options: RunChecksOptions = {}): ChecksOutcome {
  const spec = parseChecksSpec(options.checks);
  const results: CheckResult[] = [
    ...(options.target === undefined ? [] : targetChecks(table, options.target, options.task)),
    ...notEmptyChecks(table),
    ...numericChecks(table, spec.numeric),
    ...(spec.min_rows === undefined ? [] : [minRowsCheck(table, spec.min_rows)]),
    ...(spec.max_missing === undefined ? [] : maxMissingChecks(table, spec.max_missing)),
    ...rangeChecks(table, spec.ranges),
    ...allowedChecks(table, spec.allowed),
  ];
  return { passed: results.every((result) => result.passed), results };
}
