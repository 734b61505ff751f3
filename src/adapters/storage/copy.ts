import { createRequire } from 'node:module';
import SqliteDatabase from 'better-sqlite3';
import type { Kysely, RawBuilder } from 'kysely';
import { HotlineError } from '../../shared/errors.js';
import type { Database, Store } from './schema.js';
import { openSqlite } from './sqlite.js';
import { openStore, type PostgresLocation } from './store.js';

const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** One table as copied: rows read from SQLite, rows counted in PostgreSQL afterwards (equal, or nothing was committed). */
export interface TableCopy {
  table: string;
  rows: number;
}

export interface CopyReport {
  /** In the order they were copied (parents before the tables that refer to them). */
  tables: TableCopy[];
  /** SQLite's own tables that have no PostgreSQL counterpart (the FTS5 index's shadow tables): their content is in the copied table. */
  skipped: string[];
}

export interface CopyOptions {
  /** Rows per INSERT (at most; fewer for wide tables, within PostgreSQL's 65,535 parameters). */
  batchRows?: number;
  /** Called after the rows are copied and counted, before the commit (tests make a copy fail here). */
  beforeCommit?: (report: CopyReport) => Promise<void>;
}

/** Kysely's bookkeeping: each side keeps its own (the target's migrations were applied by opening it). */
const BOOKKEEPING = new Set(['kysely_migration', 'kysely_migration_lock']);

/**
 * Tables not copied but rebuilt on the target: the search index (PostgreSQL keeps each message's
 * words cut as SQLite's tokenizer cuts them, messaging.search.ts; its indexer fills the table from
 * the copied messages at the node's start or the first search).
 */
const REBUILT = new Set(['message_search']);

interface PgColumn {
  table_name: string;
  column_name: string;
  is_generated: string;
  identity_generation: string | null;
}

/**
 * Copies an SQLite store into an empty PostgreSQL database (issue 13, `hotline migrate`). The
 * SQLite store is first brought to the current migrations (as every command opening it does), then
 * read only; the target is opened (its migrations applied) and must hold no rows (`store_not_empty`).
 * Every table is copied in one transaction, parents before the tables whose foreign keys name them,
 * in batches, each table in SQLite's rowid order with `rowid` itself where PostgreSQL keeps it
 * (`messages.rowid`: the storing order the search indexer pages by); the search index is rebuilt, not copied;
 * identity sequences then continue after the copied values. The rows of each table are counted on
 * both sides before the commit: any failure, a count that differs included, rolls back the whole
 * copy, leaving the target without rows and the SQLite store as it was.
 */
export async function copySqliteToPostgres(sqlitePath: string, target: PostgresLocation, opts: CopyOptions = {}): Promise<CopyReport> {
  await (await openSqlite(sqlitePath)).destroy();
  const src = new SqliteDatabase(sqlitePath, { readonly: true, fileMustExist: true });
  src.defaultSafeIntegers(true);
  let db: Store | undefined;
  try {
    db = await openStore({ driver: 'postgres', ...target });
    await refuseNonEmpty(db);
    const store = db;
    return await store.transaction().execute(async (trx) => {
      await refuseNonEmpty(trx);
      const plan = await planCopy(trx, src);
      const report: CopyReport = { tables: [], skipped: plan.skipped };
      // One read snapshot of the SQLite file for the whole copy.
      src.exec('begin');
      try {
        for (const t of plan.tables) report.tables.push({ table: t.name, rows: await copyTable(trx, src, t, opts.batchRows ?? 1000) });
        for (const t of plan.tables) await continueIdentities(trx, t);
        for (const c of report.tables) {
          const inSqlite = plan.tables.find((t) => t.name === c.table)!.columns.length === 0 ? 0
            : Number(src.prepare(`select count(*) from "${c.table}"`).pluck().get() as bigint);
          const inPg = Number((await sql<{ n: number }>`select count(*) as n from ${sql.id(c.table)}`.execute(trx)).rows[0]?.n ?? -1);
          if (inPg !== inSqlite || c.rows !== inSqlite) {
            throw new HotlineError('storage_error', `Copying table ${c.table}: ${inSqlite} row(s) in SQLite, ${c.rows} read, ${inPg} in PostgreSQL; nothing was committed`);
          }
        }
      } finally {
        src.exec('rollback');
      }
      await opts.beforeCommit?.(report);
      return report;
    });
  } finally {
    src.close();
    await db?.destroy();
  }
}

interface TablePlan {
  name: string;
  /** Columns copied, in PostgreSQL's order; `rowid` read as SQLite's rowid when the SQLite table has no such column. */
  columns: string[];
  rowidOrder: boolean;
  overriding: boolean;
  identities: string[];
}

