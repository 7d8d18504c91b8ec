import type { TopLevelSpec } from 'vega-lite';
import { StewardError } from '../../errors.ts';
import { FONT_FAMILY } from './theme.ts';

/** @default 800 pixels: wide enough to read in Slack's preview, small enough to stay a few tens of KB. */
export const DEFAULT_WIDTH = 800;

export type RenderOptions = {
  /**
   * Width of the PNG in pixels; the height follows the chart's aspect ratio.
   * @default 800
   */
  width?: number;
};

export type RenderedChart = { png: Buffer; width: number; height: number };

type Libraries = {
  vega: typeof import('vega');
  vl: typeof import('vega-lite');
  renderAsync: typeof import('@resvg/resvg-js').renderAsync;
};

let libraries: Promise<Libraries> | undefined;

/**
 * vega, vega-lite and resvg take about a second to import, so they load on the first
 * chart rather than with every process that might draw one (the CLI never does).
 */
function load(): Promise<Libraries> {
  libraries ??= Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]).then(
    ([vega, vl, resvg]) => ({ vega, vl, renderAsync: resvg.renderAsync }),
  );
  return libraries;
}

/** The chart as SVG, through vega's headless renderer (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vl } = await load();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders a vega-lite spec to a PNG: vega-lite compiles it, vega draws it as SVG, resvg
 * rasterises that, scaled to `width`. Text needs a font file on the machine (resvg draws
 * no text without one): system fonts are loaded, DejaVu Sans preferred, which Debian's
 * `fonts-dejavu-core` provides (the Dockerfile installs it).
 */
export async function renderPng(spec: TopLevelSpec, options: RenderOptions = {}): Promise<RenderedChart> {
  const width = options.width ?? DEFAULT_WIDTH;
  if (!Number.isInteger(width) || width < 100 || width > 4000) {
    throw new StewardError(
      'BAD_REQUEST',
      `chart width must be a whole number of pixels from 100 to 4000, got ${width}`,
    );
  }
  const svg = await renderSvg(spec);
  const { renderAsync } = await load();
  // On libuv's thread pool: the event loop (chat deliveries, Slack's acks) keeps going meanwhile.
  const image = await renderAsync(svg, {
    fitTo: { mode: 'width', value: width },
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  return { png: image.asPng(), width: image.width, height: image.height };
}
