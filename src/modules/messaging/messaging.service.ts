import type { Kysely } from 'kysely';
import { isoTime, parseIsoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { resolveMessageId } from '../federation/federation.ids.js';
import { resolveCaseId } from '../cases/cases.ids.js';
import { outboundLinks } from '../federation/federation.links.js';
import { latestMessages, messageById, messagesFields, messagesOfCase } from '../federation/federation.messages.js';
import { enqueue, type Draft, type OutboxDeps } from '../federation/federation.outbox.js';
import type { FederationTables, LinksTable, MessagesTable } from '../federation/federation.tables.js';
import { CHANNELS, KINDS, PRIORITIES, TLPS, type Channel, type Envelope, type Kind, type Priority, type Receipt, type Tlp } from '../federation/federation.types.js';
import { requireChannel } from '../users/users.access.js';
import type { Principal } from '../users/users.types.js';
import { refuseNodeKind } from './messaging.kinds.js';
import { checkRedRecipients, readableEnvelope, readableView, recipientsOf, senderOf } from './messaging.visibility.js';
import { composeBody } from '../templates/templates.service.js';
import type { CasesTables } from '../cases/cases.tables.js';
import type { Acknowledged } from '../cases/cases.types.js';
import { recordAuditNow } from '../audit/audit.service.js';
import { acksOf } from '../cases/cases.acks.js';

/** What a person sends with `hotline send` or POST /api/v1/messages. */
export interface SendInput {
  to: string;
  channel: string;
  kind: string;
  priority: string;
  tlp: string;
  /** Free text in the writer's language; whether it is required is the kind's template's call. */
  text?: string;
  /** The template's fields (templates/<kind>.json), put in the body as `fields`. */
  fields?: Record<string, unknown>;
  lang?: string;
  case?: string;
  in_reply_to?: string;
  /** TLP:RED only, and required for it: user names at the receiving node who may read it. */
  recipients?: readonly string[];
}

/**
 * Outbound delivery: queued (never tried), retrying, delivered; `suspended` while its peer is
 * suspended (delivered on resume); `removed` when its peer was removed before a receipt came (kept
 * as evidence, never transmitted: protocol section 3.3).
 */
export type DeliveryState = 'queued' | 'retrying' | 'delivered' | 'suspended' | 'removed';

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
  /** The template's field values (`body.fields`), or null when the body has none. */
  fields?: Record<string, unknown> | null;
  /** Outbound: queued (never tried), retrying (with next attempt and last error), delivered. */
  state: DeliveryState | 'received';
  attempts?: number;
  next_attempt_at?: string | null;
  last_error?: string | null;
  receipt: Receipt | null;
  receipted_at: string | null;
  /**
   * A person's acknowledgement (an `ack` message), never to be confused with the node's receipt:
   * for a message this node sent, the peer's officer; for one it received, this node's. The first counts.
   */
  acknowledged: Acknowledged | null;
  /** The user who wrote it (`body.sender`), when recorded. */
  sender: string | null;
  /** TLP:RED: the user names at the receiving node who may read it (`body.recipients`). */
  recipients: string[] | null;
  /** Set when the body is withheld from the reader (TLP:RED, not a named recipient): says who may read it. */
  redacted?: string;
}

function oneOf<T extends string>(list: readonly T[], value: string, what: string, code: 'unknown_kind' | 'unknown_channel' | 'unknown_priority' | 'unknown_tlp'): T {
  if (!(list as readonly string[]).includes(value)) fail(code, `Unknown ${what} "${value}"; use one of: ${list.join(', ')}`);
  return value as T;
}

/**
 * The generic send (`hotline send`, POST /api/v1/messages, and replies): refuses a kind only the
 * node emits (`reserved_kind`, messaging.kinds.ts), then {@link compose}.
 */
export async function send(deps: OutboxDeps, input: SendInput, as?: Principal): Promise<Envelope> {
  refuseNodeKind(input.kind);
  return compose(deps, input, as);
}

/**
 * Validates a person's input, then queues it durably; returns the signed envelope. With `as`
 * (the REST caller or the CLI's user), refuses a channel it does not hold (`forbidden`) and
 * records it as `body.sender`. Any kind: only the commands that emit a node-only kind (ack,
 * close) call it directly; everything a caller types goes through {@link send}.
 */
