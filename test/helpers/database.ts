import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type Database, migrateDatabase, openDatabase } from '../../src/db/client.ts';
import { silentLogger } from '../../src/log.ts';
import { createJobQueue, type JobQueue } from '../../src/workflows/jobs.ts';

export type Backend = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL too when DATABASE_URL is set (CI sets it). */
export function backends(): Backend[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export type TestDatabase = { database: Database; jobs: JobQueue; url?: string; close(): Promise<void> };

const TEMPLATE = path.join(
  os.tmpdir(),
  `steward-test-template-${process.env.STEWARD_TEST_RUN ?? 'local'}.tar.gz`,
);

/** The PGlite directory of a migrated data dir, made once per test run (see seedDataDir). */
const TEMPLATE_PGDATA = path.join(
  os.tmpdir(),
  `steward-test-pgdata-${process.env.STEWARD_TEST_RUN ?? 'local'}`,
);

/** Where openDatabase keeps the embedded database inside a data dir. */
const PGDATA = 'pgdata';

let templatePgdata: Promise<void> | undefined;

/**
 * Fills the data dir `target` with a migrated database holding the job queue, as a first
 * `steward` start on it would leave it: the database only, so the lock file and the local
 * secret are still each data dir's own. The database is copied from a template that the
 * real start-up path (open, migrate, job queue) makes once per test run.
 */
export async function seedDataDir(target: string): Promise<void> {
  templatePgdata ??= makeTemplatePgdata();
  await templatePgdata;
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  fs.cpSync(TEMPLATE_PGDATA, path.join(target, PGDATA), {
    recursive: true,
    errorOnExist: true,
    force: false,
  });
}

async function makeTemplatePgdata(): Promise<void> {
  if (fs.existsSync(TEMPLATE_PGDATA)) return;
  // Made in a directory of its own and renamed into place whole: parallel test workers each
  // make one, the first rename wins, and no one copies a half-made template.
  const work = fs.mkdtempSync(`${TEMPLATE_PGDATA}.tmp-`);
  try {
    const database = await openDatabase({ dataDir: work, command: 'test', log: silentLogger });
    try {
      await migrateDatabase(database);
      const jobs = await createJobQueue({ database, log: silentLogger, supervise: false });
      await jobs.stop();
    } finally {
      await database.close();
    }
    try {
      fs.renameSync(path.join(work, PGDATA), TEMPLATE_PGDATA);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A fresh, migrated database with the job queue installed. PGlite databases are restored
 * from a template tarball (initdb and the pg-boss schema take seconds; a restore ~0.5 s).
 * PostgreSQL gets a new database per call, dropped on close.
 */
export async function testDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'postgres') return postgresDatabase();
  let pglite: PGlite;
  if (fs.existsSync(TEMPLATE)) {
    pglite = await PGlite.create({ loadDataDir: new Blob([fs.readFileSync(TEMPLATE)]) });
  } else {
    pglite = await PGlite.create();
  }
  const database = await openDatabase({ dataDir: '', command: 'test', log: silentLogger, pglite });
  await migrateDatabase(database);
  const jobs = await createJobQueue({ database, log: silentLogger, supervise: false });
  if (!fs.existsSync(TEMPLATE)) {
    const dump = await pglite.dumpDataDir('gzip');
    const tmp = `${TEMPLATE}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(tmp, TEMPLATE);
  }
  return {
    database,
    jobs,
    async close() {
      await jobs.stop();
      await pglite.close();
    },
  };
}

async function postgresDatabase(): Promise<TestDatabase> {
  const admin = process.env.DATABASE_URL as string;
  const name = `steward_t_${randomBytes(5).toString('hex')}`;
  const control = new pg.Client({ connectionString: admin });
  await control.connect();
  await control.query(`create database ${name}`);
  await control.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const database = await openDatabase({
    databaseUrl: url.toString(),
    dataDir: '',
    command: 'test',
    log: silentLogger,
    poolSize: 12,
  });
  await migrateDatabase(database, url.toString());
  const jobs = await createJobQueue({ database, log: silentLogger, supervise: false });
  return {
    database,
    jobs,
    url: url.toString(),
    async close() {
      await jobs.stop();
      await database.close();
      const drop = new pg.Client({ connectionString: admin });
      await drop.connect();
      await drop.query(`drop database if exists ${name} with (force)`);
      await drop.end();
    },
  };
}
