import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Binary content (gzipped JSON), as a Buffer on both drivers. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

/** Pipeline specs known to Steward, as last loaded. Runs keep their own copy in `runs.spec`. */
export const pipelines = pgTable('pipelines', {
  name: text('name').primaryKey(),
  spec: jsonb('spec').notNull(),
  specHash: text('spec_hash').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * One pipeline run. `snapshot` is the persisted XState snapshot, `version` the
 * compare-and-set counter that every applied event bumps by exactly one.
 */
export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    number: integer('number').generatedAlwaysAsIdentity().notNull().unique(),
    pipeline: text('pipeline').notNull(),
    kind: text('kind').notNull(),
    state: text('state').notNull(),
    snapshot: jsonb('snapshot').notNull(),
    machineVersion: integer('machine_version').notNull(),
    version: integer('version').notNull(),
    requestedBy: text('requested_by').notNull(),
    requestKey: text('request_key'),
    params: jsonb('params').$type<Record<string, string>>().notNull(),
    spec: jsonb('spec').notNull(),
    /** Why the run was started when not by a person's request alone: `{ type: 'drift', alert, … }`. */
    cause: jsonb('cause'),
    deadlineAt: timestamp('deadline_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('runs_request_key').on(t.requestKey),
    index('runs_pipeline_created').on(t.pipeline, t.createdAt),
    index('runs_state').on(t.state),
  ],
);

/** Append-only audit trail: who did what to which run, when and why. Never updated or deleted. */
export const runEvents = pgTable(
  'run_events',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    /** The credential's user when an admin acted for `actor` ("U02 via local"); null otherwise. */
    via: text('via'),
    idempotencyKey: text('idempotency_key').notNull(),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    payload: jsonb('payload').notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('run_events_seq').on(t.runId, t.seq),
    uniqueIndex('run_events_key').on(t.runId, t.idempotencyKey),
  ],
);

/** Approval decisions, one per person and run. Written in the same transaction as the event. */
export const approvals = pgTable(
  'approvals',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    userId: text('user_id').notNull(),
    decision: text('decision').notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.userId] }),
    check('approvals_decision', sql`${t.decision} in ('approved', 'rejected')`),
  ],
);

/** Roles: viewer < operator < approver < admin. `pipeline` is '*' for a global grant. */
export const roleGrants = pgTable(
  'role_grants',
  {
    userId: text('user_id').notNull(),
    pipeline: text('pipeline').notNull().default('*'),
    role: text('role').notNull(),
    grantedBy: text('granted_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.pipeline] }),
    check('role_grants_role', sql`${t.role} in ('viewer', 'operator', 'approver', 'admin')`),
  ],
);

/** Which chat message shows which run, so updates edit the message instead of posting anew. */
export const chatMessages = pgTable(
  'chat_messages',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    /** The adapter that posted the message (`slack`, `console`): updates go back through it. */
    surface: text('surface').notNull().default('slack'),
    purpose: text('purpose').notNull(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.surface, t.purpose] })],
);

/**
 * One row per attempt at a stage: the lease a worker holds while it works. A running
 * attempt whose heartbeat is older than the lease timeout belongs to a dead worker.
 */
export const stageAttempts = pgTable(
  'stage_attempts',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    stage: text('stage').notNull(),
    attempt: integer('attempt').notNull(),
    status: text('status').notNull(),
    jobId: text('job_id'),
    workerId: text('worker_id'),
    output: jsonb('output'),
    error: text('error'),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.stage, t.attempt] }),
    index('stage_attempts_running').on(t.status, t.heartbeatAt),
    check(
      'stage_attempts_status',
      sql`${t.status} in ('queued', 'running', 'done', 'failed', 'lost', 'released')`,
    ),
  ],
);

/**
 * Dataset snapshots, by content hash (PII columns already removed at ingest). `content` is
 * the gzipped column data that later stages read; `profile` is the per-column reference that
 * drift monitoring compares against.
 */
export const datasets = pgTable('datasets', {
  hash: text('hash').primaryKey(),
  pipeline: text('pipeline').notNull(),
  source: jsonb('source').notNull(),
  rowCount: integer('row_count').notNull(),
  columns: jsonb('columns').notNull(),
  profile: jsonb('profile').notNull(),
  content: bytea('content').notNull(),
  createdAt: createdAt(),
});

