import { Router } from 'express';
import type { HealthReport } from '../health.ts';

/** `GET /healthz`: 200 when every part is ok, 503 naming the part that is not. No credential needed. */
export function healthRoutes({
  health,
  version,
}: {
  health: () => Promise<HealthReport>;
  version: string;
}): Router {
  const router = Router();
  const startedAt = Date.now();
  router.get('/healthz', async (_req, res) => {
    const report = await health();
    res.status(report.status === 'ok' ? 200 : 503).json({
      ...report,
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    });
  });
  return router;
}
