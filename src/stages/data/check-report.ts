import type { CheckResult } from './check-result.ts';

/**
 * A short report for chat and the CLI: one line per failure (their messages already name
 * the column and the value seen), then how many checks passed. Long failure lists are
 * cut at `maxFailures` lines so a badly broken file still gives a readable message.
 */
export function formatCheckReport(results: readonly CheckResult[], { maxFailures = 20 } = {}): string {
  const failures = results.filter((result) => !result.passed);
  const passes = results.length - failures.length;
  const lines = failures.slice(0, maxFailures).map((result) => `✗ ${result.message}`);
  if (failures.length > maxFailures) lines.push(`✗ … and ${failures.length - maxFailures} more failures`);
  if (failures.length === 0) lines.push(`✓ all ${passes} ${passes === 1 ? 'check' : 'checks'} passed`);
  else lines.push(`✓ ${passes} ${passes === 1 ? 'check' : 'checks'} passed, ${failures.length} failed`);
  return lines.join('\n');
}
