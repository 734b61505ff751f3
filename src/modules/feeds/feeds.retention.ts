import type { Kysely } from 'kysely';
import type { Prunable } from '../../shared/retention.js';
import type { FeedsTables } from './feeds.tables.js';

/**
 * Feed runs (each with its report) last updated before the retention, except those still
 * `running`. What a run sent is in the messages it queued, which are kept; its deduplication
 * keys have their own window (feeds.run.ts).
 */
export function feedRunRetention(db: Kysely<FeedsTables>): Prunable {
  const old = (d: Kysely<FeedsTables>, before: number) => d.selectFrom('feed_runs').where('updated_at', '<', before).where('state', '!=', 'running');
  return {
    kind: 'feed_runs',
    async count(before) {
      const r = await old(db, before).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    prune(before, limit) {
      return db.transaction().execute(async (trx) => {
        const ids = (await old(trx, before).select('id').limit(limit).execute()).map((r) => r.id);
        if (ids.length === 0) return 0;
        await trx.deleteFrom('feed_runs').where('id', 'in', ids).execute();
        return ids.length;
      });
    },
  };
}
