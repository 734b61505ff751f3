import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Transaction } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../adapters/storage/schema.js';
import { FakeClock, isoTime } from '../../shared/clock.js';
import { HotlineError } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import { silentLogger } from '../../shared/logger.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { KINDS, type Envelope } from '../federation/federation.types.js';
import { deadlinesHook } from './deadlines.hook.js';
import { notify } from './deadlines.notify.js';
import { DeadlineProcessor } from './deadlines.processor.js';
import { deadlineOf, formatLate } from './deadlines.service.js';
import { parseNotifyConfig } from './deadlines.types.js';
import { needsAck, peerAckPolicy, setPeerAckPolicy } from './deadlines.policy.js';
import { notificationSinks } from '../../adapters/sinks/sinks.js';
import { eventually } from '../../../test/helpers/nodes.js';
import { openTestStore } from '../../../test/helpers/pg.js';
import { describeEachDialect, storeDialect } from '../../../test/helpers/stores.js';
import { smtpRelay } from '../../../test/helpers/smtp.js';
import { webhookReceiver } from '../../../test/helpers/webhook.js';

const stores: Store[] = [];
const servers: Server[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
  await Promise.all(closers.splice(0).map((c) => c()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function store(): Promise<Store> {
  const db = await openTestStore(storeDialect());
  stores.push(db);
  return db;
}

function envelope(kind: string, fields: Partial<Envelope> = {}): Envelope {
  const id = uuidv7();
  return {
    v: 1, id, from: 'us', to: 'ru', seq: 1, prev: '0'.repeat(64), sent_at: isoTime(Date.UTC(2026, 0, 1)), kind: kind as Envelope['kind'],
    channel: 'crisis', case: id, in_reply_to: null, priority: 'flash', tlp: 'amber', body: {}, sig: '', ...fields,
  } as Envelope;
}

async function store_(db: Store, env: Envelope, direction: 'in' | 'out' = 'in'): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const trx = tx as unknown as Transaction<FederationTables>;
    await deadlinesHook.apply!(trx, { env, direction, hash: '', storedAt: Date.UTC(2026, 0, 1) });
    await deadlinesHook.flush!(trx);
  });
}

