import type { Kysely } from 'kysely';
import { pruneByIds, type Prunable } from '../../shared/retention.js';
import type { DeadlinesTables } from './deadlines.tables.js';

/**
 * Notifications (and their deliveries) queued before the retention whose every delivery is
 * finished (sent, or given up): one still pending stays until it is. The step that queued a
 * notification is recorded with its own subject (a deadline's `next_step`, a preservation's
 * `reminded_for`), so deleting the notification never lets the step fire again.
 */
export function notificationRetention(db: Kysely<DeadlinesTables>): Prunable {
  return pruneByIds(db, {
    kind: 'notifications',
    old: (d, before) => d.selectFrom('notifications').where('notifications.created_at', '<', before)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('notification_deliveries').select('notification_deliveries.notification_id')
        .whereRef('notification_deliveries.notification_id', '=', 'notifications.id').where('notification_deliveries.state', '=', 'pending')))),
    id: 'notifications.id',
    remove: async (trx, ids) => {
      await trx.deleteFrom('notification_deliveries').where('notification_id', 'in', [...ids]).execute();
      await trx.deleteFrom('notifications').where('id', 'in', [...ids]).execute();
    },
  });
}
