import { modelPath, runPath } from '../bot/views/links.ts';
import type { RunView } from '../workflows/run-engine.ts';
import type { ModelView } from '../workflows/run-service.ts';
import { escapeHtml, type Html, html } from './pages/layout.ts';

const cells = (values: (string | Html)[]) => html`<tr>${values.map((v) => html`<td>${v}</td>`)}</tr>`.text;
const runLink = (n: number) => html`<a href="${runPath(n)}">#${n}</a>`;

/**
 * What a person sees at http://localhost:3000: that Steward is up, its recent runs and its
 * models, and how to go on. Read-only and dependency-free; the chat console replaces it.
 */
export function statusPage({
  runs,
  models,
  version,
}: {
  runs: RunView[];
  models: ModelView[];
  version: string;
}): string {
  const runRows = runs.map((r) =>
    cells([
      runLink(r.number),
      html`<a href="${modelPath(r.pipeline)}">${r.pipeline}</a>`,
      r.state,
      r.requestedBy,
      r.createdAt.slice(0, 19),
    ]),
  );
  const modelRows = models.map((m) => {
    const metrics = Object.entries(m.metrics)
      .filter(([, v]) => typeof v === 'number')
      .slice(0, 3)
      .map(([k, v]) => `${k} ${(v as number).toFixed(3)}`)
      .join(', ');
    return cells([
      html`<a href="${modelPath(m.pipeline)}">${m.pipeline}</a> v${m.version}${m.production ? ' (production)' : ''}`,
      m.modelType,
      metrics,
      runLink(m.run),
    ]);
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Steward</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse;margin-bottom:2rem}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}code{background:#f4f4f4;padding:0 .3rem}</style></head>
<body><h1>Steward ${escapeHtml(version)} is running</h1>
<p>Start a run from another terminal with <code>npx steward run churn --wait</code>, approve it with
<code>npx steward approve &lt;n&gt;</code> as someone other than the requester (README, "Quick start"), or connect Slack (README, "Connect to Slack").</p>
<h2>Recent runs</h2>
${runRows.length ? `<table><tr><th>run</th><th>pipeline</th><th>state</th><th>by</th><th>created (UTC)</th></tr>${runRows.join('')}</table>` : '<p>No runs yet.</p>'}
<h2>Models</h2>
${modelRows.length ? `<table><tr><th>model</th><th>type</th><th>metrics</th><th>run</th></tr>${modelRows.join('')}</table>` : '<p>No model versions yet.</p>'}
<p>API: <code>GET /api/runs</code>, <code>GET /api/runs/:n</code>, <code>GET /api/models</code>, <code>GET /healthz</code>.</p>
</body></html>`;
}

/** What a browser without a session sees: where to get one. */
export function signInPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Steward: sign in</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}code{background:#f4f4f4;padding:0 .3rem}</style></head>
<body><h1>Steward needs to know who you are</h1>
<p>Open the link that <code>steward start</code> printed (<code>http://localhost:3000/?token=…</code>),
or add <code>?token=</code> and a personal token from <code>steward token create &lt;you&gt;</code> to this address.</p>
</body></html>`;
}

/** The answer to a link from another site: the same address again, now from this origin. */
export function reloadPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0"><title>Steward</title></head>
<body><p>Opening the page… <a href="">Continue</a> if it does not open.</p></body></html>`;
}
