/**
 * Issue 3, directory and ping tests, with two real nodes over loopback HTTP: `us` keeps its
 * contacts and rota and publishes them; `ru` shows them and replaces them on the next version.
 * A ping from us is answered by ru's officer; us's reachability shows the time to answer (us runs
 * on a fake clock, so the time is exact).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { RunningNode } from '../src/main.js';
import { FakeClock, isoTime } from '../src/shared/clock.js';
import { HotlineError } from '../src/shared/errors.js';
import { uuidv7 } from '../src/shared/ids.js';
import { show } from '../src/modules/messaging/messaging.service.js';
import { publishDirectory, viewDirectory } from '../src/modules/directory/directory.publish.js';
import { listPings, reachability, sendPing, sendPong } from '../src/modules/directory/directory.pings.js';
import { addContact, removeContact, rotaFor, setRota } from '../src/modules/directory/directory.service.js';
import type { DirectoryTables } from '../src/modules/directory/directory.tables.js';
import { NODE_ADMIN, type Principal } from '../src/modules/users/users.types.js';
import { eventually, makePair } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

const MINUTE = 60_000;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HotlineError) return e.code;
    throw e;
  }
  return 'ok';
}

/** What a node holds in the directory's tables and its outbox: to show a refusal changed nothing. */
async function held(node: RunningNode): Promise<unknown> {
  const db: Kysely<DirectoryTables> = node.ctx.db;
  return {
    contacts: await db.selectFrom('directory_contacts').selectAll().orderBy('party').orderBy('id').execute(),
    rota: await db.selectFrom('directory_rota').selectAll().orderBy('party').orderBy('channel').orderBy('position').execute(),
    parties: await db.selectFrom('directory_parties').selectAll().orderBy('party').execute(),
    pings: await db.selectFrom('directory_pings').selectAll().orderBy('id').execute(),
    messages: await node.ctx.db.selectFrom('messages').select(['id', 'kind', 'direction']).orderBy('id').execute(),
  };
}

describe('directory: publish, show, replace', () => {
  it('us publishes its contacts and rota; ru shows them with when they were confirmed; a second publish replaces them', async () => {
    const [us, ru] = await makePair();
    const a = await us.start();
    const b = await ru.start();
    running.push(a, b);
    const duty = await addContact(a.ctx, { channel: 'crisis', function: 'Crisis desk duty officer', name: 'Jane Smith', languages: ['en', 'ru'], hours: '24/7', phone: '+1 202 555 0100', email: 'duty@us.example' });
    const chief = await addContact(a.ctx, { channel: 'crisis', function: 'Head of crisis desk', name: 'John Doe', languages: ['en'], hours: 'Mon-Fri 08:00-18:00 UTC', phone: '+1 202 555 0199' });
    const cert = await addContact(a.ctx, { channel: 'cert', function: 'CERT duty officer', name: 'US-CERT desk', hours: '24/7', email: 'soc@us.example' });
    await setRota(a.ctx, { channel: 'crisis', primary: duty.id, supervisor: chief.id, notify: { primary: { webhook: 'http://127.0.0.1:9/escalate' } } });

    const first = await publishDirectory(a.ctx);
    a.delivery.wake();
    expect(first).toMatchObject({ version: 1, failed: [] });
    expect(first.sent).toEqual([{ to: 'ru', channel: 'crisis', id: expect.any(String), contacts: 3 }]);

    const [entry] = await eventually(async () => {
      const v = await viewDirectory(b.ctx, { party: 'us' });
      return v[0]?.version === 1 ? v : undefined;
    });
    expect(entry).toMatchObject({ party: 'us', own: false, name: 'US test node', version: 1 });
    expect(Date.parse(entry!.updated_at!)).toBeGreaterThan(0);
    const crisis = entry!.channels.find((c) => c.channel === 'crisis')!;
    expect(crisis.contacts).toEqual([duty, chief]);
    expect(crisis.rota).toEqual({ primary: duty.id, backup: null, supervisor: chief.id });
    expect(crisis.last_pong_at).toBeNull();
    expect(entry!.channels.find((c) => c.channel === 'cert')!.contacts).toEqual([cert]);
    // ru walks us's escalation chain, without the notification targets (those stay on us).
    const chain = await rotaFor(b.ctx.db, 'us', 'crisis');
    expect(chain.map((s) => [s.position, s.contact.name, s.notify])).toEqual([['primary', 'Jane Smith', null], ['supervisor', 'John Doe', null]]);
    expect((await rotaFor(a.ctx.db, 'us', 'crisis'))[0]!.notify).toEqual({ webhook: 'http://127.0.0.1:9/escalate', email: null });
    // --channel narrows; us sees its own entry as published.
    expect((await viewDirectory(b.ctx, { party: 'us', channel: 'cert' }))[0]!.channels.map((c) => c.channel)).toEqual(['cert']);
    expect((await viewDirectory(a.ctx, { party: 'us' }))[0]).toMatchObject({ own: true, version: 1 });

    // Changes: the supervisor leaves the rota and the directory, a backup joins.
    const backup = await addContact(a.ctx, { channel: 'crisis', function: 'Deputy duty officer', name: 'Ann Lee', languages: ['en'] });
    await setRota(a.ctx, { channel: 'crisis', primary: duty.id, backup: backup.id, supervisor: null });
    await removeContact(a.ctx, chief.id);
    expect((await publishDirectory(a.ctx)).version).toBe(2);
    a.delivery.wake();
    const [second] = await eventually(async () => {
      const v = await viewDirectory(b.ctx, { party: 'us' });
      return v[0]?.version === 2 ? v : undefined;
    });
    const crisis2 = second!.channels.find((c) => c.channel === 'crisis')!;
    expect(crisis2.contacts.map((c) => c.name)).toEqual(['Jane Smith', 'Ann Lee']);
    expect(crisis2.rota).toEqual({ primary: duty.id, backup: backup.id, supervisor: null });
    expect(Date.parse(second!.updated_at!)).toBeGreaterThanOrEqual(Date.parse(entry!.updated_at!));

    // Unknown party or channel: a clear refusal.
    expect(await codeOf(viewDirectory(b.ctx, { party: 'fr' }))).toBe('not_found');
    expect(await codeOf(viewDirectory(b.ctx, { channel: 'spam' }))).toBe('unknown_channel');
  });
});

