import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../../../test/helpers/cli.js';
import { WriterGate } from './gate.js';
import type { Store } from './schema.js';
import { openSqlite } from './sqlite.js';

/**
 * A feed worker's stand-in, on a thread of its own over the built store (dist): a transaction after
 * another, each writing many rows, as fast as it can, counting its commits in `commits[0]`, until
 * `commits[1]` is set. With `gate`, it gives way to the main thread's store (gate.ts).
 */
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { openSqlite } = await import(workerData.sqlite);
  const { WriterGate } = await import(workerData.gate);
  const { CompiledQuery } = require('node:module').createRequire(workerData.sqlite)('kysely');
  const turn = workerData.shared === undefined ? undefined : { gate: new WriterGate(workerData.shared), first: false };
  const db = await openSqlite(workerData.path, {}, turn);
  const counts = new Int32Array(workerData.counts);
  const insert = CompiledQuery.raw('with recursive c(i) as (select 1 union all select i + 1 from c where i < 50000) insert into bulk (x) select i from c');
  parentPort.postMessage('ready');
  while (Atomics.load(counts, 1) === 0) {
    await db.transaction().execute((trx) => trx.executeQuery(insert));
    Atomics.add(counts, 0, 1);
  }
  await db.destroy();
  parentPort.postMessage('done');
})().catch((e) => parentPort.postMessage('failed: ' + e.message));
`;

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Main-thread transactions while the writer writes: for each, how many of the writer's
 * transactions committed between asking for it (reading the count, just before its `begin`) and
 * being in it.
 */
async function waitsThrough(gated: boolean): Promise<number[]> {
  ensureBuilt('src/adapters/storage/gate.js');
  const dir = mkdtempSync(join(tmpdir(), 'hotline-gate-'));
  dirs.push(dir);
  const path = join(dir, 'hotline.db');
  const gate = new WriterGate();
  const db = await openSqlite(path, {}, gated ? { gate, first: true } : undefined);
  stores.push(db);
  await sql`create table bulk (x integer)`.execute(db);
  const counts = new Int32Array(new SharedArrayBuffer(8));
  const dist = (f: string): string => pathToFileURL(join(ROOT, 'dist/src/adapters/storage', f)).href;
  const worker = new Worker(WRITER, {
    eval: true,
    workerData: { sqlite: dist('sqlite.js'), gate: dist('gate.js'), path, counts: counts.buffer, ...(gated ? { shared: gate.shared } : {}) },
  });
  const said: string[] = [];
  worker.on('message', (m: string) => said.push(m));
  const heard = (what: string): Promise<void> => new Promise((resolve, reject) => {
    worker.on('message', (m: string) => {
      if (m === what) resolve();
      else if (m.startsWith('failed')) reject(new Error(m));
    });
  });
  const done = heard('done');
  await heard('ready');
  const waits: number[] = [];
  try {
    // The writer is under way: it has committed a few transactions.
    while (Atomics.load(counts, 0) < 3) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 5; i++) {
      const asked = Atomics.load(counts, 0);
      try {
        const inside = await db.transaction().execute(async (trx) => {
          await sql`insert into bulk (x) values (0)`.execute(trx);
          return Atomics.load(counts, 0);
        });
        waits.push(inside - asked);
      } catch (e) {
        // Never in at all: the busy timeout (10 s) ran out.
        if ((e as { code?: unknown }).code !== 'store_busy') throw e;
        waits.push(Number.POSITIVE_INFINITY);
      }
      // Give the writer the lock back for a while, as a node between two messages.
      const resumed = Atomics.load(counts, 0);
      while (Atomics.load(counts, 0) < resumed + 2) await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    Atomics.store(counts, 1, 1);
    await done;
    await worker.terminate();
  }
  expect(said).toEqual(['ready', 'done']);
  return waits;
}

describe('the writer gate (SQLite: a node and its feed worker)', () => {
  it('the main thread waits for at most the transaction the worker is in, never through several of them', async () => {
    const waits = await waitsThrough(true);
    expect(waits).toHaveLength(5);
    // The one in flight when the main thread began, and at most one more that the worker may
    // commit between the test reading the count and the main thread's begin (a busy machine can
    // pause a thread there; seen once in a full run with transactions of 5,000 rows).
    for (const w of waits) expect(w).toBeLessThanOrEqual(2);
  }, 120_000);

  it('without it, SQLite\'s busy handler lets a worker that writes without a pause go on and on before the main thread gets in (what the gate is for)', async () => {
    const waits = await waitsThrough(false);
    expect(Math.max(...waits)).toBeGreaterThan(2);
  }, 120_000);
});
