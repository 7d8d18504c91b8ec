import {
  parseRejectMetadata,
  REJECT_CALLBACK_ID,
  REJECT_REASON_ACTION,
  REJECT_REASON_BLOCK,
} from '../views/reject-modal.ts';
import type { HandlerDeps } from './deps.ts';
import type { ChatRequest, RequestMeta } from './requests.ts';

/** A submitted modal: today the reject modal, whose reason goes into the rejection. */
export function viewSubmissionHandler({ executor }: HandlerDeps) {
  return async (request: ChatRequest<'view'>, meta: RequestMeta): Promise<void> => {
    if (request.callback !== REJECT_CALLBACK_ID) return;
    const run = parseRejectMetadata(request.metadata);
    if (!run) return;
    const reason = request.values[REJECT_REASON_BLOCK]?.[REJECT_REASON_ACTION]?.value ?? undefined;
    await executor.intent(
      { intent: 'reject', run: run.run, ...(reason ? { reason } : {}) },
      { user: request.user, channel: run.channel ?? request.channel ?? request.user, ...meta },
    );
  };
}
