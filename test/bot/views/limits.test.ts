import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import {
  actions,
  button,
  context,
  fields,
  header,
  section,
  sections,
} from '../../../src/bot/views/blocks.ts';
import { codeBlock, escapeText, progressBar, textTable } from '../../../src/bot/views/format.ts';
import { assertWithinLimits, fitBlocks, LIMITS, truncate } from '../../../src/bot/views/limits.ts';

describe('truncate', () => {
  it('leaves short text alone and cuts long text to exactly max with an ellipsis', () => {
    expect(truncate('short', 10)).toBe('short');
    const cut = truncate('x'.repeat(5000), 3000);
    expect(cut).toHaveLength(3000);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('never splits an emoji or an escaped entity', () => {
    const emoji = truncate(`${'a'.repeat(8)}😀😀`, 10);
    expect(emoji).toBe(`${'a'.repeat(8)}…`);
    expect(truncate(escapeText('aaaaaa<b>'), 9)).toBe('aaaaaa…');
  });
});

describe('fitBlocks', () => {
  const many = (n: number): KnownBlock[] => Array.from({ length: n }, (_, i) => section(`row ${i}`));

  it('keeps max-1 blocks and says how many more there were', () => {
    const fitted = fitBlocks(many(120), 50);
    expect(fitted).toHaveLength(50);
    expect(fitted.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '… 71 more not shown' }],
    });
  });

  it('returns the blocks unchanged when they fit', () => {
    expect(fitBlocks(many(50), 50)).toHaveLength(50);
  });
});

describe('assertWithinLimits', () => {
  it('finds every broken limit in a message', () => {
    const tooMuch = {
      text: '',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } },
        {
          type: 'section',
          fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2001) })),
        },
        { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
        {
          type: 'actions',
          block_id: 'a',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'b'.repeat(76) },
              action_id: 'x'.repeat(256),
              value: 'v'.repeat(2001),
            },
          ],
        },
        { type: 'divider', block_id: 'a' },
        { type: 'section', text: { type: 'mrkdwn', text: '' } },
        ...Array.from({ length: 45 }, () => ({ type: 'divider' })),
      ],
    } as const;
    const problems = assertWithinLimits(tooMuch as unknown as Parameters<typeof assertWithinLimits>[0]);
    const expected = [
      'text (the notification fallback) is missing',
      'blocks: 52 blocks (max 50)',
      'header: text is 151 chars (max 150)',
      'section: text is 3001 chars (max 3000)',
      '11 fields (max 10)',
      'fields[0] is 2001 chars (max 2000)',
      '11 elements (max 10)',
      'button text is 76 chars (max 75)',
      'button value is 2001 chars (max 2000)',
      'action_id is 256 chars (max 255)',
      'duplicate block_id "a"',
      'section: text is empty',
    ];
    for (const e of expected)
      expect(
        problems.some((p) => p.includes(e)),
        e,
      ).toBe(true);
  });

  it('checks modal limits and allows 100 blocks on surfaces', () => {
    const problems = assertWithinLimits({
      type: 'modal',
      title: { type: 'plain_text', text: 't'.repeat(25) },
      private_metadata: 'm'.repeat(3001),
      blocks: Array.from({ length: 100 }, () => ({ type: 'divider' })),
    });
    expect(problems).toEqual([
      'view: title is 25 chars (max 24)',
      'view: private_metadata is 3001 chars (max 3000)',
    ]);
  });

  it('passes what the block constructors build from oversized input', () => {
    const huge = 'x'.repeat(10_000);
    const message = {
      text: huge,
      blocks: [
        header(huge),
        section(huge, button({ text: huge, actionId: huge })),
        ...fields(Array.from({ length: 25 }, () => [huge, huge] as const)),
        context(...Array.from({ length: 30 }, () => huge)),
        actions(Array.from({ length: 30 }, (_, i) => button({ text: huge, actionId: `a${i}` }))),
        ...sections(Array.from({ length: 10 }, () => huge)),
      ],
    };
    expect(assertWithinLimits(message)).toEqual([]);
  });
});

describe('formatters', () => {
  it('keeps a code block closed however long the text, and breaks up inner fences', () => {
    const block = codeBlock(`${'```'}${'e'.repeat(10_000)}`, LIMITS.sectionText);
    expect(block.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(block.startsWith('```\n')).toBe(true);
    expect(block.endsWith('\n```')).toBe(true);
    expect(block.match(/```/g)).toHaveLength(2);
  });

  it('cuts a table between rows and says how many rows were left out', () => {
    const rows = Array.from({ length: 500 }, (_, i) => [`metric_${i}`, '0.123']);
    const table = textTable(['metric', 'value'], rows, 1000);
    expect(table.length).toBeLessThanOrEqual(1000);
    expect(table).toMatch(/… \d+ more\n```$/);
  });

  it('draws a progress bar only for a usable fraction', () => {
    expect(progressBar(0.42)).toBe('▓▓▓▓░░░░░░ 42%');
    expect(progressBar(1.7)).toBe('▓▓▓▓▓▓▓▓▓▓ 100%');
    expect(progressBar(Number.NaN)).toBeNull();
    expect(progressBar(undefined)).toBeNull();
  });
});
