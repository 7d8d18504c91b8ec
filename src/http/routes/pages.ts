import type { NextFunction, Request, Response } from 'express';
import { Router } from 'express';
import YAML from 'yaml';
import { approvalChartPlan } from '../../bot/views/approval-chart.ts';
import { driftChart } from '../../bot/views/drift-alert.ts';
import type { Database } from '../../db/client.ts';
import { findRun, stageOutputField } from '../../db/runs-repo.ts';
import { httpStatusOf, isStewardError, StewardError } from '../../errors.ts';
import { renderPng } from '../../stages/charts/render.ts';
import { PipelineSpec, specHash } from '../../stages/spec.ts';
import type { Access } from '../../workflows/access.ts';
import type { ReportView } from '../../workflows/monitoring.ts';
import type { RunView } from '../../workflows/run-engine.ts';
import { MAX_RUN_NUMBER, noSuchRunNumber, parseRunNumber } from '../../workflows/run-service.ts';
import { problemPage } from '../pages/layout.ts';
import { modelPage } from '../pages/model-page.ts';
import { runPage } from '../pages/run-page.ts';
import { pageHeaders } from './console.ts';
import { type PageAuth, signedIn } from './status.ts';

type PageDeps = { auth: PageAuth; accessOf: (res: Response) => Access; database: Database };

/**
 * The run and model pages, for a browser session (the start URL's `?token=` makes one):
 * `/runs/:n` with its chart at `/runs/:n/chart.png`, and `/models/:name` with the latest
 * drift report's chart at `/models/:name/drift.png`. A refusal is a page saying why.
 */
export function pageRoutes({ auth, accessOf, database }: PageDeps): Router {
  const router = Router();
  const get = (path: string, handler: (req: Request, res: Response) => Promise<void>) =>
    router.get(path, async (req: Request, res: Response, next: NextFunction) => {
      pageHeaders(res);
      res.setHeader('Cache-Control', 'no-store');
      try {
        if (!(await signedIn(auth, req, res))) return;
        await handler(req, res);
      } catch (error) {
        if (!isStewardError(error)) return next(error);
        res.status(httpStatusOf(error.code)).type('html').send(problemPage(error.message));
      }
    });

  /** The run `:n` names, with the chart it has (null when none). */
  async function runOf(req: Request, res: Response) {
    const text = String(req.params.n);
    const number = parseRunNumber(text);
    if (number === undefined)
      throw new StewardError('BAD_REQUEST', `${text} is not a run number: runs are /runs/1, /runs/2, …`);
    if (number > MAX_RUN_NUMBER) throw noSuchRunNumber(text);
    const detail = await accessOf(res).show({ number });
    return { detail, chart: await chartOf(detail.run) };
  }

  async function chartOf(run: RunView) {
    return approvalChartPlan(run, {
      curves: await stageOutputField(database.db, run.id, 'evaluate', 'curves'),
      history: await stageOutputField(database.db, run.id, 'train', 'history'),
    });
  }

  get('/runs/:n', async (req, res) => {
    const { detail, chart } = await runOf(req, res);
    const row = await findRun(database.db, { id: detail.run.id });
    // Read back through the schema: jsonb keeps keys in its own order, and the hash is of the spec as parsed.
    const parsed = PipelineSpec.safeParse(row?.spec);
    const spec = parsed.success ? { yaml: YAML.stringify(parsed.data), hash: specHash(parsed.data) } : null;
    res.type('html').send(runPage({ ...detail, spec, chart: chart && { altText: chart.altText } }));
  });

  get('/runs/:n/chart.png', async (req, res) => {
    const { detail, chart } = await runOf(req, res);
    if (!chart) throw new StewardError('NOT_FOUND', `run #${detail.run.number} has no chart`);
    sendPng(res, (await renderPng(chart.spec)).png);
  });

  /** The model `:name` names; NOT_FOUND for a pipeline Steward does not know. */
  async function modelOf(res: Response, name: string) {
    const access = accessOf(res);
    if (!(await access.pipelines()).includes(name)) {
      throw new StewardError(
        'PIPELINE_NOT_FOUND',
        `there is no pipeline ${name}; \`steward pipelines\` lists them`,
      );
    }
    return access;
  }

  get('/models/:name', async (req, res) => {
    const name = String(req.params.name);
    const access = await modelOf(res, name);
    const [versions, history, runs, drift] = await Promise.all([
      access.models(name),
      access.history(name),
      access.list({ pipeline: name, limit: 10 }),
      orNone(access.drift(name)),
    ]);
    const [alerts, driftHistory] = drift
      ? await Promise.all([access.alerts(name), access.driftHistory(name, 10)])
      : [[], []];
    const chart = drift && driftChartOf(name, drift);
    res.type('html').send(
      modelPage({
        pipeline: name,
        versions,
        history,
        runs,
        alerts,
        drift,
        driftHistory,
        chart: chart && {
          altText: `Histograms of ${chart.columns.join(', ')} in the training data and in the checked window`,
        },
      }),
    );
  });

  get('/models/:name/drift.png', async (req, res) => {
    const name = String(req.params.name);
    const drift = await (await modelOf(res, name)).drift(name);
    const chart = driftChartOf(name, drift);
    if (!chart)
      throw new StewardError('NOT_FOUND', `${name}'s latest drift report has no drifted feature to draw`);
    sendPng(res, (await renderPng(chart.spec)).png);
  });

  return router;
}

const driftChartOf = (name: string, drift: ReportView) =>
  driftChart(drift.report, `${name} v${drift.version}: training data vs the checked window`);

function sendPng(res: Response, png: Buffer): void {
  res.type('png').send(png);
}

/** The value, or null when it is NOT_FOUND (no drift report yet, or no monitoring here). */
async function orNone<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (isStewardError(error) && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}
