import type { Kysely } from 'kysely';
import { PRIORITIES, type Priority } from '../federation/federation.types.js';
import type { DeadlinesTables } from './deadlines.tables.js';

/** Received messages waiting for a person's acknowledgement, as `hotline status` and /metrics count them. */
export interface QueueHealth {
  /** Unacknowledged, per priority (every priority present, 0 when none). */
  by_priority: Record<Priority, number>;
  total: number;
  /** Of those, past their due time. */
  overdue: number;
  /** The `sent_at` (ms) of the oldest unacknowledged one, or null. */
  oldest_sent_at: number | null;
  /** Messages we sent that the peer has not acknowledged by their due time. */
  overdue_sent: number;
}

/**
 * The acknowledgement queue in numbers, from the deadlines rows (one per message that needs a
 * person): unacknowledged received messages by priority, overdue ones (received and sent), the
 * oldest's age. Reads only open rows through the (direction, acked_at, due_at) index.
 */
export async function queueHealth(db: Kysely<DeadlinesTables>, now: number): Promise<QueueHealth> {
  const rows = await db.selectFrom('deadlines')
    .select((eb) => ['priority', eb.fn.countAll<number>().as('n'), eb.fn.min<number>('sent_at').as('oldest')])
    .where('direction', '=', 'in').where('acked_at', 'is', null)
    .groupBy('priority').execute();
  const count = async (direction: 'in' | 'out'): Promise<number> => {
    const r = await db.selectFrom('deadlines').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('direction', '=', direction).where('acked_at', 'is', null).where('due_at', '<=', now).executeTakeFirst();
    return Number(r?.n ?? 0);
  };
  const by = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
  let oldest: number | null = null;
  for (const r of rows) {
    if ((PRIORITIES as readonly string[]).includes(r.priority)) by[r.priority as Priority] += Number(r.n);
    if (r.oldest !== null && (oldest === null || Number(r.oldest) < oldest)) oldest = Number(r.oldest);
  }
  return { by_priority: by, total: Object.values(by).reduce((a, b) => a + b, 0), overdue: await count('in'), oldest_sent_at: oldest, overdue_sent: await count('out') };
}

/** One sink target whose deliveries fail: how many given up and retrying, and its latest error. */
export interface SinkFailure {
  sink: string;
  target: string;
  /** Deliveries given up after the most attempts. */
  failed: number;
  /** Deliveries still pending after at least one failed attempt. */
  retrying: number;
  last_error: string | null;
  /** When the newest failing notification was queued (ms). */
  last_at: number;
  /** The newest failing notification's type (payload `type`), e.g. escalation, key-mismatch. */
  last_type: string | null;
}

/**
 * The notification sinks' failures per (sink, target), newest first: deliveries given up
 * (`failed`) or pending after a failed attempt. Sent deliveries are not read.
 */
export async function sinkFailures(db: Kysely<DeadlinesTables>, limit = 20): Promise<SinkFailure[]> {
  const rows = await db.selectFrom('notification_deliveries as d').innerJoin('notifications as n', 'n.id', 'd.notification_id')
    .select(['d.sink', 'd.target', 'd.state', 'd.last_error', 'n.created_at', 'n.payload'])
    .where((eb) => eb.or([eb('d.state', '=', 'failed'), eb.and([eb('d.state', '=', 'pending'), eb('d.attempts', '>', 0)])]))
    .orderBy('n.created_at', 'desc').limit(10_000).execute();
  const byTarget = new Map<string, SinkFailure>();
  for (const r of rows) {
    const key = `${r.sink}\u0000${r.target}`;
    let f = byTarget.get(key);
    if (f === undefined) {
      let type: string | null = null;
      try {
        const p = JSON.parse(r.payload) as { type?: unknown };
        type = typeof p.type === 'string' ? p.type : null;
      } catch {
        // not JSON: no type
      }
      f = { sink: r.sink, target: r.target, failed: 0, retrying: 0, last_error: r.last_error, last_at: Number(r.created_at), last_type: type };
      byTarget.set(key, f);
    }
    if (r.state === 'failed') f.failed++;
    else f.retrying++;
  }
  return [...byTarget.values()].slice(0, limit);
}

/** Failing deliveries per sink and state (`failed`, `retrying`), for /metrics: one grouped count. */
export async function sinkFailureCounts(db: Kysely<DeadlinesTables>): Promise<{ sink: string; state: 'failed' | 'retrying'; count: number }[]> {
  const rows = await db.selectFrom('notification_deliveries')
    .select((eb) => ['sink', 'state', eb.fn.countAll<number>().as('n')])
    .where((eb) => eb.or([eb('state', '=', 'failed'), eb.and([eb('state', '=', 'pending'), eb('attempts', '>', 0)])]))
    .groupBy(['sink', 'state']).execute();
  return rows.map((r) => ({ sink: r.sink, state: r.state === 'failed' ? 'failed' : 'retrying', count: Number(r.n) }));
}
