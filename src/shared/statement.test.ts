import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statement } from './statement.js';

interface T {
  t: { id: string; n: number; note: string | null };
}

let db: Kysely<T>;
beforeEach(async () => {
  db = new Kysely<T>({ dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
  await db.schema.createTable('t').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('n', 'integer').addColumn('note', 'text').execute();
});
afterEach(async () => db.destroy());

describe('statement: compiled once, run with each call\'s values', () => {
  it('builds the query once and binds each call\'s values by name, constants kept', async () => {
    let builds = 0;
    const insert = statement(['n', 'id'], (k: Kysely<T>, p) => {
      builds++;
      return k.insertInto('t').values({ id: p.id, n: p.n, note: null });
    });
    const bump = statement(['id'], (k: Kysely<T>, p) => k.updateTable('t').set({ note: 'seen' }).where('id', '=', p.id));
    for (let i = 0; i < 5; i++) await insert(db, { id: `x${i}`, n: i });
    await db.transaction().execute(async (trx) => bump(trx, { id: 'x3' }));
    expect(builds).toBe(1);
    expect(await db.selectFrom('t').selectAll().orderBy('id').execute()).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ id: `x${i}`, n: i, note: i === 3 ? 'seen' : null })),
    );
  });

  it('refuses a name the query does not use (a value would be silently dropped)', async () => {
    const bad = statement(['id', 'unused'], (k: Kysely<T>, p) => k.selectFrom('t').selectAll().where('id', '=', p.id));
    await expect(bad(db, { id: 'a', unused: 1 })).rejects.toThrow(/"unused" is not used/);
  });
});