/** A trained, evaluated model: `churn` v1, v2 … with everything needed to serve and trace it. */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pipeline: text('pipeline').notNull(),
    version: integer('version').notNull(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    datasetHash: text('dataset_hash')
      .notNull()
      .references(() => datasets.hash),
    specHash: text('spec_hash').notNull(),
    task: text('task').notNull(),
    modelType: text('model_type').notNull(),
    params: jsonb('params').notNull(),
    /** The model itself (library JSON or tfjs topology + weights), gzipped JSON. */
    artifact: bytea('artifact').notNull(),
    /** The fitted feature transform that serving must apply. */
    transform: jsonb('transform').notNull(),
    metrics: jsonb('metrics').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('model_versions_pipeline_version').on(t.pipeline, t.version),
    uniqueIndex('model_versions_run').on(t.runId),
  ],
);

/**
 * Each pipeline's `production` alias: the version that answers predictions, and, while a
 * shadow or canary deployment is on, the candidate version beside it. Only the deploy
 * stage, `promote` and `rollback` change it, each in the transaction that appends its
 * `alias_history` entry; `generation` is bumped by every change and announced with
 * `pg_notify('steward_models', pipeline)`, so every serving process reloads within a second.
 */
export const productionModels = pgTable(
  'production_models',
  {
    pipeline: text('pipeline').primaryKey(),
    version: integer('version').notNull(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    deployedAt: timestamp('deployed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** `replace` (only `version` serves), `shadow` or `canary` (with `candidate`). */
    strategy: text('strategy').notNull().default('replace'),
    /** The shadow or canary version; null under `replace`. */
    candidate: integer('candidate'),
    /** The canary's share of traffic, 0–100. */
    canaryPercent: doublePrecision('canary_percent'),
    /** How a canary splits: a request field (`customer_id`), `header:<name>`, or null for at random. */
    canaryKey: text('canary_key'),
    generation: integer('generation').notNull().default(1),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('production_models_strategy', sql`${t.strategy} in ('replace', 'shadow', 'canary')`),
    check('production_models_candidate', sql`(${t.strategy} = 'replace') = (${t.candidate} is null)`),
  ],
);

/**
 * The production alias's history, appended to by every change: which version served (and
 * with which candidate beside it) from when until when, through which run, approved by
 * whom, and what it replaced. `undo` is the alias as it was before the change (null: there
 * was none), which `rollback` puts back; `undone_by` marks an entry a later rollback undid.
 */
export const aliasHistory = pgTable(
  'alias_history',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    pipeline: text('pipeline').notNull(),
    action: text('action').notNull(),
    strategy: text('strategy').notNull(),
    version: integer('version').notNull(),
    candidate: integer('candidate'),
    canaryPercent: doublePrecision('canary_percent'),
    /** The production version before this change; null for the first deployment. */
    replaced: integer('replaced'),
    runId: uuid('run_id').references(() => runs.id),
    actor: text('actor').notNull(),
    /** What proved who acted ("token tok_…", "a signed Slack request"), as the run events keep it. */
    credential: text('credential'),
    approvedBy: jsonb('approved_by').$type<string[]>().notNull().default([]),
    undo: jsonb('undo').$type<AliasState | null>(),
    undoneBy: bigint('undone_by', { mode: 'number' }),
    fromAt: timestamp('from_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    untilAt: timestamp('until_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('alias_history_pipeline').on(t.pipeline, t.id),
    check('alias_history_action', sql`${t.action} in ('deploy', 'rollback', 'promote')`),
  ],
);

/** The alias's serving state, as `alias_history.undo` keeps it. */
export type AliasState = {
  version: number;
  runId: string;
  strategy: 'replace' | 'shadow' | 'canary';
  candidate: number | null;
  canaryPercent: number | null;
  canaryKey: string | null;
};

/**
 * Predictions as served, sampled at the pipeline's `monitoring.sample_rate` and written in
 * batches off the request path. `role` says which version answered (`production`, `canary`)
 * or only scored beside it (`shadow`). Feedback fills `label`. Rows older than
 * `monitoring.retention` are pruned. Features are stored without the transform's PII columns.
 */
export const predictions = pgTable(
  'predictions',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    requestId: text('request_id').notNull(),
    row: integer('row').notNull(),
    pipeline: text('pipeline').notNull(),
    version: integer('version').notNull(),
    role: text('role').notNull(),
    features: jsonb('features').notNull(),
    prediction: jsonb('prediction').notNull(),
    label: jsonb('label'),
    labeledAt: timestamp('labeled_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
  },
  (t) => [
    index('predictions_request').on(t.requestId, t.row),
    index('predictions_pipeline_created').on(t.pipeline, t.createdAt),
    check('predictions_role', sql`${t.role} in ('production', 'canary', 'shadow')`),
  ],
);

/**
 * The chat outbox: one row per run and chat surface while that run's messages are out of
 * date. Every applied event upserts it (in the event's transaction), so any number of
 * events become one delivery, at most about one a second. A delivery claims its row with a
 * lease: a hung chat call holds up only its own run's row, never the others'.
 */
export const chatOutbox = pgTable(
  'chat_outbox',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    surface: text('surface').notNull().default('slack'),
    /** Bumped by every event; a delivery that saw an older generation leaves the row due. */
    generation: integer('generation').notNull().default(1),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }).notNull(),
    claimedBy: text('claimed_by'),
    claimedUntil: timestamp('claimed_until', { withTimezone: true, mode: 'date' }),
    /** Failed deliveries in a row; retried with backoff, never dropped. */
    failures: integer('failures').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.surface] }), index('chat_outbox_due').on(t.surface, t.dueAt)],
);

