// Writes the example datasets from Steward's seeded generators, so they are the same on
// every machine:  npx tsx examples/generate.ts
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateSynthetic } from '../src/stages/data/synthetic.ts';
import { displayValue, type Table } from '../src/stages/data/table.ts';

function toCsv(table: Table): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const lines = [table.columns.map((c) => quote(c.name)).join(',')];
  for (let row = 0; row < table.rowCount; row++) {
    lines.push(table.columns.map((c) => quote(displayValue(c, row) ?? '')).join(','));
  }
  return `${lines.join('\n')}\n`;
}

for (const [name, rows] of [
  ['churn', 5000],
  ['housing', 3000],
] as const) {
  const file = fileURLToPath(new URL(`./${name}.csv`, import.meta.url));
  fs.writeFileSync(file, toCsv(generateSynthetic(name, { rows, seed: 7 })));
  console.log(`wrote ${file}`);
}
