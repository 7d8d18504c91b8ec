import { StewardError } from '../../errors.ts';
import type { Table } from '../data/table.ts';
import type { FeaturesSpec } from './features-spec.ts';
import type { DroppedColumn, DropReason } from './transform-schema.ts';

export type SelectedColumn = { name: string; kind: 'numeric' | 'boolean' | 'categorical' };
export type Selection = { inputs: SelectedColumn[]; dropped: DroppedColumn[] };

/** Why a column is not a feature, in words a person reads in chat; never its values. */
export const DROP_NOTES: Record<DropReason, string> = {
  drop: 'listed under features.drop',
  pii: 'listed under features.pii: its values are never read or stored',
  text: 'free text is not encoded; list it under features.categorical to one-hot its most frequent values',
  constant: 'a single value in the training data after imputation, so it carries no information',
  unselected: 'not listed under features.numeric or features.categorical',
};

export const dropped = (name: string, reason: DropReason): DroppedColumn => ({
  name,
  reason,
  note: DROP_NOTES[reason],
});

function bad(message: string): never {
  throw new StewardError('BAD_REQUEST', message);
}

type Kind = SelectedColumn['kind'];

/** A column's kind when the spec does not list kinds: as the data layer typed it; text is not used. */
const inferredKind = (type: Table['columns'][number]['type']): Kind | 'text' =>
  type === 'text' ? 'text' : type;

/**
 * Decides, from the spec and the table's column types alone (no values are read, so PII
 * columns are never touched), which columns become features and of which kind, and why
 * each other column is left out. Automatic kinds: numeric columns are numeric features;
 * boolean columns are 1 / 0 features (imputed and scaled like numbers, but kind `boolean`
 * so serving also reads true/false/yes/no), also when listed under `numeric`; categorical
 * columns are one-hot encoded; text is dropped. Columns keep the table's order. `pii` wins
 * over `drop` when a column is in both, so the stored reason is the stronger one.
 */
export function selectColumns(table: Table, target: string, spec: FeaturesSpec): Selection {
  const names = new Set(table.columns.map((c) => c.name));
  if (!names.has(target)) bad(`the target column "${target}" is not in the data`);
  const explicit = spec.numeric !== undefined || spec.categorical !== undefined;
  const numeric = new Set(spec.numeric ?? []);
  const categorical = new Set(spec.categorical ?? []);
  const pii = new Set(spec.pii);
  const drop = new Set(spec.drop);
  for (const [list, listed] of [
    ['numeric', numeric],
    ['categorical', categorical],
    ['drop', drop],
    ['pii', pii],
  ] as const) {
    if (listed.has(target)) bad(`features.${list} lists "${target}", which is the target`);
    const mustExist = list === 'numeric' || list === 'categorical';
    const unknown = mustExist ? [...listed].find((name) => !names.has(name)) : undefined;
    if (unknown !== undefined) bad(`features.${list} lists "${unknown}", which is not in the data`);
  }

  const selection: Selection = { inputs: [], dropped: [] };
  for (const { name, type } of table.columns) {
    if (name === target) continue;
    let decision: Kind | DropReason;
    if (pii.has(name)) decision = 'pii';
    else if (drop.has(name)) decision = 'drop';
    else if (!explicit) decision = inferredKind(type);
    else if (numeric.has(name)) decision = type === 'boolean' ? 'boolean' : 'numeric';
    else if (categorical.has(name)) decision = 'categorical';
    else decision = 'unselected';
    if (decision === 'numeric' || decision === 'boolean' || decision === 'categorical') {
      selection.inputs.push({ name, kind: decision });
    } else {
      selection.dropped.push(dropped(name, decision));
    }
  }
  return selection;
}
