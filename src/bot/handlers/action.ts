import { APPROVE_ACTION, parseRunButtonValue, REJECT_ACTION } from '../views/approval-card.ts';
import { CONFIRM_ACTION, DISMISS_ACTION, parseIntentValue } from '../views/confirm-card.ts';
import { refusal } from '../views/lists.ts';
import { rejectModal } from '../views/reject-modal.ts';
import type { HandlerDeps } from './deps.ts';
import type { ChatRequest, RequestMeta } from './requests.ts';

/**
 * The actions that change something, and so are stored before they are acknowledged:
 * Approve, and Confirm on a card proposed from free text. Reject only opens a modal (its
 * submission is what changes something), and Dismiss only redraws its card.
 */
export const CHANGING_ACTIONS: ReadonlySet<string> = new Set([APPROVE_ACTION, CONFIRM_ACTION]);

/** Every button action id the handler knows. */
export const BUTTON_ACTIONS = [APPROVE_ACTION, REJECT_ACTION, CONFIRM_ACTION, DISMISS_ACTION] as const;

/**
 * A button pressed on one of Steward's messages. What the button means is read from its
 * value, never trusted: roles are checked when the action is applied, and a value that is
 * not one of ours is answered privately.
 */
export function actionHandler({ chat, executor, log }: HandlerDeps) {
  const tell = (request: ChatRequest<'action'>, text: string) =>
    chat.postEphemeral(request.channel, request.user, refusal(text));

  return async (request: ChatRequest<'action'>, meta: RequestMeta): Promise<void> => {
    const ctx = { user: request.user, channel: request.channel, ...meta };
    switch (request.action) {
      case APPROVE_ACTION: {
        const value = parseRunButtonValue(request.value);
        if (!value) return void (await tell(request, 'That button is not one of Steward’s.'));
        return executor.intent({ intent: 'approve', run: value.run }, ctx);
      }
      case REJECT_ACTION: {
        const value = parseRunButtonValue(request.value);
        if (!value || !request.trigger) return;
        await chat.openModal(
          request.trigger,
          rejectModal({
            run: value.run,
            ...(request.message ? { channel: request.message.channel, ts: request.message.id } : {}),
          }),
        );
        return;
      }
      case CONFIRM_ACTION: {
        const intent = parseIntentValue(request.value);
        if (!intent) return void (await tell(request, 'That confirmation has expired; ask again.'));
        // One card, one action: a second press of Confirm on it (a double click, another
        // tab) has the same key, so it starts no second run.
        const card = request.message;
        const key = card ? `${chat.surface}:confirm:${card.channel}:${card.id}:${request.user}` : meta.key;
        await executor.intent(intent, { ...ctx, key });
        // Slack does not let chat.update edit a private card; the answer above is what counts.
        if (card) {
          await chat
            .update(card, { text: `Confirmed by <@${request.user}>.` })
            .catch((error: Error) => log.debug('confirmation card not redrawn', { error: error.message }));
        }
        return;
      }
      case DISMISS_ACTION:
        if (request.message) await chat.update(request.message, { text: 'Dismissed: nothing was done.' });
        return;
      default:
        await tell(request, 'That button is not one of Steward’s.');
    }
  };
}
