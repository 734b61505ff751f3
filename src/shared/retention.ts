// Types only: this file is on every command's path, and Kysely's values load through storage/sqlite.ts (see there).
import type { Kysely, SelectQueryBuilder, StringReference } from 'kysely';
import { BackgroundLoop } from './loop.js';

const DAY_MS = 86_400_000;

/**
 * One kind of record a module lets go of after a while (issue 9: nothing else is ever deleted).
 * The module owns the query; its own rules say which of the old records may go (e.g. not one
 * still being delivered). Evidence (envelopes, receipts, acknowledgements, cases, audit) is never
 * prunable.
 */
export interface Prunable {
  /** The name `hotline prune` shows, e.g. "taxii_statuses". */
  readonly kind: string;
  /** How many records older than `before` (ms since the epoch) would go. */
  count(before: number): Promise<number>;
  /** Deletes up to `limit` of them, in one transaction; returns how many went. */
  prune(before: number, limit: number): Promise<number>;
}

/**
 * The usual {@link Prunable}: `old(db, before)` selects the records that may go (the module's
 * rules), `id` names their key column (e.g. "taxii_status.id"); `remove(trx, ids)` deletes those
 * records and whatever belongs to them, in one transaction per chunk.
 */
export function pruneByIds<DB, TB extends keyof DB & string>(db: Kysely<DB>, o: {
  kind: string;
  old: (d: Kysely<DB>, before: number) => SelectQueryBuilder<DB, TB, object>;
  id: StringReference<DB, TB>;
  remove: (trx: Kysely<DB>, ids: readonly string[]) => Promise<void>;
}): Prunable {
  return {
    kind: o.kind,
    async count(before) {
      // Kysely cannot resolve a selection over a generic table: the row's shape is stated here.
      const r = (await o.old(db, before).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()) as { n: number | bigint };
      return Number(r.n);
    },
    prune(before, limit) {
      return db.transaction().execute(async (trx) => {
        const rows = (await o.old(trx, before).select((eb) => eb.ref(o.id).as('id')).limit(limit).execute()) as unknown as { id: string }[];
        const ids = rows.map((r) => r.id);
        if (ids.length > 0) await o.remove(trx, ids);
        return ids.length;
      });
    },
  };
}

/** A kind of record and how many days it is kept. */
export interface RetentionRule {
  prunable: Prunable;
  days: number;
}

/** What one pass did (or, dry, would do) to one kind of record. */
export interface PruneResult {
  kind: string;
  older_than_days: number;
  /** ISO time: records older than this go. */
  before: string;
  /** Deleted, or with `dryRun` the number that would be. */
  count: number;
}

/** Rows deleted per transaction: the store is synchronous, so a large first prune must not stall the node. */
const CHUNK = 1000;

/**
 * Prunes (or with `dryRun` only counts) every rule's records older than its number of days before
 * `now`, in transactions of at most 1000 rows, yielding to the event loop between them.
 */
export async function pruneAll(rules: readonly RetentionRule[], now: number, dryRun: boolean): Promise<PruneResult[]> {
  const out: PruneResult[] = [];
  for (const { prunable, days } of rules) {
    const before = now - days * DAY_MS;
    let count = 0;
    if (dryRun) {
      count = await prunable.count(before);
    } else {
      for (;;) {
        const n = await prunable.prune(before, CHUNK);
        count += n;
        if (n < CHUNK) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    out.push({ kind: prunable.kind, older_than_days: days, before: new Date(before).toISOString(), count });
  }
  return out;
}

/** Between passes: records are kept for days, once an hour is plenty. */
const SLEEP_MS = 3_600_000;

/** Prunes on the shared background loop: a pass at start, then hourly. */
export class RetentionProcessor {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly loop: BackgroundLoop;

  constructor(private readonly deps: {
    rules: readonly RetentionRule[];
    now: () => number;
    onPass: (r: PruneResult[]) => void | Promise<void>;
    onError: (e: unknown) => void;
  }) {
    this.loop = new BackgroundLoop({ pass: () => this.runOnce(), sleepMs: () => SLEEP_MS, onError: deps.onError });
  }

  /** One pass; passes never overlap. */
  runOnce(): Promise<PruneResult[]> {
    const run = this.chain.then(async () => {
      const r = await pruneAll(this.deps.rules, this.deps.now(), false);
      await this.deps.onPass(r);
      return r;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.chain;
  }
}
