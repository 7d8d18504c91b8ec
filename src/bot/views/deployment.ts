/**
 * How a production alias serves, in the words the run message, the stage report and the
 * deploy answers share: "v4 is a canary on 10% of traffic beside v3". The alias itself is
 * read from a deploy summary or a history entry, both of which may lack a field (an older
 * Steward wrote them), so every phrase copes with what is missing.
 */
import type { AliasView, HistoryEntry } from '../../workflows/deployments.ts';
import { context, type Message, section } from './blocks.ts';
import { escapeText, mention } from './format.ts';
import { truncate } from './limits.ts';
import { pipelineName } from './run-state.ts';
import type { DeploySummary } from './summaries.ts';

/** An alias as the views need it: production and, for a canary or shadow, the candidate beside it. */
export type Serving = {
  production?: number | undefined;
  strategy: 'replace' | 'shadow' | 'canary';
  candidate?: number | undefined;
  percent?: number | undefined;
};

const v = (version: number | undefined) => (version === undefined ? 'an unknown version' : `v${version}`);

/** A split is on only when there is a candidate; a replace (or a summary without one) is production alone. */
const isSplit = (s: Serving): s is Serving & { strategy: 'canary' | 'shadow'; candidate: number } =>
  s.strategy !== 'replace' && s.candidate !== undefined;

export const servingOfEntry = (e: HistoryEntry): Serving => ({
  production: e.version,
  strategy: e.strategy === 'canary' || e.strategy === 'shadow' ? e.strategy : 'replace',
  candidate: e.candidate ?? undefined,
  percent: e.canaryPercent ?? undefined,
});

/** "v3", "v3 with v4 as a 10% canary", "v3 with v4 in shadow". */
export function servingText(s: Serving): string {
  if (!isSplit(s)) return v(s.production);
  if (s.strategy === 'shadow') return `${v(s.production)} with v${s.candidate} in shadow`;
  const share = s.percent === undefined ? '' : ` ${s.percent}%`;
  return `${v(s.production)} with v${s.candidate} as a${share} canary`;
}

/** The deploy stage's line in a run's checklist: "production is v4", "v4 is a 10% canary beside v3". */
export function deployBrief(s: DeploySummary): string {
  let brief = `production is ${v(s.production)}`;
  if (isSplit(s)) {
    brief =
      s.strategy === 'canary'
        ? `v${s.candidate} is a ${s.percent === undefined ? '' : `${s.percent}% `}canary beside ${v(s.production)}`
        : `v${s.candidate} runs in shadow beside ${v(s.production)}`;
  }
  return s.unchanged ? `nothing changed; ${brief}` : brief;
}

/**
 * How a deployed run left production, for its message: what serves now and, for a canary or
 * a shadow, the two commands that end it. `since` is already formatted (" since …" or "").
 */
export function deployOutcome(
  s: DeploySummary,
  options: { pipeline: string; since: string; command?: string },
): string {
  const name = pipelineName(options.pipeline);
  const command = options.command ?? '/mlops';
  const pipeline = escapeText(truncate(options.pipeline, 80));
  if (s.unchanged) {
    const what = isSplit(s)
      ? `v${s.candidate} was already ${s.strategy === 'canary' ? canaryShare(s.percent) : 'in shadow'} beside ${v(s.production)}`
      : `${v(s.production)} was already in production`;
    return `ℹ️ *${name}* ${what}; nothing changed.`;
  }
  if (!isSplit(s)) return `🚀 *${name}* ${v(s.production)} is in production${options.since}.`;
  const ends = `\`${command} promote ${pipeline}\` finishes it, \`${command} rollback ${pipeline}\` ends it.`;
  if (s.strategy === 'canary') {
    return `🐤 *${name}* v${s.candidate} is ${canaryShare(s.percent)} beside ${v(s.production)}${options.since}; ${ends}`;
  }
  return (
    `👥 *${name}* v${s.candidate} runs in shadow beside ${v(s.production)}${options.since}: ` +
    `it scores the same requests and answers none; ${ends}`
  );
}

const canaryShare = (percent: number | undefined) =>
  percent === undefined ? 'a canary' : `a canary on ${percent}% of traffic`;

/** The private answer to a deploy or rollback that would change nothing. */
export function unchangedMessage(message: string): Message {
  return { text: `ℹ️ ${truncate(message, 2000)}`, blocks: [section(`ℹ️ ${escapeText(message)}`)] };
}

/**
 * The answer to a promotion: who made which version production, and what served before
 * (`before`, the history entry the promotion closed, when it was found).
 */
export function promotedMessage({
  alias,
  by,
  before,
}: {
  alias: AliasView;
  by: string;
  before?: Serving | undefined;
}): Message {
  const name = pipelineName(alias.pipeline);
  const was = before ? ` (was ${servingText(before)})` : '';
  return {
    text: truncate(`🏁 ${alias.pipeline} v${alias.production} is now production${was}`, 500),
    blocks: [
      section(`🏁 *${name}* v${alias.production} is now production${was}, promoted by ${mention(by)}.`),
      context(
        `It serves all traffic. \`/mlops rollback ${escapeText(truncate(alias.pipeline, 80))}\` puts back what served before.`,
      ),
    ],
  };
}
