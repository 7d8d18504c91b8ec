import { createHmac } from 'node:crypto';
import http from 'node:http';

export type SlackCall = { method: string; body: Record<string, unknown> };

/** A file uploaded through files.uploadV2's three steps, as the fake saw it. */
export type SlackUpload = {
  id: string;
  filename: string;
  /** Bytes announced to files.getUploadURLExternal. */
  length: number;
  altText?: string;
  /** The bytes POSTed to the upload URL. */
  content?: Buffer;
  /** Set by files.completeUploadExternal. */
  completed?: { channel_id?: string; thread_ts?: string; initial_comment?: string; title?: string };
};

/**
 * A small stand-in for Slack's Web API: answers what Steward calls and records every call,
 * with JSON-encoded fields (blocks, view) decoded. Calls to a method in `hang` are recorded
 * and never answered, as a Slack that hangs; a method in `refuse` answers `ok: false` with
 * its error code (`{ 'chat.postMessage': 'not_in_channel' }`).
 *
 * Files go through Slack's external upload as @slack/web-api's `filesUploadV2` makes it:
 * files.getUploadURLExternal (a file id and an upload URL on this server), a multipart POST
 * of the bytes to that URL, then files.completeUploadExternal with the channel, thread and
 * comment. `uploads` has each file with its bytes and where it was shared.
 */
export async function startFakeSlack(
  options: { hang?: string[]; refuse?: Record<string, string> } = {},
): Promise<{ url: string; calls: SlackCall[]; uploads: SlackUpload[]; close(): Promise<void> }> {
  const calls: SlackCall[] = [];
  const uploads: SlackUpload[] = [];
  let ts = 1_700_000_000;
  let base = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path.startsWith('/upload/')) {
        const upload = uploads.find((u) => u.id === path.slice('/upload/'.length));
        const form = await new Response(Buffer.concat(chunks), {
          headers: { 'content-type': req.headers['content-type'] ?? '' },
        }).formData();
        const blob = [...form.values()].find((v): v is File => typeof v !== 'string');
        if (upload && blob) upload.content = Buffer.from(await blob.arrayBuffer());
        res.writeHead(upload && blob ? 200 : 400, { 'content-type': 'text/plain' });
        res.end(upload && blob ? 'OK' : 'no such upload or no file part');
        return;
      }
      const method = path.replace(/^\/api\//, '');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body: Record<string, unknown> = (req.headers['content-type'] ?? '').includes('json')
        ? (JSON.parse(raw || '{}') as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(raw));
      for (const key of ['blocks', 'view', 'attachments', 'files']) {
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
      if (method === 'files.getUploadURLExternal' && !refused) {
        const id = `F${String(uploads.length + 1).padStart(6, '0')}`;
        uploads.push({
          id,
          filename: String(body.filename ?? ''),
          length: Number(body.length),
          ...(typeof body.alt_text === 'string' ? { altText: body.alt_text } : {}),
        });
        Object.assign(reply, { file_id: id, upload_url: `${base}/upload/${id}` });
      }
      if (method === 'files.completeUploadExternal' && !refused) {
        const files = (body.files as { id: string; title?: string }[] | undefined) ?? [];
        for (const file of files) {
          const upload = uploads.find((u) => u.id === file.id);
          if (!upload) continue;
          upload.completed = {
            ...(typeof body.channel_id === 'string' ? { channel_id: body.channel_id } : {}),
            ...(typeof body.thread_ts === 'string' ? { thread_ts: body.thread_ts } : {}),
            ...(typeof body.initial_comment === 'string' ? { initial_comment: body.initial_comment } : {}),
            ...(file.title ? { title: file.title } : {}),
          };
        }
        Object.assign(reply, { files: files.map((f) => ({ id: f.id, title: f.title })) });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/api/`,
    calls,
    uploads,
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
