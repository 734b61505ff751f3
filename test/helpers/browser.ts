/**
 * Debian's Chromium driven by playwright-core, for the console's tests (issue 11).
 *
 * `.ci/run` installs Chromium and sets HOTLINE_REQUIRE_BROWSER=1: there a missing browser fails the
 * suite. A plain `npm test` on a machine without /usr/bin/chromium skips the browser tests and
 * says so (describeBrowser prints why).
 *
 *   describeBrowser('the queue', () => {
 *     let browser: Browser;
 *     beforeAll(async () => { browser = await launchBrowser(); });
 *     afterAll(async () => { await browser.close(); });
 *     it('...', async () => { const page = await newPage(browser); ... expect(await axeViolations(page)).toEqual([]); });
 *   });
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HOTLINE_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.HOTLINE_REQUIRE_BROWSER === '1';
export const HAVE_BROWSER = existsSync(CHROMIUM);

/** `describe`, or (no Chromium, not required) a skipped describe with the reason printed once. */
export function describeBrowser(name: string, body: () => void): void {
  if (HAVE_BROWSER) { describe(name, body); return; }
  if (REQUIRED) {
    describe(name, () => { throw new Error(`Chromium is required (HOTLINE_REQUIRE_BROWSER=1) but ${CHROMIUM} does not exist: apt-get install -y chromium`); });
    return;
  }
  console.warn(`SKIPPED (no browser): "${name}": ${CHROMIUM} does not exist; apt-get install -y chromium to run the console's tests`);
  describe.skip(name, body);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** A fresh context (its own cookies) and page; `locale` sets navigator.language (the console's default language). */
export async function newPage(browser: Browser, opts: { locale?: string; timezoneId?: string } = {}): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ locale: opts.locale ?? 'en-US', timezoneId: opts.timezoneId ?? 'Europe/Moscow', viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

/** Signs in through the sign-in form (labels "User name", "Password", button "Sign in", in English). */
export async function signIn(page: Page, baseUrl: string, user: string, password: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').waitFor();
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: string[] }

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated, not a <script>: the console's CSP (script-src 'self') refuses inline scripts, and stays on.
  await page.evaluate(axeSource);
  // A string, so that this file needs no DOM types: runs in the page.
  const result = await page.evaluate(`(async () => {
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  })()`) as AxeViolation[];
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Where the tests put their screenshots for docs/console.md. */
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'console');

/** A full-page screenshot into docs/console/<name>.png (the doc embeds it). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
