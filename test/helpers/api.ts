import http from 'node:http';
import { createToken } from '../../src/db/credentials-repo.ts';
import { grantRole } from '../../src/db/runs-repo.ts';
import { createHttpServer, type HttpDeps } from '../../src/http/server.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { demoSpec, type EngineHarness } from './engine.ts';

export const LOCAL_SECRET = 'stl_test-local-secret';
export const API_TOKEN = 's3cret';

export type TestApi = {
  base: string;
  /** A personal token for `user` (made on first use). */
  tokenOf(user: string): Promise<string>;
  /** `fetch` with `user`'s bearer token (or the given headers only when `user` is undefined). */
  call(path: string, init?: RequestInit & { user?: string; json?: unknown }): Promise<Response>;
  close(): void;
};

/** The REST API over an engine harness, on a random port, with a local secret and STEWARD_API_TOKEN. */
export async function startApi(h: EngineHarness, options: Partial<HttpDeps> = {}): Promise<TestApi> {
  const service = createRunService({
    database: h.database,
    engine: h.engine,
    catalog: createMemoryCatalog([demoSpec()]),
  });
  const server: http.Server = createHttpServer({
    service,
    roles: createRoleService({ database: h.database }),
    database: h.database,
    log: silentLogger,
    version: 'test',
    localSecret: LOCAL_SECRET,
    apiToken: API_TOKEN,
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  for (const [userId, role] of [
    ['local', 'admin'],
    ['api', 'admin'],
  ] as const) {
    await grantRole(h.database.db, { userId, role, grantedBy: 'test' });
  }
  const tokens = new Map<string, string>();
  async function tokenOf(user: string) {
    let token = tokens.get(user);
    if (!token) {
      token = (await createToken(h.database.db, { userId: user, name: 'test', createdBy: 'test' })).token;
      tokens.set(user, token);
    }
    return token;
  }
  return {
    base,
    tokenOf,
    async call(path, { user, json, headers, ...init } = {}) {
      return fetch(`${base}${path}`, {
        ...init,
        headers: {
          ...(user ? { authorization: `Bearer ${await tokenOf(user)}` } : {}),
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
          ...(headers as Record<string, string> | undefined),
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
    },
    close: () => server.close(),
  };
}

/** A request through node:http, which sends any Host header as given (fetch does not). */
export function rawRequest(
  base: string,
  {
    method = 'GET',
    path = '/',
    headers = {},
    body,
  }: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