/**
 * Chat requests that change something (a click, a command, a modal submission), written
 * before Slack is acknowledged, so that a crash right after the ack loses nothing: a
 * request still `pending` after its claim ran out is handled again (its idempotency key
 * makes that safe).
 */
export const chatInbox = pgTable(
  'chat_inbox',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    surface: text('surface').notNull(),
    kind: text('kind').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    claimedUntil: timestamp('claimed_until', { withTimezone: true, mode: 'date' }),
    error: text('error'),
    createdAt: createdAt(),
    doneAt: timestamp('done_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('chat_inbox_key').on(t.surface, t.idempotencyKey),
    index('chat_inbox_pending').on(t.status, t.claimedUntil),
    check('chat_inbox_status', sql`${t.status} in ('pending', 'done', 'failed')`),
  ],
);

/**
 * Per-person API tokens. Only a SHA-256 of the token is kept: it is shown once, when
 * created. A request bearing it acts as `userId`.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    hash: text('hash').notNull(),
    /** `all`, or `predict`: a token for a program that only calls the serving endpoints. */
    scope: text('scope').notNull().default('all'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('api_tokens_hash').on(t.hash), index('api_tokens_user').on(t.userId)],
);

/**
 * Browser sessions, made when the start URL's token is exchanged for a cookie. Only a
 * SHA-256 of the cookie is kept; `csrf` is sent back with every request that changes something.
 */
