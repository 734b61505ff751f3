/**
 * Issue 11, the console's lists in Chromium against two real nodes (us, ru) on loopback, officers
 * signed in with passwords: the inbox filters by priority and finds by full-text search, the URL
 * carrying the filters; the outbox shows a message to a stopped peer as retrying with its last
 * error, then receipted once the peer runs; the directory shows who is on duty, "Take duty"
 * makes the officer the one and "Hand over" gives it to the person chosen; a cert officer gets
 * nothing of the law channel (no link, an empty page, API 403) while a law officer sees a preservation with its countdown and extends it.
 * Every page passes axe (serious/critical) in en and ar; screenshots for docs/console.md.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningNode } from '../src/main.js';
import { isoTime } from '../src/shared/clock.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { axeViolations, describeBrowser, launchBrowser, newPage, screenshot, signIn } from './helpers/browser.js';
import { TEST_PASSWORD } from './helpers/console.js';
import { preservationRequest } from './helpers/law.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';

const PASSWORD = TEST_PASSWORD;
let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let usTokens: Record<string, string>;
let ruTokens: Record<string, string>;
let caseId: string;
let browser: Browser;

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false });
  b = await ru.start({ runPings: false });
  onUs = api(us.url);
  onRu = api(ru.url);
  usTokens = await usersWithTokens(onUs, us.token, { olga: ['crisis', 'cert', 'law'], certo: ['cert'] });
  ruTokens = await usersWithTokens(onRu, ru.token, { ivan: ['crisis', 'law'] });
  for (const name of ['olga', 'certo']) await a.ctx.users.setPassword(name, PASSWORD);
  for (const [name, user] of [['Olga Orlova', 'olga'], ['Peter Pan', undefined]] as const) {
    const c = await onUs('/api/v1/contacts', us.token, { method: 'POST', body: { channel: 'crisis', function: 'Crisis desk duty officer', name, languages: ['en', 'ru'], ...(user === undefined ? {} : { user }) } });
    expect(c.status, JSON.stringify(c.json)).toBe(201);
  }
  for (const [priority, text] of [['flash', 'DDoS on the energy grid operator'], ['routine', 'Phishing wave against ministries'], ['immediate', 'Ransomware at a regional hospital']] as const) {
    const r = await onRu('/api/v1/messages', ruTokens.ivan!, { method: 'POST', body: { to: 'us', channel: 'crisis', kind: 'notification', priority, tlp: 'amber', text } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
  }
  const sent = await onUs('/api/v1/messages', usTokens.olga!, { method: 'POST', body: preservationRequest() });
  expect(sent.status, JSON.stringify(sent.json)).toBe(202);
  caseId = String(sent.json.id);
  await eventually(async () => ((await onRu(`/api/v1/preservations/${caseId}`, ruTokens.ivan!)).status === 200 ? true : undefined));
  const answered = await onRu(`/api/v1/messages/${caseId}/reply`, ruTokens.ivan!, {
    method: 'POST', body: { kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'RU-77', preserved_at: isoTime(Date.now()) } },
  });
  expect(answered.status, JSON.stringify(answered.json)).toBe(202);
  await eventually(async () => ((await onUs(`/api/v1/preservations/${caseId}`, usTokens.olga!)).json.state === 'preserved' ? true : undefined));
  await eventually(async () => (((await onUs('/api/v1/messages?channel=crisis', usTokens.olga!)).json.messages as unknown[]).length === 3 ? true : undefined));
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

/** The rows of the message table, each as its text. */
async function rows(page: Page): Promise<string[]> {
  return page.locator('table.messages tbody tr').allTextContents();
}

/** Waits (bounded tries) until `check` holds on the page. */
async function until(check: () => Promise<boolean>): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), 600, 100);
}

async function inLanguage(page: Page, lang: string): Promise<void> {
  await page.locator('header select').selectOption(lang);
  await until(async () => (await page.evaluate('document.documentElement.lang')) === lang);
}

