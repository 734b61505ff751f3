/**
 * Issue 10 items 6 and 7 between two real nodes on a fake clock, ru in Europe/Moscow (UTC+3):
 * each escalation step goes to whoever is on duty when the step fires (the rota, a shift in the
 * node's time zone, or an override taken with `rota take`); a TLP:RED message pages only its
 * recipients through their linked contacts, never the officer on duty; TLP:RED to a user ru has
 * not published as a RED recipient is refused with `unknown_recipient` and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { addContact, setRota } from '../src/modules/directory/directory.service.js';
import { addShift, dutyNow, takeDuty } from '../src/modules/directory/directory.rota.js';
import { publishDirectory, viewDirectory } from '../src/modules/directory/directory.publish.js';
import { setPeerDeadlines } from '../src/modules/deadlines/deadlines.service.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { FakeClock, isoTime } from '../src/shared/clock.js';
import { delivered, snapshot } from './helpers/cases.js';
import { makePair } from './helpers/nodes.js';
import { api } from './helpers/api.js';
import { smtpRelay } from './helpers/smtp.js';
import { webhookReceiver, type WebhookReceiver } from './helpers/webhook.js';

const MIN = 60_000;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const FLASH = { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'Scanning of grid control systems: please clarify.' };
/** Monday 5 January 2026, 08:50 in Moscow. */
const MONDAY_0850_MSK = Date.UTC(2026, 0, 5, 5, 50);

interface Setup { a: RunningNode; b: RunningNode; clock: FakeClock; hook: WebhookReceiver; mails: { to: string[] }[]; ids: Record<string, string> }

async function setup(): Promise<Setup> {
  const hook = await webhookReceiver();
  closers.push(() => hook.close());
  const smtp = await smtpRelay();
  closers.push(() => smtp.close());
  const clock = new FakeClock(MONDAY_0850_MSK);
  const [us, ru] = await makePair({
    time_zone: 'Europe/Moscow',
    notify: { webhook: { url: `${hook.url}/node` }, smtp: { host: '127.0.0.1', port: smtp.port, from: 'hotline@example.org' } },
  });
  const opts = { clock, runPings: false, runReminders: false, runDeadlines: false };
  const a = await us.start(opts);
  const b = await ru.start(opts);
  closers.push(() => a.stop(), () => b.stop());
  for (const [name, display] of [['ivan', 'Ivan Ivanov'], ['anna', 'Anna Petrova']] as const) {
    await b.ctx.users.add({ name, role: 'officer', channels: 'crisis', display_name: display });
  }
  const c = async (name: string, user?: string): Promise<string> => (await addContact(b.ctx, {
    channel: 'crisis', function: 'Crisis desk', name, email: `${name.split(' ')[1]!.toLowerCase()}@ru.example`, ...(user === undefined ? {} : { user }),
  })).id;
  const ids = {
    ivanov: await c('Ivan Ivanov', 'ivan'), petrova: await c('Anna Petrova', 'anna'),
    orlov: await c('Oleg Orlov'), volkova: await c('Vera Volkova'), sidorov: await c('Sergei Sidorov'),
  };
  // Nights and weekends: Ivanov, backed by Orlov. Weekdays 09:00-18:00 Moscow: Petrova, backed by Volkova.
  await setRota(b.ctx, { channel: 'crisis', primary: 'Ivan Ivanov', backup: 'oleg orlov', supervisor: ids.sidorov });
  await addShift(b.ctx, { channel: 'crisis', position: 'primary', contact: 'Anna Petrova', days: 'mon-fri', hours: '09:00-18:00' });
  await addShift(b.ctx, { channel: 'crisis', position: 'backup', contact: 'Vera Volkova', days: 'mon-fri', hours: '09:00-18:00' });
  await setPeerDeadlines({ db: b.ctx.db, clock }, 'us', { flash: 20 });
  return { a, b, clock, hook, mails: smtp.mails, ids };
}