export async function compose(deps: OutboxDeps, input: SendInput, as?: Principal): Promise<Envelope> {
  return enqueue(deps, await draftOf(deps, input, as));
}

/**
 * The draft {@link compose} queues, checked (the person's input, the channel wall, TLP:RED
 * recipients) but not stored: a caller that queues several messages in one transaction (a reply
 * and the ack of the message it answers) passes the drafts to the outbox's `enqueueIn`.
 */
export async function draftOf(deps: Pick<OutboxDeps, 'db'>, input: SendInput, as?: Principal): Promise<Draft> {
  const kind = oneOf<Kind>(KINDS, input.kind, 'kind', 'unknown_kind');
  const channel = oneOf<Channel>(CHANNELS, input.channel, 'channel', 'unknown_channel');
  if (as !== undefined) requireChannel(as, channel);
  const priority = oneOf<Priority>(PRIORITIES, input.priority, 'priority', 'unknown_priority');
  const tlp = oneOf<Tlp>(TLPS, input.tlp, 'TLP', 'unknown_tlp');
  if (input.text !== undefined && (typeof input.text !== 'string' || input.text.trim() === '')) fail('invalid_argument', 'The message text is empty; say what you need to say with --text');
  if (input.fields !== undefined && (typeof input.fields !== 'object' || input.fields === null || Array.isArray(input.fields))) {
    fail('invalid_argument', 'The fields must be an object of field values, e.g. {"confidence": "high"}');
  }
  // A short id (a unique prefix, shared/shortid.ts) names a case or message on this node; a whole id is taken as it is.
  const caseId = input.case === undefined ? undefined : await resolveCaseId(deps.db as unknown as Kysely<CasesTables>, input.case, as?.channels);
  const inReplyTo = input.in_reply_to === undefined ? undefined : await resolveMessageId(deps.db, input.in_reply_to, as?.channels);
  // { template, fields, text, lang } (templates.service.ts); the templates hook checks it when it is queued.
  const body = composeBody(kind, {
    ...(input.fields === undefined ? {} : { fields: input.fields }),
    ...(input.text === undefined ? {} : { text: input.text }),
    ...(input.lang === undefined ? {} : { lang: input.lang }),
  });
  if (as !== undefined) body.sender = as.user;
  if (input.recipients !== undefined) {
    if (tlp !== 'red') fail('invalid_argument', `Recipients restrict TLP:RED messages only; this one is TLP:${tlp.toUpperCase()}, which every user holding channel "${channel}" reads`);
    body.recipients = [...input.recipients];
  }
  checkRedRecipients(tlp, body);
  return {
    to: input.to, kind, channel, priority, tlp, body,
    ...(as?.via === undefined ? {} : { actor: as.via }),
    ...(caseId === undefined ? {} : { case: caseId }),
    ...(inReplyTo === undefined ? {} : { in_reply_to: inReplyTo }),
  };
}

/** A link with its peer's lifecycle (federation.peers.ts), as a message's delivery state needs it. */
type LinkView = LinksTable & { peer_state?: string | null };

function view(row: MessagesTable, link: LinkView | undefined, acknowledged: Acknowledged | null = null): MessageView {
  const env = JSON.parse(row.envelope) as Envelope;
  const receipt = row.receipt === null ? null : (JSON.parse(row.receipt) as Receipt);
  const base: MessageView = {
    id: row.id, direction: row.direction, from: row.from_party, to: row.to_party, seq: Number(row.seq), kind: row.kind,
    channel: row.channel, priority: row.priority, tlp: row.tlp, case: row.case_id, in_reply_to: row.in_reply_to,
    sent_at: row.sent_at, stored_at: isoTime(Number(row.stored_at)), text: typeof env.body.text === 'string' ? env.body.text : null,
    fields: typeof env.body.fields === 'object' && env.body.fields !== null && !Array.isArray(env.body.fields) ? (env.body.fields as Record<string, unknown>) : null,
    sender: senderOf(env.body), recipients: recipientsOf(env.body),
    state: 'received', receipt, receipted_at: row.receipted_at === null ? null : isoTime(Number(row.receipted_at)), acknowledged,
  };
  if (row.direction === 'in') return base;
  if (receipt !== null) return { ...base, state: 'delivered' };
  const attempts = link?.attempts ?? 0;
  // Queued in an epoch that ended (protocol section 4.1): never transmitted, kept as evidence.
  const abandoned = link !== undefined && Number(row.seq) < link.epoch_start_seq;
  const lifecycle = link?.peer_state === 'removed' || abandoned ? 'removed' : link?.peer_state === 'suspended' ? 'suspended' : undefined;
  return {
    ...base,
    state: lifecycle ?? (attempts > 0 ? 'retrying' : 'queued'),
    attempts,
    next_attempt_at: link?.next_attempt_at == null ? null : isoTime(link.next_attempt_at),
    last_error: link?.last_error ?? null,
  };
}

