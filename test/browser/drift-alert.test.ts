import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { browserAvailable, collectPageErrors, launchBrowser, screenshot } from '../helpers/browser.ts';
import { eventually, kill, type Proc, spawnNode } from '../helpers/processes.ts';

const SUITE = 'drift-alert';
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A drift alert as a person sees it in the console: `steward demo --open` plays the loop
 * (its synthetic source drifts and a monitoring tick raises the alert), then keeps serving
 * it. The demo always runs on its own embedded database, so the PostgreSQL leg would only
 * repeat this: it runs on the embedded one.
 */
describe.runIf(browserAvailable() && !process.env.DATABASE_URL)('a drift alert in the console', () => {
  let demo: Proc | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    if (demo) await kill(demo, 'SIGINT');
  });

  it('shows the page in #ml-alerts with the drifted features, their statistics and its buttons', async () => {
    demo = spawnNode(
      ['bin/steward.js', 'demo', '--open'],
      { ...process.env, DATABASE_URL: '' },
      'demo',
      REPO,
    );
    const proc = demo;
    await eventually(async () => proc.output().includes('Ctrl-C stops it'), 150_000, 'the demo to finish');
    const [, base, secretFile] = /Open (\S+)\/\?token=<the contents of (\S+)>/.exec(proc.output()) ?? [];
    expect(base, proc.output()).toBeDefined();
    const secret = fs.readFileSync(String(secretFile), 'utf8').trim();

    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors = collectPageErrors(page);
    await page.goto(`${base}/?token=${secret}`);
    // The page draws the state once more when its event stream opens: take the picture after that.
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/live/i);
    await page.getByRole('navigation', { name: 'Channels' }).getByText('ml-alerts').click();
    const alert = page
      .locator('[data-message-id]', { has: page.locator('[data-action-id="drift.details"]') })
      .last();
    await alert.waitFor({ timeout: 30_000 });
    // The demo's last steps are in it: the retrain that [Retrain now] started.
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toMatch(/retraining: run #2/);
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/drift/i);
    expect(text).toMatch(/monthly_charges/);
    await screenshot(page, SUITE, '0-channel');
    await screenshot(page, SUITE, '1-alert', { docs: 'drift-alert', element: alert });
    expect(errors).toEqual([]);
  }, 200_000);
});
