import type { TopLevelSpec } from 'vega-lite';
import { StewardError } from '../../errors.ts';

/** Debian's `fonts-dejavu-core`; resvg falls back to its default family for any other name. */
export const FONT_FAMILY = 'DejaVu Sans';

/**
 * Okabe and Ito's palette, which readers with any common colour-vision deficiency can tell
 * apart. Series get fixed colours (see the specs), so "production" is the same orange on
 * every chart.
 */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  vermillion: '#D55E00',
  green: '#009E73',
  sky: '#56B4E9',
  purple: '#CC79A7',
  /** Reference lines (chance, y = x): present but quiet. */
  grey: '#7A7A7A',
} as const;

/** Colours for the first, second, … series of a chart. */
export const SERIES_COLOURS = [
  PALETTE.blue,
  PALETTE.orange,
  PALETTE.green,
  PALETTE.purple,
  PALETTE.sky,
  PALETTE.vermillion,
];

/**
 * Shared look: an opaque white background (a transparent PNG reads badly in Slack's dark
 * mode), readable sizes once scaled to the PNG's width, the legend under the plot.
 */
const CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 12,
  title: { fontSize: 15, anchor: 'start', offset: 12, subtitleFontSize: 12, subtitleColor: '#555555' },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    gridColor: '#E6E6E6',
    domainColor: '#888888',
    tickColor: '#888888',
  },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: 'bottom', labelLimit: 360, symbolStrokeWidth: 3 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#CCCCCC' },
} as const;

/** A top-level spec with the shared look, the title and the schema. */
export function withTheme(title: string, body: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title },
    config: CONFIG,
    ...body,
  } as TopLevelSpec;
}

/** Throws a BAD_REQUEST naming the chart and what to fix. */
export function badChart(chart: string, problem: string): never {
  throw new StewardError('BAD_REQUEST', `${chart}: ${problem}`);
}

/** Checks a chart's title and series labels: present, and labels distinct. */
export function checkLabels(chart: string, title: string, labels: readonly string[], what: string): void {
  if (!title.trim()) badChart(chart, 'the title is empty');
  if (labels.length === 0) badChart(chart, `nothing to draw: pass at least one ${what}`);
  const seen = new Set<string>();
  for (const label of labels) {
    if (!label.trim()) badChart(chart, `a ${what} has an empty label`);
    if (seen.has(label)) badChart(chart, `${what} labels must differ, and "${label}" appears twice`);
    seen.add(label);
  }
}
