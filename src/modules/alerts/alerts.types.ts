/** How this node words its alerts: `language`, `time_zone` and `public_url` in hotline.json. */
export interface AlertSettings {
  readonly language: string;
  /** An IANA time zone name; due times are shown in UTC and in it. */
  readonly timeZone: string;
  /** The console's base URL; alerts link to `<publicUrl>/messages/<id>`. Null: no link. */
  readonly publicUrl: string | null;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = Object.freeze({ language: 'en', timeZone: 'UTC', publicUrl: null });

/** One labelled line of an alert, in the node's language. */
export interface AlertLine {
  label: string;
  value: string;
}

/**
 * What a person reads, in the node's language: decided by the domain (alerts.render.ts), carried
 * by every sink (the webhook's `alert` member, the e-mail's text and HTML parts, the Slack text).
 * Documented by docs/alerts.schema.json.
 */
export interface Alert {
  /** The language it is written in (the node's `language`). */
  language: string;
  time_zone: string;
  /** One line: the e-mail's subject. */
  subject: string;
  /** One sentence: what happened. */
  headline: string;
  /** Priority, sender, kind, channel, case, due times (UTC and the node's zone), who was paged. */
  facts: AlertLine[];
  /** The message's rendered template fields and free text; for TLP:RED only "a TLP:RED message for <recipients>". */
  content: AlertLine[];
  /** What to do, one instruction a line ("acknowledge: hotline ack 01a2467f", the console link). */
  todo: string[];
  /** The command that acknowledges it, when a person here acknowledges it. */
  ack_command: string | null;
  /** The console link (`<public_url>/messages/<id>`), when `public_url` is set. */
  url: string | null;
  /** All of the above as plain text: the e-mail's text part and the Slack message. */
  text: string;
}

/** A message as an alert speaks of it. */
export interface AlertMessage {
  id: string;
  /** The shortest unique prefix of `id` (at least 8 characters): what a person types. */
  short_id: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  /** The user who wrote it (`body.sender`), when recorded. */
  sender: string | null;
  kind: string;
  priority: string;
  channel: string;
  case: string;
  tlp: string;
  /** TLP:RED: who may read it. */
  recipients: string[] | null;
  /** The body (template fields and text); not read for TLP:RED. */
  body: unknown;
  due_at: number;
}
