#!/usr/bin/env node
// A container's health probe: GET /healthz on this machine, exit 0 when it answers 200.
// `steward start` serves /healthz on PORT and `steward worker` on STEWARD_METRICS_PORT; with
// no argument both are tried, so one image's HEALTHCHECK fits either command. Ports given
// as arguments are tried instead. Plain Node: the slim image has neither curl nor wget.
//
//   node deploy/healthcheck.mjs            # PORT (3000), then STEWARD_METRICS_PORT (9464)
//   node deploy/healthcheck.mjs 9464       # that port only

const ports =
  process.argv.length > 2
    ? process.argv.slice(2)
    : [process.env.PORT || '3000', process.env.STEWARD_METRICS_PORT || '9464'];
const TIMEOUT_MS = 4000;

const problems = [];
for (const port of ports) {
  const url = `http://127.0.0.1:${port}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = await res.text();
    if (res.ok) process.exit(0);
    // A 503 names the part that is down (the database, the job loop): show it in `docker inspect`.
    problems.push(`${url}: HTTP ${res.status} ${body.slice(0, 500)}`);
  } catch (error) {
    problems.push(`${url}: ${error?.cause?.code ?? error?.name ?? ''} ${error?.message ?? error}`.trim());
  }
}
process.stderr.write(`unhealthy:\n  ${problems.join('\n  ')}\n`);
process.exit(1);
