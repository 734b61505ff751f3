import type { Kysely } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { resolveMessageId } from '../federation/federation.ids.js';
import { resolveCaseId } from './cases.ids.js';
import type { MessagesTable } from '../federation/federation.tables.js';
import { CHANNELS, type Envelope } from '../federation/federation.types.js';
import { compose, draftOf, thread, type MessageView, type SendInput } from '../messaging/messaging.service.js';
import { refuseNodeKind } from '../messaging/messaging.kinds.js';
import { enqueueIn, peersOf, queueLocks, type Draft } from '../federation/federation.outbox.js';
import { lockedTransaction } from '../../shared/serial.js';
import { agreedPolicy, needsAck } from '../deadlines/deadlines.policy.js';
import type { DeadlinesTables } from '../deadlines/deadlines.tables.js';
import { canRead, markedOf, recipientsOf, senderOf } from '../messaging/messaging.visibility.js';
import { holdsChannel } from '../users/users.access.js';
import { whoIs } from '../users/users.service.js';
import { NODE_ADMIN, type Principal } from '../users/users.types.js';
import { CASE_STATES, nextState, statesOf, type CaseState } from './cases.machine.js';
import type { CasesTable } from './cases.tables.js';
import { type AckResult, type CasesDb, type CasesDeps, type CaseView } from './cases.types.js';
import { messageById, messageFields, messagesOfCase } from '../federation/federation.messages.js';

function caseView(r: CasesTable): CaseView {
  return {
    id: r.id, channel: r.channel, peer: r.peer, kind: r.kind, priority: r.priority, state: r.state as CaseState, states: statesOf(r.kind),
    opened_by: r.opened_by, opened_at: isoTime(Number(r.opened_at)), updated_at: isoTime(Number(r.updated_at)), subject: r.subject,
    last_message_id: r.last_message_id, closed_by: r.closed_by, closed_at: r.closed_at === null ? null : isoTime(Number(r.closed_at)),
  };
}

/** Which cases `hotline cases` and GET /api/v1/cases list. */
export interface CaseListOptions {
  state?: string;
  channel?: string;
  /** Only cases with this peer. */
  peer?: string;
  limit?: number;
  /** The reader: only cases on its channels are listed. */
  as?: Principal;
}

/** Cases, most recently active first; filtered by state and channel. */
export async function listCases(db: CasesDb, opts: CaseListOptions = {}): Promise<CaseView[]> {
  if (opts.state !== undefined && !(CASE_STATES as readonly string[]).includes(opts.state)) {
    fail('invalid_argument', `Unknown case state "${opts.state}"; use one of: ${CASE_STATES.join(', ')}`);
  }
  if (opts.channel !== undefined && !(CHANNELS as readonly string[]).includes(opts.channel)) {
    fail('unknown_channel', `Unknown channel "${opts.channel}"; use one of: ${CHANNELS.join(', ')}`);
  }
  const channels = CHANNELS.filter((c) => (opts.as === undefined || holdsChannel(opts.as, c)) && (opts.channel === undefined || c === opts.channel));
  if (channels.length === 0) return [];
  let q = db.selectFrom('cases').selectAll().where('channel', 'in', channels);
  if (opts.state !== undefined) q = q.where('state', '=', opts.state);
  if (opts.peer !== undefined) q = q.where('peer', '=', opts.peer);
  const rows = await q.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(Math.min(Math.max(opts.limit ?? 50, 1), 1000)).execute();
  return rows.map(caseView);
}

/** A case on a channel the reader holds, else `not_found` (a case the reader may not see does not exist for it). */
async function caseFor(db: CasesDb, input: string, as: Principal | undefined): Promise<CasesTable> {
  const id = await resolveCaseId(db, input, as?.channels);
  const row = await db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined || (as !== undefined && !holdsChannel(as, row.channel))) fail('not_found', `No case ${id} on this node; see hotline cases`);
  return row;
}

/** One case and its thread: every message in the order this node stored it, each with its receipt and acknowledgement. */
export async function showCase(db: CasesDb, id: string, as?: Principal): Promise<{ case: CaseView; messages: MessageView[] }> {
  const row = await caseFor(db, id, as);
  return { case: caseView(row), messages: await thread(db, row.id, as) };
}

async function messageFor(db: CasesDb, input: string, as: Principal | undefined): Promise<MessagesTable | undefined> {
  const id = await resolveMessageId(db, input, as?.channels);
  const row = await messageById(db, id);
  return row === undefined || (as !== undefined && !holdsChannel(as, row.channel)) ? undefined : row;
}

/**
 * Who may read a TLP:RED answer to `m` at the peer: the recipients `m` named (ours), or the user
 * who wrote it (theirs). Undefined when unknown: then the sender must name them.
 */
function redRecipients(m: MessagesTable): string[] | undefined {
  const body = (JSON.parse(m.envelope) as Envelope).body;
  if (m.direction === 'out') return recipientsOf(body) ?? undefined;
  const sender = senderOf(body);
  return sender === null ? undefined : [sender];
}

