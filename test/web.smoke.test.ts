/** The console is served by the node at / and answers its paths with the page; the API keeps its 404. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RunningNode } from '../src/main.js';
import { makeHome } from './helpers/nodes.js';
import { axeViolations, describeBrowser, launchBrowser, newPage } from './helpers/browser.js';

let node: RunningNode;
let url: string;
beforeAll(async () => {
  const h = await makeHome('us');
  node = await h.start();
  url = h.url;
});
afterAll(async () => { await node?.stop(); });

it('serves the page at / and at console paths, with a CSP; API paths stay JSON 404', async () => {
  for (const path of ['/', '/messages/0193aaaa', '/cases']) {
    const r = await fetch(url + path);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await r.text()).toContain('<div id="root">');
  }
  const api = await fetch(url + '/api/v1/nothing');
  expect(api.status).toBe(404);
  expect((await api.json() as { code: string }).code).toBe('not_found');
  const post = await fetch(url + '/', { method: 'POST' });
  expect(post.status).toBe(404);
});

describeBrowser('the sign-in page in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  it('labels its fields and button, and passes axe in en and ar (right to left)', async () => {
    const page = await newPage(browser, { locale: 'en-GB' });
    await page.goto(url);
    await page.getByLabel('User name').waitFor();
    await page.getByLabel('Password').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const ar = await newPage(browser, { locale: 'ar-EG' });
    await ar.goto(url);
    await ar.getByRole('button', { name: 'تسجيل الدخول' }).waitFor();
    expect(await ar.evaluate('document.documentElement.dir')).toBe('rtl');
    expect(await axeViolations(ar)).toEqual([]);
  });
});
