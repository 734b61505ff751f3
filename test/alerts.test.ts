/**
 * Issue 10 item 8, alerts a person can read and act on, between two real nodes on loopback: a
 * FLASH crisis-alert us→ru that nobody acknowledges reaches ru's sinks in Russian (ru's
 * `language`), with its due time in UTC and in Moscow time, the rendered fields and text, and what
 * to do (`hotline ack <short id>`, the console link). The webhook receiver verifies the Standard
 * Webhooks signature with the sink's secret (a tampered body fails) and the payload against
 * docs/alerts.schema.json; the e-mail goes through a real SMTP relay (STARTTLS, login) and is
 * decoded and read in Russian; a Slack-style sink gets {"text"}. `hotline sink` over real receivers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { freePort } from '../src/adapters/cli/commands/demo.js';
import { FakeClock } from '../src/shared/clock.js';
import { makeHome, peerAll, tempDir, type TestHome } from './helpers/nodes.js';
import { storeConfig } from './helpers/pg-homes.js';
import { describeEachDialect, storeDialect } from './helpers/stores.js';
import { delivered } from './helpers/cases.js';
import { exits, hl, json, ok } from './helpers/cli.js';
import { api, usersWithTokens } from './helpers/api.js';
import { RELAY_CERT, smtpRelay } from './helpers/smtp.js';
import { webhookReceiver, type Hit, type WebhookReceiver } from './helpers/webhook.js';
import { alertSchemaErrors } from './helpers/alerts.js';

const running: RunningNode[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const schemaErrors = alertSchemaErrors;

/** What a receiver does (Standard Webhooks, written here from the spec): HMAC-SHA256 of id.timestamp.body with the secret's bytes, compared in constant time. */
function verifies(secret: string, h: Pick<Hit, 'headers'>, raw: string): boolean {
  const id = h.headers['webhook-id'];
  const ts = h.headers['webhook-timestamp'];
  const sig = h.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${ts}.${raw}`).digest();
  return sig.split(' ').some((s) => {
    const [version, b64] = s.split(',');
    const got = Buffer.from(b64 ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

async function receiver(): Promise<WebhookReceiver> {
  const r = await webhookReceiver();
  cleanups.push(() => r.close());
  return r;
}

async function relay(): Promise<Awaited<ReturnType<typeof smtpRelay>>> {
  const r = await smtpRelay({ starttls: true, auth: { user: 'hotline', password: 'relay pass' } });
  cleanups.push(() => r.close());
  return r;
}

/** us (English, UTC) and ru (Russian, Moscow time, a console URL, an SMTP relay wanting STARTTLS and login), peered. */
async function pair(smtpPort: number): Promise<[TestHome, TestHome]> {
  const dir = tempDir();
  const us = await makeHome('us', await storeConfig(storeDialect()), dir);
  const ru = await makeHome('ru', {
    ...(await storeConfig(storeDialect())),
    language: 'ru', time_zone: 'Europe/Moscow', public_url: 'https://hotline.ru.example/',
    notify: { smtp: { host: '127.0.0.1', port: smtpPort, from: 'hotline@ru.example', require_tls: true, user: 'hotline', password_file: 'smtp.password', ca_file: RELAY_CERT } },
  }, dir);
  writeFileSync(join(ru.home, 'smtp.password'), 'relay pass\n');
  await peerAll(us, ru);
  return [us, ru];
}

const FIELDS = {
  incident_category: 'intrusion',
  affected_sectors: ['energy'],
  observed_window: { from: '2026-01-15T08:30:00Z', to: '2026-01-15T08:55:00Z' },
  requested_actions: ['clarify'],
  confidence: 'high',
  from_your_networks: true,
};
const TEXT = 'Control systems of a power grid operator are being accessed from your networks.';

interface AlertBody {
  language: string;
  subject: string;
  headline: string;
  facts: { label: string; value: string }[];
  content: { label: string; value: string }[];
  todo: string[];
  ack_command: string | null;
  url: string | null;
  text: string;
}

const fact = (a: AlertBody, label: string): string | undefined => a.facts.find((f) => f.label === label)?.value;

describeEachDialect('alerts a person can read and act on', () => {
  it('a FLASH crisis-alert us→ru: ru\'s signed webhook, Slack-style webhook and e-mail say it in Russian with due times in UTC and Moscow, and what to do', async () => {
    const hook = await receiver();
    const smtp = await relay();
    const [us, ru] = await pair(smtp.port);
    await ok(ru.home, 'sink', 'add', 'webhook', `${hook.url}/soc`, '--secret', SECRET, '--name', 'soc');
    await ok(ru.home, 'sink', 'add', 'webhook', `${hook.url}/chat/T0/B1/token`, '--format', 'slack', '--name', 'chat');
    await ok(ru.home, 'sink', 'add', 'email', 'duty@ru.example', '--name', 'duty');
    await ok(us.home, 'sink', 'add', 'webhook', `${hook.url}/us`, '--secret', SECRET, '--name', 'us-soc');

    const clock = new FakeClock(Date.UTC(2026, 0, 15, 9, 0));
    const opts = { clock, runPings: false, runReminders: false, runDeadlines: false };
    const a = await us.start(opts);
    const b = await ru.start(opts);
    running.push(a, b);
    await a.ctx.users.add({ name: 'alice', role: 'officer', channels: 'crisis', display_name: 'Alice Smith' });
    const m = await send(a.ctx, { to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber', fields: FIELDS, text: TEXT, lang: 'en' }, await a.ctx.users.principalFor('alice'));
    await delivered(a, m.id);

    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 1, sent: 3, failed: 0 });

    // The signed webhook: the receiver verifies it with the secret; one changed byte fails it.
    const soc = hook.ok().filter((h) => h.path === '/soc');
    expect(soc).toHaveLength(1);
    const hit = soc[0]!;
    expect(hit.headers['webhook-id']).toBe(hit.body.id);
    expect(verifies(SECRET, hit, hit.raw)).toBe(true);
    expect(verifies(SECRET, hit, hit.raw.replace('"priority":"flash"', '"priority":"routine"'))).toBe(false);
    expect(verifies(`whsec_${Buffer.from('another secret of 24+ bytes!!').toString('base64')}`, hit, hit.raw)).toBe(false);
    expect(schemaErrors(hit.body)).toEqual([]);
    expect(hit.body).toMatchObject({ type: 'hotline.escalation', node: 'ru', message_id: m.id, from: 'us', to: 'ru', sender: 'alice', tlp: 'amber', step: 0 });

    // What it says, in Russian.
    const alert = hit.body.alert as AlertBody;
    const short = hit.body.short_id as string;
    expect(short.length).toBeGreaterThanOrEqual(8);
    expect(m.id.startsWith(short)).toBe(true);
    expect(alert.language).toBe('ru');
    expect(alert.subject).toBe('[hotline FLASH] Кризисное оповещение от us ждёт подтверждения (срок 2026-01-15 12:10 UTC+03:00)');
    expect(fact(alert, 'Приоритет')).toBe('FLASH');
    expect(fact(alert, 'От')).toBe('us (alice)');
    expect(fact(alert, 'Вид')).toBe('Кризисное оповещение (crisis-alert)');
    expect(fact(alert, 'Срок (UTC)')).toBe('2026-01-15 09:10 UTC');
    expect(fact(alert, 'Срок (Europe/Moscow)')).toBe('2026-01-15 12:10 UTC+03:00');
    expect(alert.content).toContainEqual({ label: 'Категория инцидента', value: 'Вторжение (несанкционированный доступ)' });
    expect(alert.content).toContainEqual({ label: 'Свободный текст', value: TEXT });
    expect(alert.todo).toEqual([`подтвердить: hotline ack ${short}`, `открыть в консоли: https://hotline.ru.example/messages/${m.id}`]);
    expect(alert.text).toContain('Что сделать:');

    // The Slack-style sink: {"text"} only, the same words; no signature needed.
    const chat = hook.ok().filter((h) => h.path.startsWith('/chat/'));
    expect(chat.map((h) => Object.keys(h.body))).toEqual([['text']]);
    expect(chat[0]!.body.text).toBe(alert.text);

    // The e-mail, through STARTTLS and login, decoded: subject and body read in Russian; text and HTML parts.
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail).toMatchObject({ to: ['duty@ru.example'], secure: true, user: 'hotline', subject: alert.subject });
    expect([...mail.rawSubject].every((ch) => ch.charCodeAt(0) < 128)).toBe(true);
    expect(mail.contentType).toBe('multipart/alternative');
    expect(mail.text).toContain('Категория инцидента: Вторжение (несанкционированный доступ)');
    expect(mail.text).toContain(`подтвердить: hotline ack ${short}`);
    expect(mail.html).toContain('<th style="text-align:start;padding:2px 12px 2px 0;vertical-align:top">Вид</th><td style="padding:2px 0">Кризисное оповещение (crisis-alert)</td>');
    expect(mail.html).toContain(`<a href="https://hotline.ru.example/messages/${m.id}">`);

    // Nobody acknowledges: us's own sink gets the overdue alert at the deadline, in English (us's language), UTC only.
    clock.advance(10 * 60_000);
    await a.deadlines.runOnce();
    const overdue = hook.ok().filter((h) => h.path === '/us');
    expect(overdue).toHaveLength(1);
    expect(verifies(SECRET, overdue[0]!, overdue[0]!.raw)).toBe(true);
    expect(schemaErrors(overdue[0]!.body)).toEqual([]);
    const late = overdue[0]!.body.alert as AlertBody;
    expect(late.subject).toBe('[hotline FLASH] Crisis alert to ru is overdue: not acknowledged by 2026-01-15 09:10 UTC');
    expect(fact(late, 'Due (UTC)')).toBe('2026-01-15 09:10 UTC');
    expect(late.facts.filter((f) => f.label.startsWith('Due'))).toEqual([{ label: 'Due (UTC)', value: '2026-01-15 09:10 UTC' }]);
    expect(late.todo).toEqual([`call ru's duty officer; see the message: hotline show ${overdue[0]!.body.short_id as string}`]);
  });

  it('hotline sink add|list|test|remove over real receivers: secrets never shown, the outcome (delivered, or the error code) reported', async () => {
    const hook = await receiver();
    const smtp = await relay();
    const [, ru] = await pair(smtp.port);

    // Bad input changes nothing.
    await exits(2, /whsec_/, ru.home, 'sink', 'add', 'webhook', `${hook.url}/soc`, '--secret', 'hunter2');
    await exits(2, /--secret whsec_/, ru.home, 'sink', 'add', 'webhook', `${hook.url}/soc`);
    await exits(2, /http\(s\) URL/, ru.home, 'sink', 'add', 'webhook', 'ftp://x.example/', '--secret', SECRET);
    await exits(2, /not an e-mail address/, ru.home, 'sink', 'add', 'email', 'nobody');
    expect(await json<{ sinks: unknown[] }>(ru.home, 'sink', 'list')).toEqual({ sinks: [] });

    await ok(ru.home, 'sink', 'add', 'webhook', `${hook.url}/soc?token=abc`, '--secret', SECRET, '--name', 'soc');
    await exits(1, /sink_exists/, ru.home, 'sink', 'add', 'webhook', `${hook.url}/other`, '--secret', SECRET, '--name', 'soc');
    await ok(ru.home, 'sink', 'add', 'webhook', `${hook.url}/services/T0/B1/slacktoken`, '--format', 'slack', '--name', 'chat');
    await ok(ru.home, 'sink', 'add', 'email', 'duty@ru.example');
    const secretFile = join(tempDir(), 'soc2.secret');
    writeFileSync(secretFile, `${SECRET}\n`);
    await ok(ru.home, 'sink', 'add', 'webhook', `${hook.url}/soc2`, '--secret-file', secretFile, '--name', 'soc2');
    await exits(2, /not both/, ru.home, 'sink', 'add', 'webhook', `${hook.url}/soc3`, '--secret-file', secretFile, '--secret', SECRET);
    const dead = await freePort();
    await ok(ru.home, 'sink', 'add', 'webhook', `http://127.0.0.1:${dead}/hook`, '--secret', SECRET, '--name', 'dead');

    const listed = await ok(ru.home, 'sink', 'list');
    const listedJson = JSON.stringify(await json(ru.home, 'sink', 'list'));
    for (const out of [listed, listedJson]) {
      expect(out).not.toContain(SECRET.slice(6));
      expect(out).not.toContain('token=abc');
      expect(out).not.toContain('slacktoken');
    }
    expect(listed).toMatch(/^soc\s+webhook\s+http:\/\/127\.0\.0\.1:\d+\/soc\?\*\*\*\s+standard\s+yes/m);
    expect(listed).toMatch(/^duty@ru\.example\s+email\s+duty@ru\.example/m);
    expect(listed).toMatch(/^soc2\s+webhook\s+\S+\s+standard\s+yes/m);

    // A test alert, signed, in Russian; the receiver verifies it.
    const r = await hl(ru.home, 'sink', 'test', 'soc');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Delivered: the test alert [0-9a-f-]{36} reached sink soc\./);
    const got = hook.ok().filter((h) => h.path.startsWith('/soc'));
    expect(got).toHaveLength(1);
    expect(verifies(SECRET, got[0]!, got[0]!.raw)).toBe(true);
    expect(schemaErrors(got[0]!.body)).toEqual([]);
    expect((got[0]!.body.alert as AlertBody).subject).toBe('[hotline] Проверочное оповещение от ru в канал soc');

    await ok(ru.home, 'sink', 'test', 'chat');
    expect(hook.ok().filter((h) => h.path.startsWith('/services/')).map((h) => (h.body.text as string).split('\n')[0])).toEqual(['Это проверка канала оповещений chat. Ничего делать не нужно.']);

    await ok(ru.home, 'sink', 'test', 'duty@ru.example');
    expect(smtp.mails.map((x) => [x.to[0], x.subject, x.secure])).toEqual([['duty@ru.example', '[hotline] Проверочное оповещение от ru в канал duty@ru.example', true]]);

    // Failures: the receiver answers 500; nobody listens. The error code, exit 1, no secret in the output.
    hook.failNext(1);
    const failed = await hl(ru.home, 'sink', 'test', 'soc');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^Failed \[sink_failed\]: the webhook of sink "soc" answered HTTP 500/);
    const u = await hl(ru.home, 'sink', 'test', 'dead', '--json');
    expect(u.code).toBe(1);
    expect(JSON.parse(u.stdout)).toMatchObject({ sink: 'dead', outcome: 'failed', error_code: 'peer_unreachable' });
    for (const out of [failed.stdout, u.stdout]) expect(out).not.toContain(SECRET.slice(6));

    await ok(ru.home, 'sink', 'remove', 'dead');
    await exits(1, /No sink named "dead"/, ru.home, 'sink', 'test', 'dead');
    expect((await json<{ sinks: { name: string }[] }>(ru.home, 'sink', 'list')).sinks.map((s) => s.name)).toEqual(['chat', 'duty@ru.example', 'soc', 'soc2']);
  });

  it('REST /api/v1/sinks: administrators only (an officer gets 403 everywhere); bad input changes nothing; the secret is never returned', async () => {
    const hook = await receiver();
    const [, ru] = await pair(2525);
    const b = await ru.start({ runPings: false, runReminders: false, runDeadlines: false, runDelivery: false });
    running.push(b);
    const call = api(b.address);
    const { ivan } = await usersWithTokens(call, ru.token, { ivan: ['crisis'] });
    const body = { type: 'webhook', target: `${hook.url}/rest`, secret: SECRET, name: 'rest' };
    for (const [path, method, sent] of [['/api/v1/sinks', 'GET', undefined], ['/api/v1/sinks', 'POST', body], ['/api/v1/sinks/rest', 'DELETE', undefined], ['/api/v1/sinks/rest/test', 'POST', undefined]] as const) {
      expect((await call(path, ivan!, { method, ...(sent === undefined ? {} : { body: sent }) })).status, `${method} ${path}`).toBe(403);
    }
    const bad = await call('/api/v1/sinks', ru.token, { method: 'POST', body: { ...body, secret: 'whsec_short' } });
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid_argument']);
    expect((await call('/api/v1/sinks', ru.token)).json).toEqual({ sinks: [] });
    const added = await call('/api/v1/sinks', ru.token, { method: 'POST', body });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ name: 'rest', type: 'webhook', format: 'standard', signed: true });
    expect(JSON.stringify(added.json)).not.toContain(SECRET.slice(6));
    expect((await call('/api/v1/sinks', ru.token, { method: 'POST', body })).status).toBe(409);
    const tested = await call('/api/v1/sinks/rest/test', ru.token, { method: 'POST' });
    expect(tested.json).toMatchObject({ sink: 'rest', outcome: 'delivered', error_code: null });
    const got = hook.ok().filter((h) => h.path === '/rest');
    expect(got).toHaveLength(1);
    expect(verifies(SECRET, got[0]!, got[0]!.raw)).toBe(true);
    expect((await call('/api/v1/sinks/rest', ru.token, { method: 'DELETE' })).status).toBe(200);
    expect((await call('/api/v1/sinks/rest', ru.token, { method: 'DELETE' })).status).toBe(404);
  });

  it('an alert queued for a sink that is then removed is given up at once, not retried', async () => {
    const hook = await receiver();
    const [, ru] = await pair(2525);
    await ok(ru.home, 'sink', 'add', 'webhook', `${hook.url}/gone`, '--secret', SECRET, '--name', 'gone');
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 9, 0));
    const b = await ru.start({ clock, runPings: false, runReminders: false, runDeadlines: false, runDelivery: false });
    running.push(b);
    const { notify } = await import('../src/modules/deadlines/deadlines.notify.js');
    await notify({ db: b.ctx.db, clock, notify: b.ctx.config.notify }, { message_id: 'm-gone', step: '0', payload: { type: 'hotline.test' } });
    await ok(ru.home, 'sink', 'remove', 'gone');
    expect(await b.deadlines.runOnce()).toMatchObject({ sent: 0, failed: 1 });
    const rows = await b.ctx.db.selectFrom('notification_deliveries').select(['sink', 'target', 'state', 'attempts', 'last_error']).execute();
    expect(rows).toEqual([{ sink: 'sink', target: 'gone', state: 'failed', attempts: 1, last_error: 'not_found: the sink "gone" was removed' }]);
    clock.advance(60 * 60_000);
    expect(await b.deadlines.runOnce()).toMatchObject({ sent: 0, failed: 0 });
    expect(hook.hits).toEqual([]);
  });
});
