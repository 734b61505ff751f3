/**
 * Issue 11, the console's operations pages in Chromium against two real nodes on loopback:
 * reachability (a ping sent from us's console, answered from ru's, its time in the table, the
 * chart drawn with its text alternative), feeds (an upload runs to the end: per-party counts, a
 * reject with its line number), the TAXII browser (an object's STIX JSON), administration (peers
 * with fingerprints, a test alert that reaches a webhook, the sign-in found in the audit trail);
 * an officer gets no administration link and the page refuses. axe in en and ar on each page.
 */
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningNode } from '../src/main.js';
import type { FeedsTables } from '../src/modules/feeds/feeds.tables.js';
import { api, type Api } from './helpers/api.js';
import { axeViolations, describeBrowser, launchBrowser, newPage, screenshot, signIn } from './helpers/browser.js';
import { addConsoleUser, TEST_PASSWORD } from './helpers/console.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';
import { webhookReceiver, type WebhookReceiver } from './helpers/webhook.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let hook: WebhookReceiver;
const PASSWORD = TEST_PASSWORD;

beforeAll(async () => {
  [us, ru] = await makePair();
  await addConsoleUser(us.home, { name: 'ada', role: 'admin', password: PASSWORD, display_name: 'Ada Admin' });
  await addConsoleUser(us.home, { name: 'olga', role: 'officer', channels: ['cert'], password: PASSWORD, display_name: 'Olga Officer' });
  await addConsoleUser(ru.home, { name: 'ivan', role: 'officer', channels: ['cert'], password: PASSWORD, display_name: 'Ivan Petrov' });
  a = await us.start();
  b = await ru.start();
  onUs = api(us.url);
  for (const [party, body] of [['us', { countries: ['US'], prefixes: ['192.0.2.0/24'] }], ['ru', { countries: ['RU'], prefixes: ['198.51.100.0/24'] }]] as const) {
    const r = await onUs(`/api/v1/jurisdictions/${party}`, us.token, { method: 'PUT', body });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
  }
  hook = await webhookReceiver();
  const s = await onUs('/api/v1/sinks', us.token, { method: 'POST', body: { type: 'webhook', target: `${hook.url}/duty`, name: 'duty-webhook', format: 'slack' } });
  expect(s.status, JSON.stringify(s.json)).toBe(201);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await hook?.close();
});

/** Switches the console's language with the header's picker. */
async function language(page: Page, lang: string): Promise<void> {
  await page.locator('label.lang select').selectOption(lang);
  await page.waitForFunction(`document.documentElement.lang === ${JSON.stringify(lang)}`);
}

/** axe (serious, critical) in English, then in Arabic (right to left), then back to English. */
async function axeEnAr(page: Page, ready: (p: Page) => Promise<void>): Promise<void> {
  expect(await axeViolations(page), 'en').toEqual([]);
  await language(page, 'ar');
  expect(await page.evaluate('document.documentElement.dir')).toBe('rtl');
  await ready(page);
  expect(await axeViolations(page), 'ar').toEqual([]);
  await language(page, 'en');
}

