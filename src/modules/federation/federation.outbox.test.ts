import { createRequire } from 'node:module';
import { afterEach, expect, it } from 'vitest';
import { describePg } from '../../../test/helpers/pg.js';
import { makeStorePair, send, type StorePair } from '../../../test/helpers/stores.js';
import { linkLock } from './federation.links.js';

const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describePg('the outbox on PostgreSQL, several processes writing one link', () => {
  it('drafts queued while a group waits for its link\'s lock join that group: one transaction, in their order', async () => {
    pair = await makeStorePair({ dialect: 'postgres' });
    const { a, b } = pair;
    const db = a.db;
    const waiting = async (): Promise<number> =>
      (await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`.execute(db)).rows[0]!.n;
    const sent = await db.connection().execute(async (other) => {
      // Another process of the node writes the link to west: it holds the link's lock.
      await sql`select pg_advisory_lock(hashtextextended(${linkLock('east', 'west')}, 0))`.execute(other);
      const first = send(a, b, 1, { body: { text: 'first' } });
      while (await waiting() === 0) await new Promise((r) => setTimeout(r, 5));
      // The first group now waits for the lock; twenty more are queued meanwhile.
      const more = Promise.all(Array.from({ length: 20 }, (_, i) => send(a, b, 1, { body: { text: `more ${i}` } })));
      await new Promise((r) => setTimeout(r, 20));
      await sql`select pg_advisory_unlock_all()`.execute(other);
      return [...await first, ...(await more).flat()];
    });
    expect(sent.map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(sent.map((e) => (e.body as { text: string }).text)).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `more ${i}`)]);
    // One transaction wrote them all (on today's main: the first alone, then the twenty).
    const xids = await sql<{ n: number }>`select count(distinct xmin::text)::int as n from messages where direction = 'out'`.execute(db);
    expect(xids.rows[0]!.n).toBe(1);
  });
});
