import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Kysely as KyselyType, KyselyConfig, Transaction, TransactionBuilder } from 'kysely';
import type { Pool as PgPool, PoolConfig } from 'pg';
import { isRetryable } from '../../shared/dialect.js';
import { HotlineError } from '../../shared/errors.js';
import { stageNoticesOf } from '../../shared/events.js';
import { LOCKED_TRANSACTION } from '../../shared/serial.js';
import { migrate } from './migrate.js';
import type { Database, Store } from './schema.js';
import { PG_SESSION_TIMEOUT_MS, type PostgresLocation } from './store.js';

// Kysely's and pg's CommonJS builds, through require as the SQLite opener does (sqlite.ts): a
// one-shot CLI verb starts faster, and pg is loaded only by a node whose store is PostgreSQL.
const requireCjs = createRequire(import.meta.url);
// Once, here: a require in a function runs Node's module resolution (file system calls) on every
// call, and sendNotices is called by every transaction.
const { Kysely, PostgresDialect, sql } = requireCjs('kysely') as typeof import('kysely');

/** How often a transaction is retried after PostgreSQL refused it as a serialization failure or a deadlock. */
const MAX_TRANSACTION_ATTEMPTS = 100;

/**
 * Opens a PostgreSQL store and applies pending migrations (Kysely's Migrator takes an advisory lock,
 * so processes starting together migrate once).
 *
 * What the store relies on (docs/decisions/0006-postgresql.md):
 * - every transaction (`db.transaction()`) is SERIALIZABLE, and one that PostgreSQL refuses as a
 *   serialization failure (40001) or deadlock (40P01) is run again from the start: the code was
 *   written against SQLite, where one writer at a time made every read-then-write safe;
 *   serializable isolation keeps that true with many connections and many processes, without a
 *   lock for each such place. A statement outside a transaction is atomic on its own and runs READ
 *   COMMITTED (the server's default): as SERIALIZABLE it could be refused for a conflict with
 *   no one to run it again (a sink's delivery marked sent, under load, was);
 * - `synchronous_commit = on` for this store's sessions: a commit returns only once its WAL is
 *   flushed (and, with synchronous standbys configured, confirmed by them), so a receipt is signed
 *   only for rows that survive a crash;
 * - the database's collation orders text by code point (C or C.UTF-8): cursors page over text keys.
 */
export async function openPostgres(location: PostgresLocation): Promise<Store> {
  const { Pool, types } = requireCjs('pg') as typeof import('pg');
  const password = location.passwordFile === null ? undefined : readPassword(location.passwordFile);
  // int8 (bigint) as a number: times in ms, seq numbers and counts all fit in 2^53.
  const int8 = (v: string): number => Number(v);
  const timeout = Math.max(1, Math.round(location.sessionTimeoutMs ?? PG_SESSION_TIMEOUT_MS));
  const config: PoolConfig = {
    connectionString: location.url,
    max: location.maxConnections,
    // idle_in_transaction_session_timeout: a transaction left open (a bug, a hung process) would keep its
    // serializable predicate locks and, in time, make every other transaction on the server fail.
    // idle_session_timeout (PostgreSQL 14): a session holds a link's advisory lock (shared/serial.ts)
    // from before its BEGIN to after its COMMIT, idle, not in a transaction, between them; a process
    // hung there would hold the link in every other process for ever. The pool closes its idle
    // connections after 10 s (pg's default), so no healthy session sits idle that long.
    // plan_cache_mode: statements are prepared once per connection (prepareOnce) but planned for each
    // execution's values: a generic plan for `collection_id = $1 and object_id in ($2, ...)` scanned
    // the whole collection (335 ms a lookup in a TAXII POST, against well under 1 ms planned per call).
    // jit off: PostgreSQL compiles a statement whose estimated cost passes jit_above_cost (100,000)
    // to machine code first, and a TAXII batch's lookup of 5,000 ids in a 10,000,000-object
    // collection is estimated far past it: 243 ms of compiling (with inlining and optimisation) for
    // a statement that runs in tens of ms, in every batch. The node's statements are all short.
    options: `-c default_transaction_isolation=read\\ committed -c synchronous_commit=on -c timezone=UTC -c idle_in_transaction_session_timeout=${timeout} -c idle_session_timeout=${timeout} -c plan_cache_mode=force_custom_plan -c jit=off${location.schema === undefined ? '' : ` -c search_path=${location.schema}`}`,
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? int8 : types.getTypeParser(oid, format ?? 'text'))) as typeof types.getTypeParser },
  };
  if (password !== undefined) config.password = password;
  const pool: PgPool = new Pool(config);
  // An idle connection the server dropped (a restart, a failover) is an error event on the pool; the next query reconnects.
  pool.on('error', () => {});
  // A connection the server drops while it is checked out (in a transaction, between two queries)
  // emits 'error' on the client, where the pool listens only while it is idle: unheard, that event
  // ended the process when the primary died (the standby drill). The transaction's next query fails
  // instead, and the pool discards the connection when it comes back.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    prepareOnce(client);
  });
  const db = new (retryingKysely(noticeChannel(location)))({ dialect: new PostgresDialect({ pool }) });
  try {
    await checkServer(db);
    await migrate(db);
  } catch (e) {
    await db.destroy();
    throw storeUnreachable(e, location.url);
  }
  return db as unknown as Store;
}

