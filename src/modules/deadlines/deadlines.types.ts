import { isAbsolute, join } from 'node:path';
import type { Kysely } from 'kysely';
import { fail } from '../../shared/errors.js';
import type { DirectoryTables } from '../directory/directory.tables.js';
import type { Position } from '../directory/directory.types.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { DeadlinesTables } from './deadlines.tables.js';
import type { Alert } from '../alerts/alerts.types.js';
import type { AlertsTables } from '../alerts/alerts.tables.js';

/**
 * The escalation of a received message: step 0 notifies the primary at once, step 1 the backup
 * at half the deadline, step 2 the supervisor at the deadline. `at` is the fraction of the deadline.
 */
export const ESCALATION: readonly { step: string; position: Position; at: number }[] = [
  { step: '0', position: 'primary', at: 0 },
  { step: '1', position: 'backup', at: 0.5 },
  { step: '2', position: 'supervisor', at: 1 },
];

/** The one step of a sent message: our own alert when the peer has not acknowledged it in time. */
export const OVERDUE_STEP = 'overdue';

/** Where notifications go besides the rota's own targets (`notify` in hotline.json). */
export interface NotifyConfig {
  readonly webhook?: { readonly url: string };
  /** An SMTP relay: e-mail goes to the rota position's address. */
  readonly smtp?: SmtpConfig;
}

/**
 * `notify.smtp`: STARTTLS is used whenever the relay offers it (`require_tls`: refuse to send
 * without it); `secure`: TLS from the first byte (default for port 465). With `user`, the
 * password is read at start from `password_file` (relative to the home) or the environment
 * variable named by `password_env`, never from hotline.json itself, and never logged.
 */
export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly from: string;
  readonly secure?: boolean;
  readonly requireTls?: boolean;
  readonly auth?: { readonly user: string; readonly passwordFile?: string; readonly passwordEnv?: string };
  /** PEM file of CA certificates trusted for the relay besides the system's (a private relay's own CA). */
  readonly caFile?: string;
}

const SMTP_KEYS = ['host', 'port', 'from', 'secure', 'require_tls', 'user', 'password_file', 'password_env', 'ca_file'];

function parseSmtp(raw: unknown, home: string): SmtpConfig {
  const bad = (m: string): never => fail('config_invalid', m);
  const s = raw as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || typeof s.host !== 'string' || s.host === '' || !Number.isInteger(s.port)
    || (s.port as number) < 1 || (s.port as number) > 65535 || typeof s.from !== 'string' || !EMAIL.test(s.from)) {
    bad('"notify.smtp" must be { "host": string, "port": 1..65535, "from": an e-mail address }');
  }
  for (const k of Object.keys(s!)) if (!SMTP_KEYS.includes(k)) bad(`"notify.smtp.${k}" is not a setting; known: ${SMTP_KEYS.join(', ')}`);
  const out: { -readonly [K in keyof SmtpConfig]: SmtpConfig[K] } = { host: s!.host as string, port: s!.port as number, from: s!.from as string };
  for (const [k, key] of [['secure', 'secure'], ['require_tls', 'requireTls']] as const) {
    if (s![k] === undefined) continue;
    if (typeof s![k] !== 'boolean') bad(`"notify.smtp.${k}" must be true or false`);
    out[key] = s![k] as boolean;
  }
  const text = (k: string): string | undefined => (s![k] === undefined ? undefined : typeof s![k] === 'string' && s![k] !== '' ? (s![k] as string) : bad(`"notify.smtp.${k}" must be a non-empty string`));
  const resolve = (p: string): string => (isAbsolute(p) ? p : join(home, p));
  const user = text('user');
  const passwordFile = text('password_file');
  const passwordEnv = text('password_env');
  if (user === undefined && (passwordFile !== undefined || passwordEnv !== undefined)) bad('"notify.smtp.password_file" and "password_env" need "notify.smtp.user"');
  if (user !== undefined) {
    if ((passwordFile === undefined) === (passwordEnv === undefined)) bad('"notify.smtp.user" needs exactly one of "password_file" (a file holding the password) or "password_env" (the name of an environment variable holding it)');
    out.auth = Object.freeze({ user, ...(passwordFile === undefined ? {} : { passwordFile: resolve(passwordFile) }), ...(passwordEnv === undefined ? {} : { passwordEnv }) });
  }
  const caFile = text('ca_file');
  if (caFile !== undefined) out.caFile = resolve(caFile);
  return Object.freeze(out);
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/** Validates the `notify` section of hotline.json; every problem names the field. Relative paths are taken from `home`. */
export function parseNotifyConfig(raw: unknown, home = '.'): NotifyConfig {
  const bad = (m: string): never => fail('config_invalid', m);
  if (raw === undefined) return Object.freeze({});
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('"notify" must be an object: { "webhook"?: { "url" }, "smtp"?: { "host", "port", "from" } }');
  const n = raw as Record<string, unknown>;
  for (const k of Object.keys(n)) if (k !== 'webhook' && k !== 'smtp') bad(`"notify.${k}" is not a setting; known: webhook, smtp`);
  const out: { webhook?: { url: string }; smtp?: SmtpConfig } = {};
  if (n.webhook !== undefined) {
    const w = n.webhook as { url?: unknown } | null;
    const url = typeof w === 'object' && w !== null && typeof w.url === 'string' ? w.url : bad('"notify.webhook" must be { "url": "http(s)://..." }');
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) bad(`"notify.webhook.url" must be an http(s) URL (got "${url}")`);
    out.webhook = Object.freeze({ url });
  }
  if (n.smtp !== undefined) out.smtp = parseSmtp(n.smtp, home);
  return Object.freeze(out);
}

