import type { Kysely } from 'kysely';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { redactUrls } from '../../shared/redact.js';
import type { AlertsTables, SinksTable } from './alerts.tables.js';

export const SINK_TYPES = ['webhook', 'email'] as const;
export type SinkType = (typeof SINK_TYPES)[number];
export const WEBHOOK_FORMATS = ['standard', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A sink as the delivery needs it, secret included: never print or log it. */
export interface Sink {
  name: string;
  type: SinkType;
  target: string;
  secret: string | null;
  format: WebhookFormat | 'email';
}

/** A sink as it is shown (`sink list`, GET): the URL without its secrets, whether it signs, never the secret. */
export interface SinkView {
  name: string;
  type: SinkType;
  /** The e-mail address, or the webhook URL with its credentials, query and (for Slack-style URLs, which carry the token in the path) path hidden. */
  target: string;
  format: WebhookFormat | 'email';
  signed: boolean;
  created_at: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/**
 * Checks a Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. Returns the
 * key bytes. The message never repeats the secret.
 */
export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith('whsec_') ? secret.slice(6) : null;
  const key = b64 !== null && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : null;
  if (key === null || key.length < 24 || key.length > 64) {
    fail('invalid_argument', 'The webhook secret must be "whsec_" followed by the base64 of 24 to 64 random bytes (Standard Webhooks), e.g. whsec_$(openssl rand -base64 32)');
  }
  return key;
}

function checkUrl(url: string): void {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) fail('invalid_argument', `A webhook sink needs an http(s) URL (got "${redactUrls(url)}")`);
}

/** The target as shown: an address as is; a URL without credentials and query, and for Slack-style sinks without its path (the token is there). */
export function shownTarget(s: Pick<Sink, 'type' | 'target' | 'format'>): string {
  if (s.type === 'email') return s.target;
  if (s.format === 'slack') {
    try {
      return `${new URL(s.target).origin}/***`;
    } catch {
      return '***';
    }
  }
  return redactUrls(s.target);
}

function toSink(r: SinksTable): Sink {
  return { name: r.name, type: r.type as SinkType, target: r.target, secret: r.secret, format: r.format as Sink['format'] };
}

function toView(r: SinksTable): SinkView {
  const s = toSink(r);
  return { name: s.name, type: s.type, target: shownTarget(s), format: s.format, signed: s.secret !== null, created_at: isoTime(Number(r.created_at)) };
}

/** What `sink add` gives. */
export interface SinkInput {
  type: string;
  target: string;
  name?: string;
  secret?: string;
  format?: string;
}

/** The default name of a sink: the webhook's host, or the e-mail address. */
function defaultName(type: SinkType, target: string): string {
  const base = type === 'email' ? target : new URL(target).hostname;
  return base.replace(/[^A-Za-z0-9._@-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || type;
}

/**
 * Adds a sink. A webhook needs an http(s) URL and, in the standard format, a secret (`whsec_...`)
 * its receiver verifies signatures with; `slack` posts `{"text"}` (the secret is optional: Slack
 * does not check it). An e-mail sink needs an address (and `notify.smtp` in hotline.json to send).
 * A name in use is `sink_exists`.
 */
export async function addSink(db: Kysely<AlertsTables>, clock: Clock, input: SinkInput): Promise<SinkView> {
  if (!(SINK_TYPES as readonly string[]).includes(input.type)) fail('invalid_argument', `Unknown sink type "${input.type}"; use one of: ${SINK_TYPES.join(', ')}`);
  const type = input.type as SinkType;
  let format: Sink['format'] = 'email';
  if (type === 'webhook') {
    checkUrl(input.target);
    format = (input.format ?? 'standard') as WebhookFormat;
    if (!(WEBHOOK_FORMATS as readonly string[]).includes(format)) fail('invalid_argument', `Unknown webhook format "${input.format ?? ''}"; use one of: ${WEBHOOK_FORMATS.join(', ')}`);
    if (input.secret !== undefined) secretKey(input.secret);
    else if (format === 'standard') fail('invalid_argument', 'A webhook sink signs what it posts (Standard Webhooks): give --secret whsec_<base64 of 24 to 64 random bytes>, the secret its receiver verifies with (or --format slack for a Slack, Mattermost or Rocket.Chat incoming webhook)');
  } else {
    if (!EMAIL.test(input.target)) fail('invalid_argument', `"${input.target}" is not an e-mail address`);
    if (input.secret !== undefined) fail('invalid_argument', '--secret is for webhook sinks; an e-mail sink has none');
    if (input.format !== undefined) fail('invalid_argument', '--format is for webhook sinks');
  }
  const name = input.name ?? defaultName(type, input.target);
  if (!NAME.test(name)) fail('invalid_argument', `A sink name is 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit (got "${name}")`);
  const row: SinksTable = { name, type, target: input.target, secret: input.secret ?? null, format, created_at: clock.now() };
  const r = await db.insertInto('sinks').values(row).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 0) fail('sink_exists', `A sink named "${name}" exists; remove it first (hotline sink remove ${name}) or choose another --name`);
  return toView(row);
}

export async function listSinks(db: Kysely<AlertsTables>): Promise<SinkView[]> {
  return (await db.selectFrom('sinks').selectAll().orderBy('name').execute()).map(toView);
}

/** Removes a sink; its queued deliveries fail (the sink is gone). `not_found` when there is none. */
export async function removeSink(db: Kysely<AlertsTables>, name: string): Promise<SinkView> {
  const row = await db.selectFrom('sinks').selectAll().where('name', '=', name).executeTakeFirst();
  if (row === undefined) fail('not_found', `No sink named "${name}"; hotline sink list shows them`);
  await db.deleteFrom('sinks').where('name', '=', name).execute();
  return toView(row);
}

/** One sink with its secret, for delivering to it; undefined when there is none. */
export async function getSink(db: Kysely<AlertsTables>, name: string): Promise<Sink | undefined> {
  const row = await db.selectFrom('sinks').selectAll().where('name', '=', name).executeTakeFirst();
  return row === undefined ? undefined : toSink(row);
}

/** The names and types of every sink: each notification is queued to all of them. */
export async function sinkNames(db: Kysely<AlertsTables>): Promise<{ name: string; type: SinkType }[]> {
  return (await db.selectFrom('sinks').select(['name', 'type']).orderBy('name').execute()).map((r) => ({ name: r.name, type: r.type as SinkType }));
}