describeEachDialect('deadlines', () => {
  it('the policy is data (templates/ack-policy.json): person-written kinds wait for a person, machine traffic never does', () => {
    expect(KINDS.filter((k) => needsAck(k))).toEqual(['notification', 'inquiry', 'assistance', 'response', 'crisis-alert', 'preservation-request', 'preservation-response']);
    expect(KINDS.filter((k) => !needsAck(k))).toEqual(['ping', 'pong', 'ack', 'indicators', 'directory-update', 'key-change', 'case-close']);
    expect(needsAck('indicators', new Map([['indicators', 'person']]))).toBe(true);
    expect(needsAck('inquiry', new Map([['inquiry', 'none']]))).toBe(false);
  });

  it('machine traffic (ping, indicators, ...) gets no deadline and pages nobody; a pong still ends what a ping agreed to wait for', async () => {
    const db = await store();
    const ping = envelope('ping');
    await store_(db, ping);
    expect(await deadlineOf(db, ping.id, Date.UTC(2026, 0, 1))).toBeNull();
    const pong = envelope('pong', { case: ping.case, in_reply_to: ping.id });
    await store_(db, pong, 'out');
    expect(await deadlineOf(db, pong.id, Date.UTC(2026, 0, 2))).toBeNull();
    for (const k of ['ack', 'case-close', 'directory-update', 'key-change', 'indicators']) {
      const e = envelope(k);
      await store_(db, e);
      expect(await deadlineOf(db, e.id, 0)).toBeNull();
    }
  });

  it('a pair of peers agrees otherwise per kind: indicators from ru then wait for a person, inquiries do not; default restores the file', async () => {
    const db = await store();
    const clock = { now: () => Date.UTC(2026, 0, 1) };
    await expect(setPeerAckPolicy({ db, clock }, 'ru', { bogus: 'person' })).rejects.toMatchObject({ code: 'unknown_kind' });
    await expect(setPeerAckPolicy({ db, clock }, 'ru', { inquiry: 'maybe' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(setPeerAckPolicy({ db, clock }, 'ru', {})).rejects.toMatchObject({ code: 'invalid_argument' });
    const after = await setPeerAckPolicy({ db, clock }, 'ru', { indicators: 'person', inquiry: 'none' });
    expect(after.find((k) => k.kind === 'indicators')).toEqual({ kind: 'indicators', policy: 'person', source: 'agreed' });
    expect(after.find((k) => k.kind === 'crisis-alert')).toEqual({ kind: 'crisis-alert', policy: 'person', source: 'default' });
    const ind = envelope('indicators', { from: 'ru', to: 'us' });
    const inq = envelope('inquiry', { from: 'ru', to: 'us' });
    await store_(db, ind);
    await store_(db, inq);
    expect(await deadlineOf(db, ind.id, 0)).toMatchObject({ next_step: '0' });
    expect(await deadlineOf(db, inq.id, 0)).toBeNull();
    await setPeerAckPolicy({ db, clock }, 'ru', { indicators: 'default' });
    expect((await peerAckPolicy(db, 'ru')).find((k) => k.kind === 'indicators')).toEqual({ kind: 'indicators', policy: 'none', source: 'default' });
  });

  it('the notify config is validated, each problem named', () => {
    expect(parseNotifyConfig(undefined)).toEqual({});
    expect(parseNotifyConfig({ webhook: { url: 'https://ops.example/hook' }, smtp: { host: 'localhost', port: 25, from: 'hotline@ops.example' } }))
      .toEqual({ webhook: { url: 'https://ops.example/hook' }, smtp: { host: 'localhost', port: 25, from: 'hotline@ops.example' } });
    for (const bad of [[], 'x', { webhook: { url: 'ftp://x' } }, { webhook: 'http://x' }, { smtp: { host: 'h', port: 0, from: 'a@b' } },
      { smtp: { host: 'h', port: 25, from: 'nobody' } }, { pager: {} }]) {
      const e = (() => {
        try {
          parseNotifyConfig(bad);
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(HotlineError);
      expect((e as HotlineError).code).toBe('config_invalid');
      expect((e as HotlineError).message).toMatch(/"notify/);
    }
  });

  it('notify() queues a (message, step) once; a second call changes nothing', async () => {
    const db = await store();
    const deps = { db, clock: new FakeClock(), notify: { webhook: { url: 'http://127.0.0.1:9/hook' } } };
    const id = await notify(deps, { message_id: 'm1', step: 'reminder', payload: { type: 'test' }, targets: { webhook: 'http://127.0.0.1:9/other', email: 'a@b.example' } });
    expect(id).toEqual(expect.any(String));
    expect(await notify(deps, { message_id: 'm1', step: 'reminder', payload: { type: 'again' } })).toBeUndefined();
    expect(await db.selectFrom('notifications').select(['message_id', 'step', 'payload']).execute()).toEqual([{ message_id: 'm1', step: 'reminder', payload: JSON.stringify({ type: 'test', id }) }]);
    // No SMTP configured: no e-mail delivery is queued.
    expect((await db.selectFrom('notification_deliveries').select(['sink', 'target', 'state']).orderBy('target').execute())).toEqual([
      { sink: 'webhook', target: 'http://127.0.0.1:9/hook', state: 'pending' }, { sink: 'webhook', target: 'http://127.0.0.1:9/other', state: 'pending' },
    ]);
  });

  it('e-mail goes through the SMTP relay (nodemailer) once; the subject arrives decoded', async () => {
    const db = await store();
    const smtp = await smtpRelay();
    closers.push(() => smtp.close());
    const clock = new FakeClock();
    const config = parseNotifyConfig({ smtp: { host: '127.0.0.1', port: smtp.port, from: 'hotline@ru.example' } });
    await notify({ db, clock, notify: config }, { message_id: 'm2', step: '1', subject: 'FLASH запрос awaits acknowledgement', payload: { type: 'hotline.escalation', note: '.hidden' }, targets: { email: 'backup@ru.example' } });
    const p = new DeadlineProcessor({ db, clock, party: 'ru', notify: config, sinks: notificationSinks(config), log: silentLogger });
    expect(await p.runOnce()).toMatchObject({ sent: 1, failed: 0 });
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toMatchObject({ from: 'hotline@ru.example', to: ['backup@ru.example'], subject: 'FLASH запрос awaits acknowledgement' });
    expect(JSON.parse(smtp.mails[0]!.text)).toMatchObject({ type: 'hotline.escalation', note: '.hidden' });
    expect(await p.runOnce()).toMatchObject({ sent: 0 });
  });

  it('a webhook that accepts and never answers holds one slot: another target is notified while that call is still open', async () => {
    const db = await store();
    const hook = await webhookReceiver();
    closers.push(() => hook.close());
    const sockets: Socket[] = [];
    let closed = 0;
    let bytes = 0;
    const dead = createServer((sock) => {
      sockets.push(sock);
      sock.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      sock.on('close', () => closed++);
    });
    servers.push(dead);
    closers.push(async () => {
      for (const x of sockets) x.destroy();
    });
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/hook`;
    const clock = new FakeClock();
    const config = {};
    // The dead target's notification is the older one: the old processor tried it first and waited out its 10 s timeout.
    await notify({ db, clock, notify: config }, { message_id: 'm-dead', step: '0', payload: { type: 'test' }, targets: { webhook: deadUrl } });
    clock.advance(1);
    await notify({ db, clock, notify: config }, { message_id: 'm-live', step: '0', payload: { type: 'test' }, targets: { webhook: `${hook.url}/live` } });
    const p = new DeadlineProcessor({ db, clock, party: 'ru', notify: config, sinks: notificationSinks(config), log: silentLogger });
    p.start();
    try {
      // Wait until the live delivery is recorded as sent, not only received: stop() aborts calls whose outcome is not yet recorded.
      const liveSent = async (): Promise<boolean> => (await db.selectFrom('notification_deliveries').select('state')
        .where('target', '=', `${hook.url}/live`).executeTakeFirst())?.state === 'sent';
      await eventually(async () => (bytes > 0 && hook.ok().length > 0 && await liveSent() ? true : undefined));
      // The order of events: the live target got its notification while the dead call was open and unanswered.
      expect(closed).toBe(0);
      expect(hook.ok().map((h) => h.path)).toEqual(['/live']);
    } finally {
      await p.stop();
    }
    // Stopping aborted the dead call without counting it: it is still pending, untried.
    // (Ordered by state, not by target: the two targets' random ports decide how their URLs sort.)
    expect(await db.selectFrom('notification_deliveries').select(['target', 'state', 'attempts']).orderBy('state').execute()).toEqual([
      { target: deadUrl, state: 'pending', attempts: 0 }, { target: `${hook.url}/live`, state: 'sent', attempts: 1 },
    ]);
  });

  it('a webhook that redirects is a failed attempt coded redirect_refused; the redirect is not followed', async () => {
    const db = await store();
    const hook = await webhookReceiver();
    closers.push(() => hook.close());
    const redirector = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(307, { location: `${hook.url}/elsewhere` }).end());
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => {
      redirector.closeAllConnections();
      redirector.close(() => r());
    }));
    const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`;
    const clock = new FakeClock();
    await notify({ db, clock, notify: {} }, { message_id: 'm3', step: '0', payload: { type: 'test' }, targets: { webhook: url } });
    const p = new DeadlineProcessor({ db, clock, party: 'ru', notify: {}, sinks: notificationSinks({}), log: silentLogger });
    expect(await p.runOnce()).toMatchObject({ sent: 0, failed: 1 });
    const [d] = await db.selectFrom('notification_deliveries').select(['state', 'attempts', 'last_error']).execute();
    expect(d).toMatchObject({ state: 'pending', attempts: 1 });
    expect(d!.last_error).toMatch(/^redirect_refused: webhook http:\/\/127\.0\.0\.1:\d+\/hook answered HTTP 307/);
    expect(hook.hits).toHaveLength(0);
  });

  it('formats lateness for people', () => {
    expect(formatLate(45_000)).toBe('45s');
    expect(formatLate(12 * 60_000 + 30_000)).toBe('12m 30s');
    expect(formatLate(65 * 60_000)).toBe('1h 5m');
    expect(formatLate(50 * 3600_000)).toBe('2d 2h');
  });
});
