/**
 * Issue 12, item 4: peers that change (protocol section 3.3, 4.1). Real nodes on loopback: a
 * descriptor signed by the pinned key moves a peer (one signed by another key changes nothing);
 * suspend queues and resume delivers in order exactly once; remove stops traffic both ways with
 * the evidence intact; a re-add begins a new link epoch with its own chain. Every step is audited.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { withNode } from '../src/adapters/cli/home.js';
import { generateKeys } from '../src/modules/identity/identity.keys.js';
import { makeDescriptor } from '../src/modules/federation/federation.peers.js';
import { epochGenesis } from '../src/modules/federation/federation.links.js';
import { send, type SendInput } from '../src/modules/messaging/messaging.service.js';
import { FakeClock } from '../src/shared/clock.js';
import { delivered, keyOf, post, forge } from './helpers/cases.js';
import { exits, json, ok } from './helpers/cli.js';
import { makePair, tempDir, type TestHome } from './helpers/nodes.js';
import { TcpProxy } from './helpers/proxy.js';

const running: RunningNode[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

const note = (text: string): SendInput => ({ to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text });
const OPTS = { runPings: false, runReminders: false, runDeadlines: false, runDelivery: false };

/** ru's inbound messages from us, in seq order: [seq, text]. */
async function received(b: RunningNode): Promise<[number, string][]> {
  const rows = await b.ctx.db.selectFrom('messages').select(['seq', 'envelope']).where('from_party', '=', 'us').where('to_party', '=', 'ru').orderBy('seq').execute();
  return rows.map((r) => [Number(r.seq), String((JSON.parse(r.envelope) as { body: { text?: string } }).body.text)]);
}

/** ru's descriptor as ru would sign it, with another URL (or signed by another key). */
async function ruDescriptor(ru: TestHome, url: string, otherKey = false): Promise<string> {
  const d = await withNode(ru.home, async (ctx) => makeDescriptor({ ...ctx.self, url }, otherKey ? generateKeys().keys : ctx.keys));
  const file = join(tempDir(), 'ru.json');
  writeFileSync(file, JSON.stringify(d));
  return file;
}

async function auditActions(home: string): Promise<string[]> {
  const r = await json<{ records: { action: string; subject: string | null }[] }>(home, 'audit');
  return r.records.filter((x) => x.action.startsWith('peer.')).map((x) => `${x.action} ${x.subject ?? ''}`);
}