/** [step, position, contact name] of each escalation of `id` ru's node webhook received. */
function paged(hook: WebhookReceiver, id: string): [unknown, unknown, unknown][] {
  return hook.ok().filter((h) => h.path === '/node' && h.body.node === 'ru' && h.body.message_id === id)
    .map((h) => [h.body.step, h.body.position, (h.body.contact as { name?: string } | null)?.name ?? null]);
}

describe('the rota is people and time (two nodes, fake clock, ru in Europe/Moscow)', () => {
  it('a shift change moves who is paged: step 0 at 08:50 to the night primary, step 1 at 09:00 to the day backup; rota take overrides the shift until it ends', async () => {
    const { a, b, clock, hook } = await setup();
    const [now] = await dutyNow(b.ctx, 'Europe/Moscow', 'crisis');
    expect(now!.now.map((s) => [s.position, s.contact.name, s.source])).toEqual([
      ['primary', 'Ivan Ivanov', 'rota'], ['backup', 'Oleg Orlov', 'rota'], ['supervisor', 'Sergei Sidorov', 'rota'],
    ]);
    expect(now!.next).toMatchObject({ at: isoTime(Date.UTC(2026, 0, 5, 6, 0)), contact: { name: 'Anna Petrova' }, source: 'shift' });

    const m1 = await send(a.ctx, FLASH);
    await delivered(a, m1.id);
    await b.deadlines.runOnce();
    clock.advance(10 * MIN); // 09:00 Moscow: the day shift starts, and m1's step 1 (half of 20 minutes) is due
    await b.deadlines.runOnce();
    expect(paged(hook, m1.id)).toEqual([[0, 'primary', 'Ivan Ivanov'], [1, 'backup', 'Vera Volkova']]);

    const m2 = await send(a.ctx, FLASH);
    await delivered(a, m2.id);
    await b.deadlines.runOnce();
    expect(paged(hook, m2.id)).toEqual([[0, 'primary', 'Anna Petrova']]);

    // Ivanov stays on: "I take the duty now" for an hour.
    const taken = await takeDuty(b.ctx, { channel: 'crisis', user: 'ivan', until: clock.now() + 60 * MIN });
    expect(taken).toMatchObject({ position: 'primary', contact: { name: 'Ivan Ivanov' }, taken_by: 'ivan', until: isoTime(clock.now() + 60 * MIN) });
    const [during] = await dutyNow(b.ctx, 'Europe/Moscow', 'crisis');
    expect(during!.now[0]).toMatchObject({ position: 'primary', contact: { name: 'Ivan Ivanov' }, source: 'override', entry: taken.id });
    expect(during!.next).toMatchObject({ at: taken.until, contact: { name: 'Anna Petrova' }, source: 'shift' });
    const m3 = await send(a.ctx, FLASH);
    await delivered(a, m3.id);
    await b.deadlines.runOnce();
    expect(paged(hook, m3.id)).toEqual([[0, 'primary', 'Ivan Ivanov']]);

    clock.advance(60 * MIN); // the override has ended
    const m4 = await send(a.ctx, FLASH);
    await delivered(a, m4.id);
    await b.deadlines.runOnce();
    expect(paged(hook, m4.id)).toEqual([[0, 'primary', 'Anna Petrova']]);
    clock.advance(9 * 60 * MIN); // 19:00 Moscow: the night rota again
    const m5 = await send(a.ctx, FLASH);
    await delivered(a, m5.id);
    await b.deadlines.runOnce();
    expect(paged(hook, m5.id)).toEqual([[0, 'primary', 'Ivan Ivanov']]);
  });

  it('TLP:RED pages only its recipients through their linked contacts, never the officer on duty; an unpublished recipient is unknown_recipient', async () => {
    const { a, b, clock, hook, mails } = await setup();
    // Before ru publishes its directory, us knows no RED recipient at ru.
    const before = await snapshot(a);
    await expect(send(a.ctx, { ...FLASH, tlp: 'red', recipients: ['ivan'] })).rejects.toMatchObject({ code: 'unknown_recipient' });
    const pub = await publishDirectory(b.ctx);
    await delivered(b, pub.sent[0]!.id);
    const [ruSeen] = (await viewDirectory(a.ctx, { party: 'ru', channel: 'crisis' }))[0]!.channels;
    expect(ruSeen!.red_recipients).toEqual(['anna', 'ivan']);
    // A user ru did not publish (or does not have) is refused, and nothing is queued.
    const mid = await snapshot(a);
    await expect(send(a.ctx, { ...FLASH, tlp: 'red', recipients: ['ivan', 'olga'] })).rejects.toMatchObject({ code: 'unknown_recipient', message: expect.stringMatching(/olga not in ru's directory/) });
    expect(await snapshot(a)).toEqual(mid);
    expect(before).not.toEqual(mid); // (the directory-update was received meanwhile)

    clock.advance(30 * MIN); // 09:20 Moscow: Petrova (anna) is on duty, but the message is for Ivanov (ivan) only
    const red = await send(a.ctx, { ...FLASH, tlp: 'red', recipients: ['ivan'], text: 'Source: a liaison officer.' });
    await delivered(a, red.id);
    await b.deadlines.runOnce();
    clock.advance(10 * MIN);
    await b.deadlines.runOnce();
    const hits = hook.ok().filter((h) => h.path === '/node' && h.body.message_id === red.id);
    expect(hits.map((h) => [h.body.step, h.body.position, h.body.contact, h.body.recipients])).toEqual([[0, null, null, ['ivan']], [1, null, null, ['ivan']]]);
    const to = (await b.ctx.db.selectFrom('notification_deliveries').innerJoin('notifications', 'notifications.id', 'notification_deliveries.notification_id')
      .select(['notification_deliveries.sink', 'notification_deliveries.target']).where('notifications.message_id', '=', red.id).execute())
      .filter((d) => d.sink === 'email').map((d) => d.target);
    expect(to).toEqual(['ivanov@ru.example', 'ivanov@ru.example']);
    expect(mails.flatMap((m) => m.to)).not.toContain('petrova@ru.example');
    expect(mails.flatMap((m) => m.to)).toContain('ivanov@ru.example');
  });

  it('over REST: an officer takes the duty with their token; GET /api/v1/rota shows it; PUT changes one position alone', async () => {
    const { b, clock } = await setup();
    const token = (await b.ctx.users.createToken('ivan')).secret;
    const onRu = api(b.address);
    const until = isoTime(clock.now() + 30 * MIN);
    const taken = await onRu('/api/v1/rota/crisis/take', token, { method: 'POST', body: { until } });
    expect([taken.status, taken.json.taken_by, taken.json.until]).toEqual([201, 'ivan', until]);
    const bad = await onRu('/api/v1/rota/crisis/take', token, { method: 'POST', body: { until: 'tomorrow' } });
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid_argument']);
    const duty = (await onRu('/api/v1/rota', token)).json.duty as { channel: string; now: { position: string; contact: { name: string }; source: string }[] }[];
    expect(duty.map((d) => d.channel)).toEqual(['crisis']);
    expect(duty[0]!.now[0]).toMatchObject({ position: 'primary', contact: { name: 'Ivan Ivanov' }, source: 'override' });
    const put = await onRu('/api/v1/rota/crisis', adminToken(b), { method: 'PUT', body: { backup: 'Vera Volkova' } });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect((put.json.chain as { position: string; contact: { name: string } }[]).map((c) => [c.position, c.contact.name])).toEqual([
      ['primary', 'Ivan Ivanov'], ['backup', 'Vera Volkova'], ['supervisor', 'Sergei Sidorov'],
    ]);
  });
});

/** The node administrator's token (`<home>/admin.token`). */
function adminToken(n: RunningNode): string {
  return readFileSync(join(n.ctx.config.home, 'admin.token'), 'utf8').trim();
}

