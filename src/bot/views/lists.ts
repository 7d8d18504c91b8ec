/**
 * Replies to the read-only commands (`help`, `runs`, `models`, `pipelines`, `whoami`) and
 * the ephemeral refusal shown when a command cannot be done. Lists are bounded: a reply
 * shows the newest rows and says how many more there are, because a 200-row list is
 * neither readable nor postable (50 blocks, 3000 characters a section).
 */
import type { KnownBlock } from '@slack/types';
import type { RunView } from '../../workflows/run-engine.ts';
import type { ModelView } from '../../workflows/run-service.ts';
import { USAGE, VERBS, type Verb } from '../commands/usage.ts';
import { context, header, type Message, section, sections } from './blocks.ts';
import { escapeText, formatMetric, formatTime, mention, orderMetrics, plural } from './format.ts';
import { fitBlocks, LIMITS, truncate } from './limits.ts';
import { pipelineName, runLine } from './run-state.ts';
import { NumberRecord } from './summaries.ts';

/** What each verb does, beside its usage line from the grammar (`USAGE`). */
const DOES: Partial<Record<Verb, string>> = {
  help: 'this list, or how to write one command',
  pipelines: 'the pipelines Steward knows',
  run: 'start a training run, e.g. `run churn epochs=30`',
  runs: 'recent runs, optionally of one pipeline or in one state',
  status: 'a run’s stages, progress and outcome',
  approve: 'approve a run waiting for a decision (not your own)',
  reject: 'reject it, saying why',
  cancel: 'stop a run that has not finished',
  models: 'model versions and what they serve: ⭐ production, 🐤 canary, 👥 shadow',
  deploy: 'put a registered model version in production, by the pipeline’s strategy',
  rollback: 'undo the last change to production (or go to vN; `--to vN` works too)',
  promote: 'finish a canary or shadow: its candidate serves all traffic (approvers)',
  history: 'what served production when, who asked and approved, what was undone',
  drift: 'the latest drift report',
  grant: 'give someone a role (admins)',
  revoke: 'take a role away (admins)',
  whoami: 'your roles',
};

export type HelpOptions = {
  /** The slash command as registered in the Slack app. @default '/mlops' */
  command?: string;
};

/** The command list (every verb of the grammar), and a reminder that plain sentences work too. */
export function helpMessage({ command = '/mlops' }: HelpOptions = {}): Message {
  const lines = VERBS.map((verb) => {
    const does = DOES[verb];
    return `\`${escapeText(`${command} ${USAGE[verb]}`)}\`${does ? ` — ${does}` : ''}`;
  });
  return {
    text: `Steward commands: ${VERBS.join(', ')}`,
    blocks: [
      header('What Steward can do'),
      ...sections(lines),
      context(
        'Or just write to me, e.g. “@steward retrain churn on last week’s data”. ' +
          'Anything that changes something is shown to you to confirm first.',
      ),
    ],
  };
}

export type ListOptions = {
  /** Rows shown before "… and N more". @default 20 */
  limit?: number;
  /** The pipeline the list was filtered to, for the title. */
  pipeline?: string;
  /** @default '/mlops' */
  command?: string;
};

/** Bounded lines plus a "… and N more" context, within a message's block budget. */
function boundedList(title: string, lines: readonly string[], limit: number, hint: string): KnownBlock[] {
  const shown = lines.slice(0, Math.max(1, limit));
  const blocks: KnownBlock[] = [header(title), ...sections(shown)];
  if (lines.length > shown.length) blocks.push(context(`… and ${lines.length - shown.length} more. ${hint}`));
  return fitBlocks(blocks, LIMITS.messageBlocks);
}

/** The `runs` reply: newest first, one line each. */
export function runsList(runs: readonly RunView[], options: ListOptions = {}): Message {
  const { limit = 20, pipeline, command = '/mlops' } = options;
  const of = pipeline ? ` of ${truncate(pipeline, 80)}` : '';
  if (runs.length === 0) {
    const start = escapeText(`${command} run ${pipeline ?? '<pipeline>'}`);
    return {
      text: `No runs${of} yet.`,
      blocks: [section(`No runs${escapeText(of)} yet. Start one with \`${start}\`.`)],
    };
  }
  const hint = pipeline ? '' : `Narrow it with \`${escapeText(`${command} runs <pipeline>`)}\`.`;
  return {
    text: `${plural(runs.length, 'run')}${of}`,
    blocks: boundedList(`Runs${of}`, runs.map(runLine), limit, hint),
  };
}

/** How a version serves, first in its line; production at all of the traffic needs no words. */
function servingMark(model: ModelView): { mark: string; share: string } {
  switch (model.serving) {
    case 'production':
      return { mark: '⭐', share: model.traffic < 100 ? ` · ${model.traffic}% of traffic` : '' };
    case 'canary':
      return { mark: '🐤', share: ` · canary ${model.traffic}%` };
    case 'shadow':
      return { mark: '👥', share: ' · shadow' };
    default:
      return { mark: '▫️', share: '' };
  }
}

/** Production first, then the canary, then the shadow, then the rest. */
const SERVING_ORDER = ['production', 'canary', 'shadow'] as const;
const servingRank = (model: ModelView) => {
  const i = SERVING_ORDER.indexOf(model.serving as (typeof SERVING_ORDER)[number]);
  return i === -1 ? SERVING_ORDER.length : i;
};