/** Most statement texts given a name (prepared once per connection); past it, texts go unnamed. */
const MAX_NAMED_STATEMENTS = 2000;
const statementNames = new Map<string, string>();

/**
 * Sends each statement the node runs as a named prepared statement: PostgreSQL parses it once per
 * connection, then binds, plans (plan_cache_mode force_custom_plan, see openPostgres) and executes
 * it (the federation bench spent most of the server's CPU on small statements).
 * Kysely passes (text, values); the same text always gets the same name, in every connection.
 * Only statements with parameters: their texts are the node's own, a bounded set (statements whose
 * text grows with a list, `in ($1, $2, ...)` or a multi-row insert, take names up to the limit).
 */
function prepareOnce(client: import('pg').PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || args.length !== 2) return query(...args);
    if (COPY_FROM_STDIN.test(text)) return copyIn(client, text, values);
    let name = statementNames.get(text);
    if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) statementNames.set(text, (name = `h${statementNames.size}`));
    const given = values.some(Array.isArray) ? values.map((v: unknown) => (Array.isArray(v) ? (arrayLiteral(v) ?? v) : v)) : values;
    return name === undefined ? query(text, given) : query({ name, text, values: given });
  };
}

/** Loaded at the first COPY: a node on SQLite never does. */
let copyFrom: typeof import('pg-copy-streams').from | undefined;

/** A `copy <table> (<columns>) from stdin` statement, run with its rows (shared/copy.ts copyData) as its one parameter. */
const COPY_FROM_STDIN = /^copy [a-z_][a-z0-9_]* \([a-z0-9_, ]+\) from stdin$/;

/**
 * Runs a COPY FROM STDIN on the connection with `values[0]` as its data, answered as Kysely
 * expects a statement's result (the rows copied, none returned). A failure (a duplicate key, a
 * conflict) fails the statement as any other would, with PostgreSQL's error code.
 */
function copyIn(client: import('pg').PoolClient, text: string, values: readonly unknown[]): Promise<{ command: string; rowCount: number; rows: never[] }> {
  const data = values[0];
  if (values.length !== 1 || !(typeof data === 'string' || Buffer.isBuffer(data))) return Promise.reject(new Error(`${text}: takes its rows as one text or buffer`));
  copyFrom ??= (requireCjs('pg-copy-streams') as typeof import('pg-copy-streams')).from;
  const from = copyFrom;
  return new Promise((resolve, reject) => {
    const stream = client.query(from(text));
    stream.once('error', reject);
    stream.once('finish', () => resolve({ command: 'COPY', rowCount: stream.rowCount, rows: [] }));
    stream.end(data);
  });
}

/**
 * An array parameter as PostgreSQL's array literal, built in one pass when its elements are all
 * finite numbers, or all strings without `"`, `\` or NUL; else undefined, and pg builds it. pg
 * quotes and escapes element by element: 6% of a node's CPU in a TAXII POST on PostgreSQL, whose
 * INSERT binds ten arrays of 5,000 values (docs/benchmarks.md). The literal means the same array.
 */
export function arrayLiteral(values: readonly unknown[]): string | undefined {
  if (values.length === 0) return '{}';
  if (typeof values[0] === 'number') {
    for (const v of values) if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    return `{${values.join(',')}}`;
  }
  for (const v of values) if (typeof v !== 'string' || v.includes('"') || v.includes('\\') || v.includes('\0')) return undefined;
  return `{"${values.join('","')}"}`;
}

function readPassword(file: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (e) {
    throw new HotlineError('config_invalid', `Cannot read the database password file ${file}: ${(e as Error).message}`);
  }
}

async function checkServer(db: KyselyType<Database>): Promise<void> {
  // The whole pg_database row as JSON: its columns differ between versions (15 added the ICU provider's).
  const r = await sql<{ d: Record<string, unknown>; version: number }>`select to_jsonb(d) as d, current_setting('server_version_num')::int as version from pg_database d where datname = current_database()`.execute(db);
  const row = r.rows[0];
  if (row === undefined) throw new HotlineError('storage_error', 'Could not read the database\'s collation');
  if (row.version < 140000) throw new HotlineError('storage_error', `PostgreSQL ${Math.floor(row.version / 10000)} is too old: Hotline needs 14 or later`);
  const icu = row.d.datlocprovider === 'i';
  const collation = icu ? `ICU ${String(row.d.daticulocale ?? row.d.datlocale)}` : String(row.d.datcollate);
  if (icu || !/^(C|POSIX|C\.UTF-?8|C\.utf-?8)$/.test(collation)) {
    throw new HotlineError('storage_error', `The database orders text by "${collation}"; Hotline pages over text keys in code-point order and needs a database created with the C collation: createdb --template=template0 --locale-provider=libc --locale=C.UTF-8 --encoding=UTF8 <name>`);
  }
}