describeBrowser('the console: reachability, feeds, TAXII, administration', () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  it('reachability: a ping sent from us is answered from ru\'s console; us shows its time, the chart and its text alternative', async () => {
    const olga = await newPage(browser);
    await signIn(olga, us.url, 'olga', PASSWORD);
    await olga.getByRole('link', { name: 'Reachability' }).click();
    await olga.getByRole('heading', { name: 'Reachability', level: 1 }).waitFor();
    await olga.getByLabel('Peer · Channel').selectOption('ru cert');
    await olga.getByRole('button', { name: 'Send a ping' }).click();
    await olga.getByText('Ping sent to ru on cert').waitFor();

    const ivan = await newPage(browser);
    await signIn(ivan, ru.url, 'ivan', PASSWORD);
    await ivan.goto(`${ru.url}/reachability`);
    const answer = ivan.getByRole('button', { name: 'Answer the ping from us on cert' });
    await answer.waitFor();
    await answer.click();
    await ivan.getByText('Answer sent to us.').waitFor();
    await ivan.getByText('No ping is waiting for an answer.').waitFor();

    // us: the row for ru on cert shows the answer (the page follows the pong's event and polls).
    const row = olga.locator('tr[data-peer="ru"][data-channel="cert"]');
    const cells = await eventually(async () => {
      const x = await row.locator('td').allTextContents();
      return x[2] === '1' ? x : undefined;
    }, 400, 100);
    expect(cells.slice(0, 4)).toEqual(['cert', '1', '1', '100%']);
    expect(cells[4]).toMatch(/^\d+(\.\d)?\s?s$/); // the median answer time, in seconds
    expect(cells[6]).toContain('Ivan Petrov');
    await olga.locator('.ping-chart canvas').first().waitFor();
    expect(await olga.locator('#ping-summary').textContent()).toMatch(/^1 ping answered in this period, in \d+(\.\d)?\s?s\./);
    await olga.getByText('Pings in this period (the chart as a table)').click();
    await olga.getByRole('cell', { name: '✔ Answered' }).waitFor();
    await screenshot(olga, 'reachability-en');
    await axeEnAr(olga, (p) => p.getByRole('heading', { name: 'إمكانية الوصول', level: 1 }).waitFor());
    await axeEnAr(ivan, (p) => p.getByRole('heading', { name: 'إمكانية الوصول', level: 1 }).waitFor());
  });

  it('feeds: an upload runs to the end with per-party counts and a reject with its line number', async () => {
    const olga = await newPage(browser);
    await signIn(olga, us.url, 'olga', PASSWORD);
    await olga.getByRole('link', { name: 'Feeds' }).click();
    await olga.getByRole('heading', { name: 'Feeds', level: 1 }).waitFor();
    const feed = [
      'ip,port,timestamp,family,type,asn,country',
      '198.51.100.7,443,2026-11-30T10:00:00Z,trickbot,c2,,',
      '198.51.100.8,443,2026-11-30T10:05:00Z,qakbot,infected,,',
      '192.0.2.9,80,2026-11-30T10:10:00Z,mirai,c2,,',
      '999.1.1.1,80,2026-11-30T10:15:00Z,mirai,infected,,',
    ].join('\n') + '\n';
    await olga.getByLabel('Feed file').setInputFiles({ name: 'sinkhole.csv', mimeType: 'text/csv', buffer: Buffer.from(feed) });
    await olga.getByLabel('Feed name').fill('sinkhole-test');
    await olga.getByRole('button', { name: 'Upload and run' }).click();
    await olga.getByText(/^Run started: /).waitFor();
    const detail = olga.locator('.run-detail[data-state="complete"]');
    await detail.waitFor();
    expect(await detail.locator('.run-totals').textContent()).toMatch(/^3 records, 1 rejected/);
    expect(await detail.locator('tr[data-party="ru"] td').allTextContents()).toEqual(['2', '2', 'qakbot, trickbot', expect.any(String), '1']);
    expect(await detail.locator('tr[data-party="us"] td').first().textContent()).toBe('1');
    const reject = detail.locator('table.rejects tbody tr');
    expect(await reject.locator('th').textContent()).toBe('5');
    expect(await reject.locator('td').textContent()).toContain('999.1.1.1');
    await screenshot(olga, 'feeds-en');
    await axeEnAr(olga, (p) => p.locator('.run-detail[data-state="complete"]').waitFor());

    // The indicators: browse the domestic collection and open an object's STIX JSON.
    await olga.getByRole('link', { name: 'Indicators (TAXII)' }).click();
    await olga.getByRole('heading', { name: 'Indicators (TAXII)', level: 1 }).waitFor();
    await olga.getByLabel('Object type').selectOption('indicator');
    await olga.getByRole('button', { name: 'Show objects' }).click();
    const open = olga.getByRole('button', { name: /^Open indicator--/ });
    await open.first().waitFor();
    expect(await open.count()).toBe(1);
    await open.first().click();
    const json = olga.getByRole('region', { name: /^STIX JSON of version / });
    await json.waitFor();
    const object = JSON.parse((await json.textContent())!) as { type: string; pattern: string };
    expect(object.type).toBe('indicator');
    expect(object.pattern).toContain('192.0.2.9');
    await axeEnAr(olga, (p) => p.locator('pre.stix-json').waitFor());
  });

  it('feeds: a run not started yet is labelled (receiving, then queued) and the page follows it to its end by itself', async () => {
    // An upload another process of the node is receiving (its holder, this live test process, on this machine).
    const id = 'b7d3c1e2-0000-4000-8000-00000000feed';
    const report = { source: 'arriving', tlp: 'amber', bytes: 0, lines: 0, records: 0, rejected: 0, rejects: [], duplicates: 0, unrouted: 0, peers: [], domestic: { party: '', collection: '', records: 0, distinct_ips: 0, families: [], messages: [], objects: 0 }, elapsed_ms: 0 };
    const now = Date.now();
    const runs = a.ctx.db as unknown as Kysely<FeedsTables>;
    await runs.insertInto('feed_runs').values({
      id, source: 'arriving', input: 'upload', state: 'receiving', pid: process.pid, started_at: now, updated_at: now, finished_at: null,
      report: JSON.stringify(report), error: null, options: '{}', holder: `${hostname()}:${process.pid}:test`, resume_line: 0,
    }).execute();
    const olga = await newPage(browser);
    await signIn(olga, us.url, 'olga', PASSWORD);
    await olga.getByRole('link', { name: 'Feeds' }).click();
    const row = olga.locator('tr', { has: olga.getByRole('rowheader', { name: 'arriving' }) });
    expect(await row.locator('.run-state').textContent()).toContain('Receiving the upload');
    await row.getByRole('button').click();
    const detail = olga.locator(`.run-detail[data-run="${id}"]`);
    expect(await detail.getByRole('status').textContent()).toBe('Receiving the upload');
    // Arrived; no process is free yet.
    await runs.updateTable('feed_runs').set({ state: 'queued', options: null }).where('id', '=', id).execute();
    await olga.locator(`.run-detail[data-run="${id}"][data-state="queued"]`).waitFor();
    expect(await detail.getByRole('status').textContent()).toBe('Waiting for a free run slot on the node; it starts by itself.');
    await row.locator('.run-state', { hasText: 'Queued' }).waitFor();
    expect(await axeViolations(olga)).toEqual([]);
    // It ran and ended: the page shows it without being told to.
    await runs.updateTable('feed_runs').set({ state: 'complete', finished_at: Date.now(), report: JSON.stringify({ ...report, records: 7, lines: 8, bytes: 300 }) }).where('id', '=', id).execute();
    await olga.locator(`.run-detail[data-run="${id}"][data-state="complete"]`).waitFor();
    expect(await detail.locator('.run-totals').textContent()).toMatch(/^7 records/);
    await olga.close();
  });

  it('administration: peers with fingerprints, a test alert reaches the webhook, the sign-in is in the audit trail', async () => {
    const ada = await newPage(browser);
    await signIn(ada, us.url, 'ada', PASSWORD);
    await ada.getByRole('link', { name: 'Administration' }).click();
    await ada.getByRole('heading', { name: 'Node health', level: 2 }).waitFor();
    await axeEnAr(ada, (p) => p.getByRole('heading', { name: 'حالة العقدة', level: 2 }).waitFor());

    await ada.getByRole('link', { name: 'Peers' }).click();
    const peer = ada.locator('tr[data-party="ru"]');
    await peer.waitFor();
    expect(await peer.locator('.fingerprint').first().textContent()).toBe(ru.fingerprint);
    expect(await peer.textContent()).toContain('crisis, cert, law');
    await screenshot(ada, 'admin-en');
    await axeEnAr(ada, (p) => p.locator('tr[data-party="ru"]').waitFor());
    await language(ada, 'ru');
    await ada.getByRole('heading', { name: 'Партнёры', level: 2 }).waitFor();
    await screenshot(ada, 'admin-ru');
    await language(ada, 'en');

    await ada.getByRole('link', { name: 'Alert sinks' }).click();
    await ada.getByRole('button', { name: 'Send a test alert to duty-webhook' }).click();
    await ada.locator('tr[data-sink="duty-webhook"]').getByText('Delivered').waitFor();
    const hit = await eventually(async () => hook.ok()[0]);
    expect(hit.path).toBe('/duty');
    expect(String(hit.body.text)).not.toBe('');
    await axeEnAr(ada, (p) => p.locator('tr[data-sink="duty-webhook"]').waitFor());

    await ada.getByRole('link', { name: 'Audit trail' }).click();
    await ada.getByLabel('Who (user name)').fill('ada');
    await ada.getByLabel('Action', { exact: true }).fill('auth.sign_in');
    await ada.getByRole('button', { name: 'Search' }).click();
    const rows = ada.locator('table.audit tbody tr');
    await eventually(async () => ((await rows.count()) > 0 && (await rows.first().getAttribute('data-action')) === 'auth.sign_in' ? true : undefined), 200, 50);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe('ada');
    expect(new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action'))))).toEqual(new Set(['auth.sign_in']));
    await axeEnAr(ada, (p) => p.locator('table.audit').waitFor());
  });

  it('administration: add a user with a first password (who then signs in), create a token shown once, revoke it', async () => {
    const ada = await newPage(browser);
    await signIn(ada, us.url, 'ada', PASSWORD);
    await ada.goto(`${us.url}/admin?tab=users`);
    await ada.getByRole('heading', { name: 'Users', level: 2 }).waitFor();
    await ada.getByLabel('User name', { exact: true }).fill('nina');
    await ada.getByLabel('Display name', { exact: true }).fill('Nina Night-Shift');
    await ada.getByRole('checkbox', { name: 'cert' }).check();
    await ada.getByLabel('First password (optional)').fill(PASSWORD);
    await ada.getByRole('button', { name: 'Add user' }).click();
    await ada.getByText('User nina added.').waitFor();
    await ada.locator('tr[data-user="nina"]').waitFor();
    await ada.getByLabel('User', { exact: true }).selectOption('nina');
    await ada.getByRole('button', { name: 'Create token' }).click();
    const secret = (await ada.getByTestId('token-secret').textContent())!;
    expect(secret.length).toBeGreaterThan(20);
    const me = await fetch(`${us.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    expect(((await me.json()) as { user: string }).user).toBe('nina');
    await axeEnAr(ada, (p) => p.locator('tr[data-user="nina"]').waitFor());
    // After a reload the secret is gone for good; the token is listed without it.
    await ada.reload();
    await ada.locator('tr[data-user="nina"]').waitFor();
    expect(await ada.getByTestId('token-secret').count()).toBe(0);
    expect(await ada.content()).not.toContain(secret);
    await ada.getByRole('button', { name: /^Revoke token .* of nina$/ }).click();
    await ada.getByText(/^Token .* revoked\.$/).waitFor();
    expect((await fetch(`${us.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);

    const nina = await newPage(browser);
    await signIn(nina, us.url, 'nina', PASSWORD);
    await nina.getByRole('link', { name: 'Feeds' }).waitFor();
  });

  it('an officer gets no administration link, and the page and the API refuse', async () => {
    const olga = await newPage(browser);
    await signIn(olga, us.url, 'olga', PASSWORD);
    const nav = olga.getByRole('navigation', { name: 'Sections' });
    await nav.getByRole('link', { name: 'Reachability' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    await olga.goto(`${us.url}/admin?tab=users`);
    await olga.getByRole('alert').getByText('This page is for the node’s administrators only.', { exact: false }).waitFor();
    expect(await olga.locator('table').count()).toBe(0);
    const status = await olga.evaluate(async () => (await fetch('/api/v1/users')).status);
    expect(status).toBe(403);
    await axeEnAr(olga, (p) => p.getByRole('alert').waitFor());
  });
});