export interface ListOptions {
  limit?: number;
  channels?: readonly string[];
  /** The reader: only its channels are listed, and TLP:RED bodies it may not read are redacted. */
  as?: Principal;
}

/** Messages of one direction, newest first. */
export async function list(db: Kysely<FederationTables>, direction: 'in' | 'out', opts: ListOptions = {}): Promise<MessageView[]> {
  let channels = opts.channels;
  if (opts.as !== undefined) channels = (channels ?? CHANNELS).filter((c) => (opts.as!.channels as readonly string[]).includes(c));
  if (channels !== undefined && channels.length === 0) return [];
  const rows = await latestMessages(db, direction, channels, Math.min(opts.limit ?? 50, 1000));
  return viewsOf(db, rows, opts.as);
}

export async function viewsOf(db: Kysely<FederationTables>, rows: readonly MessagesTable[], as: Principal | undefined): Promise<MessageView[]> {
  const links = await linksFor(db, rows);
  const acks = await acksFor(db, rows.map((r) => r.id));
  const views = rows.map((r) => view(r, links.get(`${r.from_party}>${r.to_party}`), acks.get(r.id) ?? null));
  return as === undefined ? views : views.flatMap((v) => readableView(as, v) ?? []);
}

/**
 * The messages of one case, both directions, in the order this node stored them. With `as`, as
 * {@link list}: only the reader's channels, TLP:RED bodies redacted. The caller checks the case exists.
 */
export async function thread(db: Kysely<FederationTables>, caseId: string, as?: Principal): Promise<MessageView[]> {
  return viewsOf(db, await messagesOfCase(db, caseId), as);
}

/** The first human acknowledgement of each of these messages (recorded by the cases module). */
async function acksFor(db: Kysely<FederationTables>, ids: readonly string[]): Promise<Map<string, Acknowledged>> {
  const out = new Map<string, Acknowledged>();
  if (ids.length === 0) return out;
  // The acks (cases module), then the ack messages' envelopes (federation): two reads, one per owner.
  const rows = await acksOf(db as unknown as Kysely<CasesTables>, ids);
  if (rows.length === 0) return out;
  const envelopes = new Map((await messagesFields(db, rows.map((r) => r.ack_message_id), ['id', 'envelope'])).map((m) => [m.id, m.envelope]));
  for (const r of rows) {
    // Who acknowledged: the display name the ack names, and the user name it records (body.sender) when it does.
    const envelope = envelopes.get(r.ack_message_id);
    const user = envelope === undefined ? null : senderOf((JSON.parse(envelope) as Envelope).body);
    out.set(r.message_id, { officer: r.officer, user, at: isoTime(Number(r.acked_at)), ack_id: r.ack_message_id });
  }
  return out;
}

/**
 * One message with its envelope. With `as`, a message on a channel the reader does not hold is
 * `not_found` (as if it did not exist), and a TLP:RED body it may not read is redacted.
 */
/**
 * Which key signed a message, judged by the key valid when it was signed (federation.keys.ts):
 * `later_revoked` when that key was declared compromised after the message was signed.
 */
export interface SignatureView {
  fingerprint: string | null;
  later_revoked: boolean;
  /** "signed by a key later revoked", a refusal code (key_revoked, key_expired, bad_signature), or null when all is well. */
  note: string | null;
}