async function axeInEnAndAr(page: Page, ready: () => Promise<unknown>): Promise<void> {
  expect(await axeViolations(page)).toEqual([]);
  await inLanguage(page, 'ar');
  expect(await page.evaluate('document.documentElement.dir')).toBe('rtl');
  await ready();
  expect(await axeViolations(page)).toEqual([]);
  await inLanguage(page, 'en');
}

describeBrowser('the console lists in Chromium', () => {
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  it('inbox: filter by priority and a full-text search find the right message, and the URL carries the filters', async () => {
    const page = await newPage(browser);
    await signIn(page, us.url, 'olga', PASSWORD);
    await page.goto(`${us.url}/inbox?channel=crisis`);
    await until(async () => (await rows(page)).length === 3);
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement.id')).toBe('f-search');

    await page.getByLabel('Priority').selectOption('flash');
    await until(async () => (await rows(page)).length === 1);
    expect((await rows(page))[0]).toContain('DDoS on the energy grid operator');
    expect((await rows(page))[0]).toContain('FLASH');
    expect(new URL(page.url()).searchParams.get('priority')).toBe('flash');
    expect(new URL(page.url()).searchParams.get('channel')).toBe('crisis');

    // Cleared: every channel she holds (the preservation's answer on law too).
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await until(async () => (await rows(page)).some((r) => r.includes('preservation-response')));
    expect(new URL(page.url()).search).toBe('');
    await page.getByLabel('Search the text').fill('ransomware hospital');
    await page.getByLabel('Search the text').press('Enter');
    await until(async () => (await rows(page)).length === 1);
    expect((await rows(page))[0]).toContain('Ransomware at a regional hospital');
    expect(new URL(page.url()).searchParams.get('search')).toBe('ransomware hospital');

    // A linked view: the search comes from the URL, prefilled.
    await page.goto(`${us.url}/inbox?search=phishing`);
    await until(async () => (await rows(page)).length === 1);
    expect(await page.getByLabel('Search the text').inputValue()).toBe('phishing');
    expect((await rows(page))[0]).toContain('Phishing wave against ministries');
    const link = page.locator('table.messages tbody tr th a');
    expect(await link.getAttribute('href')).toMatch(/^\/messages\/[0-9a-f-]{36}$/);

    await page.goto(`${us.url}/inbox`);
    await until(async () => (await rows(page)).length > 3);
    await screenshot(page, 'inbox-en');
    await axeInEnAndAr(page, () => until(async () => (await rows(page)).length > 3));
    await inLanguage(page, 'ru');
    await until(async () => (await page.locator('h1').textContent()) === 'Входящие');
    await screenshot(page, 'inbox-ru');
    await inLanguage(page, 'en');
    await page.context().close();
  });

  it('outbox: a message to a stopped peer shows as retrying with its last error, then receipted once the peer runs', async () => {
    const page = await newPage(browser);
    await signIn(page, us.url, 'olga', PASSWORD);
    await b.stop();
    const sent = await onUs('/api/v1/messages', usTokens.olga!, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'priority', tlp: 'amber', text: 'Are you receiving us?' } });
    expect(sent.status).toBe(202);
    const id = String(sent.json.id);
    await page.goto(`${us.url}/outbox`);
    const row = page.locator(`table.messages tbody tr[data-id="${id}"]`);
    await until(async () => (await row.count()) === 1 && /Retrying/.test(await row.textContent() ?? '') && /Last error: /.test(await row.textContent() ?? ''));
    expect(await row.textContent()).toMatch(/Next attempt:/);
    await axeInEnAndAr(page, () => row.waitFor());

    b = await ru.start({ runPings: false });
    await until(async () => /Receipted by the peer node/.test(await row.textContent() ?? ''));
    expect(await row.textContent()).not.toMatch(/Retrying/);
    await page.context().close();
  });

  it('directory: shows who is on duty now; "Take duty" makes the officer the one on duty, "Hand over" gives it to the person chosen', async () => {
    const page = await newPage(browser);
    await signIn(page, us.url, 'olga', PASSWORD);
    await page.goto(`${us.url}/directory`);
    const crisis = page.locator('section.duty', { has: page.getByRole('heading', { name: 'Crisis' }) });
    const primary = crisis.locator('tbody tr', { has: page.getByRole('rowheader', { name: 'Primary' }) });
    await until(async () => /Nobody/.test(await primary.textContent() ?? ''));
    await page.getByText('Olga Orlova').first().waitFor();
    await axeInEnAndAr(page, () => page.locator('section.duty tbody tr').first().waitFor());

    await crisis.getByLabel('For how long').selectOption('4');
    await crisis.getByRole('button', { name: 'Take duty' }).click();
    await until(async () => /Olga Orlova \(you\)/.test(await primary.textContent() ?? ''));
    expect(await crisis.getByRole('status').textContent()).toContain('You are on duty on Crisis until');
    const duty = (await onUs('/api/v1/rota', usTokens.olga!)).json.duty as { channel: string; now: { position: string; contact: { user: string | null }; until?: string }[] }[];
    const holder = duty.find((d) => d.channel === 'crisis')!.now.find((s) => s.position === 'primary')!;
    expect(holder.contact.user).toBe('olga');
    expect(Date.parse(holder.until!) - Date.now()).toBeGreaterThan(3.9 * 3_600_000);
    // On duty, she may hand it over to a chosen person.
    await crisis.getByLabel('Hand over to').waitFor();
    await screenshot(page, 'directory-en');
    await crisis.getByLabel('Hand over to').selectOption({ label: 'Peter Pan — Crisis desk duty officer' });
    await crisis.getByRole('button', { name: 'Hand over' }).click();
    await until(async () => /Peter Pan/.test(await primary.textContent() ?? ''));
    expect(await crisis.getByRole('status').textContent()).toContain('Handed over to Peter Pan until');
    expect(await crisis.getByRole('button', { name: 'Take duty' }).count()).toBe(1);
    await page.context().close();
  });

  it('law: a cert officer has no link, an empty page and API 403; a law officer sees the countdown and extends', async () => {
    const cert = await newPage(browser);
    await signIn(cert, us.url, 'certo', PASSWORD);
    expect(await cert.getByRole('navigation').getByRole('link', { name: 'Law channel' }).count()).toBe(0);
    await cert.goto(`${us.url}/law`);
    await cert.locator('h1').waitFor();
    const shown = await cert.locator('main').textContent() ?? '';
    expect(shown).toContain('This page is for users who hold the law channel.');
    for (const secret of [caseId.slice(0, 8), 'RU-77', 'Expires', 'Department of Justice']) expect(shown).not.toContain(secret);
    expect((await cert.request.get(`${us.url}/api/v1/preservations`)).status()).toBe(403);
    expect((await cert.request.get(`${us.url}/api/v1/messages/${caseId}`)).status()).toBe(404);
    await cert.context().close();

    const page = await newPage(browser);
    await signIn(page, us.url, 'olga', PASSWORD);
    await page.getByRole('navigation').getByRole('link', { name: 'Law channel' }).click();
    const card = page.locator(`article[data-case="${caseId}"]`);
    await card.waitFor();
    const countdown = card.locator('.countdown');
    await until(async () => /Expires in 59d 23h/.test(await countdown.textContent() ?? ''));
    expect(await card.textContent()).toContain('RU-77');
    expect(await card.locator('dl.art29').textContent()).toContain('(a) Authority seeking the preservation');
    expect(await card.getByRole('link', { name: `Case ${caseId.slice(0, 8)}` }).getAttribute('href')).toBe(`/cases/${caseId}`);
    await axeInEnAndAr(page, () => card.locator('.countdown').waitFor());
    await screenshot(page, 'law-en');

    await card.getByLabel('Days more to ask for').fill('30');
    await card.getByRole('button', { name: 'Ask for extension' }).click();
    await until(async () => /Extension requested/.test(await card.getByRole('status').first().textContent() ?? ''));
    const p = await eventually(async () => {
      const r = (await onUs(`/api/v1/preservations/${caseId}`, usTokens.olga!)).json as { extensions: { days: number }[] };
      return r.extensions.length === 1 ? r : undefined;
    });
    expect(p.extensions[0]!.days).toBe(30);
    await until(async () => (await card.locator('table tbody tr').count()) === 1);
    await page.context().close();
  });
});
