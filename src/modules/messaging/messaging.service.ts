import type { Kysely } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { normaliseLink } from '../federation/federation.links.js';
import { enqueue, type OutboxDeps } from '../federation/federation.outbox.js';
import type { FederationTables, LinksTable, MessagesTable } from '../federation/federation.tables.js';
import { CHANNELS, KINDS, PRIORITIES, TLPS, type Channel, type Envelope, type Kind, type Priority, type Receipt, type Tlp } from '../federation/federation.types.js';

/** What a person sends with `hotline send` or POST /api/v1/messages. */
export interface SendInput {
  to: string;
  channel: string;
  kind: string;
  priority: string;
  tlp: string;
  text: string;
  lang?: string;
  case?: string;
  in_reply_to?: string;
}

export type DeliveryState = 'queued' | 'retrying' | 'delivered';

export interface MessageView {
  id: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  seq: number;
  kind: string;
  channel: string;
  priority: string;
  tlp: string;
  case: string;
  in_reply_to: string | null;
  sent_at: string;
  stored_at: string;
  text: string | null;
  /** Outbound: queued (never tried), retrying (with next attempt and last error), delivered. */
  state: DeliveryState | 'received';
  attempts?: number;
  next_attempt_at?: string | null;
  last_error?: string | null;
  receipt: Receipt | null;
  receipted_at: string | null;
}

function oneOf<T extends string>(list: readonly T[], value: string, what: string, code: 'unknown_kind' | 'unknown_channel' | 'unknown_priority' | 'unknown_tlp'): T {
  if (!(list as readonly string[]).includes(value)) fail(code, `Unknown ${what} "${value}"; use one of: ${list.join(', ')}`);
  return value as T;
}

/** Validates a person's input, then queues it durably; returns the signed envelope. */
export async function send(deps: OutboxDeps, input: SendInput): Promise<Envelope> {
  const kind = oneOf<Kind>(KINDS, input.kind, 'kind', 'unknown_kind');
  const channel = oneOf<Channel>(CHANNELS, input.channel, 'channel', 'unknown_channel');
  const priority = oneOf<Priority>(PRIORITIES, input.priority, 'priority', 'unknown_priority');
  const tlp = oneOf<Tlp>(TLPS, input.tlp, 'TLP', 'unknown_tlp');
  if (typeof input.text !== 'string' || input.text.trim() === '') fail('invalid_argument', 'The message text is empty; say what you need to say with --text');
  if (input.case !== undefined && !isUuid(input.case)) fail('invalid_argument', `--case must be a case id (a UUID), not "${input.case}"`);
  if (input.in_reply_to !== undefined && !isUuid(input.in_reply_to)) fail('invalid_argument', `--in-reply-to must be a message id (a UUID)`);
  const body: Record<string, unknown> = { text: input.text };
  if (input.lang !== undefined) body.lang = input.lang;
  return enqueue(deps, {
    to: input.to, kind, channel, priority, tlp, body,
    ...(input.case === undefined ? {} : { case: input.case }),
    ...(input.in_reply_to === undefined ? {} : { in_reply_to: input.in_reply_to }),
  });
}

function view(row: MessagesTable, link: LinksTable | undefined): MessageView {
  const env = JSON.parse(row.envelope) as Envelope;
  const receipt = row.receipt === null ? null : (JSON.parse(row.receipt) as Receipt);
  const base: MessageView = {
    id: row.id, direction: row.direction, from: row.from_party, to: row.to_party, seq: Number(row.seq), kind: row.kind,
    channel: row.channel, priority: row.priority, tlp: row.tlp, case: row.case_id, in_reply_to: row.in_reply_to,
    sent_at: row.sent_at, stored_at: isoTime(Number(row.stored_at)), text: typeof env.body.text === 'string' ? env.body.text : null,
    state: 'received', receipt, receipted_at: row.receipted_at === null ? null : isoTime(Number(row.receipted_at)),
  };
  if (row.direction === 'in') return base;
  if (receipt !== null) return { ...base, state: 'delivered' };
  const attempts = link?.attempts ?? 0;
  return {
    ...base,
    state: attempts > 0 ? 'retrying' : 'queued',
    attempts,
    next_attempt_at: link?.next_attempt_at == null ? null : isoTime(link.next_attempt_at),
    last_error: link?.last_error ?? null,
  };
}

export interface ListOptions {
  limit?: number;
  channels?: readonly string[];
}

/** Messages of one direction, newest first. */
export async function list(db: Kysely<FederationTables>, direction: 'in' | 'out', opts: ListOptions = {}): Promise<MessageView[]> {
  let q = db.selectFrom('messages').selectAll().where('direction', '=', direction);
  if (opts.channels !== undefined) q = q.where('channel', 'in', [...opts.channels]);
  const rows = await q.orderBy('stored_at', 'desc').orderBy('id', 'desc').limit(Math.min(opts.limit ?? 50, 1000)).execute();
  const links = await linksFor(db, rows);
  return rows.map((r) => view(r, links.get(`${r.from_party}>${r.to_party}`)));
}

export async function show(db: Kysely<FederationTables>, id: string): Promise<{ message: MessageView; envelope: Envelope }> {
  if (!isUuid(id)) fail('invalid_argument', `"${id}" is not a message id (a UUID)`);
  const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) fail('not_found', `No message ${id} on this node`);
  const links = await linksFor(db, [row]);
  return { message: view(row, links.get(`${row.from_party}>${row.to_party}`)), envelope: JSON.parse(row.envelope) as Envelope };
}

async function linksFor(db: Kysely<FederationTables>, rows: readonly MessagesTable[]): Promise<Map<string, LinksTable>> {
  const out = new Map<string, LinksTable>();
  const outbound = [...new Set(rows.filter((r) => r.direction === 'out').map((r) => r.to_party))];
  if (outbound.length === 0) return out;
  const self = rows.find((r) => r.direction === 'out')!.from_party;
  const links = await db.selectFrom('links').selectAll().where('from_party', '=', self).where('to_party', 'in', outbound).execute();
  for (const l of links) out.set(`${l.from_party}>${l.to_party}`, normaliseLink(l));
  return out;
}
