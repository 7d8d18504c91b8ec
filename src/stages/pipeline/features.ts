import { fitTransform } from '../features/transform.ts';
import { PipelineSpec } from '../spec.ts';
import type { StageFn } from '../stage.ts';
import { failOnBadInput } from './failures.ts';
import { requireDataset, splitRows, takeRows } from './inputs.ts';

/** Features: fits the transform that training, evaluation and serving all apply. */
export const features: StageFn = async (request) => {
  const spec = PipelineSpec.parse(request.run.spec);
  const table = requireDataset(request);
  // Fitted on the training rows only: the holdout must not leak into means, scales or vocabularies.
  const transform = await failOnBadInput('features', () =>
    fitTransform(takeRows(table, splitRows(spec, table).train), {
      target: spec.target,
      task: spec.task,
      spec: spec.features,
    }),
  );
  return {
    output: { transform },
    summary: {
      features: transform.features.length,
      inputs: transform.inputs.length,
      dropped: transform.dropped.map((d) => `${d.name} (${d.reason})`),
    },
  };
};
