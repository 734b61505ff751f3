import type { Kysely } from 'kysely';
import type { Prunable } from '../../shared/retention.js';
import type { DeadlinesTables } from './deadlines.tables.js';

/**
 * Notifications (and their deliveries) queued before the retention whose every delivery is
 * finished (sent, or given up): one still pending stays until it is. The step that queued a
 * notification is recorded with its own subject (a deadline's `next_step`, a preservation's
 * `reminded_for`), so deleting the notification never lets the step fire again.
 */
export function notificationRetention(db: Kysely<DeadlinesTables>): Prunable {
  const old = (d: Kysely<DeadlinesTables>, before: number) => d.selectFrom('notifications as n').where('n.created_at', '<', before)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('notification_deliveries as d').select('d.notification_id')
      .whereRef('d.notification_id', '=', 'n.id').where('d.state', '=', 'pending'))));
  return {
    kind: 'notifications',
    async count(before) {
      const r = await old(db, before).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    prune(before, limit) {
      return db.transaction().execute(async (trx) => {
        const ids = (await old(trx, before).select('n.id').limit(limit).execute()).map((r) => r.id);
        if (ids.length === 0) return 0;
        await trx.deleteFrom('notification_deliveries').where('notification_id', 'in', ids).execute();
        await trx.deleteFrom('notifications').where('id', 'in', ids).execute();
        return ids.length;
      });
    },
  };
}