export const sessions = pgTable('sessions', {
  hash: text('hash').primaryKey(),
  userId: text('user_id').notNull(),
  /** The personal token the session was made from: revoking the token ends the session. */
  tokenId: text('token_id'),
  csrf: text('csrf').notNull(),
  /** Whom the console acts as, when its person switcher is on (a demo persona); null: the session's user. */
  actingAs: text('acting_as'),
  createdAt: createdAt(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * The local console's conversation: what Steward and people said in its channels, threads
 * and direct messages. `visible_to` makes a message ephemeral (only that user sees it).
 */
export const consoleMessages = pgTable(
  'console_messages',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    channel: text('channel').notNull(),
    /** The thread's root message, for a reply. */
    thread: bigint('thread', { mode: 'number' }),
    author: text('author').notNull(),
    text: text('text').notNull(),
    blocks: jsonb('blocks'),
    visibleTo: text('visible_to'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('console_messages_channel').on(t.channel, t.id)],
);

/** Each person's App Home in the console, as last published. */
export const consoleHomes = pgTable('console_homes', {
  userId: text('user_id').primaryKey(),
  view: jsonb('view').notNull(),
  updatedAt: updatedAt(),
});

/**
 * Drift checks as run: one row per check of a pipeline's production version, with the full
 * report. A scheduled check is keyed by the tick's scheduled time, so however many
 * processes fire the same tick, one check is stored (and one alert decided) for it.
 */
export const driftReports = pgTable(
  'drift_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pipeline: text('pipeline').notNull(),
    version: integer('version').notNull(),
    /** `schedule` (a cron tick) or `manual` (`steward drift <pipeline>`, the API). */
    trigger: text('trigger').notNull(),
    tickAt: timestamp('tick_at', { withTimezone: true, mode: 'date' }),
    /** What was compared with the training data: `predictions` (the log) or `source` (re-read). */
    current: text('current').notNull(),
    referenceHash: text('reference_hash').notNull(),
    referenceRows: integer('reference_rows').notNull(),
    currentRows: integer('current_rows').notNull(),
    datasetDrift: boolean('dataset_drift').notNull(),
    driftedColumns: jsonb('drifted_columns').$type<string[]>().notNull(),
    report: jsonb('report').notNull(),
    requestedBy: text('requested_by'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('drift_reports_tick').on(t.pipeline, t.tickAt),
    index('drift_reports_pipeline_created').on(t.pipeline, t.createdAt),
    check('drift_reports_trigger', sql`${t.trigger} in ('schedule', 'manual')`),
  ],
);

/**
 * A drift alert: open (`firing`) from the check that found drift until one finds none
 * (`resolved`). At most one is firing per pipeline. `notified` is what the last page said
 * (the drifted columns and their scores), against which "worse" is judged.
 */
export const driftAlerts = pgTable(
  'drift_alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    number: integer('number').generatedAlwaysAsIdentity().notNull().unique(),
    pipeline: text('pipeline').notNull(),
    version: integer('version').notNull(),
    channel: text('channel').notNull(),
    status: text('status').notNull(),
    lastReport: uuid('last_report')
      .notNull()
      .references(() => driftReports.id),
    notified: jsonb('notified').$type<Record<string, number>>().notNull(),
    notifiedAt: timestamp('notified_at', { withTimezone: true, mode: 'date' }).notNull(),
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true, mode: 'date' }),
    snoozedBy: text('snoozed_by'),
    retrainRun: uuid('retrain_run').references(() => runs.id),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('drift_alerts_one_firing').on(t.pipeline).where(sql`${t.status} = 'firing'`),
    index('drift_alerts_pipeline').on(t.pipeline, t.createdAt),
    check('drift_alerts_status', sql`${t.status} in ('firing', 'resolved')`),
  ],
);

/**
 * What happened to an alert, append-only, in order: each `fired`, `repeated` or `worsened`
 * is a page (a message in the alert channel); `resolved`, `snoozed` and `retrain` are
 * replies in the thread of the page before them.
 */
export const alertEvents = pgTable(
  'alert_events',
  {
    alertId: uuid('alert_id')
      .notNull()
      .references(() => driftAlerts.id),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    reportId: uuid('report_id').references(() => driftReports.id),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.alertId, t.seq] }),
    check(
      'alert_events_type',
      sql`${t.type} in ('fired', 'repeated', 'worsened', 'resolved', 'snoozed', 'retrain')`,
    ),
  ],
);

/** An alert's messages on each chat surface (`page:<seq>`, `chart:<seq>`, `note:<seq>`), as `chat_messages` are a run's. */
export const alertMessages = pgTable(
  'alert_messages',
  {
    alertId: uuid('alert_id')
      .notNull()
      .references(() => driftAlerts.id),
    surface: text('surface').notNull(),
    purpose: text('purpose').notNull(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.alertId, t.surface, t.purpose] })],
);

/** The alerts' chat outbox: as `chat_outbox` is for runs, and delivered by the same loop. */
export const alertOutbox = pgTable(
  'alert_outbox',
  {
    alertId: uuid('alert_id')
      .notNull()
      .references(() => driftAlerts.id),
    surface: text('surface').notNull(),
    generation: integer('generation').notNull().default(1),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }).notNull(),
    claimedBy: text('claimed_by'),
    claimedUntil: timestamp('claimed_until', { withTimezone: true, mode: 'date' }),
    failures: integer('failures').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.alertId, t.surface] }), index('alert_outbox_due').on(t.surface, t.dueAt)],
);
