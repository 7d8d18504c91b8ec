import { createHash } from 'node:crypto';
import cron from 'node-cron';
import { z } from 'zod';
import { anyInt, boundedInt } from './bounded.ts';
import { ChecksSpec } from './data/checks-spec.ts';
import { DRIFT_TESTS, type DriftTest } from './drift/types.ts';
import { Duration } from './duration.ts';
import { ValidationSpec } from './evaluate/validation-spec.ts';
import { FeaturesSpec } from './features/features-spec.ts';
import { TuningSpec } from './ml/tuning.ts';
import { MODEL_PARAMS } from './train/model-params.ts';

const Name = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, - and _, starting with a letter');

/** 1 s to 1 h: a spec cannot switch the timeout off or hold a transaction open for hours. */
const SqlTimeout = Duration.refine((ms) => ms >= 1000 && ms <= 3_600_000, {
  error: 'must be between 1s and 1h',
});

/**
 * The options of a synthetic source, which run params may also set (`rows=`, `seed=`,
 * `drift=`). At most 5,000,000 rows: the churn generator makes 1,000,000 rows in 1.8 s and
 * about 130 MB of heap, and features then hold a copy as numbers (rows × features × 8
 * bytes, 600 MB at 5 M × 15), so 5 M rows stays within a few GB end to end.
 */
const share = {
  error: (issue: { input?: unknown }) => `a share between 0 and 1 (got ${String(issue.input)})`,
};
export const SYNTHETIC_PARAMS = {
  rows: boundedInt(1, 5_000_000).default(2000),
  seed: anyInt().default(42),
  drift: z.number({ error: 'expected a number' }).min(0, share).max(1, share).default(0),
};

const Source = z.discriminatedUnion('type', [
  z.object({ type: z.literal('csv'), path: z.string().min(1) }),
  z.object({
    type: z.literal('sql'),
    /** One SQL statement; it runs in a read-only transaction (see `stages/data/sql.ts`). */
    query: z.string().min(1),
    /** The database to query, as its own user. Without it: Steward's database, as steward_reader. */
    url: z.string().optional(),
    /** How long the query may run before the database stops it. @default 60s */
    timeout: SqlTimeout.default(60_000),
  }),
  z.object({
    type: z.literal('synthetic'),
    generator: z.enum(['churn', 'housing']).default('churn'),
    ...SYNTHETIC_PARAMS,
  }),
]);

const Approval = z
  .object({
    required: z.boolean().default(true),
    approvers: z.array(z.string().min(1)).default([]),
    min_approvals: z.number().int().min(1).max(20).default(1),
    allow_self_approval: z.boolean().default(false),
    expires_after: Duration.default(24 * 3_600_000),
  })
  .strict();

const percent = {
  error: (issue: { input?: unknown }) => `a percentage above 0 and below 100 (got ${String(issue.input)})`,
};

/**
 * How an approved version goes live. `replace` moves production at once; `shadow` scores
 * every request with the new version beside production and returns production's answer;
 * `canary` sends `canary_percent` of traffic to it, split by a stable hash of `canary_key`
 * (a request field, or `header:<name>`) or at random without one, until `steward promote`
 * finishes it or `steward rollback` ends it.
 */
export const DeploySpec = z
  .object({
    strategy: z.enum(['replace', 'shadow', 'canary']).default('replace'),
    canary_percent: z.number({ error: 'expected a number' }).gt(0, percent).lt(100, percent).default(10),
    canary_key: z
      .string()
      .regex(
        /^(header:[A-Za-z0-9-]{1,64}|[^\s:][^:]{0,127})$/,
        'a request field such as customer_id, or header:<name> such as header:X-Customer-Id',
      )
      .optional(),
  })
  .strict();
export type DeploySpec = z.infer<typeof DeploySpec>;

/** A Slack channel (or the console's) by name or id. */
const Channel = z
  .string()
  .regex(
    /^(#[a-z0-9][a-z0-9_-]{0,79}|[CG][A-Z0-9]{2,20})$/,
    'a channel is `#name` (lower case, digits, - and _) or a Slack channel id such as C0123ABCD',
  );

const TimeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  {
    error: (issue) => `not a time zone: "${String(issue.input)}" (an IANA name such as Europe/Berlin or UTC)`,
  },
);

/** The drift tests a column can be given by name (`monitoring.drift.tests`). */

const CronSchedule = z.string().refine((expr) => cron.validate(expr), {
  error: (issue) =>
    `not a cron schedule: "${String(issue.input)}" (five fields, minute hour day month weekday, e.g. "*/15 * * * *"; a sixth in front gives seconds)`,
});

/**
 * How a deployed model is watched: its predictions are logged (`sample_rate`, kept for
 * `retention`), and every `schedule` tick compares the last `window` logged rows (or the
 * source re-read) with the training data, alerting in `channel`.
 */
