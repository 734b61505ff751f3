import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationProvider, migrations, postgresMigrations } from './migrations/index.js';
import { openSqlite } from './sqlite.js';
import { migrationNames } from './migrate.js';

const fixtures = join(import.meta.dirname, '../../../test/fixtures');
/** Dumps (`sqlite3 .dump`) of stores made by the migrations as each release shipped them. */
const released = readdirSync(fixtures).filter((f) => /^store-released-\d{4}\.sql$/.test(f)).sort();

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

interface Schema {
  tables: Record<string, {
    columns: { name: string; type: string; notnull: number; dflt_value: unknown; pk: number }[];
    indexes: Record<string, { unique: number; origin: string; partial: number; columns: (string | null)[] }>;
    foreignKeys: { table: string; from: string; to: string | null }[];
  }>;
}

/** What the store's schema is, independent of the order and the SQL text that made it. */
function schemaOf(raw: SqliteDatabase.Database): Schema {
  const out: Schema = { tables: {} };
  const tables = raw.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`).all() as { name: string }[];
  for (const { name } of tables) {
    const columns = raw.prepare(`select name, type, "notnull", dflt_value, pk from pragma_table_info(?) order by cid`).all(name) as Schema['tables'][string]['columns'];
    const indexes: Schema['tables'][string]['indexes'] = {};
    for (const ix of raw.prepare('select name, "unique", origin, partial from pragma_index_list(?)').all(name) as { name: string; unique: number; origin: string; partial: number }[]) {
      const cols = (raw.prepare('select name from pragma_index_info(?) order by seqno').all(ix.name) as { name: string | null }[]).map((c) => c.name);
      // Automatic indexes (primary keys, unique constraints) are named by SQLite: key them by their columns.
      const key = ix.origin === 'c' ? ix.name : `${ix.origin}:${cols.join(',')}`;
      indexes[key] = { unique: ix.unique, origin: ix.origin, partial: ix.partial, columns: cols };
    }
    const foreignKeys = (raw.prepare('select "table", "from", "to" from pragma_foreign_key_list(?)').all(name) as Schema['tables'][string]['foreignKeys'])
      .sort((a, b) => `${a.table}.${a.from}`.localeCompare(`${b.table}.${b.from}`));
    out.tables[name] = { columns, indexes, foreignKeys };
  }
  return out;
}

async function freshSchema(): Promise<Schema> {
  dir ??= mkdtempSync(join(tmpdir(), 'hotline-migrations-'));
  const path = join(dir, 'fresh.sqlite');
  await (await openSqlite(path)).destroy();
  const raw = new SqliteDatabase(path, { readonly: true });
  try {
    return schemaOf(raw);
  } finally {
    raw.close();
  }
}

describe('migrations', () => {
  it('has a frozen dump of a released store to upgrade from', () => {
    expect(released.length).toBeGreaterThan(0);
  });

  it.each(released)('upgrade a store made by the released migrations (%s) to the same schema as a fresh store', async (file) => {
    dir ??= mkdtempSync(join(tmpdir(), 'hotline-migrations-'));
    const path = join(dir, 'released.sqlite');
    const old = new SqliteDatabase(path);
    old.exec(readFileSync(join(fixtures, file), 'utf8'));
    old.close();
    const store = await openSqlite(path);
    const names = (await store.withTables<{ kysely_migration: { name: string } }>().selectFrom('kysely_migration').select('name').orderBy('name').execute()).map((r) => r.name);
    await store.destroy();
    expect(names).toEqual(Object.keys(migrations));
    const raw = new SqliteDatabase(path, { readonly: true });
    const upgraded = schemaOf(raw);
    raw.close();
    expect(upgraded).toEqual(await freshSchema());
  });

  it.each(released)('run today, the migrations released up to %s make exactly the released schema (none was edited)', async (file) => {
    const last = /store-released-(\d{4})\.sql$/.exec(file)![1]!;
    const target = Object.keys(migrations).find((n) => n.startsWith(`${last}_`))!;
    const frozen = new SqliteDatabase(':memory:');
    frozen.exec(readFileSync(join(fixtures, file), 'utf8'));
    const raw = new SqliteDatabase(':memory:');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    const { error } = await new Migrator({ db, provider: migrationProvider('sqlite') }).migrateTo(target);
    expect(error).toBeUndefined();
    expect(schemaOf(raw)).toEqual(schemaOf(frozen));
    await db.destroy();
    frozen.close();
  });

  it('an up-to-date store opens without the Migrator; one with a migration this code does not know is refused', async () => {
    dir ??= mkdtempSync(join(tmpdir(), 'hotline-migrations-'));
    const path = join(dir, 'current.sqlite');
    await (await openSqlite(path)).destroy();
    // The Migrator makes its lock table on every run; an up-to-date store is only read.
    let raw = new SqliteDatabase(path);
    raw.exec('drop table kysely_migration_lock');
    raw.close();
    await (await openSqlite(path)).destroy();
    raw = new SqliteDatabase(path);
    const lock = () => raw.prepare(`select count(*) as n from sqlite_master where name = 'kysely_migration_lock'`).get() as { n: number };
    expect(lock().n).toBe(0);
    // A store a newer version migrated: the names differ, so the Migrator runs, and refuses it.
    raw.prepare(`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`).run();
    raw.close();
    await expect(openSqlite(path)).rejects.toMatchObject({ code: 'storage_error' });
    raw = new SqliteDatabase(path);
    expect(lock().n).toBe(1);
    raw.close();
  });

  it('are listed in name order, one file each, and PostgreSQL\'s own versions replace listed ones', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
    const files = readdirSync(join(import.meta.dirname, 'migrations')).filter((f) => /^\d{4}_/.test(f)).map((f) => f.replace(/\.ts$/, ''));
    expect(files.filter((f) => !f.endsWith('.pg')).sort()).toEqual(names);
    // What migrate() compares with the store's record, without loading the migrations.
    expect(migrationNames()).toEqual(names);
    const pg = files.filter((f) => f.endsWith('.pg')).map((f) => f.replace(/\.pg$/, '')).sort();
    expect(Object.keys(postgresMigrations).sort()).toEqual(pg);
    for (const n of pg) expect(names).toContain(n);
  });
});
