import { isStewardError } from '../../errors.ts';
import { StageFailure } from '../stage.ts';

/**
 * Runs `fn`, turning Steward's own input errors (bad data, bad spec) into StageFailures:
 * they would fail the same way on retry, so the run ends with the message as its report.
 */
export async function failOnBadInput<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isStewardError(error)) throw new StageFailure(`${what}: ${error.message}`);
    throw error;
  }
}
