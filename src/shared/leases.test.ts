import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../../test/helpers/pg.js';
import { FakeClock } from './clock.js';
import { endedHere, Leases } from './leases.js';

describeEachStore('leases on background work', (open) => {
  it('one holder at a time; renewed by its holder; taken over once it lapsed; released for the next at once', async () => {
    const db = await open();
    const clock = new FakeClock(1_000_000);
    const one = new Leases({ db, clock, holder: 'host:1:a', ttlMs: 10_000 });
    const two = new Leases({ db, clock, holder: 'host:2:b', ttlMs: 10_000 });
    expect(await one.acquire('link:ru')).toBe(true);
    expect(await two.acquire('link:ru')).toBe(false);
    expect(one.holds('link:ru')).toBe(true);
    expect(two.holds('link:ru')).toBe(false);
    // Renewed by its holder before it lapses: still not the other's.
    clock.advance(8_000);
    await one.renew();
    clock.advance(8_000);
    expect(one.holds('link:ru')).toBe(true);
    expect(await two.acquire('link:ru')).toBe(false);
    // Not renewed (the holder was killed): it lapses and the other takes it; the first learns it lost it at its next renewal.
    clock.advance(10_001);
    expect(one.holds('link:ru')).toBe(false);
    expect(await two.acquire('link:ru')).toBe(true);
    await one.renew();
    expect(one.holds('link:ru')).toBe(false);
    expect(await one.acquire('link:ru')).toBe(false);
    // Released: the next process takes it at once.
    await two.release('link:ru');
    expect(await one.acquire('link:ru')).toBe(true);
    await one.stop();
    expect(await two.acquire('link:ru')).toBe(true);
    expect(await db.selectFrom('leases').select(['name', 'holder']).execute()).toEqual([{ name: 'link:ru', holder: 'host:2:b' }]);
  });
});

describe('endedHere: a process of a lease that ended on this machine', () => {
  it('a child killed with -9 has ended; this process and a pid of another host have not', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid!;
    expect(endedHere({ host: hostname(), pid })).toBe(false);
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    expect(endedHere({ host: hostname(), pid })).toBe(true);
    expect(endedHere({ host: `not-${hostname()}`, pid })).toBe(false);
    expect(endedHere({ host: hostname(), pid: process.pid })).toBe(false);
  });
});
