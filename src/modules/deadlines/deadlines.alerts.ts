import type { Kysely } from 'kysely';
import { HotlineError } from '../../shared/errors.js';
import { escalationAlert, overdueAlert } from '../alerts/alerts.render.js';
import { getSink } from '../alerts/alerts.sinks.js';
import type { AlertsTables } from '../alerts/alerts.tables.js';
import type { Alert, AlertMessage, AlertSettings } from '../alerts/alerts.types.js';
import type { AlertedMessage } from '../messaging/messaging.service.js';
import type { NotificationSinks } from './deadlines.sinks.js';
import type { DeadlinesTable } from './deadlines.tables.js';
import { OVERDUE_STEP, type NotifiedContact } from './deadlines.types.js';

/**
 * The alert of an escalation step or an overdue alert, in the node's language: the message's
 * sender, kind, rendered fields and text (for TLP:RED only whom it is for), due times, what to do.
 * `found` is the stored message as the messaging module reads it for the round (undefined when it
 * is not stored: the deadline's own facts, marked TLP:RED), `shortId` how it is named.
 */
export function alertOf(
  row: DeadlinesTable,
  found: AlertedMessage | undefined,
  shortId: string | undefined,
  o: { step: string; contact: NotifiedContact | null },
  settings: AlertSettings,
): { alert: Alert; short_id: string; tlp: string; sender: string | null } {
  const m: AlertMessage = {
    id: row.message_id,
    short_id: shortId ?? row.message_id,
    direction: row.direction,
    from: found?.from ?? row.peer,
    to: found?.to ?? row.peer,
    sender: found?.sender ?? null,
    kind: row.kind, priority: row.priority, channel: row.channel, case: row.case_id,
    tlp: found?.tlp ?? 'red',
    recipients: found?.recipients ?? null,
    body: found?.body ?? {},
    due_at: Number(row.due_at),
  };
  const c = o.contact;
  const paged = c === null ? null : [c.name, c.function, c.phone].filter((x) => x !== null && x !== '').join(', ');
  const alert = o.step === OVERDUE_STEP || row.direction === 'out' ? overdueAlert(m, settings) : escalationAlert(m, { step: o.step, paged }, settings);
  return { alert, short_id: m.short_id, tlp: m.tlp, sender: m.sender };
}

/** What one delivery carries: the outbox row's sink and target, and the notification's JSON. */
export interface Delivery {
  /** webhook | email (a target from hotline.json or the rota) | sink (a sink added with `hotline sink add`; `target` is its name). */
  sink: string;
  target: string;
  payload: Record<string, unknown>;
  date: Date;
}

function alertIn(payload: Record<string, unknown>): Alert | undefined {
  const a = payload.alert as Alert | undefined;
  return typeof a === 'object' && a !== null && typeof a.subject === 'string' && typeof a.text === 'string' ? a : undefined;
}

/** The e-mail of a notification: the alert's subject and text (the adapter adds HTML from it); JSON for a payload without one. */
function mailOf(to: string, payload: Record<string, unknown>, date: Date): Parameters<NonNullable<NotificationSinks['email']>>[0] {
  const alert = alertIn(payload);
  if (alert !== undefined) return { to, subject: alert.subject, text: alert.text, alert, date };
  return { to, subject: String(payload.subject ?? payload.type ?? 'hotline notification'), text: JSON.stringify(payload, null, 2), date };
}

/**
 * Carries one delivery through the sink adapters: a stored sink is looked up by name (its URL,
 * secret and format, or its address); null when the sink kind is not configured (e-mail without
 * `notify.smtp`).
 */
export function deliverTo(db: Kysely<AlertsTables>, sinks: NotificationSinks, d: Delivery, signal: AbortSignal): Promise<void> | null {
  if (d.sink === 'webhook') return sinks.webhook(d.target, d.payload, signal);
  if (d.sink === 'email') return sinks.email === undefined ? null : sinks.email(mailOf(d.target, d.payload, d.date), signal);
  if (d.sink !== 'sink') return null;
  return (async () => {
    const s = await getSink(db, d.target);
    // not_found: the processor gives the delivery up at once (no sink to retry).
    if (s === undefined) throw new HotlineError('not_found', `the sink "${d.target}" was removed`);
    if (s.type === 'webhook') return sinks.webhook(s.target, d.payload, signal, { secret: s.secret, format: s.format === 'slack' ? 'slack' : 'standard', label: `the webhook of sink "${s.name}"` });
    if (sinks.email === undefined) throw new HotlineError('sink_failed', `the sink "${s.name}" is e-mail, but no SMTP relay is configured: set "notify.smtp" in hotline.json`);
    return sinks.email(mailOf(s.target, d.payload, d.date), signal);
  })();
}
