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
