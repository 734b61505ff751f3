/**
 * Issue 11, the console's Compose and Cases pages in Chromium, on two real nodes: an officer
 * composes a crisis alert with the generated form (every error at once beside its field when
 * sent empty, the preview in the peer officer's Russian), the peer receives it; the peer's officer
 * replies from the case (Compose in reply mode) and the reply lands in the case; the case page
 * shows the next allowed steps and Close works. axe (serious, critical) in en and ar.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningNode } from '../src/main.js';
import { api, type Api } from './helpers/api.js';
import { axeViolations, describeBrowser, launchBrowser, newPage, screenshot, signIn } from './helpers/browser.js';
import { addConsoleUser, TEST_PASSWORD } from './helpers/console.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;

/** Signs in to the console on `home` through its sign-in page, as `user`; then the console speaks `lang`. */
async function signedIn(page: Page, home: TestHome, user: string, lang = 'en'): Promise<void> {
  page.on('pageerror', (e) => console.error('pageerror', e));
  await signIn(page, home.url, user, TEST_PASSWORD);
  await page.evaluate(`localStorage.setItem('hotline.lang', ${JSON.stringify(lang)})`);
}

async function go(page: Page, home: TestHome, path: string): Promise<void> {
  await page.goto(home.url + path);
  await page.locator('h1').first().waitFor();
}

async function noAxe(page: Page, what: string): Promise<void> {
  const v = await axeViolations(page);
  expect(v, `${what}: ${JSON.stringify(v, null, 1)}`).toEqual([]);
}