/** What `hotline reply` and POST /api/v1/messages/:id/reply take. */
export interface ReplyInput {
  /** The message answered. */
  id: string;
  text?: string;
  fields?: Record<string, unknown>;
  lang?: string;
  /** Default `response`. */
  kind?: string;
  /** Default: the answered message's. */
  priority?: string;
  tlp?: string;
  recipients?: readonly string[];
  /** false (`--no-ack`): do not acknowledge the message answered. Default true. */
  ack?: boolean;
}

/** A reply and the ack of the message it answers that went with it (null: none was due, or `ack: false`). */
export interface ReplyResult {
  reply: Envelope;
  ack: Envelope | null;
}

/**
 * Answers a message in its case: to the other party, on the same channel, with `in_reply_to`
 * naming it. The cases hook refuses what the case's machine does not allow. Returns the reply.
 */
export async function reply(deps: CasesDeps, input: ReplyInput, as?: Principal): Promise<Envelope> {
  return (await replyTo(deps, input, as)).reply;
}

/**
 * {@link reply}, and: a reply acknowledges the message it answers, as people do. When that
 * message was received, is not acknowledged yet, needs a person's acknowledgement, and the replier
 * may read it, an `ack` naming the replier is queued in the same transaction, just before the
 * reply (both or neither). `ack: false` (`--no-ack`) opts out.
 */
export async function replyTo(deps: CasesDeps, input: ReplyInput, as?: Principal): Promise<ReplyResult> {
  const m = await messageFor(deps.db, input.id, as);
  if (m === undefined) fail('not_found', `No message ${input.id} on this node to reply to; see hotline inbox`);
  const tlp = input.tlp ?? m.tlp;
  const recipients = input.recipients ?? (tlp === 'red' ? redRecipients(m) : undefined);
  const kind = input.kind ?? 'response';
  refuseNodeKind(kind);
  const answer = await draftOf(deps, {
    to: m.direction === 'in' ? m.from_party : m.to_party, channel: m.channel, kind,
    priority: input.priority ?? m.priority, tlp, case: m.case_id, in_reply_to: m.id,
    ...(input.text === undefined ? {} : { text: input.text }),
    ...(input.fields === undefined ? {} : { fields: input.fields }),
    ...(input.lang === undefined ? {} : { lang: input.lang }),
    ...(recipients === undefined ? {} : { recipients }),
  }, as);
  const ack = input.ack === false ? undefined : await ackDraft(deps.db, m, as ?? NODE_ADMIN, {});
  const queued = await queueTogether(deps, ack === undefined ? [answer] : [ack, answer]);
  return { reply: queued[queued.length - 1]!, ack: ack === undefined ? null : queued[0]! };
}

/** Queues drafts in one transaction, in order: all are stored, or none (the first refusal is thrown). */
async function queueTogether(deps: CasesDeps, drafts: readonly Draft[]): Promise<Envelope[]> {
  const peers = await peersOf(deps, drafts);
  return lockedTransaction(deps.db, queueLocks(deps, drafts.map((d) => d.to)), (trx) => enqueueIn(deps, trx, drafts, peers));
}

/** What `hotline close` and POST /api/v1/cases/:id/close take. */
export interface CloseInput {
  case: string;
  text?: string;
  lang?: string;
  /** A code of the close_reason vocabulary (templates/vocabularies.json), e.g. resolved. */
  reason?: string;
}

/** Closes a case: sends `case-close` to its peer, marked as the case's first message was. */
export async function closeCase(deps: CasesDeps, input: CloseInput, as?: Principal): Promise<Envelope> {
  const c = await caseFor(deps.db, input.case, as);
  const opening = await messageById(deps.db, c.id);
  const tlp = opening?.tlp ?? 'amber';
  const recipients = tlp === 'red' && opening !== undefined ? redRecipients(opening) : undefined;
  return compose(deps, {
    to: c.peer, channel: c.channel, kind: 'case-close', priority: c.priority, tlp, case: c.id,
    ...(input.text === undefined ? {} : { text: input.text }),
    ...(input.lang === undefined ? {} : { lang: input.lang }),
    ...(input.reason === undefined ? {} : { fields: { reason: input.reason } }),
    ...(recipients === undefined ? {} : { recipients }),
  }, as);
}

/** What `hotline ack` and POST /api/v1/messages/:id/ack take: who acknowledges is the caller, never typed. */
export interface AckInput {
  /** The message acknowledged: one this node received. */
  id: string;
  /** A note, in the acknowledging person's language. */
  text?: string;
  lang?: string;
}

