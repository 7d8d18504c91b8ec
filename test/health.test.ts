import type http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.ts';
import { createHealthCheck, type WorkerHealth } from '../src/http/health.ts';
import { createHttpServer } from '../src/http/server.ts';
import { silentLogger } from '../src/log.ts';
import { createRoleService } from '../src/workflows/role-service.ts';
import type { RunService } from '../src/workflows/run-service.ts';
import { eventually } from './helpers/processes.ts';

/** /healthz reads no runs: any call to the service is a bug. */
const noService = new Proxy({} as RunService, {
  get: (_, name) => () => Promise.reject(new Error(`/healthz called service.${String(name)}`)),
});

async function serve(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const healthz = async (base: string) => {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const worker = (): WorkerHealth => ({ ok: true, lastRoundAt: new Date().toISOString() });

describe('health check', () => {
  const fake = (executeSql: () => Promise<{ rows: unknown[] }>) => ({
    kind: 'postgres' as const,
    executor: { executeSql },
  });

  it('is ok when the database answers and the worker is healthy', async () => {
    const check = createHealthCheck({ database: fake(async () => ({ rows: [] })), worker });
    expect(await check()).toMatchObject({ status: 'ok', database: { kind: 'postgres', ok: true } });
  });

  it('names a database that fails, or hangs past the timeout, without its password', async () => {
    const failing = createHealthCheck({
      database: fake(() => Promise.reject(new Error('connect to postgres://steward:hunter2@db:5432 failed'))),
    });
    const report = await failing();
    expect(report).toEqual({
      status: 'unavailable',
      database: {
        kind: 'postgres',
        ok: false,
        error: 'database unreachable: connect to postgres://***@db:5432 failed',
      },
    });
    const hanging = createHealthCheck({ database: fake(() => new Promise(() => {})), timeoutMs: 50 });
    expect((await hanging()).database.error).toBe('database unreachable: no answer to select 1 within 50 ms');
  });

  it('is unavailable when the worker loop says it is stuck, or its report throws', async () => {
    const stuck = { ok: false, lastRoundAt: '2026-01-01T00:00:00.000Z', error: 'last round 40 s ago' };
    const check = createHealthCheck({ database: fake(async () => ({ rows: [] })), worker: () => stuck });
    expect(await check()).toMatchObject({ status: 'unavailable', database: { ok: true }, worker: stuck });
    const throwing = createHealthCheck({
      database: fake(async () => ({ rows: [] })),
      worker: () => {
        throw new Error('no loop');
      },
    });
    expect((await throwing()).worker).toEqual({ ok: false, lastRoundAt: null, error: 'no loop' });
  });
});

/**
 * /healthz while PostgreSQL goes away: the app's database is opened through a TCP proxy
 * that the test cuts and restores. The shared server itself is never touched.
 */
describe.skipIf(!process.env.DATABASE_URL)('/healthz when PostgreSQL goes away', () => {
  const target = new URL(process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432');
  const sockets = new Set<net.Socket>();
  let proxy: net.Server | undefined;
  let proxyPort = 0;
  let database: Database;
  let server: http.Server;
  let base: string;

  /** Forwards every connection to the real server; remembers both ends so cutting kills them. */
  async function openProxy(): Promise<void> {
    const p = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => p.listen(proxyPort, '127.0.0.1', resolve));
    proxyPort = (p.address() as net.AddressInfo).port;
    proxy = p;
  }

  async function cutProxy(): Promise<void> {
    const p = proxy;
    proxy = undefined;
    const closed = new Promise<void>((resolve) => p?.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  }

  beforeAll(async () => {
    await openProxy();
    const url = new URL(target);
    url.host = `127.0.0.1:${proxyPort}`;
    database = await openDatabase({
      databaseUrl: url.toString(),
      dataDir: '',
      command: 'test',
      log: silentLogger,
    });
    server = createHttpServer({
      service: noService,
      roles: createRoleService({ database: database }),
      database,
      log: silentLogger,
      version: 'test',
      health: createHealthCheck({ database, worker, timeoutMs: 2000 }),
    });
    base = await serve(server);
  });
  afterAll(async () => {
    server?.close();
    if (proxy) await cutProxy();
    await database?.close().catch(() => {});
  });

  it('answers 200, then 503 naming the database while it is unreachable, then 200 again', async () => {
    expect(await healthz(base)).toMatchObject({
      status: 200,
      body: { status: 'ok', database: { kind: 'postgres', ok: true }, worker: { ok: true } },
    });

    await cutProxy();
    const started = Date.now();
    const down = await healthz(base);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(down).toMatchObject({
      status: 503,
      body: {
        status: 'unavailable',
        database: { kind: 'postgres', ok: false, error: expect.stringMatching(/^database unreachable: \S/) },
        worker: { ok: true },
      },
    });
    expect(JSON.stringify(down.body)).not.toContain(target.password || 'postgres://');

    await openProxy();
    await eventually(async () => (await healthz(base)).status === 200, 10_000, '/healthz to recover');
  });
});
