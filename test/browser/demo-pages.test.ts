import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { browserAvailable, collectPageErrors, launchBrowser, screenshot } from '../helpers/browser.ts';
import { eventually, kill, type Proc, spawnNode } from '../helpers/processes.ts';

const SUITE = 'demo-pages';
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The image has loaded and has pixels: not a broken link, not blocked by the page's CSP. */
async function loaded(image: Locator): Promise<number> {
  await image.scrollIntoViewIfNeeded();
  await expect
    .poll(() => image.evaluate((img) => (img as unknown as { complete: boolean }).complete))
    .toBe(true);
  return image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
}

/**
 * The demo's story as a person sees it in the browser: `steward demo --open` plays the loop
 * (a model deployed, its source drifts, a monitoring tick raises the alert, [Retrain now]
 * starts run #2, which reaches the gate), then keeps serving it. The alert's page in the
 * console, and the run and model pages its [Details] buttons open. The demo always runs on
 * its own embedded database, so the PostgreSQL leg would only repeat this: it runs on the
 * embedded one.
 */
describe.runIf(browserAvailable() && !process.env.DATABASE_URL)('the demo in the browser', () => {
  let demo: Proc | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let errors: string[];
  let base: string;

  afterAll(async () => {
    await browser?.close();
    if (demo) await kill(demo, 'SIGINT');
  });

  it('shows the drift alert in #ml-alerts with the drifted features, their statistics and its buttons', async () => {
    demo = spawnNode(
      ['bin/steward.js', 'demo', '--open'],
      { ...process.env, DATABASE_URL: '' },
      'demo',
      REPO,
    );
    const proc = demo;
    await eventually(async () => proc.output().includes('Ctrl-C stops it'), 150_000, 'the demo to finish');
    const [, url, secretFile] = /Open (\S+)\/\?token=<the contents of (\S+)>/.exec(proc.output()) ?? [];
    expect(url, proc.output()).toBeDefined();
    base = String(url);
    const secret = fs.readFileSync(String(secretFile), 'utf8').trim();

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    errors = collectPageErrors(page);
    await page.goto(`${base}/?token=${secret}`);
    // The page draws the state once more when its event stream opens: take the picture after that.
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/live/i);
    await page.getByRole('navigation', { name: 'Channels' }).getByText('ml-alerts').click();
    const alert = page.locator('[data-message-id]', { hasText: 'Drift alert #1' }).last();
    await alert.waitFor({ timeout: 30_000 });
    // The demo's last steps are in it: the retrain that [Retrain now] started.
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toMatch(/retraining: run #2/);
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/drift/i);
    expect(text).toMatch(/monthly_charges/);
    await expect.poll(() => alert.getByRole('button', { name: 'Snooze 24h' }).count()).toBe(1);
    await screenshot(page, SUITE, '0-channel');
    await screenshot(page, SUITE, '1-alert', { docs: 'drift-alert', element: alert });

    // [Details] opens the model page: who serves, and the drift report with its chart.
    await alert.getByRole('link', { name: 'Details' }).click();
    await page.waitForURL(/\/models\/subscriptions$/);
    const serving = page.locator('#serving');
    await expect.poll(() => serving.textContent()).toMatch(/v1\s*production\s*100%/);
    const drift = page.locator('#drift');
    expect(await drift.textContent()).toMatch(/monthly_charges\s*numeric\s*drifted/);
    expect(await loaded(drift.locator('img'))).toBeGreaterThan(0);
    expect(await page.locator('#history').textContent()).toMatch(/v1/);
    await screenshot(page, SUITE, '2-model-page', { docs: 'model-page' });
    expect(errors).toEqual([]);
  }, 200_000);

  it("opens run #2's page from its approval card: timeline, checks, metrics beside production, chart", async () => {
    await page.goBack();
    await page.getByRole('navigation', { name: 'Channels' }).getByText('ml-ops').click();
    const card = page.locator('[data-message-id]', { hasText: 'Approval needed: #2' }).last();
    await card.waitFor({ timeout: 30_000 });
    await card.getByRole('link', { name: 'Details' }).click();
    await page.waitForURL(/\/runs\/2$/);

    expect(await page.locator('h1').textContent()).toMatch(/Run #2 subscriptions: awaiting approval/);
    const timeline = (await page.locator('#timeline').textContent()) ?? '';
    expect(timeline).toMatch(/run\.submitted/);
    expect(timeline).toMatch(/started by drift alert #1/);
    expect(timeline).toMatch(/evaluating → awaitingApproval/);
    expect(await page.locator('#checks').textContent()).toMatch(/\d+ passed, 0 failed/);
    // This run's roc_auc, production v1's on the same holdout, and the difference.
    const roc = page.locator('#evidence tr', { hasText: 'roc_auc' });
    expect(await roc.textContent()).toMatch(/roc_auc\s*0\.\d{3}\s*0\.\d{3}\s*[+−±]0\.\d{3}/);
    expect(await page.locator('#evidence').textContent()).toMatch(/Production is v1/);
    expect(await loaded(page.locator('#chart img'))).toBeGreaterThan(0);
    expect(await page.locator('#spec').textContent()).toMatch(/name: subscriptions/);
    await screenshot(page, SUITE, '3-run-page', { docs: 'run-page' });
    expect(errors).toEqual([]);
  }, 60_000);

  it('opens a page linked from another site, as Slack links it, with the session its cookie holds', async () => {
    // A page of another origin with a link to run #1, as a Slack message is: the session
    // cookie is SameSite=Strict, so the first request comes without it.
    await page.route('http://chat.example.test/', (route) =>
      route.fulfill({ contentType: 'text/html', body: `<a href="${base}/runs/1">Details</a>` }),
    );
    await page.goto('http://chat.example.test/');
    await page.getByRole('link', { name: 'Details' }).click();
    await page.waitForURL(/\/runs\/1$/);
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 10_000 })
      .toMatch(/Run #1 subscriptions: deployed/);
    expect(await page.locator('#timeline').textContent()).toMatch(/approval\.grant/);
  }, 30_000);
});
