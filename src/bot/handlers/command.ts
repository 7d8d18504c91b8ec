import { hasIntent, parseCommand, toIntent } from '../commands/grammar.ts';
import { refusal } from '../views/lists.ts';
import type { HandlerDeps } from './deps.ts';
import type { ChatRequest, RequestMeta } from './requests.ts';

/** `/mlops <text>`: the deterministic grammar, then the executor; a parse error is answered privately. */
export function commandHandler({ chat, executor, pipelines }: HandlerDeps) {
  return async (request: ChatRequest<'command'>, meta: RequestMeta): Promise<void> => {
    const ctx = { user: request.user, channel: request.channel, ...meta };
    const parsed = parseCommand(request.text, { pipelines: await pipelines(), slash: request.slash });
    if (!parsed.ok) {
      await chat.postEphemeral(ctx.channel, ctx.user, refusal(parsed.error));
      return;
    }
    if (hasIntent(parsed.command)) return executor.intent(toIntent(parsed.command), ctx);
    return executor.admin(parsed.command, ctx);
  };
}
