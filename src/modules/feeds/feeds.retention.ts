import type { Kysely } from 'kysely';
import { pruneByIds, type Prunable } from '../../shared/retention.js';
import type { FeedsTables } from './feeds.tables.js';

/**
 * Feed runs (each with its report) last updated before the retention, except those still
 * `running`. What a run sent is in the messages it queued, which are kept; its deduplication
 * keys have their own window (feeds.run.ts).
 */
export function feedRunRetention(db: Kysely<FeedsTables>): Prunable {
  return pruneByIds(db, {
    kind: 'feed_runs',
    old: (d, before) => d.selectFrom('feed_runs').where('updated_at', '<', before).where('state', '!=', 'running'),
    id: 'feed_runs.id',
    remove: async (trx, ids) => {
      await trx.deleteFrom('feed_runs').where('id', 'in', [...ids]).execute();
    },
  });
}
