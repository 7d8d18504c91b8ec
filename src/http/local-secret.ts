import fs from 'node:fs';
import path from 'node:path';
import { newSecret } from '../db/credentials-repo.ts';
import { StewardError } from '../errors.ts';

/** The file in the data dir that holds the local secret. */
export const secretPath = (dataDir: string): string => path.join(dataDir, 'secret');

/**
 * The local secret: how the CLI on this machine proves to the local server that it is the
 * data dir's owner (the user `local`, an admin). The file is created once, with mode 0600,
 * so only that OS user can read it, and no web page can: loopback alone proves nothing.
 */
export function ensureLocalSecret(dataDir: string): string {
  const file = secretPath(dataDir);
  const existing = readLocalSecret(dataDir);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = newSecret('stl_');
  try {
    // `wx`: if another process made it first, theirs is the one.
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = readLocalSecret(dataDir);
    if (theirs) return theirs;
  }
  return secret;
}

/** The local secret, or undefined when there is none yet. Refuses one that others can read. */
export function readLocalSecret(dataDir: string): string | undefined {
  const file = secretPath(dataDir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new StewardError(
      'CONFIG_INVALID',
      `${file} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``,
    );
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  return secret || undefined;
}
