import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StewardError } from './errors.ts';
import { dataRoots, splitDataRoots } from './stages/data/data-roots.ts';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const Env = z.object({
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  STEWARD_DATA_DIR: z.string().default('./.steward'),
  STEWARD_PIPELINES_DIR: z.string().default('./pipelines'),
  /** Directories CSV sources may be read from, `path.delimiter`-separated; default: the pipelines dir's parent. */
  STEWARD_DATA_ROOTS: optionalString.superRefine((value, ctx) => {
    for (const dir of splitDataRoots(value ?? '')) {
      if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        ctx.addIssue({
          code: 'custom',
          message: `${dir} is not a directory (list the directories CSV sources may be read from, separated by "${path.delimiter}")`,
        });
      }
    }
  }),
  PORT: z.coerce.number({ error: 'must be a port number, 0-65535' }).int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString.pipe(
    z.url({ error: 'must be a URL such as http://localhost:9000/api/' }).optional(),
  ),
  STEWARD_LLM: optionalString,
  STEWARD_ADMINS: optionalString,
  STEWARD_API_TOKEN: optionalString,
  STEWARD_URL: optionalString.pipe(
    z.url({ error: 'must be a URL such as http://steward.internal:3000' }).optional(),
  ),
  STEWARD_TOKEN: optionalString,
  STEWARD_PUBLIC_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://steward.example.com' })
      .optional(),
  ),
  STEWARD_ALLOWED_HOSTS: optionalString.pipe(
    z
      .string()
      .regex(
        /^[\w.:[\]-]+([\s,]+[\w.:[\]-]+)*$/,
        'must be host names separated by commas, e.g. steward.internal,10.0.0.5',
      )
      .optional(),
  ),
  STEWARD_CONSOLE: z.enum(['off', 'on', 'demo'], { error: 'must be off, on or demo' }).optional(),
  STEWARD_SERVING_AUTH: z.enum(['token', 'none'], { error: 'must be token or none' }).optional(),
  STEWARD_METRICS_AUTH: z.enum(['token', 'none'], { error: 'must be token or none' }).optional(),
  /** Where `steward worker` serves /healthz and /metrics. */
  STEWARD_METRICS_PORT: z.coerce
    .number({ error: 'must be a port number, 0-65535' })
    .int()
    .min(0)
    .max(65535)
    .default(9464),
  STEWARD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds without a heartbeat after which a stage attempt counts as lost. */
  STEWARD_LEASE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).positive().default(30),
  /** On SIGTERM, how long running stages may finish before they are released to other workers. */
  STEWARD_SHUTDOWN_GRACE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .min(0)
    .default(10),
  /** How many stage jobs one process runs at once. */
  STEWARD_CONCURRENCY: z.coerce
    .number({ error: 'must be a whole number, 1-64' })
    .int()
    .min(1)
    .max(64)
    .default(2),
});

/**
 * The names of the variables `loadConfig` reads and validates, so that a deployment's
 * environment file can be checked for names Steward would silently ignore.
 */
export const CONFIG_VARIABLES: readonly (keyof typeof Env.shape)[] = Object.keys(
  Env.shape,
) as (keyof typeof Env.shape)[];

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  pipelinesDir: string;
  /** Directories CSV sources may be read from (resolved); see `dataRoots`. */
  dataRoots: string[];
  port: number;
  host: string;
  slack: { botToken?: string; signingSecret?: string; appToken?: string; apiUrl?: string };
  llm: string | undefined;
  admins: string[];
  apiToken: string | undefined;
  serverUrl: string | undefined;
  /** The person's API token, for the CLI talking to a Steward over HTTP. */
  token: string | undefined;
  publicUrl: string | undefined;
  allowedHosts: string[];
  logLevel: z.infer<typeof Env>['STEWARD_LOG_LEVEL'];
  /**
   * The local chat console: `on`, `off`, or `demo` (with the person switcher). Unset, it is
   * `demo` on the embedded database (one person trying Steward plays the whole team) and
   * `off` on PostgreSQL.
   */
  console: 'off' | 'on' | 'demo';
  /**
   * Whether the prediction endpoints need a bearer token. Unset, `token` whenever
   * STEWARD_API_TOKEN is set or Steward listens beyond loopback, `none` otherwise.
   */
  servingAuth: 'token' | 'none';
  /**
   * Whether `GET /metrics` needs a bearer token. Unset, `token` whenever STEWARD_API_TOKEN
   * is set or Steward listens beyond loopback, `none` otherwise; decided apart from
   * `servingAuth`, so opening the prediction endpoints does not open the metrics.
   */
  metricsAuth: 'token' | 'none';
  /** `steward worker`'s /healthz and /metrics port; 0 picks a free one. @default 9464 */
  metricsPort: number;
  leaseMs: number;
  shutdownGraceMs: number;
  concurrency: number;
};

/** Reads and validates the environment. Throws CONFIG_INVALID naming every wrong variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(withoutBlanks(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new StewardError('CONFIG_INVALID', `invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (Boolean(e.SLACK_BOT_TOKEN) !== Boolean(e.SLACK_SIGNING_SECRET) && !e.SLACK_APP_TOKEN) {
    throw new StewardError(
      'CONFIG_INVALID',
      'invalid environment:\n  SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set together for Slack HTTP mode',
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.STEWARD_DATA_DIR),
    pipelinesDir: path.resolve(e.STEWARD_PIPELINES_DIR),
    dataRoots: dataRoots(e),
    port: e.PORT,
    host: e.HOST,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
    },
    llm: e.STEWARD_LLM,
    admins: (e.STEWARD_ADMINS ?? '')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean),
    apiToken: e.STEWARD_API_TOKEN,
    serverUrl: e.STEWARD_URL,
    token: e.STEWARD_TOKEN,
    publicUrl: e.STEWARD_PUBLIC_URL,
    allowedHosts: (e.STEWARD_ALLOWED_HOSTS ?? '').split(/[\s,]+/).filter(Boolean),
    logLevel: e.STEWARD_LOG_LEVEL,
    console: e.STEWARD_CONSOLE ?? (e.DATABASE_URL ? 'off' : 'demo'),
    servingAuth: e.STEWARD_SERVING_AUTH ?? (e.STEWARD_API_TOKEN || !isLoopback(e.HOST) ? 'token' : 'none'),
    metricsAuth: e.STEWARD_METRICS_AUTH ?? (e.STEWARD_API_TOKEN || !isLoopback(e.HOST) ? 'token' : 'none'),
    metricsPort: e.STEWARD_METRICS_PORT,
    leaseMs: Math.round(e.STEWARD_LEASE_SECONDS * 1000),
    shutdownGraceMs: Math.round(e.STEWARD_SHUTDOWN_GRACE_SECONDS * 1000),
    concurrency: e.STEWARD_CONCURRENCY,
  };
}

/**
 * Steward's variables that are set to something: one set to nothing (`PORT=` in an env
 * file, `export HOST=`) counts as unset and takes its default, rather than being read as
 * `0` or as an empty path.
 */
function withoutBlanks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    CONFIG_VARIABLES.flatMap((name) => (env[name]?.trim() ? [[name, env[name]]] : [])),
  );
}

/** Whether `host` is a loopback address: only this machine can reach a server bound to it. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
