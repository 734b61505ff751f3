import type { Kysely } from 'kysely';
import { isoTime, parseIsoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import type { Position } from '../directory/directory.types.js';
import type { Principal } from '../users/users.types.js';
import { peerDeadlinesJson, setPeerDeadlinesJson } from '../federation/federation.pinned.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { DEFAULT_ACK_DEADLINES_MIN, PRIORITIES, type Priority } from '../federation/federation.types.js';
import type { DeadlinesTables } from './deadlines.tables.js';
import { ESCALATION, type DeadlineView, type FiredStep, type OverdueItem } from './deadlines.types.js';

/** Longest deadline a pair may agree: 365 days, in minutes. */
export const MAX_DEADLINE_MIN = 365 * 24 * 60;

/**
 * A message's acknowledgement deadline and the escalation steps fired for it; null when the
 * message needs no acknowledgement (or was stored before deadlines existed). With `as` (the
 * reader), each step's sink targets and errors are shown only to an administrator: a webhook URL
 * carries its secret; an officer sees the step, its time and each sink's state.
 */
export async function deadlineOf(db: Kysely<DeadlinesTables>, id: string, now: number, as?: Principal): Promise<DeadlineView | null> {
  const seesTargets = as === undefined || as.role === 'admin';
  const row = await db.selectFrom('deadlines').selectAll().where('message_id', '=', id).executeTakeFirst();
  if (row === undefined) return null;
  const notes = await db.selectFrom('notifications').selectAll().where('message_id', '=', id).orderBy('created_at').orderBy('id').execute();
  const deliveries = notes.length === 0 ? [] : await db.selectFrom('notification_deliveries').selectAll()
    .where('notification_id', 'in', notes.map((n) => n.id)).orderBy('sink').orderBy('target').execute();
  const steps: FiredStep[] = notes.map((n) => {
    const p = JSON.parse(n.payload) as { position?: Position | null; contact?: { name?: string } | null };
    return {
      step: n.step, position: p.position ?? null, contact: p.contact?.name ?? null, at: isoTime(Number(n.created_at)),
      deliveries: deliveries.filter((d) => d.notification_id === n.id)
        .map((d) => ({
          sink: d.sink, state: d.state, attempts: Number(d.attempts), ...(seesTargets ? { target: d.target, last_error: d.last_error } : {}),
        })),
    };
  });
  const due = Number(row.due_at);
  const acked = row.acked_at === null ? null : Number(row.acked_at);
  const overdue = acked === null && now >= due;
  const lateAt = acked ?? now;
  return {
    due_at: isoTime(due),
    acknowledged_at: acked === null ? null : isoTime(acked),
    overdue,
    late_ms: lateAt >= due ? lateAt - due : null,
    next_step: row.next_step,
    next_at: row.next_at === null ? null : isoTime(Number(row.next_at)),
    steps,
  };
}

/** One line per fired step, e.g. "step 1 (backup) Officer Petrov at T: webhook sent". */
export function describeDeadline(d: DeadlineView): string[] {
  const lines = [`Ack due   ${d.due_at}${d.acknowledged_at === null ? '' : `; acknowledged at ${d.acknowledged_at}`}${d.overdue ? `; OVERDUE by ${formatLate(d.late_ms ?? 0)}` : ''}`];
  for (const s of d.steps) {
    const who = s.step === 'overdue' ? 'overdue alert' : `step ${s.step} (${ESCALATION.find((e) => e.step === s.step)?.position ?? s.position ?? '?'})`;
    const sinks = s.deliveries.map((x) => `${x.sink} ${x.state}`).join(', ') || 'no sink configured';
    lines.push(`  ${who}${s.contact === null ? '' : ` ${s.contact}`} at ${s.at}: ${sinks}`);
  }
  if (d.next_step !== null && d.next_at !== null) lines.push(`  next: ${d.next_step === 'overdue' ? 'overdue alert' : `step ${d.next_step}`} at ${d.next_at}`);
  return lines;
}

/** "1h 5m", "12m 30s", "45s". */
export function formatLate(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = d > 0 ? [`${d}d`, `${h}h`] : h > 0 ? [`${h}h`, `${m}m`] : m > 0 ? [`${m}m`, `${s % 60}s`] : [`${s % 60}s`];
  return parts.join(' ');
}

/** How long until a due time ("in 4m 10s"), or how long past it ("OVERDUE 3m 2s"). */
export function timeLeft(dueAt: string, now: number): string {
  const due = parseIsoTime(dueAt);
  return now >= due ? `OVERDUE ${formatLate(now - due)}` : `in ${formatLate(due - now)}`;
}

/**
 * Messages this node sent that the peer has not acknowledged by their due time, most overdue
 * first; with `channels`, only those channels.
 */
export async function listOverdue(db: Kysely<DeadlinesTables>, now: number, opts: { channels?: readonly string[]; limit?: number } = {}): Promise<OverdueItem[]> {
  if (opts.channels !== undefined && opts.channels.length === 0) return [];
  let q = db.selectFrom('deadlines').selectAll().where('direction', '=', 'out').where('acked_at', 'is', null).where('due_at', '<=', now);
  if (opts.channels !== undefined) q = q.where('channel', 'in', [...opts.channels]);
  const rows = await q.orderBy('due_at').orderBy('message_id').limit(Math.min(opts.limit ?? 100, 1000)).execute();
  return rows.map((r) => ({
    message_id: r.message_id, case: r.case_id, peer: r.peer, kind: r.kind, channel: r.channel, priority: r.priority,
    sent_at: isoTime(Number(r.sent_at)), due_at: isoTime(Number(r.due_at)), late_ms: now - Number(r.due_at), alerted: r.next_step === null,
  }));
}

/**
 * Records the acknowledgement deadlines (minutes per priority) agreed with a peer; priorities not
 * given keep their value. Applies to messages stored from now on, in both directions. Refused
 * (`invalid_argument`) unless each value is a whole number of minutes from 1 to a year.
 */
export async function setPeerDeadlines(deps: { db: Kysely<FederationTables>; clock: Clock }, party: string, given: Partial<Record<string, unknown>>): Promise<Record<Priority, number>> {
  const updates: Partial<Record<Priority, number>> = {};
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!(PRIORITIES as readonly string[]).includes(k)) fail('invalid_argument', `"${k}" is not a priority; use ${PRIORITIES.join(', ')}`);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_DEADLINE_MIN) {
      fail('invalid_argument', `The ${k} deadline must be a whole number of minutes from 1 to ${MAX_DEADLINE_MIN} (got "${String(v)}")`);
    }
    updates[k as Priority] = n;
  }
  if (Object.keys(updates).length === 0) fail('invalid_argument', `Give at least one deadline in minutes: ${PRIORITIES.map((p) => `--${p} N`).join(' ')}`);
  return deps.db.transaction().execute(async (trx) => {
    const agreed = await peerDeadlinesJson(trx, party);
    if (agreed === undefined) fail('unknown_peer', `No peer "${party}" is pinned on this node; add it with "hotline peer add"`);
    const deadlines = { ...DEFAULT_ACK_DEADLINES_MIN, ...(JSON.parse(agreed) as Record<Priority, number>), ...updates };
    await setPeerDeadlinesJson(trx, party, JSON.stringify(deadlines), deps.clock.now());
    return deadlines;
  });
}
