import { createRequire } from 'node:module';
import type { Transaction } from 'kysely';
import { isoTime, type Clock } from '../../shared/clock.js';
import { contactsOfUsers, rotaFor } from '../directory/directory.service.js';
import { alertedMessages } from '../messaging/messaging.service.js';
import { shortMessageIdEach } from '../federation/federation.ids.js';
import type { DirectoryTables } from '../directory/directory.tables.js';
import type { RotaStep } from '../directory/directory.types.js';
import type { AlertsTables } from '../alerts/alerts.tables.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from '../alerts/alerts.types.js';
import type { DeadlinesTable, DeadlinesTables } from './deadlines.tables.js';
import { notifyMany, type Notification } from './deadlines.notify.js';
import { alertOf } from './deadlines.alerts.js';
import { ESCALATION, OVERDUE_STEP, type NotificationPayload, type NotifyConfig } from './deadlines.types.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** The deciding transaction, seen as each table set it touches (like the Store type in adapters/storage/schema.ts). */
export type Trx = Transaction<DeadlinesTables> & Transaction<DirectoryTables> & Transaction<FederationTables> & Transaction<AlertsTables>;

/** A step decided in a transaction, logged once it committed. */
export interface Decided {
  log: { message: string; step: string; position: string | null; contact: string | null };
  what: string;
}

/** What deciding a round needs of the processor's dependencies. */
export interface RoundDeps {
  clock: Clock;
  party: string;
  notify: NotifyConfig;
  alerts?: AlertSettings;
  timeZone?: string;
}

/** A due row, the step it fires and what follows it. */
interface Step {
  row: DeadlinesTable;
  step: string;
  next: { step: string; at: number } | null;
}

/** The step after `step` of a received message's escalation, and when it is due; null after the last. */
function following(row: DeadlinesTable, step: string): { step: string; at: number } | null {
  const i = ESCALATION.findIndex((s) => s.step === step);
  const next = i < 0 ? undefined : ESCALATION[i + 1];
  if (next === undefined) return null;
  return { step: next.step, at: Number(row.sent_at) + Math.round((Number(row.due_at) - Number(row.sent_at)) * next.at) };
}

/**
 * Moves each step's deadline forward, compare-and-set per row in one UPDATE: a row moves only if
 * its `next_step` is still the one read (`next_step = CASE message_id WHEN ... END`); the ids of
 * those that moved. On PostgreSQL the round holds the rows' locks (FOR UPDATE), on SQLite the
 * store's single writer: the compare still guards the step's decided-once rule on its own.
 */
async function advance(trx: Trx, steps: readonly Step[]): Promise<Set<string>> {
  if (steps.length === 0) return new Set();
  const byId = (pick: (s: Step) => string | number | null, type: 'text' | 'bigint') =>
    sql`case ${sql.ref('message_id')} ${sql.join(steps.map((s) => sql`when ${s.row.message_id} then cast(${pick(s)} as ${sql.raw(type)})`), sql` `)} end`;
  const moved = await trx.updateTable('deadlines')
    .set({ next_step: byId((s) => s.next?.step ?? null, 'text') as never, next_at: byId((s) => s.next?.at ?? null, 'bigint') as never })
    .where('message_id', 'in', steps.map((s) => s.row.message_id))
    .where(sql<boolean>`${sql.ref('next_step')} = ${byId((s) => s.step, 'text')}`)
    .returning('message_id').execute();
  return new Set(moved.map((r) => r.message_id));
}

/**
 * Decides one round in the caller's transaction: claims up to `limit` due deadlines (all their
 * columns; FOR UPDATE SKIP LOCKED on PostgreSQL), moves them forward (compare-and-set), and
 * queues each decided step's notification. A handful of statements whatever the round's size:
 * the messages, short ids, red readers' contacts and stored sinks are read once for the round,
 * the rota once per channel (at the round's `now`), the notifications and deliveries inserted
 * in multi-row INSERTs. Returns the steps decided, in due order, and whether another round at
 * `now` may find more: the round was full, or a step it decided is followed by one already due.
 * (Otherwise what is left due now is claimed by another process, which decides it; what comes
 * due later, or is stored meanwhile, is the next pass's: a stored message wakes the loop.)
 * `yieldEvery`: let the event loop run after every so many alerts rendered, inside the transaction
 * (PostgreSQL only: on SQLite the open transaction would hold the store's one writer meanwhile).
 */
