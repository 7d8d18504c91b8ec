import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Every log the suite produces (the output of each `steward` process it starts, and each
 * recording logger's lines) is kept in one directory per test run; at the end the global
 * teardown searches it for secrets and data (see `findLeaks`).
 */
export function suiteLogDir(run = process.env.STEWARD_TEST_RUN ?? 'adhoc'): string {
  return path.join(os.tmpdir(), `steward-suite-logs-${run}`);
}

export function keepLog(name: string, text: string): void {
  if (!text) return;
  const dir = suiteLogDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(path.join(dir, `${process.pid}-${name.replace(/[^\w.-]/g, '_')}.log`), text);
}

/** What must never be in a log: tokens, the test suite's passwords, dataset bytes. */
export const LEAKS: { what: string; pattern: RegExp }[] = [
  { what: 'a personal API token', pattern: /stw_[A-Za-z0-9_-]{40,}/ },
  { what: "the data dir's secret", pattern: /stl_[A-Za-z0-9_-]{20,}/ },
  { what: 'a password from a DATABASE_URL', pattern: /Pa55-word-of-the-suite/ },
  { what: 'STEWARD_API_TOKEN of the suite', pattern: /api-token-of-the-suite/ },
  { what: 'gzipped dataset bytes (hex)', pattern: /\\x1f8b/i },
  { what: 'gzipped dataset bytes (a serialized Buffer)', pattern: /"data":\[31,139,/ },
  { what: 'gzipped dataset bytes (base64)', pattern: /H4sI[A-Za-z0-9+/]{16,}/ },
];

/** Each leak found in the suite's logs, as "file: what". */
export function findLeaks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const file of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const { what, pattern } of LEAKS) if (pattern.test(text)) found.push(`${file}: ${what}`);
  }
  return found;
}