beforeAll(async () => {
  [us, ru] = await makePair();
  await addConsoleUser(us.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD, display_name: 'Olga Smith' });
  await addConsoleUser(ru.home, { name: 'ivan', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD, display_name: 'Иван Петров' });
  a = await us.start({ runPings: false });
  b = await ru.start({ runPings: false });
  onUs = api(a.address);
  onRu = api(b.address);
  // ru's crisis desk speaks Russian and Ivan may read TLP:RED there; us learns it from ru's directory.
  const contact = await onRu('/api/v1/contacts', ru.token, { method: 'POST', body: { channel: 'crisis', function: 'Дежурный кризисного центра', name: 'Иван Петров', languages: ['ru'], user: 'ivan' } });
  expect(contact.status).toBe(201);
  expect((await onRu('/api/v1/directory/publish', ru.token, { method: 'POST' })).status).toBe(202);
  await eventually(async () => {
    const d = await onUs('/api/v1/directory?party=ru&channel=crisis', us.token);
    const ch = (d.json.parties as { channels: { contacts: unknown[] }[] }[] | undefined)?.[0]?.channels[0];
    return ch !== undefined && ch.contacts.length > 0 ? true : undefined;
  });
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describeBrowser('Compose and Cases in Chromium (issue 11)', () => {
  let browser: Browser;
  let alertId: string;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  it('composes a crisis alert: all errors at once beside their fields, the Russian preview, sent and received by the peer', async () => {
    const page = await newPage(browser);
    await signedIn(page, us, 'olga');
    await go(page, us, '/compose');
    await page.getByRole('heading', { name: 'Compose a message' }).waitFor();
    await page.getByLabel('Kind of message').selectOption({ label: 'Crisis alert' });
    await page.getByLabel('Priority').selectOption('flash');
    await page.getByRole('button', { name: 'Send' }).click();

    const summary = page.getByRole('alert');
    await summary.getByText('5 problems to fix before sending:').waitFor();
    for (const [name, kind] of [['incident_category', 'select'], ['confidence', 'select'], ['affected_sectors', 'fieldset'], ['observed_window', 'fieldset'], ['requested_actions', 'fieldset']] as const) {
      const control = page.locator(`#f-${name}`);
      expect(await control.getAttribute('aria-describedby'), name).toContain(`f-${name}-error`);
      if (kind === 'select') expect(await control.getAttribute('aria-invalid')).toBe('true');
      const err = page.locator(`#f-${name}-error`);
      expect(await err.isVisible(), name).toBe(true);
      expect(await err.textContent()).toMatch(/Required|Give both/);
    }
    expect(await page.getByLabel('Incident category').getAttribute('aria-invalid')).toBe('true');
    await noAxe(page, 'compose with errors (en)');

    await page.getByLabel('Incident category').selectOption('ddos');
    await page.locator('#f-affected_sectors').getByLabel('Energy').check();
    await page.locator('#f-affected_sectors').getByLabel('Finance and banking').check();
    await page.getByLabel('From (UTC)').fill('2026-12-05T08:00');
    await page.getByLabel('To (UTC)').fill('2026-12-05T09:30');
    await page.locator('#f-requested_actions').getByLabel('Mitigate (contain or stop the activity)').check();
    await page.getByLabel('Confidence').selectOption('high');
    await page.getByLabel('Indicators (IP addresses, domains, URLs, hashes)').fill('203.0.113.7\nc2.example.net');
    await page.getByLabel('Free text', { exact: true }).fill('Volumetric DDoS against the grid operator; please mitigate from your networks.');
    // A number below the template's minimum is caught beside its field.
    await page.getByLabel('Number of affected systems').fill('-3');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#f-affected_systems-error').getByText('The least is 0.').waitFor();
    await summary.getByText('1 problem to fix before sending:').waitFor();
    await page.getByLabel('Number of affected systems').fill('12');

    // The preview is in Russian: ru's directory says its crisis desk speaks ru.
    expect(await page.getByLabel('Preview in').inputValue()).toBe('ru');
    const preview = page.getByTestId('preview');
    await preview.getByText('Кризисное оповещение').waitFor();
    await preview.getByText('Степень уверенности').waitFor();
    await preview.getByText('Высокая').waitFor();
    await preview.getByText('Энергетика; Финансы и банковский сектор').waitFor();
    expect(await preview.getAttribute('lang')).toBe('ru');
    await noAxe(page, 'compose filled (en)');
    await screenshot(page, 'compose-en');

    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/messages\/[0-9a-f-]{36}$/);
    alertId = page.url().split('/').pop()!;
    const received = await eventually(async () => {
      const r = await onRu(`/api/v1/messages/${alertId}?lang=ru`, ru.token);
      return r.status === 200 ? r.json : undefined;
    });
    expect(received.message).toMatchObject({ kind: 'crisis-alert', priority: 'flash', channel: 'crisis', from: 'us', sender: 'olga' });
    expect((received.rendered as { field: string; value: string }[]).find((l) => l.field === 'confidence')?.value).toBe('Высокая');
  });

  it('compose in ru and ar: labels in the writer\'s language, axe clean in ar', async () => {
    const page = await newPage(browser);
    await signedIn(page, us, 'olga', 'ru');
    await go(page, us, '/compose');
    await page.getByLabel('Вид сообщения').selectOption({ label: 'Кризисное оповещение' });
    await page.getByLabel('Категория инцидента').selectOption('malware');
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.getByRole('alert').getByText(/Перед отправкой исправьте 4 ошибки/).waitFor();
    await screenshot(page, 'compose-ru');
    const ar = await newPage(browser);
    await signedIn(ar, us, 'olga', 'ar');
    await go(ar, us, '/compose');
    expect(await ar.evaluate('document.documentElement.dir')).toBe('rtl');
    await ar.getByRole('button', { name: 'إرسال' }).click();
    await ar.getByRole('alert').waitFor();
    await noAxe(ar, 'compose (ar)');
  });

  it('TLP:RED asks for recipients from the peer\'s directory: none ticked is an error beside the list; the one ticked is named', async () => {
    const page = await newPage(browser);
    await signedIn(page, us, 'olga');
    await go(page, us, '/compose');
    await page.getByLabel('Kind of message').selectOption('notification');
    await page.getByLabel('Traffic Light Protocol (TLP)').selectOption('red');
    const who = page.getByRole('group', { name: 'Who may read it at ru (TLP:RED)' });
    await who.getByText('The list is the one ru published in its directory.', { exact: false }).waitFor();
    await page.getByRole('textbox', { name: 'Free text' }).fill('For the duty officer only.');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#f-recipients-error').getByText('Tick at least one person.').waitFor();
    expect(await page.locator('#f-recipients').getAttribute('aria-describedby')).toContain('f-recipients-error');
    await noAxe(page, 'compose TLP:RED (en)');
    await who.getByLabel('ivan').check();
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/messages\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const sent = await onUs(`/api/v1/messages/${id}`, us.token);
    expect(sent.json.message).toMatchObject({ tlp: 'red', recipients: ['ivan'], sender: 'olga' });
  });

  it('the peer replies from the case: Compose in reply mode, the reply acknowledges the alert and lands in the case', async () => {
    const page = await newPage(browser);
    await signedIn(page, ru, 'ivan');
    await go(page, ru, `/cases/${alertId}`);
    await page.getByRole('heading', { name: 'Next steps' }).waitFor();
    await noAxe(page, 'case (en)');
    await page.getByRole('button', { name: 'Response (→ Answered)' }).click();
    await page.waitForURL(/\/compose\?reply=/);
    await page.getByRole('heading', { name: 'Reply' }).waitFor();
    expect(await page.getByLabel('Kind of message').inputValue()).toBe('response');
    expect(await page.getByLabel('Channel').count()).toBe(0);
    expect(await page.getByLabel('Also acknowledge the message I am answering').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#f-text-error').getByText('Required.').waitFor();
    await page.getByLabel('Finding').selectOption('confirmed');
    const text = page.getByRole('textbox', { name: 'Free text' });
    expect(await text.getAttribute('aria-required')).toBe('true');
    await text.fill('Подтверждаем, принимаем меры.');
    await text.press('Tab');
    await noAxe(page, 'reply (en)');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/messages\/[0-9a-f-]{36}$/);
    const replyId = page.url().split('/').pop()!;
    const shown = await eventually(async () => {
      const c = await onUs(`/api/v1/cases/${alertId}`, us.token);
      const ids = (c.json.messages as { id: string }[] | undefined)?.map((m) => m.id) ?? [];
      return ids.includes(replyId) && (c.json.case as { state: string }).state === 'answered' ? c.json : undefined;
    });
    const alert = (shown.messages as { id: string; acknowledged: { officer: string } | null }[]).find((m) => m.id === alertId)!;
    expect(alert.acknowledged).toMatchObject({ officer: 'Иван Петров', user: 'ivan' });
  });

  it('the case page shows the next allowed steps; Close asks, then closes; the cases list filters', async () => {
    const page = await newPage(browser);
    await signedIn(page, us, 'olga');
    await go(page, us, '/cases');
    await page.getByRole('table').getByRole('link').first().waitFor();
    await noAxe(page, 'cases (en)');
    await page.getByLabel('State').selectOption('closed');
    await page.getByText('No case matches these filters.').waitFor();
    await page.getByLabel('State').selectOption('answered');
    await page.getByRole('table').getByRole('link').first().click();
    await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Next steps' }).waitFor();
    await page.getByText('Answered').first().waitFor();
    const steps = page.locator('.steps').first();
    await steps.getByRole('button', { name: 'Crisis alert', exact: true }).waitFor();
    await steps.getByRole('button', { name: 'Response', exact: true }).waitFor();
    await steps.getByRole('button', { name: 'Close the case…' }).waitFor();
    await page.getByText('Acknowledged by Иван Петров').waitFor();
    await noAxe(page, 'case (en)');
    await screenshot(page, 'case-en');

    await page.getByRole('button', { name: 'Close the case…' }).click();
    await page.getByText('Close this case?').waitFor();
    await page.getByLabel('Reason').selectOption('resolved');
    await noAxe(page, 'case, close asked (en)');
    await page.getByRole('button', { name: 'Close the case', exact: true }).click();
    await page.getByText('The case takes no more messages.').waitFor();
    await eventually(async () => ((await onRu(`/api/v1/cases/${alertId}`, ru.token)).json.case as { state: string }).state === 'closed' || undefined);

    const ruPage = await newPage(browser);
    await signedIn(ruPage, us, 'olga', 'ru');
    await go(ruPage, us, `/cases/${alertId}`);
    await ruPage.getByRole('heading', { name: 'Следующие шаги' }).waitFor();
    await ruPage.getByText('Дело больше не принимает сообщений.').waitFor();
    await screenshot(ruPage, 'case-ru');
    const ar = await newPage(browser);
    await signedIn(ar, us, 'olga', 'ar');
    await go(ar, us, `/cases/${alertId}`);
    await ar.getByRole('heading', { name: 'الخطوات التالية' }).waitFor();
    await noAxe(ar, 'case (ar)');
    await go(ar, us, '/cases');
    await ar.getByRole('table').waitFor();
    await noAxe(ar, 'cases (ar)');
  });
});
