import { randomUUID } from 'node:crypto';
import { DemoFailure } from './failure.ts';

/** One person's side of Steward's HTTP surfaces: their own bearer token on every request. */
export type DemoClient = {
  readonly base: string;
  /** A JSON request as `person`; a refusal (any status but 2xx) is a DemoFailure quoting Steward's answer. */
  call<T>(person: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<T>;
  /** Like `call`, but answers the status and body whatever the status. */
  send(
    person: string,
    method: 'GET' | 'POST',
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }>;
  /** Gives `person` a credential of their own (an API token). */
  setToken(person: string, token: string): void;
};

/** The message of Steward's error answer (`{"error": {"message"}}` or `{"error": "..."}`). */
export function errorMessageOf(body: unknown): string {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : JSON.stringify(body);
}

export function createDemoClient(base: string): DemoClient {
  const tokens = new Map<string, string>();

  async function send(person: string, method: 'GET' | 'POST', route: string, body?: unknown) {
    const token = tokens.get(person);
    if (!token) throw new Error(`the demo has no credential for ${person}`);
    const res = await fetch(`${base}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(method === 'POST' ? { 'content-type': 'application/json', 'idempotency-key': randomUUID() } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text for the message
    }
    return { status: res.status, body: parsed };
  }

  return {
    base,
    send,
    async call<T>(person: string, method: 'GET' | 'POST', route: string, body?: unknown) {
      const answer = await send(person, method, route, body);
      if (answer.status >= 200 && answer.status < 300) return answer.body as T;
      throw new DemoFailure(
        `${method} ${route} as ${person} was refused (${answer.status}): ${errorMessageOf(answer.body)}`,
      );
    },
    setToken(person, token) {
      tokens.set(person, token);
    },
  };
}
