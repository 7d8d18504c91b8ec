import type { ColumnDrift, DriftReport, DriftTest, TestStatistic } from './types.ts';

/** Short names of the deciding numbers, as the table's headers call them. */
const DECIDING: Record<DriftTest, { header: string; name: string }> = {
  ks: { header: 'KS p', name: 'KS p' },
  chisquare: { header: 'χ² p', name: 'χ² p' },
  z: { header: 'z p', name: 'z p' },
  psi: { header: 'PSI', name: 'PSI' },
  wasserstein: { header: 'W/σ', name: 'W/σ' },
  jensenshannon: { header: 'JS', name: 'JS' },
};

type Cell = { header: string; value: (column: ColumnDrift) => number | undefined };

const STATISTIC_CELLS: Cell[] = [
  { header: 'KS D', value: (c) => test(c, 'ks')?.statistic },
  { header: 'KS p', value: (c) => test(c, 'ks')?.pValue },
  { header: 'PSI', value: (c) => number(c, 'psi') },
  { header: 'W', value: (c) => number(c, 'wasserstein') },
  { header: 'W/σ', value: (c) => number(c, 'wassersteinNorm') },
  { header: 'χ²', value: (c) => test(c, 'chiSquare')?.statistic },
  { header: 'χ² p', value: (c) => test(c, 'chiSquare')?.pValue },
  { header: 'JS', value: (c) => number(c, 'jensenShannon') },
  { header: 'z p', value: (c) => test(c, 'z')?.pValue },
];

/**
 * A drift report as a plain-text table for a terminal: one line per column with every
 * statistic that applies ("-" where one does not), the deciding one marked with `*`, the
 * verdict with its threshold, notes (such as categories the reference never had) below, and
 * the dataset verdict last. W is the Wasserstein distance in the column's units, W/σ the same
 * normed by the reference's standard deviation.
 */
export function formatDriftReport(report: DriftReport): string {
  const headers = ['column', 'kind', 'ref', 'cur', ...STATISTIC_CELLS.map((cell) => cell.header), 'verdict'];
  const rows = report.columns.map((column) => {
    const decidingHeader = DECIDING[column.test].header;
    return [
      column.column,
      column.kind,
      String(column.referenceCount),
      String(column.currentCount),
      ...STATISTIC_CELLS.map((cell) => {
        const value = cell.value(column);
        if (value === undefined) return '-';
        return formatNumber(value) + (cell.header === decidingHeader ? '*' : '');
      }),
      verdict(column),
    ];
  });
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();

  const out = [
    `Drift: reference ${report.referenceRows} rows, current ${report.currentRows} rows (* marks the deciding statistic)`,
    '',
    line(headers),
    ...rows.map(line),
  ];
  const notes = report.columns.filter((column) => column.message && column.status !== 'not_enough_data');
  if (notes.length > 0) {
    out.push('');
    for (const column of notes) out.push(`${column.column}: ${column.message}`);
  }
  out.push('', datasetVerdict(report));
  return out.join('\n');
}

function verdict(column: ColumnDrift): string {
  if (column.status === 'not_enough_data') return column.message ?? 'not enough data';
  const { name } = DECIDING[column.test];
  const value = column.pValue ?? column.score;
  const byPValue = column.pValue !== undefined && column.pValue !== null;
  const comparison = byPValue ? (column.drifted ? '<' : '≥') : column.drifted ? '≥' : '<';
  return `${column.drifted ? 'drifted' : 'ok'}: ${name} ${formatNumber(value ?? 0)} ${comparison} ${column.threshold}`;
}

function datasetVerdict(report: DriftReport): string {
  const percent = (x: number) => `${Number((x * 100).toFixed(1))}%`;
  const without = report.columns.length - report.monitored;
  const skipped = without > 0 ? ` (${without} column${without === 1 ? '' : 's'} without enough data)` : '';
  if (report.monitored === 0) return `no column had enough data to compare: no dataset drift${skipped}`;
  const of = `${report.drifted} of ${report.monitored} ${without > 0 ? 'monitored ' : ''}column${report.monitored === 1 ? '' : 's'}`;
  const comparison = report.datasetDrift ? '≥' : '<';
  return (
    `${of} drifted (${percent(report.share)}) ${comparison} ${percent(report.shareThreshold)}: ` +
    `${report.datasetDrift ? 'dataset drift' : 'no dataset drift'}${skipped}`
  );
}

/** Three significant digits, without trailing zeros: 0.0081, 12.3, 2.29e-12. */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  return String(Number(x.toPrecision(3)));
}

function number(column: ColumnDrift, key: string): number | undefined {
  const value = column.statistics[key];
  return typeof value === 'number' ? value : undefined;
}

function test(column: ColumnDrift, key: string): TestStatistic | undefined {
  const value = column.statistics[key];
  return value !== null && typeof value === 'object' ? value : undefined;
}
