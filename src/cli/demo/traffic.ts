import { generateSynthetic } from '../../stages/data/synthetic.ts';
import { displayValue, type Table } from '../../stages/data/table.ts';
import type { PipelineSpec } from '../../stages/spec.ts';
import { errorMessageOf } from './api.ts';
import { DemoFailure } from './failure.ts';

/** Rows one prediction request carries. */
const BATCH = 100;

/**
 * What clients would send the model: `rows` new rows from the spec's synthetic source as it
 * is configured now (its `drift` included), without the target and the PII columns.
 */
export function trafficFrom(spec: PipelineSpec, rows: number, seed: number): Record<string, unknown>[] {
  if (spec.source.type !== 'synthetic') {
    throw new DemoFailure(`${spec.name} reads a ${spec.source.type} source; the demo needs a synthetic one`);
  }
  const table = generateSynthetic(spec.source.generator, { rows, seed, drift: spec.source.drift });
  return recordsOf(table, new Set([spec.target, ...spec.features.pii]));
}

function recordsOf(table: Table, leaveOut: ReadonlySet<string>): Record<string, unknown>[] {
  const columns = table.columns.filter((c) => !leaveOut.has(c.name));
  return Array.from({ length: table.rowCount }, (_, row) =>
    Object.fromEntries(
      columns.map((c) => [c.name, c.type === 'numeric' ? c.values[row] : displayValue(c, row)]),
    ),
  );
}

export type Sent = { rows: number; versions: number[]; positives: number };

/**
 * Sends `rows` through `POST /v1/models/<name>/predict` in batches, as a client would;
 * `onBatch` hears how many were answered so far. A refused request is a DemoFailure.
 */
export async function sendTraffic(
  base: string,
  model: string,
  rows: Record<string, unknown>[],
  onBatch: (answered: number) => void,
): Promise<Sent> {
  const versions = new Set<number>();
  let positives = 0;
  for (let i = 0; i < rows.length; i += BATCH) {
    const instances = rows.slice(i, i + BATCH);
    const res = await fetch(`${base}/v1/models/${encodeURIComponent(model)}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances }),
    });
    const body = (await res.json().catch(() => null)) as {
      predictions?: ({ label?: string } | null)[];
      version?: number;
    } | null;
    if (!res.ok) {
      throw new DemoFailure(
        `POST /v1/models/${model}/predict answered ${res.status}: ${errorMessageOf(body)}`,
      );
    }
    if (body?.version !== undefined) versions.add(body.version);
    positives += (body?.predictions ?? []).filter((p) => p?.label === '1').length;
    onBatch(Math.min(rows.length, i + BATCH));
  }
  return { rows: rows.length, versions: [...versions], positives };
}