/** A connection failure as `store_unreachable` with the URL (never a password: it is not in the URL); other errors unchanged. */
function storeUnreachable(e: unknown, url: string): unknown {
  if (e instanceof HotlineError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  // PostgreSQL 13 and older refuse the session's idle_session_timeout (openPostgres) before any query can ask the version.
  if (code === '42704' && /idle_session_timeout/.test((e as Error).message)) {
    return new HotlineError('storage_error', `PostgreSQL at ${redactUrl(url)} is too old: Hotline needs 14 or later (${(e as Error).message})`);
  }
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|28P01|28000|3D000|57P03)$/.test(code)) {
    return new HotlineError('store_unreachable', `Cannot open the PostgreSQL store ${redactUrl(url)}: ${(e as Error).message} (${code}). Check that the server runs, the database exists and this user may connect`);
  }
  return e;
}

/** The URL without a password (for messages and logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}


/**
 * The channel a store's notices travel on (LISTEN/NOTIFY, adapters/storage/notices.ts): one per
 * database and schema, so that two nodes sharing a database in two schemas never hear each other.
 */
export function noticeChannel(location: Pick<PostgresLocation, 'schema'>): string {
  return location.schema === undefined ? 'hotline' : `hotline_${location.schema}`.slice(0, 63);
}

/** Sends notices on the store's channel (inside a transaction: delivered at its commit; else at once). */
export async function sendNotices(db: KyselyType<Database>, channel: string, notices: readonly string[]): Promise<void> {
  if (notices.length === 0) return;
  await sql`select pg_notify(${channel}, n) from unnest(${[...notices]}::text[]) as n`.execute(db);
}

/**
 * Kysely whose `transaction().execute(f)` runs `f` again when PostgreSQL refuses the transaction
 * as a serialization failure or a deadlock (see openPostgres). `f` must be safe to run again: what
 * it does outside the store happens after the commit (events are staged, published at the commit).
 * It also begins transactions under named locks (shared/serial.ts): session advisory locks taken
 * on the transaction's connection before BEGIN, so its snapshot is taken after every other
 * holder's commit, and released after its end.
 */
function retryingKysely(channel: string): new (args: KyselyConfig) => KyselyType<Database> {
  return class RetryingKysely extends Kysely<Database> {
    constructor(args: KyselyConfig) {
      super(args);
    }

    override transaction(): TransactionBuilder<Database> {
      return retrying(super.transaction(), channel);
    }

    async [LOCKED_TRANSACTION]<T>(locks: readonly string[], f: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      // In one order everywhere, so two callers wanting the same two links never wait for each other.
      const names = [...new Set(locks)].sort();
      if (names.length === 0) return this.transaction().execute(f);
      return this.connection().execute(async (conn) => {
        try {
          for (const name of names) await sql`select pg_advisory_lock(hashtextextended(${name}, 0))`.execute(conn);
          return await retrying(conn.transaction(), channel).execute(f);
        } finally {
          // Every lock of the session (a name taken twice, or two names of one hash, counts twice).
          // A connection that failed here is broken: the pool discards it, and its locks ended with it.
          await sql`select pg_advisory_unlock_all()`.execute(conn).catch(() => {});
        }
      });
    }
  };
}

/** A serializable transaction builder whose `execute(f)` runs `f` again after 40001 or 40P01, and sends the notices `f` staged before the commit. */
function retrying(base: TransactionBuilder<Database>, channel: string): TransactionBuilder<Database> {
  const builder = base.setIsolationLevel('serializable');
  const execute = builder.execute.bind(builder);
  return Object.assign(Object.create(builder) as TransactionBuilder<Database>, {
    async execute<T>(f: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          // Each run of the body stages its own notices (shared/events.ts), sent before the commit.
          return await execute(async (trx) => {
            const notices: string[] = [];
            stageNoticesOf(trx, notices);
            const r = await f(trx);
            await sendNotices(trx as unknown as KyselyType<Database>, channel, notices);
            return r;
          });
        } catch (e) {
          if (!isRetryable(e)) throw e;
          if (attempt >= MAX_TRANSACTION_ATTEMPTS) {
            throw new HotlineError('store_busy', `The store is busy: PostgreSQL refused a transaction ${attempt} times as conflicting with others (${(e as { code?: string }).code}). Retry`);
          }
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
        }
      }
    },
  });
}
