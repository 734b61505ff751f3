import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { uuidv7 } from '../../shared/ids.js';
import { statement } from '../../shared/statement.js';
import { sinkNames } from '../alerts/alerts.sinks.js';
import type { AlertsTables } from '../alerts/alerts.tables.js';
import type { DeadlinesTables, NotificationDeliveriesTable } from './deadlines.tables.js';
import type { NotifyConfig } from './deadlines.types.js';

/** What queuing a notification needs: the store (or the caller's transaction), the clock, the configured sinks. */
export interface NotifyDeps {
  db: Kysely<DeadlinesTables> & Kysely<AlertsTables>;
  clock: Clock;
  notify: NotifyConfig;
}

/** A notification to queue: what it is about, which step, the JSON every sink gets, and extra targets. */
export interface Notification {
  /** The message (or other subject id) it is about; with `step`, its identity: queued at most once. */
  message_id: string;
  /** e.g. "0", "1", "2", "overdue", or another module's own step name ("expiry-reminder:<ms>"). */
  step: string;
  /** The JSON body sinks get; `id` (the notification's id) is added to it. */
  payload: Record<string, unknown>;
  /** Targets besides the configured ones, e.g. a rota position's webhook and e-mail. */
  targets?: { webhook?: string | null; email?: string | null; emails?: readonly string[] };
  /** The e-mail's subject line (default: the payload's `type`). */
  subject?: string;
}

/**
 * The (sink, target) pairs a notification goes to: hotline.json's webhook, the extra targets, and
 * every sink added with `hotline sink add` (`sink`, by name); e-mail only with SMTP configured.
 */
export function targetsOf(config: NotifyConfig, extra: Notification['targets'], stored: readonly { name: string; type: string }[] = []): { sink: 'webhook' | 'email' | 'sink'; target: string }[] {
  const out: { sink: 'webhook' | 'email' | 'sink'; target: string }[] = [];
  const add = (sink: 'webhook' | 'email' | 'sink', target: string | null | undefined): void => {
    if (typeof target === 'string' && target !== '' && !out.some((t) => t.sink === sink && t.target === target)) out.push({ sink, target });
  };
  add('webhook', config.webhook?.url);
  add('webhook', extra?.webhook);
  if (config.smtp !== undefined) for (const e of [extra?.email, ...(extra?.emails ?? [])]) add('email', e);
  for (const s of stored) if (s.type === 'webhook' || config.smtp !== undefined) add('sink', s.name);
  return out;
}

// Compiled once: an escalation step of every message that waits for a person queues one.
const insertNotification = statement(['id', 'message_id', 'step', 'payload', 'created_at'], (db: Kysely<DeadlinesTables>, p) => db.insertInto('notifications')
  .values(p).onConflict((oc) => oc.columns(['message_id', 'step']).doNothing()));

/**
 * Queues a notification in the outbox: its row (unique on message id + step) and one pending
 * delivery per sink target. Call it inside the transaction that decides the notification is due,
 * so that the decision and the queuing commit together: the step is decided exactly once, even
 * across crashes; the sinks get it at least once (DeadlineProcessor delivers with retries).
 * Returns the new notification's id, or undefined when this (message id, step) was queued before.
 */
export async function notify(deps: NotifyDeps, n: Notification): Promise<string | undefined> {
  const now = deps.clock.now();
  const id = uuidv7(now);
  const payload = { ...n.payload, id, ...(n.subject === undefined ? {} : { subject: n.subject }) };
  const r = await insertNotification(deps.db, { id, message_id: n.message_id, step: n.step, payload: JSON.stringify(payload), created_at: now });
  if (Number(r.numAffectedRows ?? 0n) === 0) return undefined;
  const rows: NotificationDeliveriesTable[] = targetsOf(deps.notify, n.targets, await sinkNames(deps.db)).map((t) => ({
    notification_id: id, sink: t.sink, target: t.target, state: 'pending', attempts: 0, next_attempt_at: now, last_error: null, sent_at: null,
  }));
  if (rows.length > 0) await deps.db.insertInto('notification_deliveries').values(rows).execute();
  return id;
}

/** Rows per INSERT of {@link notifyMany}: 5 parameters a notification, 8 a delivery, well under SQLite's 32,766 and PostgreSQL's 65,535. */
const NOTIFICATIONS_PER_INSERT = 1000;
const DELIVERIES_PER_INSERT = 1000;

/**
 * {@link notify} for many notifications at once, with the same guarantees: a (message id, step)
 * queued before (or twice in `ns`: the first counts) gets no new row and no new deliveries.
 * Multi-row INSERTs (the notifications RETURNING the ids they inserted), the stored sinks read
 * once. Returns each notification's new id, or undefined, in the order of `ns`.
 */
export async function notifyMany(deps: NotifyDeps, ns: readonly Notification[]): Promise<(string | undefined)[]> {
  const now = deps.clock.now();
  const seen = new Set<string>();
  const rows = ns.map((n) => {
    const key = JSON.stringify([n.message_id, n.step]);
    if (seen.has(key)) return undefined;
    seen.add(key);
    const id = uuidv7(now);
    const payload = { ...n.payload, id, ...(n.subject === undefined ? {} : { subject: n.subject }) };
    return { id, message_id: n.message_id, step: n.step, payload: JSON.stringify(payload), created_at: now };
  });
  const values = rows.filter((r) => r !== undefined);
  const inserted = new Set<string>();
  for (let i = 0; i < values.length; i += NOTIFICATIONS_PER_INSERT) {
    const r = await deps.db.insertInto('notifications').values(values.slice(i, i + NOTIFICATIONS_PER_INSERT))
      .onConflict((oc) => oc.columns(['message_id', 'step']).doNothing()).returning('id').execute();
    for (const { id } of r) inserted.add(id);
  }
  if (inserted.size === 0) return ns.map(() => undefined);
  const stored = await sinkNames(deps.db);
  const deliveries: NotificationDeliveriesTable[] = ns.flatMap((n, i) => {
    const id = rows[i]?.id;
    if (id === undefined || !inserted.has(id)) return [];
    return targetsOf(deps.notify, n.targets, stored).map((t) => ({
      notification_id: id, sink: t.sink, target: t.target, state: 'pending', attempts: 0, next_attempt_at: now, last_error: null, sent_at: null,
    }));
  });
  for (let i = 0; i < deliveries.length; i += DELIVERIES_PER_INSERT) {
    await deps.db.insertInto('notification_deliveries').values(deliveries.slice(i, i + DELIVERIES_PER_INSERT)).execute();
  }
  return rows.map((r) => (r !== undefined && inserted.has(r.id) ? r.id : undefined));
}
