import { describe, expect, it } from 'vitest';
import { renderPng, renderSvg } from '../src/stages/charts/render.ts';
import {
  type DriftPanel,
  driftHistogramsChart,
  predictedVsActualChart,
  rocChart,
  trainingCurveChart,
} from '../src/stages/charts/specs.ts';
import { decodePng, inkIn, pngHeader } from './helpers/png.ts';

const curve = (power: number): [number, number][] =>
  Array.from({ length: 41 }, (_, i): [number, number] => [i / 40, (i / 40) ** power]);

const drift: DriftPanel[] = [
  {
    title: 'tenure: Wasserstein (normed) 0.31 ≥ 0.1',
    labels: ['0–2', '2–5', '5–10', '10–20', '20+'],
    reference: [10, 20, 30, 25, 15],
    current: [30, 30, 20, 10, 10],
  },
  {
    title: 'plan: Jensen–Shannon 0.22 ≥ 0.1',
    labels: ['premium', 'basic', 'other'],
    reference: [0.4, 0.5, 0.1],
    current: [0.5, 0.3, 0.2],
  },
  {
    title: 'charges: Wasserstein (normed) 0.18 ≥ 0.1',
    labels: ['0–50', '50–100', '100+'],
    reference: [1, 2, 1],
    current: [1, 1, 2],
  },
];

const specs = {
  roc: rocChart(
    [
      { label: 'this run (#12)', points: curve(0.3), auc: 0.874 },
      { label: 'production v3', points: curve(0.6), auc: 0.81 },
    ],
    '#12 churn: ROC curve vs production v3',
  ),
  'predicted vs actual': predictedVsActualChart(
    [
      {
        label: 'this run (#4)',
        points: Array.from({ length: 200 }, (_, i): [number, number] => [i, i + 10 * Math.sin(i)]),
      },
      {
        label: 'production v2',
        points: Array.from({ length: 200 }, (_, i): [number, number] => [i, i + 25 * Math.cos(i)]),
      },
    ],
    '#4 housing: predicted vs actual vs production v2',
  ),
  'training curve': trainingCurveChart(
    Array.from({ length: 20 }, (_, i) => ({ epoch: i + 1, loss: 0.7 / (i + 1), valLoss: 0.8 / (i + 1) })),
    '#12 churn: MLP loss per epoch',
  ),
  'drift histograms': driftHistogramsChart(drift, 'churn: drift in the last 1,000 predictions'),
};

/** Axis labels of a rendered SVG with their x positions, in document order. */
function textPositions(svg: string): { text: string; x: number }[] {
  return [
    ...svg.matchAll(/<text[^>]*transform="translate\(([-\d.e]+),[-\d.e]+\)"[^>]*>([^<]*)<\/text>/g),
  ].map((m) => ({ x: Number(m[1]), text: m[2] ?? '' }));
}

describe('charts rendered without a browser', () => {
  it.each(Object.entries(specs))(
    '%s renders to an 800-pixel-wide PNG with a white background and text',
    async (_, spec) => {
      const rendered = await renderPng(spec);
      const header = pngHeader(rendered.png);
      expect(header).toMatchObject({ width: 800, bitDepth: 8 });
      expect(header.height).toBe(rendered.height);
      expect(rendered.width).toBe(800);
      expect(header.height).toBeGreaterThan(400);
      expect(header.height).toBeLessThan(1200);
      const image = decodePng(rendered.png);
      // Opaque white in the corner: Slack's dark mode shows a transparent PNG as black on black.
      expect([...image.rgba.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
      // The title, top left, was drawn: without a font file resvg draws no text at all.
      expect(inkIn(image, { x: 0, y: 0, width: 400, height: 45 })).toBeGreaterThan(300);
    },
  );

  it('scales to the width asked for', async () => {
    const rendered = await renderPng(specs.roc, { width: 400 });
    expect(pngHeader(rendered.png)).toMatchObject({ width: 400, height: rendered.height });
    const full = await renderPng(specs.roc);
    expect(Math.abs(rendered.height * 2 - full.height)).toBeLessThanOrEqual(2);
    await expect(renderPng(specs.roc, { width: 20_000 })).rejects.toThrow(/from 100 to 4000/);
  });

  it('keeps the drift bins in the order given, not sorted', async () => {
    const svg = await renderSvg(driftHistogramsChart(drift, 'drift'));
    const texts = textPositions(svg);
    for (const panel of drift) {
      const xs = panel.labels.map((label) => texts.find((t) => t.text === label)?.x);
      expect(xs.every((x) => x !== undefined)).toBe(true);
      const sorted = [...(xs as number[])].sort((a, b) => a - b);
      expect(xs).toEqual(sorted);
    }
    // Sorted as text, "10–20" would come before "2–5": the check above would see it.
    const tenure = drift[0]?.labels ?? [];
    expect([...tenure].sort()).not.toEqual(tenure);
    expect(texts.map((t) => t.text)).toEqual(expect.arrayContaining(drift.map((p) => p.title)));
  });

  it('says what is wrong with input it cannot draw', () => {
    expect(() => rocChart([{ label: 'this run', points: [] }], 'ROC')).toThrow(
      /"this run" has no points to draw/,
    );
    expect(() => rocChart([], 'ROC')).toThrow(/nothing to draw: pass at least one curve/);
    expect(() =>
      rocChart(
        [
          {
            label: 'a',
            points: [
              [0, 0],
              [1.5, 1],
            ],
          },
        ],
        'ROC',
      ),
    ).toThrow(/"a" point 2 is \[1.5,1\]; expected two numbers from 0 to 1/);
    expect(() =>
      rocChart(
        [
          { label: 'a', points: curve(1) },
          { label: 'a', points: curve(1) },
        ],
        'ROC',
      ),
    ).toThrow(/curve labels must differ, and "a" appears twice/);
    expect(() => predictedVsActualChart([{ label: 'x', points: [[1, Number.NaN]] }], 'PvA')).toThrow(
      /expected two finite numbers/,
    );
    expect(() => trainingCurveChart([], 'loss')).toThrow(/no epochs/);
    expect(() =>
      driftHistogramsChart([...drift, ...drift.map((p) => ({ ...p, title: `${p.title}!` }))], 'd'),
    ).toThrow(/6 panels is too many: pass the 4 most drifted/);
    expect(() =>
      driftHistogramsChart([{ title: 'age', labels: ['a', 'b'], reference: [1], current: [1, 1] }], 'd'),
    ).toThrow(/panel "age" has 2 labels but 1 reference values/);
    expect(() =>
      driftHistogramsChart([{ title: 'age', labels: ['a'], reference: [0], current: [1] }], 'd'),
    ).toThrow(/panel "age" has no reference rows/);
  });
});
