import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createTestDatabase, describePg, openTestStore, PG_ADMIN_URL, type TestDatabase } from '../../../test/helpers/pg.js';
import { HotlineError, isStoreUnavailable } from '../../shared/errors.js';
import { lockedTransaction } from '../../shared/serial.js';
import { statement } from '../../shared/statement.js';
import { arrayLiteral } from './postgres.js';
import { openSqlite } from './sqlite.js';
import { openStore } from './store.js';
import type { Kysely } from 'kysely';
import type { Database, Store } from './schema.js';

const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

describePg('the PostgreSQL store', () => {
  let db: Store;
  beforeAll(async () => {
    db = await openTestStore('postgres');
  });

  it('applies every migration, PostgreSQL\'s own versions included', async () => {
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema() order by 1`.execute(db);
    const names = tables.rows.map((r) => r.table_name);
    for (const t of ['messages', 'links', 'peers', 'message_search', 'stix_objects', 'audit', 'kysely_migration']) expect(names).toContain(t);
    const cols = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'messages'`.execute(db);
    expect(cols.rows.map((r) => r.column_name)).toContain('rowid');
  });

  it('keeps every time (a column named *_at or *_until: milliseconds since the epoch, or ISO text) in 64 bits', async () => {
    // SQLite's `integer` is 64 bits, PostgreSQL's 32: a migration that says `integer` for a time
    // needs PostgreSQL's own version (0013_rota.pg.ts).
    const r = await sql<{ t: string }>`select table_name || '.' || column_name as t from information_schema.columns
      where table_schema = current_schema() and (column_name like '%\\_at' or column_name like '%\\_until') and data_type not in ('bigint', 'text') order by 1`.execute(db);
    expect(r.rows.map((x) => x.t)).toEqual([]);
  });

  it('runs transactions SERIALIZABLE and a statement on its own READ COMMITTED (atomic, never refused for a conflict)', async () => {
    const inside = await db.transaction().execute(async (trx) => (await sql<{ l: string }>`select current_setting($$transaction_isolation$$) as l`.execute(trx)).rows[0]!.l);
    expect(inside).toBe('serializable');
    expect((await sql<{ l: string }>`select current_setting($$transaction_isolation$$) as l`.execute(db)).rows[0]!.l).toBe('read committed');
  });

  it('runs every session with the settings the node relies on: durable commits, plans per execution, no JIT compiling', async () => {
    const r = await sql<{ s: string; j: string; p: string }>`select current_setting('synchronous_commit') as s, current_setting('jit') as j, current_setting('plan_cache_mode') as p`.execute(db);
    // The server's default is jit on (PostgreSQL 12+): a statement estimated past jit_above_cost is compiled first.
    expect(r.rows[0]).toEqual({ s: 'on', j: 'off', p: 'force_custom_plan' });
  });

  it('reads bigint columns as numbers', async () => {
    const r = await sql<{ n: number }>`select 9007199254740991::bigint as n`.execute(db);
    expect(r.rows[0]!.n).toBe(9007199254740991);
  });

  it('sends array parameters as the same arrays, whether built in one pass or left to pg', async () => {
    const texts = ['indicator--0a1b', '', 'NULL', 'null', ' padded ', 'a,b', '{x}', 'ünï ☃', 'tab\there', 'quote"d', 'back\\slash'];
    const numbers = [0, -1, 1_700_000_000_000_123, 9007199254740991, 42];
    for (const values of [texts, texts.slice(0, 9), ['only'], []]) {
      const r = await sql<{ a: string[] }>`select ${values}::text[] as a`.execute(db);
      expect(r.rows[0]!.a).toEqual(values);
    }
    const r = await sql<{ a: number[]; b: number[] }>`select to_json(${numbers}::int8[]) as a, to_json(${[3, 2, 1]}::int4[]) as b`.execute(db);
    expect(r.rows[0]).toEqual({ a: numbers, b: [3, 2, 1] });
    // One pass for plain strings and numbers; pg's own way for the rest.
    expect(arrayLiteral(texts.slice(0, 9))).toBe('{"indicator--0a1b","","NULL","null"," padded ","a,b","{x}","ünï ☃","tab\there"}');
    expect(arrayLiteral(numbers)).toBe('{0,-1,1700000000000123,9007199254740991,42}');
    for (const left of [texts, [1, 'a'], ['a', 1], [1, Number.NaN], ['a', null], [[1]]]) expect(arrayLiteral(left)).toBeUndefined();
  });

  it('compiles a statement once per dialect, each with its own placeholders', async () => {
    const lite = await openSqlite(':memory:');
    const count = statement(['party'], (k: Kysely<Database>, p) => k.selectFrom('peers').select((eb) => eb.fn.countAll().as('n')).where('party', '=', p.party));
    const a = await count(lite, { party: 'x' });
    const b = await count(db, { party: 'x' });
    expect(Number((a.rows[0] as { n: number }).n)).toBe(0);
    expect(Number((b.rows[0] as { n: number }).n)).toBe(0);
    await lite.destroy();
  });

  it('runs a transaction again when PostgreSQL refuses it as a serialization failure, and both writers\' work lands', async () => {
    await sql`create table counter (id int primary key, n int not null)`.execute(db);
    await sql`insert into counter values (1, 0)`.execute(db);
    let attempts = 0;
    // Read-then-write from many transactions at once: without serializable isolation and the retry, increments are lost.
    await Promise.all(Array.from({ length: 8 }, () => db.transaction().execute(async (trx) => {
      attempts++;
      const r = await sql<{ n: number }>`select n from counter where id = 1`.execute(trx);
      await new Promise((res) => setTimeout(res, 5));
      await sql`update counter set n = ${r.rows[0]!.n + 1} where id = 1`.execute(trx);
    })));
    const r = await sql<{ n: number }>`select n from counter where id = 1`.execute(db);
    expect(r.rows[0]!.n).toBe(8);
    expect(attempts).toBeGreaterThan(8);
  });

  it('begins a transaction under named locks only once it holds them, across stores (processes): the same read-then-write runs once each, never refused', async () => {
    await sql`create table locked_counter (id int primary key, n int not null)`.execute(db);
    await sql`insert into locked_counter values (1, 0)`.execute(db);
    // A second pool on the same schema: what another process of the node is.
    const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s;
    const url = (await sql<{ d: string }>`select current_database() as d`.execute(db)).rows[0]!.d;
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${url}`;
    const other = await openStore({ driver: 'postgres', url: u.toString(), passwordFile: null, maxConnections: 4, schema });
    try {
      let attempts = 0;
      // The test above, under one lock (named twice by some callers, and with a second name by others).
      await Promise.all(Array.from({ length: 8 }, (_, i) => lockedTransaction<Database, void>(i % 2 === 0 ? db : other, i % 3 === 0 ? ['c', 'c', 'd'] : ['c'], async (trx) => {
        attempts++;
        const r = await sql<{ n: number }>`select n from locked_counter where id = 1`.execute(trx);
        await new Promise((res) => setTimeout(res, 5));
        await sql`update locked_counter set n = ${r.rows[0]!.n + 1} where id = 1`.execute(trx);
      })));
      expect((await sql<{ n: number }>`select n from locked_counter where id = 1`.execute(db)).rows[0]!.n).toBe(8);
      expect(attempts).toBe(8);
      // A body that fails releases its locks too: the other store takes the same lock at once after.
      const failed = await lockedTransaction<Database, never>(db, ['c'], () => Promise.reject(new Error('refused'))).catch((e: unknown) => e);
      expect((failed as Error).message).toBe('refused');
      await lockedTransaction<Database, unknown>(other, ['c'], async (trx) => sql`update locked_counter set n = n + 1 where id = 1`.execute(trx));
      const held = await sql<{ n: number }>`select count(*)::int as n from pg_locks where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory'`.execute(db);
      expect(held.rows[0]!.n).toBe(0);
      // No lock named: a plain transaction.
      expect(await lockedTransaction<Database, string>(db, [], async (trx) => (await sql<{ l: string }>`select current_setting($$transaction_isolation$$) as l`.execute(trx)).rows[0]!.l)).toBe('serializable');
    } finally {
      await other.destroy();
    }
  });

  it('opens a store over the server\'s Unix socket when the URL names its directory as the host (percent-encoded, README)', async () => {
    const r = (await sql<{ dirs: string; d: string; s: string; u: string }>`select current_setting('unix_socket_directories') as dirs,
      current_database() as d, current_schema() as s, current_user as u`.execute(db)).rows[0]!;
    const dir = r.dirs.split(',')[0]!.trim();
    // The server this suite runs against listens on a socket, as Debian's packages set it up.
    expect(dir).toMatch(/^\//);
    const url = `postgres://${r.u}@${encodeURIComponent(dir)}/${r.d}`;
    const other = await openStore({ driver: 'postgres', url, passwordFile: null, maxConnections: 2, schema: r.s });
    try {
      // No server address: the session came in over the socket.
      const got = await sql<{ a: string | null; n: number }>`select inet_server_addr() as a, count(*)::int as n from kysely_migration`.execute(other);
      const migrations = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db);
      expect(got.rows[0]).toEqual({ a: null, n: migrations.rows[0]!.n });
    } finally {
      await other.destroy();
    }
  });
});

