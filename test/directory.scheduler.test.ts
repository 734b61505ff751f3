/**
 * Issue 3, the ping schedule: `ping_schedule` in hotline.json, run by the node's PingScheduler on
 * a fake clock. One ping per slot, none twice for the same slot across a restart, one (not a
 * backlog) after a long outage; an entry whose peer is not pinned is skipped without harm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { FakeClock } from '../src/shared/clock.js';
import { listPings, sendPing } from '../src/modules/directory/directory.pings.js';
import { eventually, makeHome, peerAll, tempDir } from './helpers/nodes.js';

const MINUTE = 60_000;

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function sentPings(node: RunningNode): Promise<number[]> {
  return (await listPings(node.ctx.db, { direction: 'out', limit: 1000 })).map((p) => Date.parse(p.sent_at)).sort((x, y) => x - y);
}

describe('PingScheduler', () => {
  it('sends one ping per slot, and none twice for the same slot across a restart', async () => {
    const dir = tempDir();
    const us = await makeHome('us', { ping_schedule: [{ to: 'ru', channel: 'crisis', every_minutes: 60 }, { to: 'fr', channel: 'cert', every_minutes: 10 }] }, dir);
    const ru = await makeHome('ru', {}, dir);
    await peerAll(us, ru);
    const clock = new FakeClock(Date.now());
    const t0 = clock.now();
    const opts = { clock, runPings: false, runDelivery: false };
    let a = await us.start(opts);
    running.push(a);

    // Nothing sent yet: the first pass sends at once; a second pass in the same slot sends nothing.
    // The entry for fr (not a pinned peer) is skipped, and does not stop the other.
    expect(await a.pings.runOnce()).toBe(1);
    expect(await a.pings.runOnce()).toBe(0);
    clock.advance(30 * MINUTE);
    expect(await a.pings.runOnce()).toBe(0);
    // Next due: fr's entry, retried five minutes after its last failure (at +30 min).
    expect(await a.pings.nextDue()).toBe(t0 + 35 * MINUTE);

    // Restart in the middle of the slot: the due time comes from the store, so no second ping.
    await a.stop();
    running.splice(0);
    a = await us.start(opts);
    running.push(a);
    expect(await a.pings.runOnce()).toBe(0);
    clock.advance(29 * MINUTE);
    expect(await a.pings.runOnce()).toBe(0);
    clock.advance(MINUTE);
    expect(await a.pings.runOnce()).toBe(1);
    expect(await a.pings.runOnce()).toBe(0);

    // A long outage: one ping when it comes back, not one per missed slot.
    await a.stop();
    running.splice(0);
    clock.advance(5 * 60 * MINUTE);
    a = await us.start(opts);
    running.push(a);
    expect(await a.pings.runOnce()).toBe(1);
    expect(await a.pings.runOnce()).toBe(0);

    expect(await sentPings(a)).toEqual([t0, t0 + 60 * MINUTE, t0 + 6 * 60 * MINUTE]);
    const outbox = await a.ctx.db.selectFrom('messages').select(['kind', 'to_party', 'channel']).where('direction', '=', 'out').execute();
    expect(outbox).toEqual([1, 2, 3].map(() => ({ kind: 'ping', to_party: 'ru', channel: 'crisis' })));
  });

  it('runs in the node: sends at start; a ping sent by hand counts, the next scheduled one is due a period after it', async () => {
    const dir = tempDir();
    const us = await makeHome('us', { ping_schedule: [{ to: 'ru', channel: 'crisis', every_minutes: 1440 }] }, dir);
    const ru = await makeHome('ru', {}, dir);
    await peerAll(us, ru);
    const clock = new FakeClock(Date.now());
    const t0 = clock.now();
    // The running loop (not runOnce) sends the first ping on start, and delivery takes it to ru
    // (started first: a failed attempt would wait for the fake clock to move).
    const b = await ru.start({ runPings: false });
    const a = await us.start({ clock });
    running.push(a, b);
    await eventually(async () => ((await listPings(b.ctx.db, { direction: 'in' })).length === 1 ? true : undefined));
    expect(await a.pings.nextDue()).toBe(t0 + 1440 * MINUTE);
    // Half a day later an administrator pings by hand: the schedule now counts from that ping.
    clock.advance(720 * MINUTE);
    await sendPing(a.ctx, { to: 'ru', channel: 'crisis' });
    expect(await a.pings.nextDue()).toBe(t0 + 2160 * MINUTE);
    clock.advance(720 * MINUTE);
    await a.pings.runOnce();
    expect(await sentPings(a)).toEqual([t0, t0 + 720 * MINUTE]);
    clock.advance(720 * MINUTE);
    await a.pings.runOnce();
    await a.pings.runOnce();
    expect(await sentPings(a)).toEqual([t0, t0 + 720 * MINUTE, t0 + 2160 * MINUTE]);
  });
});
