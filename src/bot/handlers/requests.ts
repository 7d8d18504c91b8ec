import { z } from 'zod';

/**
 * What a chat request says, whichever adapter it came through: the adapters translate
 * Slack's payloads and the console's HTTP bodies into these, and the handlers know only
 * these. Stored as JSON in the chat inbox and parsed again on the way out (a row may have
 * been written by an older Steward).
 */
export const ChatRequests = {
  /** `/mlops <text>`. */
  command: z.object({ text: z.string(), slash: z.string(), user: z.string(), channel: z.string() }),
  /** A button pressed on one of Steward's messages. */
  action: z.object({
    action: z.string(),
    value: z.string().optional(),
    user: z.string(),
    channel: z.string(),
    /** The message the button is on. */
    message: z.object({ channel: z.string(), id: z.string() }).optional(),
    /** What opens a modal in answer (Slack's trigger id). */
    trigger: z.string().optional(),
  }),
  /** A modal, submitted: its inputs' values by block and action id. */
  view: z.object({
    callback: z.string(),
    metadata: z.string(),
    values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }))),
    user: z.string(),
    /** Where to answer when the modal names no message: the person's own conversation with Steward. */
    channel: z.string().optional(),
  }),
  /** A plain sentence to Steward (a mention, a direct message, the console's composer). */
  message: z.object({ text: z.string(), user: z.string(), channel: z.string(), id: z.string() }),
  /** A person opened their App Home. */
  home: z.object({ user: z.string() }),
} as const;
export type ChatRequestKind = keyof typeof ChatRequests;
export type ChatRequest<K extends ChatRequestKind> = z.infer<(typeof ChatRequests)[K]>;

/**
 * What comes with every request besides its payload: the key that makes applying it
 * idempotent (what the chat service sends again on a retry), and what proved who the
 * user is, as the audit trail keeps it.
 */
export type RequestMeta = { key: string; credential: string };
