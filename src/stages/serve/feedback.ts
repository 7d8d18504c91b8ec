import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { predictions } from '../../db/schema.ts';
import { isStewardError, StewardError } from '../../errors.ts';
import { toCategory, toNumber } from '../features/values.ts';
import type { LoadedModel } from './loaded-model.ts';

export type FeedbackRequest = {
  pipeline: string;
  requestId: string;
  /** One row of the request; all its rows when absent. */
  row?: number;
  label: unknown;
};

/**
 * A label as the log stores it: a classifier's class as its label text (1, "1" and true
 * name the same class as they do for features), a regressor's as a finite number. A label
 * the model cannot have predicted is a BAD_REQUEST listing what it can.
 */
export function normalizeLabel(loaded: LoadedModel, label: unknown): string | number {
  const target = loaded.transform.target;
  if (target.task === 'classification') {
    const text = quietly(() => toCategory(label, 'label', 0));
    if (typeof text === 'string' && target.classes.includes(text)) return text;
    throw new StewardError(
      'BAD_REQUEST',
      `label ${shown(label)} is not a class of ${loaded.pipeline}; send one of ${target.classes
        .map((c) => JSON.stringify(c))
        .join(', ')}`,
    );
  }
  const value = quietly(() => toNumber(label, 'label', 0));
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new StewardError(
    'BAD_REQUEST',
    `label ${shown(label)} is not a number; ${loaded.pipeline} predicts numbers`,
  );
}

function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (isStewardError(error)) return undefined;
    throw error;
  }
}

const shown = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value).slice(0, 60));

/** Sets the label on the logged rows of a request (every role); the number of rows updated. */
export async function labelPredictions(
  db: Queryable,
  request: FeedbackRequest,
  label: string | number,
): Promise<number> {
  const updated = await db
    .update(predictions)
    .set({ label, labeledAt: sql`now()` })
    .where(
      and(
        eq(predictions.pipeline, request.pipeline),
        eq(predictions.requestId, request.requestId),
        request.row === undefined ? undefined : eq(predictions.row, request.row),
      ),
    )
    .returning({ id: predictions.id });
  return updated.length;
}
