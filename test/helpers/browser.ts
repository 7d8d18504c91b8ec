import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs the `chromium` package when it is missing. */
export const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether browser tests can run here. In CI a missing browser fails the run (the tests
 * would otherwise pass by being skipped); elsewhere they are skipped with a note.
 */
export function browserAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package`);
  process.stderr.write(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)\n`);
  return false;
}

/** Where browser tests save their screenshots (a CI artefact; not committed). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** The README's pictures: browser tests write them when `STEWARD_SCREENSHOTS=1`. */
export const DOC_IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));

/**
 * Saves a full-page screenshot as `test-artifacts/<suite>/<name>.png` and returns its path;
 * with `element`, only that element (a message card, say). With `docs`, and
 * `STEWARD_SCREENSHOTS=1` set, it is also written as `docs/images/<docs>.png`.
 */
export async function screenshot(
  page: Page,
  suite: string,
  name: string,
  { docs, element }: { docs?: string; element?: Locator } = {},
): Promise<string> {
  const file = path.join(ARTIFACTS, suite, `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (element) await element.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  if (docs && process.env.STEWARD_SCREENSHOTS === '1') {
    fs.mkdirSync(DOC_IMAGES, { recursive: true });
    fs.copyFileSync(file, path.join(DOC_IMAGES, `${docs}.png`));
  }
  return file;
}

/** Fails the test on any error the page reports: a script error, a CSP violation, a failed module. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}