/**
 * A person acknowledges a message this node received: a signed `ack` goes back to its sender in
 * the same case, with `in_reply_to` and `body.fields.acknowledges` naming it. It names the
 * authenticated user `as` (the node administrator by default, as the CLI without `--as`):
 * `body.sender` is the user name and `body.fields.officer` the display name from the user record
 * (users.service `whoIs`); nothing the caller types. `ack_invalid` for a message that does not
 * exist here or that this node sent. Acknowledging twice sends nothing and returns the first
 * acknowledgement.
 */
export async function ackMessage(deps: CasesDeps, input: AckInput, as: Principal = NODE_ADMIN): Promise<AckResult> {
  const m = await messageFor(deps.db, input.id, as);
  if (m === undefined) fail('ack_invalid', `No message ${input.id} on this node; acknowledge a message you received (see hotline inbox)`);
  if (m.direction === 'out') fail('ack_invalid', `Message ${m.id} was sent by this node; an officer acknowledges what the node received`);
  const prior = await priorAck(deps.db, m);
  if (prior !== undefined) return prior;
  const who = await whoIs(deps.db, as);
  const env = await compose(deps, ackInput(m, who, input), as);
  return { acknowledges: m.id, case: m.case_id, officer: who.display_name, user: who.user, at: env.sent_at, ack_id: env.id, already: false };
}

/** The first acknowledgement of `m`, when there is one. */
async function priorAck(db: CasesDb, m: MessagesTable): Promise<AckResult | undefined> {
  const prior = await db.selectFrom('acks').selectAll().where('message_id', '=', m.id).executeTakeFirst();
  if (prior === undefined) return undefined;
  const first = await messageFields(db, prior.ack_message_id, ['envelope']);
  const user = first === undefined ? null : senderOf((JSON.parse(first.envelope) as Envelope).body);
  return { acknowledges: m.id, case: m.case_id, officer: prior.officer, user, at: isoTime(Number(prior.acked_at)), ack_id: prior.ack_message_id, already: true };
}

function ackInput(m: MessagesTable, who: { display_name: string }, note: Omit<AckInput, 'id'>): SendInput {
  return {
    to: m.from_party, channel: m.channel, kind: 'ack', priority: m.priority, tlp: 'green', case: m.case_id, in_reply_to: m.id,
    fields: { acknowledges: m.id, officer: who.display_name },
    ...(note.text === undefined ? {} : { text: note.text }),
    ...(note.lang === undefined ? {} : { lang: note.lang }),
  };
}

/**
 * The ack `as` would owe for `m`, or undefined when none is due: `m` was sent by this node, is
 * already acknowledged, is of a kind nobody acknowledges (a ping is answered by its pong), or is a
 * TLP:RED message `as` may not read (an ack says a person read it). A closed case still takes one.
 */
async function ackDraft(db: CasesDb, m: MessagesTable, as: Principal, note: Omit<AckInput, 'id'>): Promise<Draft | undefined> {
  if (m.direction !== 'in' || !needsAck(m.kind, await agreedPolicy(db as unknown as Kysely<DeadlinesTables>, m.from_party))) return undefined;
  if (!canRead(as, markedOf(m, (JSON.parse(m.envelope) as Envelope).body))) return undefined;
  const c = await db.selectFrom('cases').select(['kind', 'state']).where('id', '=', m.case_id).executeTakeFirst();
  if (c === undefined || (c.state !== 'closed' && nextState(c.kind, c.state as CaseState, 'ack') === undefined)) return undefined;
  if (await db.selectFrom('acks').select('message_id').where('message_id', '=', m.id).executeTakeFirst() !== undefined) return undefined;
  return draftOf({ db }, ackInput(m, await whoIs(db, as), note), as);
}

/** What `hotline ack --case` did: the acknowledgements queued now, in the order the messages were stored. */
export interface CaseAckResult {
  case: string;
  acked: AckResult[];
}

/**
 * Acknowledges every message of a case that this node received, that is not acknowledged yet, and
 * that `as` may read (its channel; for TLP:RED, only as a named recipient): one ack each, all
 * queued in one transaction. A closed case's messages can still be acknowledged.
 */
export async function ackCase(deps: CasesDeps, input: { case: string; text?: string; lang?: string }, as: Principal = NODE_ADMIN): Promise<CaseAckResult> {
  const c = await caseFor(deps.db, input.case, as);
  const rows = await messagesOfCase(deps.db, c.id, 'in');
  const drafts: { m: MessagesTable; draft: Draft }[] = [];
  for (const m of rows) {
    const draft = await ackDraft(deps.db, m, as, input);
    if (draft !== undefined) drafts.push({ m, draft });
  }
  if (drafts.length === 0) return { case: c.id, acked: [] };
  const who = await whoIs(deps.db, as);
  const queued = await queueTogether(deps, drafts.map((d) => d.draft));
  return {
    case: c.id,
    acked: queued.map((env, i) => ({
      acknowledges: drafts[i]!.m.id, case: c.id, officer: who.display_name, user: who.user, at: env.sent_at, ack_id: env.id, already: false,
    })),
  };
}