/** The contact a step notifies, as sinks are told of it (no internal notify targets). */
export interface NotifiedContact {
  id: string;
  name: string;
  function: string;
  phone: string | null;
  email: string | null;
}

/** What a sink receives for an escalation step or an overdue alert (the webhook's JSON body; docs/alerts.schema.json). */
export interface NotificationPayload {
  type: 'hotline.escalation' | 'hotline.overdue';
  /** The notification's id: the same on every retry (also the webhook's Idempotency-Key). */
  id: string;
  node: string;
  message_id: string;
  /** The shortest unique prefix of `message_id`: what `hotline ack` takes. */
  short_id: string;
  case: string;
  kind: string;
  priority: string;
  channel: string;
  tlp: string;
  from: string;
  to: string;
  /** The user who wrote the message, when recorded. */
  sender: string | null;
  sent_at: string;
  due_at: string;
  /** 0, 1, 2 (escalation of a received message) or "overdue" (a sent one). */
  step: number | 'overdue';
  position: Position | null;
  contact: NotifiedContact | null;
  decided_at: string;
  /** What a person reads, in the node's language (alerts.types.ts). */
  alert: Alert;
  /** TLP:RED only: the users paged (who may read it: its recipients, or its writer); `position` and `contact` are then null. */
  recipients?: string[];
}

/** One step fired for a message, as `show` lists it. */
export interface FiredStep {
  step: string;
  position: Position | null;
  contact: string | null;
  at: string;
  /**
   * Per sink: its state (pending, sent, failed) and attempts for everyone who may see the message;
   * `target` (a webhook URL carries its secret; an e-mail address) and `last_error` for
   * administrators only (deadlines.service `deadlineOf` with `as`).
   */
  deliveries: { sink: string; target?: string; state: string; attempts: number; last_error?: string | null }[];
}

/** A message's acknowledgement deadline as `hotline show` and GET /api/v1/messages/:id show it. */
export interface DeadlineView {
  due_at: string;
  acknowledged_at: string | null;
  overdue: boolean;
  /** How late (ms) it is or was acknowledged; null while not yet due. */
  late_ms: number | null;
  next_step: string | null;
  next_at: string | null;
  steps: FiredStep[];
}

/** One row of `hotline overdue` / GET /api/v1/overdue: a sent message still unacknowledged past its due time. */
export interface OverdueItem {
  message_id: string;
  case: string;
  peer: string;
  kind: string;
  channel: string;
  priority: string;
  sent_at: string;
  due_at: string;
  late_ms: number;
  /** Whether the overdue alert has been decided (queued to the sinks). */
  alerted: boolean;
}

/** The store as this module needs it. */
export type DeadlinesDb = Kysely<DeadlinesTables> & Kysely<FederationTables> & Kysely<DirectoryTables> & Kysely<AlertsTables>;
