import { createRequire } from 'node:module';
import type BetterSqlite from 'better-sqlite3';
import type { SqliteDatabase as KyselySqlite, SqliteStatement } from 'kysely';
import { HotlineError } from '../../shared/errors.js';
import { makePrivateFiles } from '../../shared/files.js';
import type { GateTurn } from './gate.js';
import { migrate } from './migrate.js';
import type { Database, Store } from './schema.js';

// Kysely's CommonJS build: its ~260 files load about twice as fast through require as through
// the ES module loader, which is most of what a one-shot CLI verb spends starting (bench:cli).
// Only this file and federation.hooks.ts (its `sql`, through the same require) use Kysely's values;
// everything else imports its types.
const { Kysely: KyselyDb, SqliteDialect } = createRequire(import.meta.url)('kysely') as typeof import('kysely');
// better-sqlite3 through require too: importing a CommonJS package as an ES module makes Node parse
// it for its exports (cjs-module-lexer), a few ms at every start; nothing else in a CLI verb needs that.
const SqliteDatabase = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite;

/**
 * Opens (creating if needed) a SQLite store in WAL mode with full fsync on commit, and applies
 * pending migrations. `:memory:` works for unit tests.
 */
export async function openSqlite(path: string, tx: TransactionObserver = {}, turn?: GateTurn): Promise<Store> {
  // The store is private (0600), and so are its -wal and -shm files, which SQLite creates with the database file's mode.
  if (path !== ':memory:') makePrivateFiles(path, `${path}-wal`, `${path}-shm`);
  const raw = new SqliteDatabase(path);
  // First: every statement after it, the journal mode and the migrations included, waits up to
  // this long for a lock another process (the node, a CLI verb) holds, instead of failing at once.
  raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  // Checkpoint the WAL every ~40 MB instead of every 4 MB (SQLite's default), and keep 64 MB of
  // pages in memory: bulk writes (TAXII POSTs, feed runs) otherwise pay a checkpoint per commit
  // and re-read their indexes from disk (docs/benchmarks.md, TAXII). Both are upper bounds.
  raw.pragma('wal_autocheckpoint = 10000');
  raw.pragma('cache_size = -65536');
  // Each stored message's hooks run in a savepoint (federation.hooks.ts runHooks); SQLite keeps a
  // savepoint's sub-journal in a temporary file past 64 KB unless temporary storage is in memory:
  // receiving 256 envelopes cost 20% more with files, 4% with memory (docs/benchmarks.md).
  raw.pragma('temp_store = MEMORY');
  const db = new KyselyDb<Database>({ dialect: new SqliteDialect({ database: cachingStatements(raw, tx, turn) }) });
  await migrate(db);
  // One handle, typed as the whole database and as each module's view of it (schema.ts).
  return db as Store;
}

/**
 * Told when a transaction of the store ends (the live events, shared/events.ts: staged in the
 * transaction, published at its commit). The store has one connection, used by one transaction at
 * a time, so what was staged since the last end belongs to the transaction that ends.
 */
export interface TransactionObserver {
  committed?(): void;
  rolledBack?(): void;
}

/** How long a statement waits for another connection's lock before the store answers `store_busy`. */
export const BUSY_TIMEOUT_MS = 10_000;

/** Most prepared statements kept; Kysely's queries have a small fixed set of SQL texts. */
const STATEMENT_CACHE_MAX = 256;

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and preparing one
 * costs more than running it. Keep them by SQL text (the connection is used by one query at a time).
 *
 * Two more things happen here, for every transaction of the node and of the CLI:
 * - Kysely's SQLite driver begins transactions with a plain (deferred) `begin`. A deferred
 *   transaction that reads and then writes must upgrade its lock, and when another process wrote
 *   in between, SQLite fails that upgrade with SQLITE_BUSY at once, without waiting on the busy
 *   timeout. So `begin` becomes `begin immediate`: the write lock is taken (waiting for it) first.
 * - A lock that is still held after the busy timeout (SQLITE_BUSY, SQLITE_LOCKED) becomes a
 *   `store_busy` error with advice, never a bare "database is locked".
 * - With `turn` (a node and its feed worker, gate.ts), the main thread's transactions go first:
 *   it marks its own from before `begin` to their end, and the worker gives way before its `begin`.
 */
function cachingStatements(raw: BetterSqlite.Database, tx: TransactionObserver, turn?: GateTurn): KyselySqlite {
  const cache = new Map<string, SqliteStatement>();
  // The main thread's place at the gate (gate.ts): taken before its begin, given back when its transaction ends.
  let entered = false;
  const leave = (): void => {
    if (!entered) return;
    entered = false;
    turn!.gate.leave();
  };
  const around = (sql: string): { before?: () => void; after?: () => void; failed?: () => void } => {
    if (sql === 'begin immediate') {
      if (turn === undefined) return {};
      if (!turn.first) return { before: () => turn.gate.giveWay(WORKER_GIVES_WAY_MS) };
      return { before: () => { if (!entered) { entered = true; turn.gate.enter(); } }, failed: leave };
    }
    if (sql !== 'commit' && sql !== 'rollback') return {};
    const ended = sql === 'commit' ? tx.committed : tx.rolledBack;
    // A failed commit is followed by Kysely's rollback, which gives the place back then.
    return { after: () => { leave(); ended?.(); }, ...(sql === 'rollback' ? { failed: leave } : {}) };
  };
  return {
    close: () => raw.close(),
    prepare(text: string): SqliteStatement {
      const sql = /^\s*begin\s*(transaction\s*)?;?\s*$/i.test(text) ? 'begin immediate' : text;
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
        stmt = busyAware(prepareOrThrow(raw, sql), around(sql));
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** How long a feed worker waits at the gate for the main thread before each transaction, at most (gate.ts). */
const WORKER_GIVES_WAY_MS = 2_000;

function prepareOrThrow(raw: BetterSqlite.Database, sql: string): BetterSqlite.Statement {
  try {
    return raw.prepare(sql);
  } catch (e) {
    throw storeBusy(e);
  }
}

/**
 * The statement, with SQLITE_BUSY/SQLITE_LOCKED turned into `store_busy` (what Kysely calls: reader,
 * all, run, iterate), and what happens around `run` for the statements that begin and end transactions.
 */
function busyAware(stmt: BetterSqlite.Statement, hooks: { before?: () => void; after?: () => void; failed?: () => void } = {}): SqliteStatement {
  const { before, after, failed } = hooks;
  return {
    get reader() {
      return stmt.reader;
    },
    all(parameters: ReadonlyArray<unknown>) {
      try {
        return stmt.all(parameters);
      } catch (e) {
        throw storeBusy(e);
      }
    },
    run(parameters: ReadonlyArray<unknown>) {
      let r: BetterSqlite.RunResult;
      before?.();
      try {
        r = stmt.run(parameters);
      } catch (e) {
        failed?.();
        throw storeBusy(e);
      }
      // Kysely's commit and rollback (only those statements have `after`): tell the observer.
      after?.();
      return r;
    },
    *iterate(parameters: ReadonlyArray<unknown>) {
      try {
        yield* stmt.iterate(parameters);
      } catch (e) {
        throw storeBusy(e);
      }
    },
  };
}

/** A lock error as `store_busy`; any other error unchanged. */
export function storeBusy(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^SQLITE_(BUSY|LOCKED)/.test(code)) return e;
  return new HotlineError('store_busy', `The store is busy: another process (the running node, or another hotline command) held it for more than ${BUSY_TIMEOUT_MS / 1000} s (${code}). Retry; a large feed is better uploaded to the running node (POST /api/v1/feed-runs), which runs it beside its other work`);
}
