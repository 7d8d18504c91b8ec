import { isStewardError } from '../../errors.ts';
import { readableMessage, StageFailure, validationIssues } from '../stage.ts';

/**
 * Runs `fn`, turning Steward's own input errors (bad data, bad spec, a schema's refusal)
 * into StageFailures: they would fail the same way on retry, so the run ends with the
 * message as its report.
 */
export async function failOnBadInput<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isStewardError(error) || validationIssues(error)) {
      throw new StageFailure(`${what}: ${readableMessage(error)}`);
    }
    throw error;
  }
}
