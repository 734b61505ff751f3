import { describe, expect, it } from 'vitest';
import { BackgroundLoop } from './loop.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('BackgroundLoop', () => {
  it('runs a pass at start, sleeps, runs again when woken, and stop() waits for the pass in progress', async () => {
    let passes = 0;
    let release: (() => void) | undefined;
    const loop = new BackgroundLoop({
      pass: async () => {
        passes++;
        if (passes === 2) await new Promise<void>((r) => (release = r));
      },
      sleepMs: () => 60_000,
      onError: () => undefined,
    });
    loop.start();
    await tick();
    expect(passes).toBe(1); // then asleep for a minute
    loop.wake();
    await tick();
    expect(passes).toBe(2); // woken: second pass, blocked until released
    loop.wake(); // a wake during a pass → the next pass starts at once
    release!();
    for (let i = 0; i < 5; i++) await tick();
    expect(passes).toBe(3);
    const stopped = loop.stop();
    await stopped;
    expect(loop.running).toBe(false);
    loop.wake();
    await tick();
    expect(passes).toBe(3);
  });

  it('reports a failed pass and keeps going', async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const loop = new BackgroundLoop({
      pass: async () => {
        passes++;
        if (passes === 1) throw new Error('boom');
      },
      sleepMs: () => 60_000,
      onError: (e) => errors.push(e),
    });
    loop.start();
    await tick();
    expect(errors).toHaveLength(1);
    loop.wake();
    await tick();
    expect(passes).toBe(2);
    await loop.stop();
  });
});