describe('ping tests and reachability', () => {
  it('us pings ru; ru\'s officer answers; us\'s reachability shows 1 sent, 1 answered and the time to answer', async () => {
    const [us, ru] = await makePair();
    const clock = new FakeClock(Date.now());
    const a = await us.start({ clock });
    const b = await ru.start();
    running.push(a, b);
    const t0 = clock.now();
    const ping = await sendPing(a.ctx, { to: 'ru', channel: 'crisis' });
    a.delivery.wake();
    expect(ping.kind).toBe('ping');
    const [received] = await eventually(async () => {
      const p = await listPings(b.ctx.db, { direction: 'in', pending: true });
      return p.length > 0 ? p : undefined;
    });
    expect(received).toMatchObject({ id: ping.id, peer: 'us', channel: 'crisis', case: ping.case, answered_at: null });
    expect(await reachability(a.ctx)).toContainEqual(expect.objectContaining({ peer: 'ru', channel: 'crisis', sent: 1, answered: 0, median_ms: null, last_success_at: null }));

    // Seven minutes pass on us before the officer's answer arrives. The pong names the user who
    // answers, by the display name of its record.
    await b.ctx.users.add({ name: 'ivan', role: 'officer', channels: 'crisis', display_name: 'Ivan Petrov' });
    const ivan: Principal = { user: 'ivan', role: 'officer', channels: ['crisis'] };
    clock.advance(7 * MINUTE);
    const pong = await sendPong(b.ctx, { ping: ping.id }, ivan);
    b.delivery.wake();
    expect(pong).toMatchObject({ kind: 'pong', case: ping.case, in_reply_to: ping.id, channel: 'crisis', to: 'us' });
    const row = await eventually(async () => {
      const r = (await reachability(a.ctx, { peer: 'ru', channel: 'crisis' }))[0];
      return r?.answered === 1 ? r : undefined;
    });
    expect(row).toEqual({
      peer: 'ru', channel: 'crisis', sent: 1, answered: 1, median_ms: 7 * MINUTE, worst_ms: 7 * MINUTE,
      last_sent_at: isoTime(t0), last_success_at: isoTime(t0 + 7 * MINUTE), last_officer: 'Ivan Petrov',
    });
    // Every agreed channel is reported, pinged or not.
    expect((await reachability(a.ctx)).map((r) => `${r.peer} ${r.channel} ${r.sent}`)).toEqual(['ru cert 0', 'ru crisis 1', 'ru law 0']);
    // The pong is in the ping's case, and us's directory says when ru last answered on crisis.
    expect((await show(a.ctx.db, pong.id)).message).toMatchObject({ kind: 'pong', case: ping.case, in_reply_to: ping.id });
    const ruEntry = (await viewDirectory(a.ctx, { party: 'ru', channel: 'crisis' }))[0]!;
    expect(ruEntry.channels[0]!.last_pong_at).toBe(isoTime(t0 + 7 * MINUTE));
    expect((await listPings(b.ctx.db, { direction: 'in' }))[0]).toMatchObject({ officer: 'Ivan Petrov', pong_id: pong.id });

    // ru cannot answer twice, nor answer a ping it never received (nor its own), nor without a name: nothing is queued.
    const own = await sendPing(b.ctx, { to: 'us', channel: 'cert' });
    const before = await held(b);
    expect(await codeOf(sendPong(b.ctx, { ping: ping.id }, NODE_ADMIN))).toBe('ping_already_answered');
    expect(await codeOf(sendPong(b.ctx, { ping: uuidv7() }, ivan))).toBe('pong_without_ping');
    expect(await codeOf(sendPong(b.ctx, { ping: own.id }, ivan))).toBe('pong_without_ping');
    expect(await codeOf(sendPong(b.ctx, { ping: 'not-an-id' }, ivan))).toBe('invalid_argument');
    // A user this node does not know cannot answer.
    expect(await codeOf(sendPong(b.ctx, { ping: ping.id }, { user: 'ghost', role: 'officer', channels: ['crisis'] }))).toBe('unknown_user');
    expect(await held(b)).toEqual(before);
  });
});
