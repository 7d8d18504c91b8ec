/**
 * The modal that opens when an approver presses Reject: a rejection needs a reason the
 * requester can act on, and a button alone cannot carry one. The modal remembers which
 * run and which card it came from (`private_metadata`), so the submission handler can
 * apply the rejection and redraw that card without any state kept in memory.
 */
import type { ModalView } from '@slack/types';
import { z } from 'zod';
import { plain, section } from './blocks.ts';
import { escapeText } from './format.ts';
import { LIMITS, truncate } from './limits.ts';

export const REJECT_CALLBACK_ID = 'run.reject';
/** Where the reason is in `view.state.values[REJECT_REASON_BLOCK][REJECT_REASON_ACTION].value`. */
export const REJECT_REASON_BLOCK = 'reason';
export const REJECT_REASON_ACTION = 'reason';
/** Longest reason accepted; Slack enforces it in the input itself. */
export const REJECT_REASON_MAX = 2000;

/**
 * The run being rejected and the approval card's message, so the submission can update
 * it. `ts` is optional: a rejection started from App Home has no card to update.
 */
export const RejectModalMetadata = z.object({
  run: z.number().int().positive(),
  channel: z.string().optional(),
  ts: z.string().optional(),
});
export type RejectModalMetadata = z.infer<typeof RejectModalMetadata>;

/** Reads `view.private_metadata` back; null when it is not ours (or was tampered with). */
export function parseRejectMetadata(metadata: string | undefined): RejectModalMetadata | null {
  if (!metadata) return null;
  try {
    const parsed = RejectModalMetadata.safeParse(JSON.parse(metadata));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export type RejectModalInput = RejectModalMetadata & {
  /** Shown in the question, so the approver sees which pipeline they are rejecting. */
  pipeline?: string;
};

/** The "Reject run #12" modal with a required multi-line reason of at most 2000 characters. */
export function rejectModal({ run, channel, ts, pipeline }: RejectModalInput): ModalView {
  const metadata: RejectModalMetadata = {
    run,
    ...(channel ? { channel } : {}),
    ...(ts ? { ts } : {}),
  };
  const what = pipeline ? `run *#${run}* of *${escapeText(truncate(pipeline, 80))}*` : `run *#${run}*`;
  return {
    type: 'modal',
    callback_id: REJECT_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: plain(`Reject run #${run}`, LIMITS.modalTitle),
    submit: plain('Reject', LIMITS.modalButton),
    close: plain('Back', LIMITS.modalButton),
    blocks: [
      section(`You are rejecting ${what}. Nothing will be deployed, and the requester will see your reason.`),
      {
        type: 'input',
        block_id: REJECT_REASON_BLOCK,
        label: plain('Why? What should change before the next run?', LIMITS.inputLabel),
        element: {
          type: 'plain_text_input',
          action_id: REJECT_REASON_ACTION,
          multiline: true,
          min_length: 1,
          max_length: REJECT_REASON_MAX,
          placeholder: plain(
            'e.g. recall dropped on the new segment; retrain with last month included',
            LIMITS.placeholder,
          ),
        },
        hint: plain('Required. It is kept in the run’s audit trail.', LIMITS.inputHint),
      },
    ],
  };
}
