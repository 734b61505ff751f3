/**
 * The console's headline flow in Chromium, on two real nodes (issue 11): an officer on ru has the
 * queue open; us sends a FLASH; it appears without a reload, with its countdown, and marks the tab;
 * the officer acknowledges it with the keyboard (j, a); us's console shows who acknowledged it.
 * Also: a cert officer never sees law traffic (queue, URL, event stream); a TLP:RED message is
 * redacted for an officer it does not name; axe (serious, critical) on the queue and message
 * pages in en and ar; screenshots for docs/console/.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningNode } from '../src/main.js';
import { api, type Api } from './helpers/api.js';
import { addConsoleUser } from './helpers/console.js';
import { publishRedRecipients } from './helpers/red.js';
import { axeViolations, describeBrowser, launchBrowser, newPage, screenshot, signIn } from './helpers/browser.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';

const PASSWORD = 'correct horse battery staple 11';
const RU_USERS = [
  { name: 'ivan', channels: 'crisis', display_name: 'Ivan Petrov' },
  { name: 'olga', channels: 'crisis', display_name: 'Olga Smirnova' },
  { name: 'certo', channels: 'cert', display_name: 'Cert Officer' },
];
const US_USERS = [{ name: 'alice', channels: 'crisis', display_name: 'Alice Smith' }];

let us: TestHome, ru: TestHome;
let a: RunningNode, b: RunningNode;
let onUs: Api, onRu: Api;
let browser: Browser;

async function addUsers(home: TestHome, users: typeof RU_USERS): Promise<void> {
  for (const u of users) await addConsoleUser(home.home, { name: u.name, role: 'officer', channels: [u.channels], display_name: u.display_name, password: PASSWORD });
}

function crisisAlert(priority = 'flash'): Record<string, unknown> {
  const now = Date.now();
  return {
    to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority, tlp: 'amber', lang: 'en',
    text: 'Large DDoS against the grid operator, apparently from your networks; please look now.',
    fields: {
      incident_category: 'ddos', affected_sectors: ['energy'], requested_actions: ['clarify', 'investigate'], confidence: 'high',
      observed_window: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString() },
    },
  };
}

async function sendFromUs(body: Record<string, unknown>): Promise<string> {
  const r = await onUs('/api/v1/messages', us.token, { method: 'POST', body });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return String(r.json.id);
}

/** Waits until ru has stored the message (its administrator's view). */
async function onRuInbox(id: string): Promise<void> {
  await eventually(async () => ((await onRu(`/api/v1/messages/${id}`, ru.token)).status === 200 ? true : undefined));
}

async function officer(node: TestHome, user: string, locale = 'en-GB'): Promise<Page> {
  const page = await newPage(browser, { locale });
  // Signed in and listening: the page's event stream has answered.
  const events = page.waitForResponse((r) => r.url().endsWith('/api/v1/events'));
  await signIn(page, node.url, user, PASSWORD);
  expect((await events).status()).toBe(200);
  return page;
}

async function language(page: Page, lang: string): Promise<void> {
  await page.locator('header select').selectOption(lang);
  await eventually(async () => ((await page.evaluate('document.documentElement.lang')) === lang ? true : undefined));
}

