import type { Kysely, Transaction } from 'kysely';
import { parseIsoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { statement } from '../../shared/statement.js';
import type { MessageHook, StoredMessage } from '../federation/federation.hooks.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { Envelope, Receipt } from '../federation/federation.types.js';
import { allowedKinds, nextState, opensCase, type CaseState } from './cases.machine.js';
import type { CasesTable, CasesTables } from './cases.tables.js';
import { OFFICER_MAX } from './cases.types.js';
import { messageFields } from '../federation/federation.messages.js';

type Trx = Transaction<FederationTables>;

/** What an `ack` body carries: `{ "fields": { "acknowledges": ID, "officer": NAME } }` (templates/ack.json). */
export interface AckFields {
  acknowledges: string;
  officer: string;
}

/** Reads an ack's fields; `ack_invalid` when they are missing or malformed. */
export function ackFields(body: Record<string, unknown>): AckFields {
  const f = body.fields;
  const fields = typeof f === 'object' && f !== null && !Array.isArray(f) ? (f as Record<string, unknown>) : {};
  const { acknowledges, officer } = fields;
  if (!isUuid(acknowledges)) fail('ack_invalid', 'An ack names the message it acknowledges in body.fields.acknowledges (a message id)');
  if (typeof officer !== 'string' || officer.trim() === '' || officer.length > OFFICER_MAX) {
    fail('ack_invalid', `An ack names the officer who read the message in body.fields.officer (1 to ${OFFICER_MAX} characters)`);
  }
  return { acknowledges, officer };
}

/**
 * Messages stored earlier in the same transaction (a batch, or a group commit): their `messages`
 * rows are inserted only at its end (federation.hooks.ts), so a reply to one of them is checked
 * against this. Keyed by the transaction, so it lives exactly as long as it.
 */
const pending = new WeakMap<Trx, Map<string, { case_id: string; direction: 'in' | 'out' }>>();

function pendingOf(trx: Trx): Map<string, { case_id: string; direction: 'in' | 'out' }> {
  let m = pending.get(trx);
  if (m === undefined) {
    m = new Map();
    pending.set(trx, m);
  }
  return m;
}

function peerOf(env: Envelope, direction: 'in' | 'out'): string {
  return direction === 'in' ? env.from : env.to;
}

// Compiled once, run for every message stored (shared/statement.ts).
const selectCase = statement(['id'], (db: Kysely<CasesTables>, p) => db.selectFrom('cases').selectAll().where('id', '=', p.id));
const moveCase = statement(['state', 'at', 'last', 'id', 'from'], (db: Kysely<CasesTables>, p) => db.updateTable('cases')
  .set({ state: p.state, updated_at: p.at, last_message_id: p.last }).where('id', '=', p.id).where('state', '=', p.from));

/**
 * The cases opened in a storing transaction, kept back and written together when it flushes
 * (federation.hooks.ts: one INSERT for a batch's cases, not one each). Until then they are read
 * and moved here: a reply in the same batch finds the case it answers.
 */
const openedIn = new WeakMap<Trx, Map<string, CasesTable>>();

/** Cases per INSERT (13 columns: within SQLite's and PostgreSQL's parameter limits). */
const INSERT_ROWS = 500;

async function caseRow(trx: Trx, id: string): Promise<CasesTable | undefined> {
  return openedIn.get(trx)?.get(id) ?? (await selectCase(trx, { id })).rows[0] as CasesTable | undefined;
}

/** The case of a message this node holds (stored, or stored earlier in this transaction). */
async function caseOfMessage(trx: Trx, id: string): Promise<string | undefined> {
  const row = await messageFields(trx, id, ['case_id']);
  return row?.case_id ?? pending.get(trx)?.get(id)?.case_id;
}

async function checkAck(trx: Trx, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  const { acknowledges: id } = ackFields(env.body);
  if (env.in_reply_to !== id) fail('ack_invalid', `An ack answers the message it acknowledges: its in_reply_to must be ${id}`);
  const peer = peerOf(env, direction);
  const m = await messageFields(trx, id, ['direction', 'from_party', 'to_party']);
  if (direction === 'in') {
    if (m === undefined || m.direction !== 'out' || m.to_party !== peer) {
      fail('ack_invalid', `The ack from "${peer}" names message ${id}, which this node did not send to "${peer}"`);
    }
    return;
  }
  if (m === undefined) fail('ack_invalid', `No message ${id} on this node; acknowledge a message you received (see hotline inbox)`);
  if (m.direction === 'out') fail('ack_invalid', `Message ${id} was sent by this node; an officer acknowledges what the node received`);
  if (m.from_party !== peer) fail('ack_invalid', `Message ${id} came from "${m.from_party}": its acknowledgement goes to "${m.from_party}", not to "${peer}"`);
}

/**
 * True when a message from the peer into a case this node closed crossed our `case-close` in
 * transit: the peer wrote it before it had stored our close (it has not receipted the close, or
 * receipted it after the message's `sent_at`; both times are on the peer's clock). Refusing it
 * would block the peer's link for ever (links are strictly ordered; docs/protocol.md section 12.2).
 */
async function crossedOurClose(trx: Trx, c: CasesTable, env: Envelope): Promise<boolean> {
  if (c.closed_by === null) return false;
  const close = await messageFields(trx, c.closed_by, ['direction', 'receipt']);
  if (close === undefined || close.direction !== 'out') return false;
  if (close.receipt === null) return true;
  const receipt = JSON.parse(close.receipt) as Receipt;
  return parseIsoTime(env.sent_at) <= parseIsoTime(receipt.received_at);
}

const OPEN_STATES: readonly CaseState[] = ['open', 'acknowledged', 'answered'];

/** The state a message moves its case to. An ack moves it only when it acknowledges the opening message. */
function moveOf(c: CasesTable, env: Envelope): CaseState {
  const state = c.state as CaseState;
  if (state === 'closed') return state;
  if (env.kind === 'ack' && env.in_reply_to !== c.id) return state;
  return nextState(c.kind, state, env.kind) ?? state;
}

function subjectOf(env: Envelope): string | null {
  if (env.tlp === 'red' || typeof env.body.text !== 'string') return null;
  const chars = Array.from(env.body.text.replace(/\s+/g, ' ').trim());
  if (chars.length === 0) return null;
  return chars.length > SUBJECT_MAX ? `${chars.slice(0, SUBJECT_MAX - 1).join('')}…` : chars.join('');
}

/** Most characters of a case's subject (the start of its opening text). */
const SUBJECT_MAX = 120;

/**
 * The cases' part in storing messages (federation.hooks.ts), inbound and outbound, in the storing
 * transaction. A message opens a case (`case` = its `id`) or joins one, which must be a case this
 * node holds with the same peer (`not_in_case`), on the same channel (`channel_mismatch`), not
 * closed (`case_closed`), whose machine allows the kind in its state (`invalid_transition`);
 * `in_reply_to` must name a message of that case (`not_in_case`). An `ack` must acknowledge a
 * message received from the party it goes to (outbound), or one this node sent to the party it
 * comes from (inbound) (`ack_invalid`). One exception, so that a crossing never blocks a link: a
 * message from the peer that crossed our own close in transit is stored and the case stays closed.
 */
export const casesHook: MessageHook = {
  name: 'cases',

  async check(trx, env, direction) {
    if (env.kind === 'ack') await checkAck(trx, env, direction);
    if (env.case === env.id) {
      if (env.in_reply_to !== null) {
        fail('not_in_case', `Message ${env.id} opens a new case, so it cannot answer ${env.in_reply_to}, which is in another one; send it in that case`);
      }
      if (!opensCase(env.kind)) fail('invalid_transition', `A ${env.kind} cannot open a case: it answers a message in one; send it in that case`);
      return;
    }
    const peer = peerOf(env, direction);
    const c = await caseRow(trx, env.case);
    if (c === undefined) fail('not_in_case', `No case ${env.case} on this node; a new case takes the id of its first message`);
    if (c.peer !== peer) fail('not_in_case', `Case ${c.id} is with "${c.peer}", not with "${peer}"`);
    if (env.channel !== c.channel) {
      fail('channel_mismatch', `Case ${c.id} is on channel "${c.channel}"; a message in it cannot be on "${env.channel}"`);
    }
    if (env.in_reply_to !== null) {
      const of = await caseOfMessage(trx, env.in_reply_to);
      if (of !== env.case) {
        fail('not_in_case', of === undefined ? `No message ${env.in_reply_to} on this node to answer` : `Message ${env.in_reply_to} is in case ${of}, not in case ${c.id}`);
      }
    }
    // A message of a closed case can still be acknowledged: that stops its escalation.
    if (c.state === 'closed' && env.kind === 'ack') return;
    if (c.state === 'closed') {
      if (direction === 'in' && await crossedOurClose(trx, c, env)) {
        if (OPEN_STATES.some((s) => nextState(c.kind, s, env.kind) !== undefined)) return;
        fail('invalid_transition', `A ${env.kind} is not allowed in a ${c.kind} case`);
      }
      fail('case_closed', `Case ${c.id} is closed (by message ${c.closed_by ?? '?'}); nothing more can be added to it: open a new case`);
    }
    if (nextState(c.kind, c.state as CaseState, env.kind) === undefined) {
      fail('invalid_transition', `A ${env.kind} is not allowed in a ${c.kind} case that is ${c.state}; allowed: ${allowedKinds(c.kind, c.state as CaseState).join(', ')} (hotline reply --kind KIND; a notification is acknowledged with hotline ack, not answered)`);
    }
  },

  async apply(trx, m: StoredMessage) {
    const { env, direction, storedAt } = m;
    pendingOf(trx).set(env.id, { case_id: env.case, direction });
    const t = trx.withTables<CasesTables>();
    const opened = openedIn.get(trx)?.get(env.case);
    if (env.case === env.id) {
      let kept = openedIn.get(trx);
      if (kept === undefined) openedIn.set(trx, (kept = new Map()));
      kept.set(env.id, {
        id: env.id, channel: env.channel, peer: peerOf(env, direction), kind: env.kind, priority: env.priority,
        opened_by: direction, opened_at: storedAt, updated_at: storedAt, subject: subjectOf(env), last_message_id: env.id,
        state: 'open', closed_by: null, closed_at: null,
      });
    } else if (opened !== undefined) {
      // Opened in this transaction: moved where it is kept.
      const state = moveOf(opened, env);
      if (state === 'closed' && opened.state !== 'closed') Object.assign(opened, { closed_by: env.id, closed_at: storedAt });
      Object.assign(opened, { state, updated_at: storedAt, last_message_id: env.id });
    } else {
      // Compare-and-set on the state read: on a store where two transactions may move the same
      // case at once (PostgreSQL), the one that lost re-reads it rather than moving it backwards.
      for (let attempt = 0; attempt < 3; attempt++) {
        const c = await caseRow(trx, env.case);
        if (c === undefined) break;
        const state = moveOf(c, env);
        const closing = state === 'closed' && c.state !== 'closed';
        const r = closing
          ? await t.updateTable('cases').set({ state, updated_at: storedAt, last_message_id: env.id, closed_by: env.id, closed_at: storedAt })
            .where('id', '=', c.id).where('state', '=', c.state).executeTakeFirst()
          : { numUpdatedRows: (await moveCase(trx, { state, at: storedAt, last: env.id, id: c.id, from: c.state })).numAffectedRows ?? 0n };
        if (r.numUpdatedRows > 0n) break;
      }
    }
    if (env.kind === 'ack' && env.in_reply_to !== null) {
      const officer = (env.body.fields as { officer?: unknown } | undefined)?.officer;
      // The first acknowledgement of a message counts; later ones are stored as messages only.
      await t.insertInto('acks').values({
        message_id: env.in_reply_to, officer: typeof officer === 'string' ? officer : '', acked_at: parseIsoTime(env.sent_at), ack_message_id: env.id,
      }).onConflict((oc) => oc.column('message_id').doNothing()).execute();
    }
  },

  async flush(trx) {
    const kept = openedIn.get(trx);
    if (kept === undefined || kept.size === 0) return;
    openedIn.delete(trx);
    const rows = [...kept.values()];
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      await trx.withTables<CasesTables>().insertInto('cases').values(rows.slice(i, i + INSERT_ROWS)).onConflict((oc) => oc.column('id').doNothing()).execute();
    }
  },

  discard(trx) {
    openedIn.delete(trx);
  },
};
