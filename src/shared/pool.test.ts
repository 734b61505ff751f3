import { describe, expect, it } from 'vitest';
import { KeyedPool } from './pool.js';

/** A job that ends only when told to. */
function gate(): { job: () => Promise<void>; open: () => void; started: () => boolean } {
  let open!: () => void;
  let started = false;
  const p = new Promise<void>((r) => {
    open = r;
  });
  return { job: async () => {
    started = true;
    await p;
  }, open, started: () => started };
}

describe('KeyedPool', () => {
  it('runs one job per key and at most limit at once; a job that never ends holds one slot only', async () => {
    let ended = 0;
    const pool = new KeyedPool<string>({ limit: () => 2, onEnd: () => ended++, onError: () => undefined });
    const hung = gate();
    expect(pool.start('a', hung.job)).toBeDefined();
    expect(pool.start('a', async () => undefined)).toBeUndefined();
    const done: string[] = [];
    await pool.runAll(['a', 'b', 'c', 'd'], async (k) => {
      done.push(k);
    });
    // 'a' is running elsewhere (skipped); b, c, d went one after another through the one free slot.
    expect(done).toEqual(['b', 'c', 'd']);
    expect(pool.keys()).toEqual(['a']);
    expect(hung.started()).toBe(true);
    hung.open();
    await pool.idle();
    expect(pool.size).toBe(0);
    expect(ended).toBe(4);
  });

  it('reports a job that throws and frees its slot', async () => {
    const errors: string[] = [];
    const pool = new KeyedPool<string>({ limit: () => 1, onError: (e, k) => errors.push(`${k}: ${(e as Error).message}`) });
    await pool.runAll(['x', 'y'], async (k) => {
      if (k === 'x') throw new Error('boom');
    });
    expect(errors).toEqual(['x: boom']);
    expect(pool.size).toBe(0);
  });
});
