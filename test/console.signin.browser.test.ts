/**
 * Sign-in and the account page in Chromium (issue 11): the form signs in; a lock is explained;
 * TOTP enrolment on the account page (QR code and key) and the TOTP step of the sign-in form; axe
 * in en and ar on the sign-in and account pages; screenshots for docs/console.md.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { TOTP, Secret } from 'otpauth';
import type { RunningNode } from '../src/main.js';
import { makeHome, type TestHome } from './helpers/nodes.js';
import { addConsoleUser, TEST_PASSWORD } from './helpers/console.js';
import { axeViolations, describeBrowser, launchBrowser, newPage, screenshot, signIn } from './helpers/browser.js';

let home: TestHome;
let node: RunningNode;

beforeAll(async () => {
  home = await makeHome('us');
  await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis', 'cert'], password: TEST_PASSWORD, display_name: 'Olga Ivanova' });
  await addConsoleUser(home.home, { name: 'vera', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
  await addConsoleUser(home.home, { name: 'tanya', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
  node = await home.start({ runDelivery: false });
});
afterAll(async () => { await node?.stop(); });

async function pickLanguage(page: Page, label: string, lang: string): Promise<void> {
  await page.getByLabel(label).first().selectOption(lang);
}

describeBrowser('sign-in and account pages in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  it('signs in through the form; the account page passes axe in en and ar', async () => {
    const page = await newPage(browser, { locale: 'en-GB' });
    await page.goto(home.url);
    await page.getByLabel('User name').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'signin-en');
    await signIn(page, home.url, 'olga', TEST_PASSWORD);
    await page.goto(`${home.url}/account`);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByRole('button', { name: 'Change password' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'account-en');
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await pickLanguage(page, 'Language', 'ru');
    await page.getByRole('heading', { name: 'Моя учётная запись' }).waitFor();
    await screenshot(page, 'account-ru');
    await pickLanguage(page, 'Язык', 'ar');
    await page.getByRole('heading', { name: 'حسابي' }).waitFor();
    expect(await page.evaluate('document.documentElement.dir')).toBe('rtl');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('the sign-in page in Arabic passes axe, and says when a locked sign-in opens again', async () => {
    const page = await newPage(browser, { locale: 'ar-EG' });
    await page.goto(home.url);
    await page.getByRole('button', { name: 'تسجيل الدخول' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await pickLanguage(page, 'اللغة', 'en');
    for (let i = 0; i < 5; i++) {
      await page.getByLabel('User name').fill('vera');
      await page.getByLabel('Password').fill(`wrong password ${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: i < 4 ? 'wrong' : 'locked until' }).waitFor();
      if (i < 4) expect(await page.getByRole('alert').textContent()).toBe('The user name or password is wrong.');
    }
    expect(await page.getByRole('alert').textContent()).toMatch(/Too many wrong attempts: sign-in is locked until .*UTC/);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('enrols TOTP on the account page, then signs in with a code in the form', async () => {
    const page = await newPage(browser, { locale: 'en-GB' });
    await signIn(page, home.url, 'tanya', TEST_PASSWORD);
    await page.goto(`${home.url}/account`);
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const key = (await page.locator('.totp-secret').textContent())!.replace(/\s/g, '');
    const src = await page.getByRole('img', { name: /QR code/ }).getAttribute('src');
    expect(src).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    const totp = new TOTP({ secret: Secret.fromBase32(key) });
    await page.getByLabel('Code the app shows now').fill(totp.generate());
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('The second factor is set up').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByLabel('User name').fill('tanya');
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const code = page.getByLabel('Code from your authenticator app');
    await code.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'signin-totp-en');
    // The enrolment's code is spent: the next step's (within the accepted window) signs in.
    await code.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').waitFor();
  });
});
