import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, collectPageErrors, launchBrowser, screenshot } from '../helpers/browser.ts';
import { seedDataDir } from '../helpers/database.ts';
import { eventually, kill, type Proc, serverUrlOf, show, waitUntilUp } from '../helpers/processes.ts';
import { spawnProduct } from '../helpers/product.ts';

const SUITE = 'console';
const AXE = fileURLToPath(import.meta.resolve('axe-core/axe.min.js'));

/**
 * The console in a real browser, on the product as a newcomer starts it: `steward start`
 * on the embedded database with the repository's own pipelines and stages, signed in with
 * the start URL. One person plays the team with the person switcher.
 */
describe.runIf(browserAvailable())('the console in Chromium', () => {
  let server: Proc;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-console-'));
    // The embedded database, also for the CLI the test reads runs with (whatever DATABASE_URL says).
    env = { STEWARD_DATA_DIR: path.join(dataDir, 'data'), PORT: '0', DATABASE_URL: '' };
    await seedDataDir(String(env.STEWARD_DATA_DIR));
    server = spawnProduct(['start'], env);
    await waitUntilUp(server, 60_000);
    base = serverUrlOf(env);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    errors = collectPageErrors(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await kill(server, 'SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const secret = () => fs.readFileSync(path.join(String(env.STEWARD_DATA_DIR), 'secret'), 'utf8').trim();
  const approvalCard = () =>
    page.locator('[data-message-id]', { has: page.locator('[data-action-id="run.approve"]') });
  const actAs = async (persona: string) => {
    await page.selectOption('#persona', persona);
    // The page receives the persona's updates (its event stream is open and the state reloaded).
    await page.locator(`body[data-live-as="${persona}"]`).waitFor({ state: 'attached' });
  };
  const privateAnswers = () => page.locator('[data-message-id]', { hasText: 'Only visible to you' });

  it('runs churn from the composer, refuses the requester and a viewer, and deploys on the approver’s click', async () => {
    await page.goto(`${base}/?token=${secret()}`);
    // The token became a session cookie, and the address no longer shows it.
    expect(page.url()).toBe(`${base}/`);
    await page.getByRole('navigation', { name: 'Channels' }).getByText('ml-ops').waitFor();
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/live/i);

    await actAs('ana');
    await page.fill('#composer', '/mlops run churn');
    await page.keyboard.press('Enter');
    const root = page.locator('[data-message-id]', { hasText: '#1 churn' }).first();
    await root.waitFor({ timeout: 30_000 });
    const firstText = await root.innerText();
    // The run message changes in place as stages finish, without a reload.
    await expect.poll(() => root.innerText(), { timeout: 60_000 }).not.toBe(firstText);
    await screenshot(page, SUITE, '1-run-progress', { docs: 'console' });

    await approvalCard().waitFor({ timeout: 120_000 });
    await screenshot(page, SUITE, '2-approval-card');
    await screenshot(page, SUITE, '2-approval-card-only', { docs: 'approval-card', element: approvalCard() });

    // The requester's own click: refused privately, with Slack's explanation; nothing changes.
    await approvalCard().locator('[data-action-id="run.approve"]').click();
    await expect.poll(() => privateAnswers().last().innerText(), { timeout: 15_000 }).toMatch(/four eyes/);
    expect((await show(1, env)).run.state).toBe('awaitingApproval');

    // A viewer's click: refused too.
    await actAs('vic');
    await approvalCard().locator('[data-action-id="run.approve"]').click();
    await expect
      .poll(() => privateAnswers().last().innerText(), { timeout: 15_000 })
      .toMatch(/approver role on churn/);
    expect((await show(1, env)).run.state).toBe('awaitingApproval');

    // The approver approves; the card turns into the decision and the run is deployed.
    await actAs('ben');
    await approvalCard().locator('[data-action-id="run.approve"]').click();
    const decided = page.locator('[data-message-id]', { hasText: /Approved by/i });
    await decided.first().waitFor({ timeout: 30_000 });
    await eventually(async () => (await show(1, env)).run.state === 'deployed', 60_000, 'run #1 deployed');
    await expect.poll(() => root.innerText(), { timeout: 30_000 }).toMatch(/deployed|production/i);
    expect(await approvalCard().count()).toBe(0);
    await screenshot(page, SUITE, '3-approved');

    const detail = await show(1, env);
    expect(detail.timeline.find((e) => e.type === 'approval.grant')).toMatchObject({ actor: 'ben' });
    expect(errors).toEqual([]);
  }, 240_000);

  it('is usable from the keyboard and has no serious accessibility problems (axe), in the channel, the reject modal and App Home', async () => {
    await page.evaluate(fs.readFileSync(AXE, 'utf8'));
    const problems = () =>
      page.evaluate(async () => {
        const page = globalThis as unknown as {
          axe: { run(context: unknown, options: unknown): Promise<AxeResults> };
          document: unknown;
        };
        const results = await page.axe.run(page.document, { resultTypes: ['violations'] });
        return results.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
    expect(await problems()).toEqual([]);

    // A second run, started and rejected with the keyboard only.
    await actAs('ana');
    await page.focus('#composer');
    await page.keyboard.type('/mlops run churn');
    await page.keyboard.press('Enter');
    await approvalCard().waitFor({ timeout: 120_000 });
    await actAs('ben');
    await approvalCard().locator('[data-action-id="run.reject"]').focus();
    await page.keyboard.press('Enter');
    const modal = page.locator('dialog#modal');
    await modal.waitFor();
    // The dialog takes the focus, on its first input.
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement?: { tagName: string } } }).document
              .activeElement?.tagName,
        ),
      )
      .toBe('TEXTAREA');
    expect(await problems()).toEqual([]);
    await screenshot(page, SUITE, '4-reject-modal');
    await page.keyboard.type('recall is too low on the new segment');
    await modal.locator('[data-modal-submit]').focus();
    await page.keyboard.press('Enter');
    await eventually(async () => (await show(2, env)).run.state === 'rejected', 30_000, 'run #2 rejected');
    expect((await show(2, env)).run.rejection).toMatchObject({
      by: 'ben',
      reason: 'recall is too low on the new segment',
    });
    await page.locator('[data-message-id]', { hasText: 'recall is too low' }).first().waitFor();

    await page.getByRole('navigation', { name: 'Channels' }).getByText('Home').click();
    await page
      .getByText(/Steward/)
      .first()
      .waitFor();
    expect(await problems()).toEqual([]);
    await screenshot(page, SUITE, '5-home');
    expect(errors).toEqual([]);
  }, 240_000);
});

type AxeResults = { violations: { id: string; impact?: string; nodes: { target: string[] }[] }[] };