describePg('a process that hangs holding a link\'s lock', () => {
  it('holds it only until the server ends its idle session: the other writers of the link go on', async () => {
    // A session between its lock and its BEGIN (or its COMMIT and its unlock) is idle and in no
    // transaction: idle_in_transaction_session_timeout never ends it, idle_session_timeout does.
    const db = await openTestStore('postgres', { sessionTimeoutMs: 1000 });
    const lock = 'hotline link\nus\nru';
    const advisoryLocks = async (): Promise<number> => (await sql<{ n: number }>`select count(*)::int as n from pg_locks
      where database = (select oid from pg_database where datname = current_database()) and locktype = 'advisory' and granted`.execute(db)).rows[0]!.n;
    let hung: () => void = () => {};
    let took: (pid: number) => void = () => {};
    const taken = new Promise<number>((res) => { took = res; });
    const hanging = db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(hashtextextended(${lock}, 0))`.execute(conn);
      took((await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn)).rows[0]!.pid);
      // Hung: never BEGINs, never unlocks, keeps its connection.
      await new Promise<void>((res) => { hung = res; });
    }).catch(() => undefined);
    const pid = await taken;
    expect(await advisoryLocks()).toBe(1);
    // Another writer of the link waits for the lock, and runs once the server has ended the hung
    // session. Without that it would wait for ever: after a minute (the server is told one second)
    // the test ends the session itself, so that it fails instead of hanging.
    let waitedTooLong = false;
    const guard = setTimeout(() => {
      waitedTooLong = true;
      void sql`select pg_terminate_backend(${pid})`.execute(db);
    }, 60_000);
    try {
      const r = await lockedTransaction<Database, string>(db, [lock], async (trx) => (await sql<{ l: string }>`select current_setting($$transaction_isolation$$) as l`.execute(trx)).rows[0]!.l);
      expect(r).toBe('serializable');
      expect(waitedTooLong).toBe(false);
      // The hung session is gone, and with it its lock.
      expect(await advisoryLocks()).toBe(0);
    } finally {
      clearTimeout(guard);
      hung();
      await hanging;
    }
  });
});

describePg('opening a PostgreSQL store', () => {
  let other: TestDatabase;
  afterAll(async () => {
    await other?.drop();
  });

  it('refuses a database whose collation does not order text by code point, saying how to make one that does', async () => {
    other = await createTestDatabase('hotline_coll');
    const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');
    const c = new Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    const name = `${other.name}_en`;
    // An ICU collation (PostgreSQL 15 and later) orders "a" < "B" < "b": not code-point order.
    await c.query(`create database "${name}" template template0 encoding 'UTF8' locale_provider icu icu_locale 'en-US' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`);
    await c.end();
    const url = new URL(other.url);
    url.pathname = `/${name}`;
    const e = await openStore({ driver: 'postgres', url: url.toString(), passwordFile: null, maxConnections: 2 }).catch((x: unknown) => x);
    const c2 = new Client({ connectionString: PG_ADMIN_URL });
    await c2.connect();
    await c2.query(`drop database "${name}" with (force)`);
    await c2.end();
    expect(e).toBeInstanceOf(HotlineError);
    expect((e as HotlineError).code).toBe('storage_error');
    expect((e as Error).message).toMatch(/ICU en-US.*--locale=C\.UTF-8/);
  });

  it('says store_unreachable, with the URL and without a password, when the database does not exist', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/hotline_no_such_database';
    const e = await openStore({ driver: 'postgres', url: url.toString(), passwordFile: null, maxConnections: 2 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HotlineError);
    expect((e as HotlineError).code).toBe('store_unreachable');
    expect((e as Error).message).toContain('hotline_no_such_database');
  });
});

describePg('isStoreUnavailable: the store failed, not the work', () => {
  const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');

  it('a refused connection, a terminated session and the node\'s own store_busy/store_unreachable are; a statement error or another refusal is not', async () => {
    // Nothing listens on port 1.
    const refused = await new Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test' }).connect().then(() => undefined, (e: unknown) => e);
    expect(isStoreUnavailable(refused)).toBe(true);
    const c = new Client({ connectionString: PG_ADMIN_URL });
    c.on('error', () => {});
    await c.connect();
    const wrong = await c.query('select from no_such_table_here').then(() => undefined, (e: unknown) => e);
    expect((wrong as { code?: string }).code).toBe('42P01');
    expect(isStoreUnavailable(wrong)).toBe(false);
    // The server ends the session (an administrator, a failover): 57P01.
    const ended = await c.query('select pg_terminate_backend(pg_backend_pid())').then(() => undefined, (e: unknown) => e);
    expect(isStoreUnavailable(ended)).toBe(true);
    // Its next query: the connection is gone.
    const after = await c.query('select 1').then(() => undefined, (e: unknown) => e);
    expect(after).toBeInstanceOf(Error);
    expect(isStoreUnavailable(after)).toBe(true);
    await c.end().catch(() => undefined);
    // Closed: pg says so without a code.
    const closed = await c.query('select 1').then(() => undefined, (e: unknown) => e);
    expect(isStoreUnavailable(closed)).toBe(true);
    // Ended by the server while idle (another session terminates it): pg's next query says the client met a connection error.
    const idle = new Client({ connectionString: PG_ADMIN_URL });
    idle.on('error', () => {});
    await idle.connect();
    const pid = (await idle.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const errored = new Promise((r) => idle.once('error', r));
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
    await errored;
    const lost = await idle.query('select 1').then(() => undefined, (e: unknown) => e);
    expect(lost).toBeInstanceOf(Error);
    expect(isStoreUnavailable(lost)).toBe(true);
    await idle.end().catch(() => undefined);
    expect(isStoreUnavailable(new HotlineError('store_busy', 'busy'))).toBe(true);
    expect(isStoreUnavailable(new HotlineError('store_unreachable', 'down'))).toBe(true);
    expect(isStoreUnavailable(new HotlineError('stix_invalid', 'bad'))).toBe(false);
    expect(isStoreUnavailable(new Error('anything else'))).toBe(false);
  });
});
