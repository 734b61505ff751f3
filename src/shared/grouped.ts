import { createRequire } from 'node:module';
import type { Kysely, Transaction } from 'kysely';
import { dialectOf, isRetryable } from './dialect.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

interface Job<DB> {
  db: Kysely<DB>;
  f: (trx: Transaction<DB>) => Promise<unknown>;
  weight: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Transactions of one writer, run one after another in the order they were asked for; those asked
 * for while one runs share the next (a group commit, as the outbox's: docs/decisions/0002). So
 * eight clients that each POST 100 objects cost one BEGIN … COMMIT and one fsync, not eight.
 *
 * A group's callers run one after another in its transaction, without savepoints: on PostgreSQL
 * each statement is a round trip in the writer's turn, and a savepoint and its release were two of
 * the fifteen statements a small TAXII POST made in its turn. If a caller's `f` throws, the transaction is rolled back
 * and the group runs again with each caller in a savepoint of its own: the one that throws again
 * gets its error, what it wrote is rolled back, and the others still commit. So every `f` must be
 * safe to run again, as any transaction on PostgreSQL must: a conflict there (40001, 40P01) dooms
 * the whole transaction, which the store runs again from the start, every `f` of the group with
 * it. A group holds at most `limit` of weight (objects, say), so its transaction is no longer than
 * one large caller's would be; one caller heavier than that runs alone.
 */
export class GroupedTransactions<DB> {
  private readonly queue: Job<DB>[] = [];
  private running = false;

  /**
   * @param around.begin runs first in each transaction (e.g. SET TRANSACTION on PostgreSQL), and
   * `around.end` last, after every caller's `f` (what the whole group writes once).
   */
  constructor(private readonly limit: (db: Kysely<DB>) => number, private readonly around: {
    begin?: (trx: Transaction<DB>) => Promise<void>;
    end?: (trx: Transaction<DB>) => Promise<void>;
  } = {}) {}

  run<T>(db: Kysely<DB>, f: (trx: Transaction<DB>) => Promise<T>, weight = 1): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ db, f, weight, resolve: resolve as (value: unknown) => void, reject });
      if (this.running) return;
      // Begin after the event loop's current turn: the requests whose bodies arrived in it (each
      // handled to this point in one go, since a transaction on SQLite never yields to I/O) join.
      this.running = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runGroup(this.take());
    } finally {
      this.running = false;
    }
  }

  /** The next group: the first job, then those after it on the same store while the weight allows. */
  private take(): Job<DB>[] {
    const first = this.queue[0]!;
    const limit = this.limit(first.db);
    let n = 1;
    let weight = first.weight;
    while (n < this.queue.length && this.queue[n]!.db === first.db && weight + this.queue[n]!.weight <= limit) weight += this.queue[n++]!.weight;
    return this.queue.splice(0, n);
  }

  private async runGroup(group: Job<DB>[]): Promise<void> {
    let outcomes: Outcome[] = [];
    // Whether a caller threw in a run without savepoints: the group then runs again, each in its own.
    let apart = false;
    for (;;) {
      let thrown = false;
      try {
        await group[0]!.db.transaction().execute(async (trx) => {
          outcomes = []; // run again after a conflict: every job afresh
          await this.around.begin?.(trx);
          for (const job of group) {
            if (apart) {
              outcomes.push(await inOwnSavepoint(trx, job.f));
              continue;
            }
            try {
              outcomes.push({ ok: true, value: await job.f(trx) });
            } catch (e) {
              thrown = !(dialectOf(trx) === 'postgres' && isRetryable(e));
              throw e;
            }
          }
          await this.around.end?.(trx);
        });
      } catch (e) {
        // Alone, a caller's error is its transaction's, as a transaction of its own would be.
        if (thrown && group.length > 1 && !apart) {
          apart = true;
          continue;
        }
        for (const job of group) job.reject(e);
        return;
      }
      break;
    }
    group.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}

async function inOwnSavepoint<DB>(trx: Transaction<DB>, f: (trx: Transaction<DB>) => Promise<unknown>): Promise<Outcome> {
  await sql`savepoint hotline_group_job`.execute(trx);
  try {
    const value = await f(trx);
    await sql`release savepoint hotline_group_job`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    if (dialectOf(trx) === 'postgres' && isRetryable(error)) throw error;
    await sql`rollback to savepoint hotline_group_job`.execute(trx);
    await sql`release savepoint hotline_group_job`.execute(trx);
    return { ok: false, error };
  }
}
