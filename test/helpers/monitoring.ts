import { randomUUID } from 'node:crypto';
import { createAlertNotifier } from '../../src/bot/alert-notifier.ts';
import type { ChatPort } from '../../src/bot/chat.ts';
import { ALERT_OUTBOX } from '../../src/db/chat-outbox.ts';
import type { Database } from '../../src/db/client.ts';
import { predictions } from '../../src/db/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { generateChurn } from '../../src/stages/data/synthetic-churn.ts';
import { type LoadedModel, loadModelVersion } from '../../src/stages/serve/loaded-model.ts';
import { predictionJson, scoreRows } from '../../src/stages/serve/predict.ts';
import { createChatDelivery } from '../../src/workflows/handlers/deliver-chat.ts';
import type { Monitoring } from '../../src/workflows/monitoring.ts';
import { churnModels, churnRows, registerVersions, setAlias } from './models.ts';

/**
 * The training data monitoring compares with. At 5,000 reference and 2,000 current rows the
 * normed Wasserstein distance of an undrifted churn column stays under about 0.065 (the
 * threshold is 0.1); at 1,200 and 1,000, sampling noise alone crosses it now and then, as it
 * would in Evidently.
 */
export const REFERENCE_ROWS = 5000;

/** A real churn model (gradient boosting) in production as `pipeline` v1, its training data stored. */
export async function deployChurnModel(database: Database, pipeline: string): Promise<LoadedModel> {
  const models = await churnModels();
  const runIds = await registerVersions(
    database,
    pipeline,
    [{ version: 1, model: models.gbm, modelType: 'gradient_boosting' }],
    { transform: models.transform, dataset: generateChurn({ rows: REFERENCE_ROWS, seed: 7 }) },
  );
  await setAlias(database, pipeline, { version: 1, runId: runIds.get(1) as string });
  return loadModelVersion(database.db, pipeline, 1);
}

/**
 * Logs `rows` predictions as serving does: the model's real answers to fresh churn rows
 * (seed `seed`), with `monthly_charges` moved by `shift` (0.15 is 15% higher).
 */
export async function logPredictions(
  database: Database,
  loaded: LoadedModel,
  { rows, seed, shift = 0 }: { rows: number; seed: number; shift?: number },
): Promise<void> {
  const table = generateChurn({ rows, seed });
  const requests: Record<string, unknown>[] = churnRows(table, rows).map((row) => ({
    ...row,
    monthly_charges: Math.round((row.monthly_charges as number) * (1 + shift) * 100) / 100,
  }));
  const outcomes = scoreRows(loaded, requests);
  const requestId = randomUUID();
  await database.db.insert(predictions).values(
    requests.map((row, i) => {
      const outcome = outcomes[i];
      if (!outcome?.ok) throw new Error(`row ${i} did not score`);
      return {
        requestId,
        row: i,
        pipeline: loaded.pipeline,
        version: loaded.version,
        role: 'production',
        features: Object.fromEntries(loaded.inputs.map((f) => [f, row[f]])),
        prediction: predictionJson(loaded, outcome.prediction),
      };
    }),
  );
}

/**
 * Delivers drift alerts to `chat` through the real delivery loop (the alert outbox), as a
 * process connected to the console does: each call runs rounds until nothing is due.
 */
export function alertDelivery(
  database: Database,
  monitoring: Monitoring,
  chat: ChatPort,
): () => Promise<void> {
  const delivery = createChatDelivery({
    database,
    deliver: createAlertNotifier({ database, monitoring, chat, log: silentLogger }),
    surface: chat.surface,
    outbox: ALERT_OUTBOX,
    log: silentLogger,
    workerId: 'test',
    pollMs: 10,
  });
  return async () => {
    for (let launched = await delivery.round(); launched.length; launched = await delivery.round()) {
      await Promise.all(launched);
    }
  };
}
