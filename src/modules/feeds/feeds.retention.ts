import type { Kysely } from 'kysely';
import { pruneByIds, type Prunable } from '../../shared/retention.js';
import type { FeedsTables } from './feeds.tables.js';

/**
 * Feed runs (each with its report) last updated before the retention, except those not ended
 * (`receiving`, `queued`, `running`: a job may be resumed), with what is left of their input
 * (a job's chunks are deleted when it ends; this takes those of a run whose end did not). What a
 * run sent is in the messages it queued, which are kept; its deduplication keys have their own
 * window (feeds.run.ts).
 */
export function feedRunRetention(db: Kysely<FeedsTables>): Prunable {
  return pruneByIds(db, {
    kind: 'feed_runs',
    old: (d, before) => d.selectFrom('feed_runs').where('updated_at', '<', before).where('state', 'not in', ['running', 'queued', 'receiving']),
    id: 'feed_runs.id',
    remove: async (trx, ids) => {
      await trx.deleteFrom('feed_inputs').where('run_id', 'in', [...ids]).execute();
      await trx.deleteFrom('feed_runs').where('id', 'in', [...ids]).execute();
    },
  });
}