export async function decideRound(trx: Trx, deps: RoundDeps, o: { now: number; limit: number; postgres: boolean; yieldEvery?: number }): Promise<{ fired: Decided[]; more: boolean }> {
  const { now } = o;
  let q = trx.selectFrom('deadlines').selectAll().where('next_at', '<=', now)
    .orderBy('next_at').orderBy('message_id').limit(o.limit);
  if (o.postgres) q = q.forUpdate().skipLocked();
  const due = await q.execute();
  const steps: Step[] = [];
  for (const row of due) {
    if (row.next_step === null || row.next_at === null || Number(row.next_at) > now) continue;
    steps.push({ row, step: row.next_step, next: row.direction === 'in' ? following(row, row.next_step) : null });
  }
  const moved = await advance(trx, steps);
  const fired = steps.filter((s) => moved.has(s.row.message_id));
  const more = due.length >= o.limit || fired.some((s) => s.next !== null && s.next.at <= now);
  if (fired.length === 0) return { fired: [], more };

  const ids = fired.map((s) => s.row.message_id);
  const messages = await alertedMessages(trx, ids);
  const shortIds = await shortMessageIdEach(trx, ids);
  // Who is paged: for TLP:RED only those who may read it (its recipients, or its writer), through
  // their linked contacts, never an on-duty officer who cannot; else whoever holds the position now.
  const readersOf = (s: Step): string[] | null => messages.get(s.row.message_id)?.redReaders ?? null;
  const rotas = new Map<string, RotaStep[]>();
  for (const s of fired) {
    if (readersOf(s) !== null || rotas.has(s.row.channel)) continue;
    rotas.set(s.row.channel, await rotaFor(trx, deps.party, s.row.channel, { at: now, timeZone: deps.timeZone ?? 'UTC' }));
  }
  const red = fired.filter((s) => readersOf(s) !== null);
  const redContacts = await contactsOfUsers(trx, deps.party, red.map((s) => s.row.channel), red.flatMap((s) => readersOf(s)!));

  const settings = deps.alerts ?? DEFAULT_ALERT_SETTINGS;
  const notifications: Notification[] = [];
  const decided: Decided[] = [];
  for (const [i, s] of fired.entries()) {
    // Rendering holds the event loop (0.1-0.2 ms an alert): let requests in between slices.
    if (o.yieldEvery !== undefined && i > 0 && i % o.yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
    const { row, step } = s;
    const id = row.message_id;
    const readers = readersOf(s);
    const position = row.direction === 'in' ? ESCALATION.find((e) => e.step === step)?.position ?? null : 'primary';
    const rota = readers !== null ? [] : rotas.get(row.channel) ?? [];
    const holder: RotaStep | undefined = rota.find((r) => r.position === position);
    const contact = holder === undefined ? null : {
      id: holder.contact.id, name: holder.contact.name, function: holder.contact.function, phone: holder.contact.phone, email: holder.contact.email,
    };
    // What the alert says (in the node's language: deadlines.alerts.ts); the facts stay beside it for machines.
    const { alert, short_id, tlp, sender } = alertOf(row, messages.get(id), shortIds.get(id), { step, contact }, settings);
    const paged = readers === null ? [] : redContacts.filter((c) => c.channel === row.channel && c.user !== null && readers.includes(c.user));
    const payload: Omit<NotificationPayload, 'id'> = {
      type: row.direction === 'in' ? 'hotline.escalation' : 'hotline.overdue',
      node: deps.party, message_id: id, short_id, case: row.case_id, kind: row.kind, priority: row.priority, channel: row.channel, tlp,
      from: row.direction === 'in' ? row.peer : deps.party, to: row.direction === 'in' ? deps.party : row.peer, sender,
      sent_at: isoTime(Number(row.sent_at)), due_at: isoTime(Number(row.due_at)),
      step: step === OVERDUE_STEP ? OVERDUE_STEP : Number(step), position: holder === undefined ? null : position,
      contact, decided_at: isoTime(now), alert,
      ...(readers === null ? {} : { recipients: readers }),
    };
    notifications.push({
      message_id: id, step, payload: payload as unknown as Record<string, unknown>, subject: alert.subject,
      targets: {
        webhook: holder?.notify?.webhook ?? null, email: holder?.notify?.email ?? holder?.contact.email ?? null,
        emails: paged.flatMap((c) => (c.email === null ? [] : [c.email])),
      },
    });
    decided.push({ log: { message: id, step, position, contact: holder?.contact.id ?? null }, what: row.direction === 'in' ? 'escalation step decided' : 'overdue alert decided' });
  }
  await notifyMany({ db: trx, clock: deps.clock, notify: deps.notify }, notifications);
  return { fired: decided, more };
}
