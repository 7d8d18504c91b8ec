import { isStewardError, StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { DeploymentResult } from '../workflows/deployments.ts';
import type { Monitoring } from '../workflows/monitoring.ts';
import type { RoleService } from '../workflows/role-service.ts';
import type { RunAction, RunService } from '../workflows/run-service.ts';
import type { ChatMessage, ChatPort } from './chat.ts';
import type { AdminCommand } from './commands/grammar.ts';
import type { Intent } from './commands/intent.ts';
import { STATES_OF_STATUS } from './commands/run-status.ts';
import { promotedMessage, servingOfEntry, unchangedMessage } from './views/deployment.ts';
import { driftReportMessage } from './views/drift-alert.ts';
import { HISTORY_LINES, historyList } from './views/history.ts';
import { type PageLinks, runPath } from './views/links.ts';
import { helpMessage, modelsList, pipelinesList, refusal, runsList, whoamiMessage } from './views/lists.ts';
import { runMessage } from './views/run-message.ts';

/**
 * Where a request came from in chat, the key that makes applying it idempotent, and what
 * proved who the user is (as the audit trail keeps it).
 */
export type ChatContext = { user: string; channel: string; key: string; credential: string };

export type CommandExecutor = {
  /** Carries out an intent (from the grammar, or confirmed from free text) for `ctx.user`. */
  intent(intent: Intent, ctx: ChatContext): Promise<void>;
  admin(command: AdminCommand, ctx: ChatContext): Promise<void>;
  /** Tells the user, privately, that something was refused and what to do instead. */
  refuse(error: unknown, ctx: Pick<ChatContext, 'user' | 'channel'>): Promise<void>;
};

const ACTION_OF: Partial<Record<Intent['intent'], RunAction>> = {
  approve: 'approve',
  reject: 'reject',
  cancel_run: 'cancel',
};

/**
 * What each command does, whichever way it came in. Roles are checked by the services
 * when the action is applied; this layer only talks: a run's message is posted and kept
 * up to date by the notifier, a promotion (which is no run) is told in the channel it was
 * asked in, and everything else answers the user privately.
 */
export function createCommandExecutor({
  service,
  roles,
  monitoring,
  chat,
  log,
  links = () => undefined,
}: {
  service: RunService;
  roles: RoleService;
  monitoring: Pick<Monitoring, 'latest'>;
  chat: ChatPort;
  log: Logger;
  /** How this surface links to a run's page. @default no links */
  links?: PageLinks;
}): CommandExecutor {
  const whisper = async (ctx: Pick<ChatContext, 'user' | 'channel'>, message: ChatMessage) => {
    await chat.postEphemeral(ctx.channel, ctx.user, message);
  };

  /** Who asks, with the key that makes a retried request find the same run. */
  const requester = (ctx: ChatContext) => ({
    requestedBy: ctx.user,
    requestKey: ctx.key,
    credential: ctx.credential,
    // The run's message is reserved with the run, here, where it was asked for; a retried
    // request finds the same run and the same reservation.
    announceIn: { surface: chat.surface, channel: ctx.channel },
  });

  /** A started deploy or rollback is followed by its run's message; one that changes nothing is answered at once. */
  async function answerDeployment(ctx: ChatContext, result: DeploymentResult) {
    if (result.status === 'unchanged') await whisper(ctx, unchangedMessage(result.message));
  }

  /**
   * Promotion is not a run, so there is no run message to follow: the channel is told, since
   * what serves changed for everyone. Should the post fail, the person at least hears it.
   */
  async function promote(ctx: ChatContext, pipeline: string) {
    const { alias, entry } = await service.promote({ pipeline, as: ctx.user, credential: ctx.credential });
    const closed = (await service.history(pipeline, 10)).find((e) => e.id < entry.id);
    const message = promotedMessage({
      alias,
      by: ctx.user,
      ...(closed ? { before: servingOfEntry(closed) } : {}),
    });
    try {
      await chat.post(ctx.channel, message);
    } catch (error) {
      log.warn('promotion not announced in the channel', {
        pipeline,
        channel: ctx.channel,
        error: (error as Error).message,
      });
      await whisper(ctx, message);
    }
  }

  async function refuse(error: unknown, ctx: Pick<ChatContext, 'user' | 'channel'>) {
    if (isStewardError(error)) {
      const hint = error.code === 'RUN_NOT_FOUND' ? 'List runs with `/mlops runs`.' : undefined;
      await whisper(ctx, refusal(error.message, hint));
      return;
    }
    log.error('chat command failed', { error: (error as Error).stack ?? String(error) });
    await whisper(ctx, refusal('Something went wrong on Steward’s side; the server log has the details.'));
  }

  return {
    refuse,
    async intent(intent, ctx) {
      try {
        switch (intent.intent) {
          case 'help':
          case 'unknown':
            return await whisper(ctx, helpMessage());
          case 'list_pipelines':
            return await whisper(ctx, pipelinesList(await service.pipelines()));
          case 'list_models':
            return await whisper(ctx, modelsList(await service.models(intent.pipeline)));
          case 'list_runs': {
            const states = intent.status
              ? [...(STATES_OF_STATUS[intent.status as keyof typeof STATES_OF_STATUS] ?? [])]
              : [];
            const runs = await service.list({
              ...(intent.pipeline ? { pipeline: intent.pipeline } : {}),
              ...(states.length ? { states } : {}),
              limit: 20,
            });
            return await whisper(ctx, runsList(runs));
          }
          case 'run_status': {
            const detail = await service.show({ number: required(intent.run, 'a run number') });
            const details = links(runPath(detail.run.number));
            return await whisper(
              ctx,
              runMessage(detail.run, { timeline: detail.timeline, ...(details ? { details } : {}) }),
            );
          }
          case 'start_run':
            await service.start({
              ...requester(ctx),
              pipeline: required(intent.pipeline, 'a pipeline'),
              params: intent.params ?? {},
            });
            return;
          case 'deploy':
            return await answerDeployment(
              ctx,
              await service.deploy({
                ...requester(ctx),
                pipeline: required(intent.pipeline, 'a pipeline'),
                version: required(intent.version, 'a version such as v3'),
              }),
            );
          case 'rollback':
            return await answerDeployment(
              ctx,
              await service.rollback({
                ...requester(ctx),
                pipeline: required(intent.pipeline, 'a pipeline'),
                ...(intent.version !== undefined ? { version: intent.version } : {}),
              }),
            );
          case 'promote':
            return await promote(ctx, required(intent.pipeline, 'a pipeline'));
          case 'model_history': {
            const pipeline = required(intent.pipeline, 'a pipeline');
            const entries = await service.history(pipeline, HISTORY_LINES + 1);
            return await whisper(ctx, historyList(pipeline, entries));
          }
          case 'drift_report': {
            const pipeline = required(intent.pipeline, 'a pipeline');
            const latest = await monitoring.latest(pipeline);
            return await whisper(
              ctx,
              driftReportMessage(pipeline, latest?.report ?? null, latest?.createdAt),
            );
          }
          case 'approve':
          case 'reject':
          case 'cancel_run': {
            const action = ACTION_OF[intent.intent] as RunAction;
            const result = await service.act({
              run: { number: required(intent.run, 'a run number') },
              action,
              as: ctx.user,
              credential: ctx.credential,
              idempotencyKey: ctx.key,
              ...(intent.reason ? { reason: intent.reason } : {}),
            });
            if (result.status === 'duplicate') return;
            return await whisper(ctx, { text: `#${result.run.number} is now ${result.run.state}.` });
          }
        }
      } catch (error) {
        await refuse(error, ctx);
      }
    },
    async admin(command, ctx) {
      try {
        if (command.verb === 'whoami') {
          return await whisper(
            ctx,
            whoamiMessage({ user: ctx.user, grants: await roles.grantsOf(ctx.user) }),
          );
        }
        if (command.verb === 'grant') {
          const { userId, role, pipeline } = command;
          await roles.grant(ctx.user, { userId, role, ...(pipeline ? { pipeline } : {}) });
          return await whisper(ctx, {
            text: `<@${userId}> is now ${role}${pipeline ? ` on ${pipeline}` : ' everywhere'}.`,
          });
        }
        const removed = await roles.revoke(ctx.user, {
          userId: command.userId,
          ...(command.pipeline ? { pipeline: command.pipeline } : {}),
        });
        return await whisper(ctx, {
          text: removed
            ? `<@${command.userId}> no longer has a role${command.pipeline ? ` on ${command.pipeline}` : ''}.`
            : `<@${command.userId}> had no role${command.pipeline ? ` on ${command.pipeline}` : ''} to remove.`,
        });
      } catch (error) {
        await refuse(error, ctx);
      }
    },
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new StewardError('BAD_REQUEST', `That needs ${what}; try \`/mlops help\`.`);
  return value;
}
