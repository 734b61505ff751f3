import { createRequire } from 'node:module';
import type { Kysely, Transaction } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachStore } from '../../test/helpers/pg.js';
import { HotlineError } from './errors.js';
import { GroupedTransactions } from './grouped.js';

// The CommonJS build, as the store's (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Group commit of a writer's transactions (shared/grouped.ts), on both dialects: which callers
 * share a transaction is told by the Transaction object each one's `f` is given.
 */

interface Tables { grouped_rows: { n: number } }
type Db = Kysely<Tables>;

async function setup(open: () => Promise<unknown>): Promise<Db> {
  const db = (await open()) as Db;
  await sql`create table grouped_rows (n integer primary key)`.execute(db);
  return db;
}

async function rows(db: Db): Promise<number[]> {
  return (await db.selectFrom('grouped_rows').select('n').orderBy('n').execute()).map((r) => Number(r.n));
}

/** A job that inserts `n` and says which transaction it ran in. */
function insert(n: number, seen: Map<number, Transaction<Tables>>) {
  return async (trx: Transaction<Tables>): Promise<number> => {
    seen.set(n, trx);
    await trx.insertInto('grouped_rows').values({ n }).execute();
    return n;
  };
}

describeEachStore('grouped transactions', (open, dialect) => {
  it('runs the transactions asked for in one turn of the event loop as one, in order, each with its own result', async () => {
    const db = await setup(open);
    const g = new GroupedTransactions<Tables>(() => 100);
    const seen = new Map<number, Transaction<Tables>>();
    const order: number[] = [];
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => g.run(db, async (trx) => { order.push(n); return insert(n, seen)(trx); })));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(seen.values()).size).toBe(1);
    expect(await rows(db)).toEqual([1, 2, 3, 4, 5]);
  });

  it('rolls back only the caller whose work throws; the others of its group commit', async () => {
    const db = await setup(open);
    const g = new GroupedTransactions<Tables>(() => 100);
    const seen = new Map<number, Transaction<Tables>>();
    const refused = new HotlineError('invalid_argument', 'refused after writing');
    const runs = [0, 0, 0, 0];
    const counted = (n: number, f: (trx: Transaction<Tables>) => Promise<number>) => (trx: Transaction<Tables>) => { runs[n]!++; return f(trx); };
    const outcomes = await Promise.allSettled([
      g.run(db, counted(1, insert(1, seen))),
      g.run(db, counted(2, async (trx) => { await insert(2, seen)(trx); throw refused; })),
      g.run(db, counted(3, insert(3, seen))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(refused);
    expect(new Set(seen.values()).size).toBe(1);
    expect(await rows(db)).toEqual([1, 3]);
    // Run without savepoints first; the throw ended that run before the third caller, and the group ran again, each in a savepoint.
    expect(runs).toEqual([0, 2, 2, 1]);
  });

  it('runs its callers without savepoints when none throws, then what the group writes once at its end', async () => {
    const db = await setup(open);
    // Every statement sent through the store, the savepoints grouped.ts would send included.
    const statements: string[] = [];
    const logging = db.withPlugin({
      transformQuery: (a) => { statements.push(a.node.kind === 'RawNode' ? a.node.sqlFragments.join('?') : a.node.kind); return a.node; },
      transformResult: async (a) => a.result,
    });
    const ends: Transaction<Tables>[] = [];
    const g = new GroupedTransactions<Tables>(() => 100, {
      end: async (trx) => { ends.push(trx); await trx.insertInto('grouped_rows').values({ n: 100 }).execute(); },
    });
    const seen = new Map<number, Transaction<Tables>>();
    await Promise.all([1, 2, 3].map((n) => g.run(logging, insert(n, seen))));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toBe(seen.get(1));
    expect(new Set(seen.values()).size).toBe(1);
    expect(await rows(db)).toEqual([1, 2, 3, 100]);
    expect(statements).toEqual(['InsertQueryNode', 'InsertQueryNode', 'InsertQueryNode', 'InsertQueryNode']);
  });

  it('alone, a caller that throws rolls its transaction back, as a transaction of its own would', async () => {
    const db = await setup(open);
    const g = new GroupedTransactions<Tables>(() => 100);
    await expect(g.run(db, async (trx) => { await insert(7, new Map())(trx); throw new Error('broken'); })).rejects.toThrow('broken');
    expect(await rows(db)).toEqual([]);
  });

  it('holds at most the limit of weight in a group; a heavier caller runs alone; order is kept', async () => {
    const db = await setup(open);
    const g = new GroupedTransactions<Tables>(() => 10);
    const seen = new Map<number, Transaction<Tables>>();
    const weights = [4, 4, 4, 20, 1, 5];
    await Promise.all(weights.map((w, i) => g.run(db, insert(i, seen), w)));
    const groupOf = [...seen.keys()].sort().map((n) => seen.get(n));
    const groups = groupOf.map((t) => groupOf.indexOf(t));
    expect(groups).toEqual([0, 0, 2, 3, 4, 4]); // [4,4] [4] [20] [1,5]
    expect(await rows(db)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('callers that ask while a group runs share the next one', async () => {
    const db = await setup(open);
    const g = new GroupedTransactions<Tables>(() => 100);
    const seen = new Map<number, Transaction<Tables>>();
    let later: Promise<number[]> = Promise.resolve([]);
    await g.run(db, async (trx) => {
      later = Promise.all([g.run(db, insert(2, seen)), g.run(db, insert(3, seen))]);
      return insert(1, seen)(trx);
    });
    expect(await later).toEqual([2, 3]);
    expect(seen.get(2)).toBe(seen.get(3));
    expect(seen.get(2)).not.toBe(seen.get(1));
    expect(await rows(db)).toEqual([1, 2, 3]);
  });

  it(dialect === 'postgres'
    ? 'runs the whole group again when PostgreSQL refuses it as a conflict (40001), each caller once more'
    : 'treats a caller\'s error with a PostgreSQL conflict code as its own error on SQLite', async () => {
    const db = await setup(open);
    const g = new GroupedTransactions<Tables>(() => 100);
    const runs = [0, 0, 0];
    let conflicted = false;
    const job = (i: number) => async (trx: Transaction<Tables>): Promise<number> => {
      runs[i]!++;
      await trx.insertInto('grouped_rows').values({ n: i }).execute();
      // On PostgreSQL once (the store runs the transaction again); on SQLite every time (a caller's own error).
      if (i === 1 && (dialect === 'sqlite' || !conflicted)) {
        conflicted = true;
        throw Object.assign(new Error('could not serialize access due to concurrent update'), { code: '40001' });
      }
      return i;
    };
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => g.run(db, job(i))));
    // Either way the error ended the first run before the third caller's turn.
    expect(runs).toEqual([2, 2, 1]);
    if (dialect === 'postgres') {
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      expect(await rows(db)).toEqual([0, 1, 2]);
    } else {
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await rows(db)).toEqual([0, 2]);
    }
  });
});
