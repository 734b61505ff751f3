import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/shared/clock.js';
import { list, send, show } from '../src/modules/messaging/messaging.service.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import type { RunningNode } from '../src/main.js';
import { makePair } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

const DAY = 24 * 60 * 60 * 1000;
const STEP = 15_000;

describe('store and forward', () => {
  it('keeps retrying with capped backoff through a day of the peer being down, across a restart, then delivers all 300 in order', async () => {
    const [us, ru] = await makePair();
    const clock = new FakeClock(Date.now());
    let a = await us.start({ clock, runDelivery: false, random: () => 0.5 });
    running.push(a);
    const ids: string[] = [];
    for (let i = 1; i <= 300; i++) {
      const env = await send(a.ctx, { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'priority', tlp: 'amber', text: `while you were down ${i}` });
      ids.push(env.id);
    }
    const attemptsAt = async (): Promise<number> => (await getLink(a.ctx.db, 'us', 'ru'))!.attempts;
    // Half a day of ru down: every pass that is due makes one real (refused) HTTP attempt.
    for (let t = 0; t < DAY / 2; t += STEP) {
      clock.advance(STEP);
      expect(await a.delivery.runOnce()).toBe(0);
    }
    const halfDayAttempts = await attemptsAt();
    // Exponential until the 60 s cap, then about one attempt a minute: neither silent nor a storm.
    expect(halfDayAttempts).toBeGreaterThan(500);
    expect(halfDayAttempts).toBeLessThan(1000);
    const link = (await getLink(a.ctx.db, 'us', 'ru'))!;
    expect(link.next_attempt_at! - clock.now()).toBeLessThanOrEqual(60_000);
    expect(link.last_error).toMatch(/cannot reach ru/);
    const m = (await show(a.ctx.db, ids[0]!)).message;
    expect(m.state).toBe('retrying');
    expect(m.last_error).toMatch(/cannot reach ru/);

    // us restarts in the middle of the outage: its delivery state survives in the store.
    await a.stop();
    running.splice(running.indexOf(a), 1);
    a = await us.start({ clock, runDelivery: false, random: () => 0.5 });
    running.push(a);
    expect(await attemptsAt()).toBe(halfDayAttempts);
    for (let t = 0; t < DAY / 2; t += STEP) {
      clock.advance(STEP);
      await a.delivery.runOnce();
    }
    expect(await attemptsAt()).toBeGreaterThan(halfDayAttempts);
    expect((await list(a.ctx.db, 'out')).every((x) => x.state === 'retrying')).toBe(true);

    // ru comes back; the next due attempt delivers all 300, in seq order, over several batches.
    const b = await ru.start();
    running.push(b);
    clock.advance(61_000);
    expect(await a.delivery.runOnce()).toBe(300); // more than one batch (256)
    const inbox = await b.ctx.db.selectFrom('messages').select(['id', 'seq']).where('direction', '=', 'in').orderBy('stored_at').orderBy('seq').execute();
    expect(inbox.map((r) => r.id)).toEqual(ids);
    expect(inbox.map((r) => Number(r.seq))).toEqual(ids.map((_, i) => i + 1));
    const after = (await getLink(a.ctx.db, 'us', 'ru'))!;
    expect(after).toMatchObject({ attempts: 0, last_error: null, acked_seq: 300, send_from_seq: 301 });
    expect((await list(a.ctx.db, 'out', { limit: 1000 })).map((x) => x.state)).toEqual(Array(300).fill('delivered'));
  });
});
