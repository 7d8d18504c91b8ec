import { APPROVE_ACTION, parseRunButtonValue, REJECT_ACTION } from '../views/approval-card.ts';
import { CONFIRM_ACTION, DISMISS_ACTION, parseIntentValue } from '../views/confirm-card.ts';
import {
  DETAILS_ACTION,
  driftDetailsModal,
  parseAlertButtonValue,
  RETRAIN_ACTION,
  SNOOZE_ACTION,
  SNOOZE_MS,
} from '../views/drift-alert.ts';
import { refusal } from '../views/lists.ts';
import { rejectModal } from '../views/reject-modal.ts';
import type { HandlerDeps } from './deps.ts';
import type { ChatRequest, RequestMeta } from './requests.ts';

/**
 * The actions that change something, and so are stored before they are acknowledged:
 * Approve, Confirm on a card proposed from free text, and a drift alert's Retrain now and
 * Snooze. Reject only opens a modal (its submission is what changes something), Dismiss
 * only redraws its card, and Details only shows.
 */
export const CHANGING_ACTIONS: ReadonlySet<string> = new Set([
  APPROVE_ACTION,
  CONFIRM_ACTION,
  RETRAIN_ACTION,
  SNOOZE_ACTION,
]);

/** Every button action id the handler knows. */
export const BUTTON_ACTIONS = [
  APPROVE_ACTION,
  REJECT_ACTION,
  CONFIRM_ACTION,
  DISMISS_ACTION,
  RETRAIN_ACTION,
  SNOOZE_ACTION,
  DETAILS_ACTION,
] as const;

/**
 * A button pressed on one of Steward's messages. What the button means is read from its
 * value, never trusted: roles are checked when the action is applied, and a value that is
 * not one of ours is answered privately.
 */
export function actionHandler({ chat, executor, monitoring, log }: HandlerDeps) {
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
      case RETRAIN_ACTION:
      case SNOOZE_ACTION:
      case DETAILS_ACTION: {
        const value = parseAlertButtonValue(request.value);
        if (!value) return void (await tell(request, 'That button is not one of Steward’s.'));
        try {
          if (request.action === RETRAIN_ACTION) {
            // The role is checked now, at the click; the alert's messages show the run it started.
            const { run, created } = await monitoring.retrain({
              alert: value.alert,
              by: request.user,
              credential: meta.credential,
            });
            if (!created) {
              await tell(
                request,
                `Drift alert #${value.alert} started its retrain already: run #${run.number}.`,
              );
            }
          } else if (request.action === SNOOZE_ACTION) {
            const { alert, applied } = await monitoring.snooze({
              alert: value.alert,
              by: request.user,
              ms: SNOOZE_MS,
            });
            if (!applied) {
              await tell(
                request,
                alert.status === 'resolved'
                  ? `Drift alert #${alert.number} is resolved already.`
                  : `Drift alert #${alert.number} is snoozed already, until ${alert.snoozedUntil}.`,
              );
            }
          } else if (request.trigger) {
            const { alert, report } = await monitoring.alert(value.alert);
            await chat.openModal(request.trigger, driftDetailsModal(alert, report?.report ?? null));
          }
        } catch (error) {
          await executor.refuse(error, ctx);
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