/** Refused with `store_not_empty` when any table of the target (Kysely's bookkeeping aside) holds a row. */
async function refuseNonEmpty(db: Kysely<Database>): Promise<void> {
  const tables = (await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`.execute(db)).rows
    .map((r) => r.table_name).filter((t) => !BOOKKEEPING.has(t));
  const full: string[] = [];
  for (const t of tables) {
    if ((await sql<{ one: number }>`select 1 as one from ${sql.id(t)} limit 1`.execute(db)).rows.length > 0) full.push(t);
  }
  if (full.length > 0) {
    throw new HotlineError('store_not_empty', `The target database already holds rows (in ${full.slice(0, 5).join(', ')}${full.length > 5 ? ', ...' : ''}); migrate copies into an empty database only. Create a new one (createdb --template=template0 --locale-provider=libc --locale=C.UTF-8 --encoding=UTF8 <name>) or point --to at another`,
      { tables: full });
  }
}

/** Which tables to copy, in an order where every foreign key's table comes first, and with which columns. */
async function planCopy(db: Kysely<Database>, src: SqliteDatabase.Database): Promise<{ tables: TablePlan[]; skipped: string[] }> {
  const cols = (await sql<PgColumn>`select table_name, column_name, is_generated, identity_generation from information_schema.columns
    where table_schema = current_schema() order by table_name, ordinal_position`.execute(db)).rows;
  const pgTables = new Map<string, PgColumn[]>();
  for (const c of cols) if (!BOOKKEEPING.has(c.table_name)) pgTables.set(c.table_name, [...(pgTables.get(c.table_name) ?? []), c]);
  const fks = (await sql<{ child: string; parent: string }>`select ch.relname as child, pa.relname as parent from pg_constraint k
    join pg_class ch on ch.oid = k.conrelid join pg_class pa on pa.oid = k.confrelid join pg_namespace n on n.oid = k.connamespace
    where k.contype = 'f' and n.nspname = current_schema()`.execute(db)).rows;
  const srcTables = src.prepare(`select name, type, sql from sqlite_master where type = 'table' and name not like 'sqlite_%'`).all() as { name: string; sql: string | null }[];
  const srcSql = new Map(srcTables.map((t) => [t.name, t.sql ?? '']));
  const virtual = srcTables.filter((t) => /^create virtual table/i.test(t.sql ?? '')).map((t) => t.name);
  const skipped: string[] = [];
  for (const t of srcTables) {
    if (REBUILT.has(t.name)) { skipped.push(t.name); continue; }
    if (pgTables.has(t.name) || BOOKKEEPING.has(t.name)) continue;
    if (virtual.some((v) => t.name.startsWith(`${v}_`))) { skipped.push(t.name); continue; }
    throw new HotlineError('storage_error', `The SQLite store has a table "${t.name}" the PostgreSQL schema does not; this version of hotline cannot copy it (nothing was copied)`);
  }
  const plans: TablePlan[] = [];
  for (const name of order([...pgTables.keys()], fks)) {
    if (REBUILT.has(name)) continue;
    const pg = pgTables.get(name)!;
    if (!srcSql.has(name)) { plans.push({ name, columns: [], rowidOrder: false, overriding: false, identities: [] }); continue; }
    const have = new Set((src.prepare(`select name from pragma_table_info(?)`).all(name) as { name: string }[]).map((r) => r.name));
    const hasRowid = !/without\s+rowid/i.test(srcSql.get(name)!);
    const writable = pg.filter((c) => c.is_generated !== 'ALWAYS');
    const columns = writable.map((c) => c.column_name).filter((c) => have.has(c) || (c === 'rowid' && hasRowid));
    const lost = [...have].filter((c) => !pg.some((p) => p.column_name === c));
    if (lost.length > 0) throw new HotlineError('storage_error', `Table ${name}: column(s) ${lost.join(', ')} have no place in the PostgreSQL schema (nothing was copied)`);
    plans.push({
      name, columns, rowidOrder: hasRowid,
      overriding: writable.some((c) => c.identity_generation === 'ALWAYS' && columns.includes(c.column_name)),
      identities: writable.filter((c) => c.identity_generation !== null && columns.includes(c.column_name)).map((c) => c.column_name),
    });
  }
  return { tables: plans, skipped };
}

/** Tables with each foreign key's table before the table holding it (self-references aside); a cycle keeps name order. */
function order(tables: string[], fks: readonly { child: string; parent: string }[]): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (t: string): void => {
    if (done.has(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const f of fks) if (f.child === t && f.parent !== t) visit(f.parent);
    visiting.delete(t);
    done.add(t);
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out.filter((t) => tables.includes(t));
}

/** Copies one table in batches; returns the rows read. */
async function copyTable(db: Kysely<Database>, src: SqliteDatabase.Database, t: TablePlan, batchRows: number): Promise<number> {
  if (t.columns.length === 0) return 0;
  const select = `select ${t.columns.map((c) => `"${c}"`).join(', ')} from "${t.name}"${t.rowidOrder ? ' order by rowid' : ''}`;
  const per = Math.max(1, Math.min(batchRows, Math.floor(60_000 / t.columns.length)));
  const head = sql`insert into ${sql.id(t.name)} (${sql.join(t.columns.map((c) => sql.id(c)))})${t.overriding ? sql` overriding system value` : sql``} values `;
  let batch: RawBuilder<unknown>[] = [];
  let rows = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await sql`${head}${sql.join(batch)}`.execute(db);
    batch = [];
  };
  for (const row of src.prepare(select).raw(true).iterate() as IterableIterator<unknown[]>) {
    batch.push(sql`(${sql.join(row.map(toPg))})`);
    rows++;
    if (batch.length >= per) await flush();
  }
  await flush();
  return rows;
}

/** An SQLite value as a parameter: integers (read exactly, as bigint) as their decimal text. */
function toPg(v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Identity columns (`messages.rowid`) go on after the largest value copied. */
async function continueIdentities(db: Kysely<Database>, t: TablePlan): Promise<void> {
  for (const c of t.identities) {
    await sql`select setval(pg_get_serial_sequence(${sql.lit(`"${t.name}"`)}, ${sql.lit(c)}), m) from (select max(${sql.id(c)}) as m from ${sql.id(t.name)}) x where m is not null`.execute(db);
  }
}
