import { describe, expect, it } from 'vitest';
import {
  parseRejectMetadata,
  REJECT_CALLBACK_ID,
  REJECT_REASON_ACTION,
  REJECT_REASON_BLOCK,
  rejectModal,
} from '../../../src/bot/views/reject-modal.ts';
import { allText, expectWithinLimits, HUGE_PIPELINE } from './fixtures.ts';

describe('rejectModal', () => {
  it('is a modal with callback run.reject that remembers the run and its card', () => {
    const view = rejectModal({ run: 12, channel: 'C1', ts: '1712345678.000100', pipeline: 'churn' });
    expect(view.type).toBe('modal');
    expect(view.callback_id).toBe(REJECT_CALLBACK_ID);
    expect(REJECT_CALLBACK_ID).toBe('run.reject');
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({
      run: 12,
      channel: 'C1',
      ts: '1712345678.000100',
    });
    expect(parseRejectMetadata(view.private_metadata)).toEqual({
      run: 12,
      channel: 'C1',
      ts: '1712345678.000100',
    });
    expect(view.title.text).toBe('Reject run #12');
    expect(allText(view)).toContain('You are rejecting run *#12* of *churn*');
    expectWithinLimits(view);
  });

  it('asks for a required multi-line reason of at most 2000 characters', () => {
    const view = rejectModal({ run: 12 });
    const input = view.blocks.find((b) => b.type === 'input');
    expect(input).toMatchObject({
      block_id: REJECT_REASON_BLOCK,
      element: {
        type: 'plain_text_input',
        action_id: REJECT_REASON_ACTION,
        multiline: true,
        max_length: 2000,
      },
    });
    expect(input).not.toHaveProperty('optional', true);
  });

  it('fits the limits with a long pipeline name and a huge run number', () => {
    expectWithinLimits(
      rejectModal({ run: 123_456_789_012, channel: 'C1', ts: '1.2', pipeline: HUGE_PIPELINE }),
    );
  });

  it('refuses metadata that is not ours', () => {
    expect(parseRejectMetadata('{"run":"12"}')).toBeNull();
    expect(parseRejectMetadata('')).toBeNull();
    expect(parseRejectMetadata('{')).toBeNull();
  });
});
