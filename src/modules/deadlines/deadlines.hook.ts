import { parseIsoTime } from '../../shared/clock.js';
import type { MessageHook } from '../federation/federation.hooks.js';
import { DEFAULT_ACK_DEADLINES_MIN, type Priority } from '../federation/federation.types.js';
import type { DeadlinesTables } from './deadlines.tables.js';
import { ESCALATION, OVERDUE_STEP, needsAck } from './deadlines.types.js';

const MINUTE_MS = 60_000;

/**
 * The deadlines' part in storing messages (federation.hooks.ts), in the storing transaction:
 * - a message that needs a person's acknowledgement gets its deadline: the envelope's `sent_at`
 *   plus the minutes agreed with the peer for its priority (`peers.deadlines`). Received, its
 *   escalation starts with step 0 due at once; sent, its overdue alert is due at the deadline.
 *   The DeadlineProcessor fires the steps.
 * - an `ack` (either direction), or the `pong` that answers a ping, ends the escalation of the
 *   message it answers: no further step fires.
 */
export const deadlinesHook: MessageHook = {
  name: 'deadlines',

  async apply(trx, m) {
    const { env, direction, storedAt } = m;
    const t = trx.withTables<DeadlinesTables>();
    if ((env.kind === 'ack' || env.kind === 'pong') && env.in_reply_to !== null) {
      await t.updateTable('deadlines')
        .set({ next_step: null, next_at: null, acked_at: storedAt, ack_message_id: env.id })
        .where('message_id', '=', env.in_reply_to).where('acked_at', 'is', null)
        .execute();
      return;
    }
    if (!needsAck(env.kind)) return;
    const peer = direction === 'in' ? env.from : env.to;
    const row = await trx.selectFrom('peers').select('deadlines').where('party', '=', peer).executeTakeFirst();
    const agreed = row === undefined ? DEFAULT_ACK_DEADLINES_MIN : (JSON.parse(row.deadlines) as Record<Priority, number>);
    const minutes = agreed[env.priority] ?? DEFAULT_ACK_DEADLINES_MIN[env.priority];
    const sentAt = parseIsoTime(env.sent_at);
    const start = Number.isNaN(sentAt) ? storedAt : sentAt;
    const dueAt = start + Math.round(minutes * MINUTE_MS);
    await t.insertInto('deadlines').values({
      message_id: env.id, direction, peer, channel: env.channel, case_id: env.case, kind: env.kind, priority: env.priority,
      sent_at: start, due_at: dueAt,
      next_step: direction === 'in' ? ESCALATION[0]!.step : OVERDUE_STEP,
      next_at: direction === 'in' ? start : dueAt,
      acked_at: null, ack_message_id: null, created_at: storedAt,
    }).onConflict((oc) => oc.column('message_id').doNothing()).execute();
  },
};