async function signatureOf(db: Kysely<FederationTables>, env: Envelope): Promise<SignatureView> {
  const { judgeHistoric, keyHistory, LATER_REVOKED } = await import('../federation/federation.keys.js');
  const { verifyEnvelope } = await import('../federation/federation.envelope.js');
  const v = judgeHistoric(await keyHistory(db, env.from), (k) => verifyEnvelope(env, [k]), parseIsoTime(env.sent_at), env.from);
  if (!v.ok) return { fingerprint: v.key?.fingerprint ?? null, later_revoked: false, note: `${v.code}: ${v.message}` };
  return { fingerprint: v.key.fingerprint, later_revoked: v.laterRevoked, note: v.laterRevoked ? LATER_REVOKED : null };
}

export async function show(db: Kysely<FederationTables>, input: string, as?: Principal): Promise<{ message: MessageView; envelope: Envelope; signature: SignatureView }> {
  const id = await resolveMessageId(db, input, as?.channels);
  const row = await messageById(db, id);
  if (row === undefined) fail('not_found', `No message ${id} on this node`);
  const links = await linksFor(db, [row]);
  const acks = await acksFor(db, [row.id]);
  const message = view(row, links.get(`${row.from_party}>${row.to_party}`), acks.get(row.id) ?? null);
  const envelope = JSON.parse(row.envelope) as Envelope;
  const signature = await signatureOf(db, envelope);
  if (as === undefined) return { message, envelope, signature };
  const readable = readableView(as, message);
  if (readable === undefined) fail('not_found', `No message ${id} on this node`);
  if (readable.tlp === 'red' && readable.redacted === undefined && as.via !== undefined) {
    // A person read a TLP:RED body: the audit trail says who, when and from where (never the body).
    await recordAuditNow(db, {
      actor: as.via, action: 'message.read_red', subject: row.id,
      details: { from: row.from_party, to: row.to_party, channel: row.channel, case: row.case_id, direction: row.direction },
    });
  }
  return { message: readable, envelope: readableEnvelope(as, message, envelope), signature };
}

async function linksFor(db: Kysely<FederationTables>, rows: readonly MessagesTable[]): Promise<Map<string, LinkView>> {
  const out = new Map<string, LinkView>();
  const outbound = [...new Set(rows.filter((r) => r.direction === 'out').map((r) => r.to_party))];
  if (outbound.length === 0) return out;
  const self = rows.find((r) => r.direction === 'out')!.from_party;
  for (const l of await outboundLinks(db, self, outbound)) out.set(`${l.from_party}>${l.to_party}`, l);
  return out;
}

/** What an alert about a stored message says of it (deadlines.alerts.ts), and whom a TLP:RED one pages. */
export interface AlertedMessage {
  from: string;
  to: string;
  tlp: string;
  sender: string | null;
  recipients: string[] | null;
  body: Record<string, unknown>;
  /**
   * Who may read a TLP:RED message's body on this node: its named recipients (received) or its
   * writer (sent); null when the message is not TLP:RED. Escalation pages only them.
   */
  redReaders: string[] | null;
}

/** Messages per read of {@link alertedMessages}. */
const ALERTED_PER_READ = 500;

/**
 * The stored messages a round of escalation steps and overdue alerts speaks of, by id (one read
 * per 500 ids; a message not stored is absent: not TLP:RED as far as paging goes).
 */
export async function alertedMessages(db: Kysely<FederationTables>, ids: readonly string[]): Promise<Map<string, AlertedMessage>> {
  const out = new Map<string, AlertedMessage>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += ALERTED_PER_READ) {
    const rows = await messagesFields(db, unique.slice(i, i + ALERTED_PER_READ), ['id', 'direction', 'from_party', 'to_party', 'tlp', 'envelope']);
    for (const row of rows) {
      const body = (JSON.parse(row.envelope) as Envelope).body;
      const sender = senderOf(body);
      const recipients = recipientsOf(body);
      const redReaders = row.tlp !== 'red' ? null : row.direction === 'in' ? recipients ?? [] : sender === null ? [] : [sender];
      out.set(row.id, { from: row.from_party, to: row.to_party, tlp: row.tlp, sender, recipients, body, redReaders });
    }
  }
  return out;
}