export const MonitoringSpec = z
  .object({
    sample_rate: z.number({ error: 'expected a number' }).min(0, share).max(1, share).default(1),
    retention: Duration.refine((ms) => ms >= 3_600_000, { error: 'must be at least 1h' }).default(
      30 * 86_400_000,
    ),
    /** No schedule: no scheduled checks (a check can still be run by hand). */
    schedule: CronSchedule.optional(),
    /** IANA time zone of the schedule: UTC unless set, so every replica fires the same instants. */
    timezone: TimeZone.default('UTC'),
    window: boundedInt(1, 1_000_000).default(1000),
    current: z.enum(['predictions', 'source']).default('predictions'),
    drift: z
      .object({
        threshold: z.number().positive().max(10).default(0.1),
        p_value: z.number().positive().lt(1, 'a p-value threshold below 1').default(0.05),
        share: z.number().gt(0, 'a share above 0').max(1, share).default(0.5),
        bins: boundedInt(2, 100).default(10),
        /** Fewer current values than this make a feature `not_enough_data`: no verdict from a handful of rows. */
        min_rows: boundedInt(1, 1_000_000).default(100),
        tests: z
          .record(
            z.string(),
            z.enum(DRIFT_TESTS as [DriftTest, ...DriftTest[]], { error: `one of ${DRIFT_TESTS.join(', ')}` }),
          )
          .default({}),
        columns: z.array(z.string()).optional(),
      })
      .strict()
      .prefault({}),
    channel: Channel.default('#ml-alerts'),
    alert_on: z.enum(['column', 'dataset']).default('column'),
    repeat_after: Duration.refine((ms) => ms >= 60_000, { error: 'must be at least 1m' }).default(
      24 * 3_600_000,
    ),
    on_drift: z.enum(['propose_retrain', 'retrain']).default('propose_retrain'),
    retrain_source: z.enum(['source', 'feedback']).default('source'),
  })
  .strict()
  .refine((m) => m.current === 'source' || m.window >= m.drift.min_rows, {
    error: (issue) => {
      const m = issue.input as { window: number; drift: { min_rows: number } };
      return `window (${m.window}) is below drift.min_rows (${m.drift.min_rows}): no check could ever give a verdict; raise window or lower drift.min_rows`;
    },
    path: ['window'],
  });
export type MonitoringSpec = z.infer<typeof MonitoringSpec>;

/**
 * A pipeline spec (`pipelines/*.yaml`). Only name, task, source, target and model.type are
 * required; every other section has a documented default. `features` and `checks` are
 * validated by the schemas of the stages that use them.
 */
export const PipelineSpec = z
  .object({
    name: Name,
    description: z.string().default(''),
    /** Where every run of the pipeline is announced and followed, on each chat surface. */
    channel: Channel.default('#ml-ops'),
    task: z.enum(['classification', 'regression']),
    source: Source,
    target: z.string().min(1),
    features: FeaturesSpec.prefault({}),
    checks: ChecksSpec.prefault({}),
    model: z.object({
      type: z.enum(['linear', 'logistic', 'mlp', 'random_forest', 'gradient_boosting', 'knn']),
      params: z.record(z.string(), z.unknown()).default({}),
      tuning: z.record(z.string(), z.unknown()).optional(),
      seed: z.number().int().optional(),
    }),
    validation: ValidationSpec.prefault({}),
    approval: Approval.default(Approval.parse({})),
    deploy: DeploySpec.prefault({}),
    monitoring: MonitoringSpec.prefault({}),
    /** How many times a failed or lost stage is retried before the run fails. */
    retries: z.number().int().min(0).max(10).default(2),
  })
  .strict()
  .superRefine((spec, ctx) => {
    // Model parameters depend on the model type; report them with the rest of the spec.
    const parsed = MODEL_PARAMS[spec.model.type].safeParse(spec.model.params);
    for (const issue of parsed.success ? [] : parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['model', 'params', ...issue.path] });
    }
    if (spec.model.tuning) tuningIssues(spec.model.type, spec.model.tuning, ctx);
    if (spec.model.type === 'linear' && spec.task === 'classification') {
      ctx.addIssue({
        code: 'custom',
        message: 'linear is for regression; use logistic for classification',
        path: ['model', 'type'],
      });
    }
    if (spec.model.type === 'logistic' && spec.task === 'regression') {
      ctx.addIssue({
        code: 'custom',
        message: 'logistic is for classification; use linear for regression',
        path: ['model', 'type'],
      });
    }
  });
export type PipelineSpec = z.infer<typeof PipelineSpec>;

/**
 * `model.tuning` is checked with the spec, so a search cannot ask for what `model.params`
 * may not: every value a search would try obeys the same bounds (a grid over
 * `n_estimators: [100, 100000000]` is refused like `n_estimators: 100000000`).
 */
function tuningIssues(type: keyof typeof MODEL_PARAMS, tuning: unknown, ctx: z.RefinementCtx) {
  const parsed = TuningSpec.safeParse(tuning);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['model', 'tuning', ...issue.path] });
    }
    return;
  }
  const shape: Record<string, z.ZodType> = MODEL_PARAMS[type].shape;
  for (const [name, values] of Object.entries(parsed.data.space)) {
    const schema = shape[name];
    if (!schema) continue; // names only a search may vary (tol, max_bins …) are checked by the fitter
    values.forEach((value, i) => {
      const checked = schema.safeParse(value);
      for (const issue of checked.success ? [] : checked.error.issues) {
        ctx.addIssue({
          code: 'custom',
          message: issue.message,
          path: ['model', 'tuning', 'space', name, i, ...issue.path],
        });
      }
    });
  }
}

/** One line per problem, with its path, so a person can fix every mistake in one go. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`,
  );
}

export function specHash(spec: PipelineSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/** The JSON Schema of a spec as people write it, for editors (`steward pipeline schema`). */
export function pipelineJsonSchema(): object {
  return {
    ...z.toJSONSchema(PipelineSpec, { io: 'input', unrepresentable: 'any' }),
    title: 'Steward pipeline spec',
  };
}