describe('peers that change', () => {
  it('update: a descriptor signed by the pinned key moves the URL and delivery continues in order; one signed by another key is refused and changes nothing', async () => {
    const clock = new FakeClock(Date.now());
    const [us, ru] = await makePair();
    const a = await us.start({ ...OPTS, clock });
    const b = await ru.start({ ...OPTS, clock });
    running.push(a, b);
    const first = await send(a.ctx, note('one'));
    await a.delivery.runOnce();
    await delivered(a, first.id);

    // ru is now reached through another address (a proxy in front of it).
    const proxy = await TcpProxy.start(ru.port);
    proxies.push(proxy);
    const moved = `http://127.0.0.1:${proxy.port}`;

    // Signed by another key: refused, nothing changes.
    await exits(1, /descriptor_not_pinned/, us.home, 'peer', 'update', 'ru', '--descriptor', await ruDescriptor(ru, moved, true));
    expect((await a.ctx.peers.require('ru')).url).toBe(ru.url);

    // Signed by ru's pinned key: the URL moves.
    expect(await ok(us.home, 'peer', 'update', 'ru', '--descriptor', await ruDescriptor(ru, moved))).toContain(`Updated ru: ${moved}`);
    expect((await a.ctx.peers.require('ru')).url).toBe(moved);
    const second = await send(a.ctx, note('two'));
    const third = await send(a.ctx, note('three'));
    await a.delivery.runOnce();
    await delivered(a, second.id);
    await delivered(a, third.id);
    expect(proxy.exchanges.length).toBeGreaterThanOrEqual(2); // the key proof at the new address, then the batch
    expect(await received(b)).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
    expect(await auditActions(us.home)).toContain('peer.update ru');
  });

  it('suspend: messages queue, outbox and peer list say suspended, what ru sends is still received; resume: delivered in order exactly once', async () => {
    const clock = new FakeClock(Date.now());
    const [us, ru] = await makePair();
    const a = await us.start({ ...OPTS, clock });
    const b = await ru.start({ ...OPTS, clock });
    running.push(a, b);
    await ok(us.home, 'peer', 'suspend', 'ru');
    const queued = [];
    for (const t of ['a', 'b', 'c']) queued.push(await send(a.ctx, note(t)));
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      expect(await a.delivery.runOnce()).toBe(0);
    }
    expect(await received(b)).toEqual([]);
    const peers = await json<{ peers: { party: string; state: string; fingerprint: string; delivery: { pending: number } }[] }>(us.home, 'peer', 'list');
    expect(peers.peers[0]).toMatchObject({ party: 'ru', state: 'suspended', fingerprint: ru.fingerprint, delivery: { pending: 3 } });
    expect(await ok(us.home, 'peer', 'list')).toMatch(/ru .* suspended \(3 queued\)/);
    const outbox = await json<{ messages: { state: string }[] }>(us.home, 'outbox');
    expect(outbox.messages.map((m) => m.state)).toEqual(['suspended', 'suspended', 'suspended']);
    expect(await ok(us.home, 'outbox')).toContain('suspended');

    // Inbound from a suspended peer is still received (evidence is never lost).
    const back = await send(b.ctx, { ...note('from ru'), to: 'us' });
    await b.delivery.runOnce();
    await delivered(b, back.id);

    await ok(us.home, 'peer', 'resume', 'ru');
    await a.delivery.runOnce();
    for (const m of queued) await delivered(a, m.id);
    await a.delivery.runOnce();
    expect(await received(b)).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
    expect((await json<{ peers: { state: string }[] }>(us.home, 'peer', 'list')).peers[0]!.state).toBe('ok');
    expect(await auditActions(us.home)).toEqual(expect.arrayContaining(['peer.suspend ru', 'peer.resume ru']));
  });

  it('remove: traffic refused both ways, verify passes; re-add: a new epoch with its own chain, the old epoch still verifies', async () => {
    const clock = new FakeClock(Date.now());
    const [us, ru] = await makePair();
    const a = await us.start({ ...OPTS, clock });
    const b = await ru.start({ ...OPTS, clock });
    running.push(a, b);
    const first = await send(a.ctx, note('old one'));
    await a.delivery.runOnce();
    await delivered(a, first.id);
    const stranded = await send(a.ctx, note('queued, never sent'));

    await ok(us.home, 'peer', 'remove', 'ru');
    expect((await json<{ peers: { state: string }[] }>(us.home, 'peer', 'list')).peers[0]!.state).toBe('removed');
    // Outbound: refused at queueing; what was queued is not transmitted.
    await expect(send(a.ctx, note('after removal'))).rejects.toMatchObject({ code: 'peer_removed' });
    clock.advance(60_000);
    expect(await a.delivery.runOnce()).toBe(0);
    // Inbound: ru's envelopes are refused with a code.
    const forged = await forge(a, 'ru', keyOf(ru), { seq: 1, prev: '0'.repeat(64), channel: 'cert', kind: 'notification', body: { text: 'hi', lang: 'en' } });
    expect(await post(a, forged)).toMatchObject({ ok: false, error: { code: 'peer_removed' } });
    await exits(1, /peer_removed/, us.home, 'peer', 'suspend', 'ru');
    expect(await json<{ ok: boolean }>(us.home, 'verify')).toMatchObject({ ok: true });

    // Re-add: a new epoch of us→ru begins at seq 3 (seq 2 stays, never sent).
    const file = await ruDescriptor(ru, ru.url);
    expect(await ok(us.home, 'peer', 'add', '--descriptor', file, '--fingerprint', ru.fingerprint)).toContain('new epoch at seq 3');
    const next = await send(a.ctx, note('new epoch'));
    expect(next.seq).toBe(3);
    expect(next.prev).toBe(epochGenesis('us', 'ru', 3));
    await a.delivery.runOnce();
    await delivered(a, next.id);
    const after = await send(a.ctx, note('new epoch, second'));
    await a.delivery.runOnce();
    await delivered(a, after.id);
    expect(await received(b)).toEqual([[1, 'old one'], [3, 'new epoch'], [4, 'new epoch, second']]);
    const stuck = await json<{ message: { state: string } }>(us.home, 'show', stranded.id);
    expect(stuck.message.state).toBe('removed');
    for (const home of [us.home, ru.home]) expect(await json<{ ok: boolean; problems: unknown[] }>(home, 'verify')).toMatchObject({ ok: true, problems: [] });
    expect(await auditActions(us.home)).toEqual(expect.arrayContaining(['peer.remove ru', 'peer.add ru']));
    const readd = (await json<{ records: { action: string; details: Record<string, unknown> }[] }>(us.home, 'audit')).records.filter((r) => r.action === 'peer.add').at(-1);
    expect(readd?.details).toMatchObject({ readded: true, epoch_start_seq: 3 });
  });
});
