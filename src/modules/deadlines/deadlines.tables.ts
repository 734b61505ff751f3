/**
 * The tables of acknowledgement deadlines, escalation and notifications, as Kysely sees them.
 * Times are integer milliseconds since the epoch (this node's clock, except `sent_at`, the
 * envelope's); JSON columns are text. Created by the migration `0005_deadlines` in
 * `adapters/storage/migrations/`.
 */

/**
 * One message that needs a person's acknowledgement (deadlines.types.ts `needsAck`), sent or
 * received, and where its escalation stands. `next_step`/`next_at` say what fires next and when;
 * both are null once the message is acknowledged or every step has fired.
 */
export interface DeadlinesTable {
  message_id: string;
  /** `in`: received (escalate to our officers); `out`: sent (alert us when it is overdue). */
  direction: 'in' | 'out';
  /** The other party: the sender (in) or the recipient (out). */
  peer: string;
  channel: string;
  case_id: string;
  kind: string;
  priority: string;
  /** The envelope's `sent_at` in ms: both ends count the deadline from it. */
  sent_at: number;
  /** `sent_at` plus the deadline agreed with the peer for the priority. */
  due_at: number;
  /** '0' | '1' | '2' (in) or 'overdue' (out); null when nothing more will fire. */
  next_step: string | null;
  next_at: number | null;
  /** When this node stored the acknowledgement (an `ack`, or for a ping its `pong`). */
  acked_at: number | null;
  ack_message_id: string | null;
  created_at: number;
}

/**
 * The notifications outbox: one row per decided step, unique on (message_id, step), inserted in
 * the transaction that decides the step. Other modules (e.g. law reminders) queue theirs here too.
 */
export interface NotificationsTable {
  id: string;
  /** The message (or other subject id) the notification is about. */
  message_id: string;
  step: string;
  /** JSON: what every sink is sent (deadlines.types.ts NotificationPayload for escalation). */
  payload: string;
  created_at: number;
}

/** One sink's delivery of a notification (a webhook URL, an e-mail address): retried until sent. */
export interface NotificationDeliveriesTable {
  notification_id: string;
  /** webhook | email */
  sink: string;
  /** The URL or the e-mail address. */
  target: string;
  /** pending | sent | failed (gave up after the most attempts) */
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  sent_at: number | null;
}

/**
 * What a pair of peers agreed otherwise than templates/ack-policy.json, per kind (deadlines.policy.ts);
 * created by the migration `0011_ack_policy_queue`.
 */
export interface AckPolicyOverridesTable {
  peer: string;
  kind: string;
  /** `person` or `none` (templates.types.ts AckPolicy). */
  policy: string;
  updated_at: number;
}

/** A type alias, not an interface, so that it fits Kysely's `withTables<T>()` constraint. */
export type DeadlinesTables = {
  deadlines: DeadlinesTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  ack_policy_overrides: AckPolicyOverridesTable;
};
