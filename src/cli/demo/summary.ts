/** One row of the demo's summary: a step, how long it took, and what happened. */
export type StepRecord = { label: string; name: string; ms: number; ok: boolean; result: string };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The summary table `steward demo` ends with, and its total. */
export function summaryTable(records: readonly StepRecord[], totalMs: number): string {
  const rows = [
    ['step', 'time', 'what happened'],
    ...records.map((r) => [`${r.label} ${r.name}`, seconds(r.ms), r.ok ? r.result : `FAILED: ${r.result}`]),
    ['total', seconds(totalMs), ''],
  ];
  const width = (col: number) => Math.max(...rows.map((r) => (r[col] ?? '').length));
  const [w0, w1] = [width(0), width(1)];
  const line = (r: string[]) =>
    `${(r[0] ?? '').padEnd(w0)}  ${(r[1] ?? '').padStart(w1)}  ${r[2] ?? ''}`.trimEnd();
  const rule = `${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(13)}`;
  const [head, ...body] = rows;
  const last = body.pop() ?? [];
  return [line(head ?? []), rule, ...body.map(line), rule, line(last)].join('\n');
}
