import { createHmac } from 'node:crypto';
import http from 'node:http';

export type SlackCall = { method: string; body: Record<string, unknown> };

/**
 * A small stand-in for Slack's Web API: answers what Steward calls and records every call,
 * with JSON-encoded fields (blocks, view) decoded. Calls to a method in `hang` are recorded
 * and never answered, as a Slack that hangs; a method in `refuse` answers `ok: false` with
 * its error code (`{ 'chat.postMessage': 'not_in_channel' }`).
 */
export async function startFakeSlack(
  options: { hang?: string[]; refuse?: Record<string, string> } = {},
): Promise<{ url: string; calls: SlackCall[]; close(): Promise<void> }> {
  const calls: SlackCall[] = [];
  let ts = 1_700_000_000;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const raw = Buffer.concat(chunks).toString('utf8');
      const body: Record<string, unknown> = (req.headers['content-type'] ?? '').includes('json')
        ? (JSON.parse(raw || '{}') as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw));
      for (const key of ['blocks', 'view', 'attachments']) {
        if (typeof body[key] === 'string') body[key] = JSON.parse(body[key] as string);
      }
      calls.push({ method, body });
      if (options.hang?.includes(method)) return;
      const refused = options.refuse?.[method];
      const reply: Record<string, unknown> = refused ? { ok: false, error: refused } : { ok: true };
      if (method === 'auth.test')
        Object.assign(reply, { user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'steward' });
      if (method === 'chat.postMessage')
        Object.assign(reply, { channel: body.channel, ts: `${++ts}.000100` });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Signs a request body as Slack does: v0=HMAC-SHA256(secret, "v0:" + ts + ":" + body). */
export function signedHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signature,
  };
}

/** A slash command's form body. */
export function slashCommand(text: string, user = 'U_ALICE', channel = 'C_ML'): string {
  return new URLSearchParams({
    command: '/mlops',
    text,
    user_id: user,
    user_name: user.toLowerCase(),
    channel_id: channel,
    channel_name: 'ml',
    team_id: 'T1',
    trigger_id: `trigger.${Math.random()}`,
    response_url: 'http://127.0.0.1:9/response',
    token: 'legacy',
  }).toString();
}

/** A block action's form body (`payload=<json>`). */
export function blockAction(
  actionId: string,
  value: string,
  options: { user?: string; channel?: string; ts?: string; actionTs?: string } = {},
): string {
  const payload = {
    type: 'block_actions',
    user: { id: options.user ?? 'U_BOB', name: 'bob' },
    team: { id: 'T1' },
    channel: { id: options.channel ?? 'C_ML' },
    container: { type: 'message', channel_id: options.channel ?? 'C_ML', message_ts: options.ts ?? '1.1' },
    message: { ts: options.ts ?? '1.1' },
    trigger_id: `trigger.${Math.random()}`,
    response_url: 'http://127.0.0.1:9/response',
    actions: [
      {
        action_id: actionId,
        block_id: 'b',
        value,
        type: 'button',
        action_ts: options.actionTs ?? '1700000000.123456',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