/** One model version: `⭐ *churn* v3 · 90% of traffic · mlp · roc_auc 0.912 · run #12 · 2026-01-02 14:03 UTC`. */
function modelLine(model: ModelView): string {
  const metrics = NumberRecord.parse(model.metrics);
  const [name] = orderMetrics(Object.keys(metrics));
  const metric = name === undefined ? '' : ` · ${escapeText(name)} ${formatMetric(metrics[name])}`;
  const { mark, share } = servingMark(model);
  return (
    `${mark} *${pipelineName(model.pipeline, 60)}* v${model.version}${share}` +
    ` · ${escapeText(truncate(model.modelType, 40))}${metric} · run #${model.run} · ${formatTime(model.createdAt)}`
  );
}

/** The `models` reply: per pipeline, what serves first (production, canary, shadow), then newest versions. */
export function modelsList(models: readonly ModelView[], options: ListOptions = {}): Message {
  const { limit = 30, pipeline, command = '/mlops' } = options;
  const of = pipeline ? ` of ${truncate(pipeline, 80)}` : '';
  if (models.length === 0) {
    return {
      text: `No models${of} yet.`,
      blocks: [
        section(
          `No model versions${escapeText(of)} yet. A training run that passes evaluation registers one.`,
        ),
      ],
    };
  }
  const sorted = [...models].sort(
    (a, b) =>
      a.pipeline.localeCompare(b.pipeline) || servingRank(a) - servingRank(b) || b.version - a.version,
  );
  const count = (serving: ModelView['serving']) => models.filter((m) => m.serving === serving).length;
  const beside = [
    count('canary') ? `, ${plural(count('canary'), 'canary', 'canaries')}` : '',
    count('shadow') ? `, ${count('shadow')} in shadow` : '',
  ].join('');
  return {
    text: `${plural(models.length, 'model version')}${of}, ${count('production')} in production${beside}`,
    blocks: boundedList(
      `Models${of}`,
      sorted.map(modelLine),
      limit,
      `Narrow it with \`${escapeText(`${command} models <pipeline>`)}\`.`,
    ),
  };
}

/** The `pipelines` reply. */
export function pipelinesList(names: readonly string[], options: Pick<ListOptions, 'command'> = {}): Message {
  const command = options.command ?? '/mlops';
  if (names.length === 0) {
    return {
      text: 'No pipelines yet.',
      blocks: [section('No pipelines yet. Add a spec to `pipelines/` (see the README).')],
    };
  }
  const lines = [...names].sort().map((n) => `• *${pipelineName(n)}*`);
  const blocks = boundedList(`Pipelines (${names.length})`, lines, 100, '');
  blocks.push(context(`Start one with \`${escapeText(`${command} run <pipeline>`)}\`.`));
  return {
    text: `Pipelines: ${truncate(names.join(', '), 1000)}`,
    blocks: fitBlocks(blocks, LIMITS.messageBlocks),
  };
}

/** What each role allows, cumulative from viewer up. */
const ROLE_MEANS: Record<string, string> = {
  viewer: 'see runs and models',
  operator: 'also start and cancel runs',
  approver: 'also approve and reject runs (not your own), and promote canaries and shadows',
  admin: 'everything, and grant roles',
};

export type WhoAmI = {
  user: string;
  /** The user's grants; `pipeline: '*'` means every pipeline. */
  grants: readonly { pipeline: string; role: string }[];
};

/** The `whoami` reply: the viewer's roles, and what they allow. */
export function whoamiMessage({ user, grants }: WhoAmI): Message {
  if (grants.length === 0) {
    return {
      text: 'You have no roles yet.',
      blocks: [
        section(`${mention(user)}, you have no roles yet, so you can only ask for help.`),
        context(`Ask an admin: \`${escapeText(`grant ${truncate(user, 40)} operator <pipeline>`)}\``),
      ],
    };
  }
  const sorted = [...grants].sort((a, b) =>
    a.pipeline === '*' ? -1 : b.pipeline === '*' ? 1 : a.pipeline.localeCompare(b.pipeline),
  );
  const lines = sorted.map((g) => {
    const where = g.pipeline === '*' ? '*every pipeline*' : `*${pipelineName(g.pipeline)}*`;
    const means = ROLE_MEANS[g.role];
    return `• ${escapeText(truncate(g.role, 40))} on ${where}${means ? ` — ${means}` : ''}`;
  });
  return {
    text: `Your roles: ${truncate(sorted.map((g) => `${g.role} on ${g.pipeline === '*' ? 'every pipeline' : g.pipeline}`).join(', '), 1000)}`,
    blocks: fitBlocks([section(`${mention(user)}, your roles:`), ...sections(lines)], LIMITS.messageBlocks),
  };
}

/**
 * An ephemeral "cannot do that": the reason (a StewardError's message already says what
 * to do) and, optionally, a hint for what to try instead.
 */
export function refusal(message: string, hint?: string): Message {
  const blocks: KnownBlock[] = [section(`🚫 ${escapeText(message)}`)];
  if (hint?.trim()) blocks.push(context(`💡 ${escapeText(truncate(hint, 2000))}`));
  return { text: truncate(`🚫 ${message}`, 3000), blocks };
}
