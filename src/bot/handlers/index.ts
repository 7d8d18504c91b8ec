import type { ChatPort } from '../chat.ts';
import { createCommandExecutor } from '../execute.ts';
import { APPROVE_ACTION } from '../views/approval-card.ts';
import { CONFIRM_ACTION } from '../views/confirm-card.ts';
import { pageLinks } from '../views/links.ts';
import { REJECT_CALLBACK_ID, REJECT_REASON_ACTION, REJECT_REASON_BLOCK } from '../views/reject-modal.ts';
import { actionHandler } from './action.ts';
import { commandHandler } from './command.ts';
import type { ChatCore, HandlerDeps } from './deps.ts';
import { homeHandler } from './home.ts';
import { messageHandler } from './message.ts';
import { type ChatRequest, type ChatRequestKind, ChatRequests, type RequestMeta } from './requests.ts';
import { viewSubmissionHandler } from './view-submission.ts';

export { BUTTON_ACTIONS, CHANGING_ACTIONS } from './action.ts';
export type { ChatCore } from './deps.ts';
export { type ChatRequest, type ChatRequestKind, ChatRequests, type RequestMeta } from './requests.ts';

export type ChatHandlers = {
  [K in ChatRequestKind]: (request: ChatRequest<K>, meta: RequestMeta) => Promise<void>;
} & {
  /** Handles a stored request (the chat inbox): parses it again, then hands it to its handler. */
  handle(kind: string, payload: unknown, meta: RequestMeta): Promise<void>;
};

/**
 * Every chat request's meaning, for one adapter: the adapter translates its payloads into
 * `ChatRequests` and calls these; answers go back through its own chat port. Refusals (a
 * bad button, no role, a run in the wrong state) are answered privately and count as
 * handled; a chat call that fails throws, so the inbox tries again.
 */
export function createChatHandlers(core: ChatCore, chat: ChatPort): ChatHandlers {
  const deps: HandlerDeps = {
    ...core,
    chat,
    executor: createCommandExecutor({ ...core, chat, links: pageLinks(chat.surface, core.publicUrl) }),
    pipelines: () => core.service.pipelines(),
  };
  const handlers = {
    command: commandHandler(deps),
    action: actionHandler(deps),
    view: viewSubmissionHandler(deps),
    message: messageHandler(deps),
    home: homeHandler(deps),
  };
  return {
    ...handlers,
    async handle(kind, payload, meta) {
      const [k, request] = current(kind, payload);
      await (handlers[k] as (r: unknown, m: RequestMeta) => Promise<void>)(
        ChatRequests[k].parse(request),
        meta,
      );
    },
  };
}

/** A stored request in today's shape; rows written before the handlers were adapter-neutral are translated. */
function current(kind: string, payload: unknown): [ChatRequestKind, unknown] {
  const p = payload as Record<string, string | undefined>;
  switch (kind) {
    case 'approve':
      return ['action', { ...p, action: APPROVE_ACTION }];
    case 'confirm': {
      const { messageTs, ...rest } = p;
      return [
        'action',
        {
          ...rest,
          action: CONFIRM_ACTION,
          ...(messageTs ? { message: { channel: p.channel, id: messageTs } } : {}),
        },
      ];
    }
    case 'reject':
      return [
        'view',
        {
          callback: REJECT_CALLBACK_ID,
          metadata: p.metadata,
          user: p.user,
          values: { [REJECT_REASON_BLOCK]: { [REJECT_REASON_ACTION]: { value: p.reason ?? null } } },
        },
      ];
  }
  if (!(kind in ChatRequests)) throw new Error(`unknown chat request kind ${kind}`);
  return [kind as ChatRequestKind, payload];
}
