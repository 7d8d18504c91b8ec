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
  const existing = readLocalSecret(dataDir);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Written whole under a temporary name, then linked into place: a reader never sees a
  // half-written secret, and if another process linked its own first, theirs is the one.
  const temp = path.join(dataDir, `.secret-${process.pid}-${Date.now()}`);
  fs.writeFileSync(temp, `${newSecret('stl_')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temp, secretPath(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  const secret = readLocalSecret(dataDir);
  if (!secret) throw new Error(`${secretPath(dataDir)} is empty`);
  return secret;
}

/** The local secret, or undefined when there is none yet. Refuses one that others can read. */
export function readLocalSecret(dataDir: string): string | undefined {
  const file = secretPath(dataDir);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!stat.isFile()) {
    throw new StewardError('CONFIG_INVALID', `${file} is not a plain file; remove it and restart Steward`);
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
