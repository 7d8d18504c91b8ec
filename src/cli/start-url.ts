import type { Config } from '../config.ts';
import { readLocalSecret, secretPath } from '../http/local-secret.ts';

/**
 * Where a browser signs in, as Jupyter does it: the URL carries the data dir's secret, so it
 * is printed only to a terminal (`tty`); elsewhere (a service's log) the line says where the
 * secret is.
 */
export function startUrlLine(config: Config, port: number, tty = Boolean(process.stderr.isTTY)): string {
  const base = `http://localhost:${port}/`;
  const secret = readLocalSecret(config.dataDir);
  if (tty && secret) return `Open ${base}?token=${secret} in a browser.`;
  return `Open ${base}?token=<the contents of ${secretPath(config.dataDir)}> in a browser.`;
}