beforeAll(async () => {
  [us, ru] = await makePair();
  await addUsers(ru, RU_USERS);
  await addUsers(us, US_USERS);
  a = await us.start();
  b = await ru.start();
  onUs = api(us.url);
  onRu = api(ru.url);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describeBrowser('the queue and message pages, two nodes, Chromium', () => {
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  let flashId = '';

  it('a FLASH from us appears in ru\'s queue without a reload, counts down, marks the tab; j then a acknowledges it; us shows who acknowledged', async () => {
    const page = await officer(ru, 'ivan');
    await page.getByRole('heading', { name: 'To acknowledge' }).waitFor();
    await page.getByText('Nothing waits for your acknowledgement.').waitFor();
    await page.evaluate('window.__sameDocument = true');
    // Sound: the toggle (a click, the gesture browsers want) turns it on; tones are counted at the oscillator.
    await page.evaluate(`(() => {
      window.__tones = 0;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function () { window.__tones++; return create.call(this); };
      window.__notes = [];
      const N = window.Notification;
      window.Notification = class extends N { constructor(title, o) { super(title, o); window.__notes.push(title); } };
    })()`);
    await page.context().grantPermissions(['notifications'], { origin: ru.url });
    const sound = page.getByRole('button', { name: 'Sound for FLASH and IMMEDIATE' });
    expect(await sound.getAttribute('aria-pressed')).toBe('false');
    await sound.click();
    expect(await sound.getAttribute('aria-pressed')).toBe('true');
    const tonesBefore = await page.evaluate('window.__tones') as number;

    flashId = await sendFromUs(crisisAlert());
    const row = page.locator(`tr[data-id="${flashId}"]`);
    await row.waitFor();
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(await row.getAttribute('data-priority')).toBe('flash');
    expect(await row.innerText()).toMatch(/FLASH[\s\S]*due in \d/);
    const first = await row.locator('td.countdown').innerText();
    await eventually(async () => ((await row.locator('td.countdown').innerText()) !== first ? true : undefined));
    await eventually(async () => ((await page.title()) === '(1) FLASH · Hotline' ? true : undefined));
    expect(await page.evaluate('window.__tones') as number).toBe(tonesBefore + 3);
    expect(await page.evaluate('window.__notes')).toEqual(['FLASH from us: crisis-alert']);

    await page.keyboard.press('j');
    expect(await row.getAttribute('aria-selected')).toBe('true');
    await eventually(async () => ((await page.evaluate("document.activeElement?.getAttribute('data-id')")) === flashId ? true : undefined));
    await page.keyboard.press('a');
    await row.waitFor({ state: 'detached' });
    await page.getByText('Nothing waits for your acknowledgement.').waitFor();
    await eventually(async () => ((await page.title()) === 'Hotline' ? true : undefined));

    // us's console: the message page names the officer who acknowledged it on ru.
    await eventually(async () => ((await onUs(`/api/v1/messages/${flashId}`, us.token)).json.message as { acknowledged: unknown }).acknowledged !== null ? true : undefined);
    const usPage = await officer(us, 'alice');
    await usPage.goto(`${us.url}/messages/${flashId}`);
    await usPage.getByText(/Acknowledged by Ivan Petrov at/).waitFor();
    await usPage.getByText('Incident category').waitFor();
    expect(await axeViolations(usPage)).toEqual([]);
    await screenshot(usPage, 'message-en');
    await usPage.context().close();
    await page.context().close();
  });

  it('the message page renders the template in the reader\'s language, with the free text in the writer\'s', async () => {
    const page = await officer(ru, 'ivan');
    await page.goto(`${ru.url}/messages/${flashId}`);
    await page.getByText('Incident category').waitFor();
    await page.getByText('Distributed denial of service (DDoS)').waitFor();
    await page.getByText(/Acknowledged by Ivan Petrov at/).waitFor();
    await language(page, 'ru');
    await page.getByText('Категория инцидента').waitFor();
    await page.getByText('Распределённая атака типа «отказ в обслуживании» (DDoS)').waitFor();
    await page.getByText(/Подтвердил\(а\) Ivan Petrov в/).waitFor();
    expect(await page.locator('p.text').getAttribute('lang')).toBe('en');
    await screenshot(page, 'message-ru');
    await language(page, 'ar');
    await page.getByText('فئة الحادث').waitFor();
    expect(await page.evaluate('document.documentElement.dir')).toBe('rtl');
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('the queue, FLASH first, passes axe in en and ar; screenshots in en and ru', async () => {
    const routine = await sendFromUs({ to: 'ru', channel: 'crisis', kind: 'notification', priority: 'routine', tlp: 'amber', text: 'Our SOC is moving to the new building on Monday; the numbers stay the same.' });
    const immediate = await sendFromUs({ to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'immediate', tlp: 'green', text: 'Do you see scanning of port 502 (Modbus) from AS64500 since 02:00 UTC?' });
    const flash = await sendFromUs(crisisAlert());
    for (const id of [routine, immediate, flash]) await onRuInbox(id);
    const page = await officer(ru, 'ivan');
    await page.locator(`tr[data-id="${routine}"]`).waitFor();
    expect(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([flash, immediate, routine]);
    await eventually(async () => ((await page.title()) === '(2) FLASH · Hotline' ? true : undefined));
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'queue-en');
    await language(page, 'ru');
    await page.getByRole('heading', { name: 'Ждут подтверждения' }).waitFor();
    await page.getByText('МОЛНИЯ').first().waitFor();
    await screenshot(page, 'queue-ru');
    await language(page, 'ar');
    await page.getByRole('heading', { name: 'بانتظار الإقرار' }).waitFor();
    expect(await page.evaluate('document.documentElement.dir')).toBe('rtl');
    expect(await axeViolations(page)).toEqual([]);
    // Keys do nothing while typing: "a" in the search box acknowledges nothing; "/" from the page focuses it.
    await language(page, 'en');
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement?.id')).toBe('queue-search');
    await page.keyboard.type('ja');
    expect(await page.locator('tbody tr').count()).toBe(3);
    expect(await page.locator('tr[aria-selected="true"]').count()).toBe(0);
    // Enter on the selected row opens the message; r replies (the compose page, with the id).
    await page.locator('h1').click();
    await page.keyboard.press('j');
    await page.locator(`tr[data-id="${flash}"][aria-selected="true"]`).waitFor();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${ru.url}/messages/${flash}`);
    await page.goBack();
    await page.locator(`tr[data-id="${flash}"]`).waitFor();
    await page.locator('h1').click();
    // Back on the queue, the selection may have survived; either way j/k bring it to the FLASH.
    if ((await page.locator(`tr[data-id="${flash}"]`).getAttribute('aria-selected')) !== 'true') await page.keyboard.press('j');
    await page.locator(`tr[data-id="${flash}"][aria-selected="true"]`).waitFor();
    await page.keyboard.press('r');
    await page.waitForURL(`${ru.url}/compose?reply=${flash}`);
    await page.context().close();
  });

  it('past its deadline a row says OVERDUE by colour, icon and text (the page\'s clock moved on 20 minutes)', async () => {
    const page = await officer(ru, 'ivan');
    const row = page.locator('tbody tr[data-priority="flash"]').first();
    await row.waitFor();
    expect(await row.locator('td.countdown').innerText()).toMatch(/due in/);
    await page.clock.install();
    await page.clock.fastForward('20:00');
    const cell = row.locator('td.countdown.overdue');
    await cell.waitFor();
    expect(await cell.innerText()).toMatch(/OVERDUE by \d+m/);
    expect(await cell.locator('svg.icon').count()).toBe(1);
    expect(await page.evaluate('getComputedStyle(document.querySelector("tbody tr[data-priority=flash] td.countdown")).color')).toBe('rgb(179, 38, 30)');
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('a cert officer never sees law traffic: not in the queue, not by URL, not on the event stream', async () => {
    const page = await officer(ru, 'certo');
    await page.getByRole('heading', { name: 'To acknowledge' }).waitFor();
    // The page's own event stream, counted in the page (the session cookie is the page's).
    await page.evaluate(`(() => {
      window.__events = [];
      const es = new EventSource('/api/v1/events', { withCredentials: true });
      for (const name of ['message', 'ack', 'delivery']) es.addEventListener(name, (e) => window.__events.push({ name, data: JSON.parse(e.data) }));
      window.__es = es;
      return new Promise((resolve) => es.addEventListener('open', () => resolve(true)));
    })()`);
    const law = await sendFromUs({ to: 'ru', channel: 'law', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'Law-enforcement only: a seizure is planned for tonight.' });
    await onRuInbox(law);
    const cert = await sendFromUs({ to: 'ru', channel: 'cert', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'CERT: a new ransomware family hits hospitals.' });
    await page.locator(`tr[data-id="${cert}"]`).waitFor();
    expect(await page.locator(`tr[data-id="${law}"]`).count()).toBe(0);
    const events = await page.evaluate('window.__events') as { name: string; data: { id?: string; message_id?: string; channel?: string } }[];
    expect(events.some((e) => e.data.id === cert)).toBe(true);
    expect(events.filter((e) => e.data.id === law || e.data.message_id === law || e.data.channel === 'law')).toEqual([]);
    expect(await page.content()).not.toContain('seizure');
    await page.goto(`${ru.url}/messages/${law}`);
    await page.getByRole('heading', { name: 'No such message' }).waitFor();
    expect(await page.content()).not.toContain('seizure');
    await page.context().close();
  });

  it('a TLP:RED message is redacted for an officer it does not name, and read by the one it names', async () => {
    const secret = 'The informant inside the botnet operator is called Boris.';
    await publishRedRecipients(b, a, 'crisis', ['ivan']);
    const red = await sendFromUs({ to: 'ru', channel: 'crisis', kind: 'notification', priority: 'immediate', tlp: 'red', text: secret, recipients: ['ivan'] });
    await onRuInbox(red);
    const olga = await officer(ru, 'olga');
    await olga.getByRole('heading', { name: 'To acknowledge' }).waitFor();
    expect(await olga.locator(`tr[data-id="${red}"]`).count()).toBe(0);
    await olga.goto(`${ru.url}/messages/${red}`);
    await olga.getByText(/TLP:RED — visible only to ivan/).waitFor();
    expect(await olga.content()).not.toContain('Boris');
    expect(await olga.getByRole('button', { name: 'Reply' }).count()).toBe(0);
    expect(await axeViolations(olga)).toEqual([]);
    await olga.context().close();
    const ivan = await officer(ru, 'ivan');
    await ivan.locator(`tr[data-id="${red}"]`).waitFor();
    await ivan.goto(`${ru.url}/messages/${red}`);
    await ivan.getByText(secret).waitFor();
    await ivan.getByRole('button', { name: 'Acknowledge' }).click();
    await ivan.getByText(/Acknowledged by Ivan Petrov at/).waitFor();
    await ivan.context().close();
  });
});
