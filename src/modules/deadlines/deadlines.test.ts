import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Transaction } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../adapters/storage/sqlite.js';
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
import { smtpData } from './deadlines.sinks.js';
import { needsAck, parseNotifyConfig } from './deadlines.types.js';

const stores: Store[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function store(): Promise<Store> {
  const db = await openSqlite(':memory:');
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
  await db.transaction().execute((trx) => deadlinesHook.apply!(trx as unknown as Transaction<FederationTables>, { env, direction, hash: '', storedAt: Date.UTC(2026, 0, 1) }));
}

/** A tiny SMTP server on 127.0.0.1:0 that records what each session said. */
async function smtpServer(): Promise<{ port: number; sessions: string[][] }> {
  const sessions: string[][] = [];
  const server = createServer((sock: Socket) => {
    const lines: string[] = [];
    sessions.push(lines);
    let inData = false;
    let buf = '';
    sock.write('220 test ESMTP\r\n');
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        lines.push(line);
        if (inData) {
          if (line === '.') {
            inData = false;
            sock.write('250 OK queued\r\n');
          }
        } else if (line.startsWith('EHLO')) sock.write('250-test\r\n250 8BITMIME\r\n');
        else if (line === 'DATA') {
          inData = true;
          sock.write('354 go on\r\n');
        } else if (line === 'QUIT') sock.end('221 bye\r\n');
        else sock.write('250 OK\r\n');
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, sessions };
}

describe('deadlines', () => {
  it('every kind needs an acknowledgement except ack, pong, case-close, directory-update and key-change', () => {
    expect(KINDS.filter((k) => !needsAck(k))).toEqual(['pong', 'ack', 'directory-update', 'key-change', 'case-close']);
    expect(needsAck('ping')).toBe(true);
  });

  it('a ping waits for its pong: the pong ends its escalation; kinds without ack get no deadline', async () => {
    const db = await store();
    const ping = envelope('ping');
    await store_(db, ping);
    expect(await deadlineOf(db, ping.id, Date.UTC(2026, 0, 1))).toMatchObject({ next_step: '0', due_at: isoTime(Date.UTC(2026, 0, 1) + 10 * 60_000) });
    const pong = envelope('pong', { case: ping.case, in_reply_to: ping.id });
    await store_(db, pong, 'out');
    expect(await deadlineOf(db, ping.id, Date.UTC(2026, 0, 2))).toMatchObject({ next_step: null, next_at: null, overdue: false, acknowledged_at: expect.any(String) });
    expect(await deadlineOf(db, pong.id, Date.UTC(2026, 0, 2))).toBeNull();
    for (const k of ['ack', 'case-close', 'directory-update', 'key-change']) {
      const e = envelope(k);
      await store_(db, e);
      expect(await deadlineOf(db, e.id, 0)).toBeNull();
    }
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

  it('e-mail goes through a local SMTP server with minimal SMTP, dot-stuffed', async () => {
    const db = await store();
    const smtp = await smtpServer();
    const clock = new FakeClock();
    const config = { smtp: { host: '127.0.0.1', port: smtp.port, from: 'hotline@ru.example' } };
    await notify({ db, clock, notify: config }, { message_id: 'm2', step: '1', subject: 'FLASH inquiry awaits acknowledgement', payload: { type: 'hotline.escalation', note: '.hidden' }, targets: { email: 'backup@ru.example' } });
    const p = new DeadlineProcessor({ db, clock, party: 'ru', notify: config, log: silentLogger });
    expect(await p.runOnce()).toMatchObject({ sent: 1, failed: 0 });
    expect(smtp.sessions).toHaveLength(1);
    const said = smtp.sessions[0]!;
    expect(said.slice(0, 4)).toEqual(['EHLO hotline', 'MAIL FROM:<hotline@ru.example>', 'RCPT TO:<backup@ru.example>', 'DATA']);
    expect(said).toContain('Subject: FLASH inquiry awaits acknowledgement');
    expect(said.at(-1)).toBe('QUIT');
    expect(await p.runOnce()).toMatchObject({ sent: 0 });
    expect(smtpData('a\n.b\n..c')).toBe('a\r\n..b\r\n...c');
  });

  it('formats lateness for people', () => {
    expect(formatLate(45_000)).toBe('45s');
    expect(formatLate(12 * 60_000 + 30_000)).toBe('12m 30s');
    expect(formatLate(65 * 60_000)).toBe('1h 5m');
    expect(formatLate(50 * 3600_000)).toBe('2d 2h');
  });
});
