import { isMutating } from '../commands/intent.ts';
import { confirmCard } from '../views/confirm-card.ts';
import { refusal } from '../views/lists.ts';
import type { HandlerDeps } from './deps.ts';
import type { ChatRequest, RequestMeta } from './requests.ts';

/**
 * Free text: the intent parser proposes. A read-only intent is answered at once; a
 * mutating one is shown as a confirmation card, and nothing changes until someone with
 * the role presses Confirm.
 */
export function messageHandler({ chat, executor, intents, pipelines, log }: HandlerDeps) {
  return async (request: ChatRequest<'message'>, meta: RequestMeta): Promise<void> => {
    const { text, user, channel } = request;
    const parsed = await intents(text, { pipelines: await pipelines() });
    if (parsed.fallbackReason) log.info('intent answered by rules', { reason: parsed.fallbackReason });
    if (!isMutating(parsed.intent)) return executor.intent(parsed.intent, { user, channel, ...meta });
    const card = confirmCard(parsed.intent, { heard: text });
    if (!card.ok) {
      await chat.postEphemeral(channel, user, refusal(card.error));
      return;
    }
    await chat.postEphemeral(channel, user, { text: card.text, blocks: card.blocks });
  };
}
