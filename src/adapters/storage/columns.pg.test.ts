import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePg, openTestStore } from '../../../test/helpers/pg.js';
import type { Store } from './schema.js';

const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

describePg('the PostgreSQL schema', () => {
  let db: Store;
  beforeAll(async () => {
    db = await openTestStore('postgres');
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('keeps every time (a column named *_at: milliseconds since the epoch) in 64 bits', async () => {
    // SQLite's `integer` is 64 bits, PostgreSQL's 32: a migration that says `integer` for a time
    // needs PostgreSQL's own version (0013_rota.pg.ts).
    const narrow = await sql<{ t: string }>`select table_name || '.' || column_name as t from information_schema.columns
      where table_schema = current_schema() and column_name like '%\_at' and data_type not in ('bigint', 'text') order by 1`.execute(db);
    expect(narrow.rows.map((r) => r.t)).toEqual([]);
  });
});
