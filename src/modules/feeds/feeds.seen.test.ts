import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/pg.js';
import { claimSeen, forget, loadSeen } from './feeds.seen.js';
import type { FeedsTables } from './feeds.tables.js';

/**
 * The deduplication keys in the store (`feed_seen`), on every dialect (test/helpers/pg.ts):
 * claimed with the report that carries them, forgotten after their days, loaded by a run.
 */

type Row = FeedsTables['feed_seen'];
const T0 = Date.UTC(2026, 11, 1);
const MIN0 = T0 / 60_000;

/** Distinct keys with signed halves on both sides of zero (the primary key orders them as integers). */
function keys(n: number, seenMin: number, storedAt: number, offset = 0): Row[] {
  return Array.from({ length: n }, (_, i) => ({ hi: ((i + offset) * 2654435761) | 0, lo: ((i + offset) * 40503 - 7) | 0, seen_min: seenMin, stored_at: storedAt }));
}

async function count(db: Kysely<FeedsTables>): Promise<number> {
  return Number((await db.selectFrom('feed_seen').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
}

describeEachStore('deduplication keys in the store', (open) => {
  const claim = (db: Kysely<FeedsTables>, rows: Row[], windowMin = 1440, keepSince = 0): Promise<Set<string>> =>
    db.transaction().execute((trx) => claimSeen(trx, rows, windowMin, keepSince));

  it('claims new keys, finds those reported within the window, and takes back those outside it or forgotten', async () => {
    const db = (await open()) as unknown as Kysely<FeedsTables>;
    const first = keys(2500, MIN0, T0);
    expect(await claim(db, first)).toEqual(new Set());
    expect(await count(db)).toBe(2500);
    // Within the window (an hour later, 24 h window): every key is taken, nothing changes.
    const again = keys(2500, MIN0 + 60, T0 + 3_600_000);
    expect((await claim(db, again)).size).toBe(2500);
    // Outside it (two days later): claimed again, with the new time.
    const later = keys(3, MIN0 + 2 * 1440, T0 + 2 * 86_400_000);
    expect(await claim(db, later)).toEqual(new Set());
    const r = await db.selectFrom('feed_seen').select(['seen_min']).where('hi', '=', later[1]!.hi).where('lo', '=', later[1]!.lo).executeTakeFirstOrThrow();
    expect(r.seen_min).toBe(MIN0 + 2 * 1440);
    // Stored before keepSince: forgotten, so claimed even within the window.
    const forgotten = keys(2, MIN0 + 60, T0 + 3_600_000, 10);
    expect(await claim(db, forgotten, 1440, T0 + 1)).toEqual(new Set());
  });

  it('claims a key reported twice in one flush (outside the window of each other) as SQLite applies rows: in order', async () => {
    const db = (await open()) as unknown as Kysely<FeedsTables>;
    const [k] = keys(1, MIN0, T0);
    const rows = [k!, { ...k!, seen_min: MIN0 + 3 * 1440 }, ...keys(5, MIN0, T0, 100)];
    expect(await claim(db, rows)).toEqual(new Set());
    const r = await db.selectFrom('feed_seen').select('seen_min').where('hi', '=', k!.hi).where('lo', '=', k!.lo).executeTakeFirstOrThrow();
    expect(r.seen_min).toBe(MIN0 + 3 * 1440);
    // Within the window of each other: the first is claimed, the second changes nothing.
    const [j] = keys(1, MIN0, T0, 200);
    expect(await claim(db, [j!, { ...j!, seen_min: MIN0 + 30 }])).toEqual(new Set());
    const s = await db.selectFrom('feed_seen').select('seen_min').where('hi', '=', j!.hi).where('lo', '=', j!.lo).executeTakeFirstOrThrow();
    expect(s.seen_min).toBe(MIN0);
  });

  it('forgets keys stored before a time, in statements of 20,000, and loads the others a page at a time', async () => {
    const db = (await open()) as unknown as Kysely<FeedsTables>;
    await claim(db, keys(45_000, MIN0, T0 - 10 * 86_400_000));
    const fresh = keys(12_345, MIN0, T0, 1_000_000);
    await claim(db, fresh);
    await forget(db, T0 - 86_400_000);
    expect(await count(db)).toBe(12_345);
    const seen = await loadSeen(db, T0 - 86_400_000);
    expect(seen.count).toBe(12_345);
    for (const k of [fresh[0]!, fresh[6000]!, fresh[12_344]!]) expect(seen.seen(k.hi, k.lo, MIN0 + 1, 1440)).toBe(true);
    expect(seen.seen(12345, 54321, MIN0, 1440)).toBe(false);
    // Only keys stored since the given time are loaded.
    expect((await loadSeen(db, T0 + 1)).count).toBe(0);
  });
});
