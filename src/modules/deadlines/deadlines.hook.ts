import type { Kysely, Transaction } from 'kysely';
import type { FederationTables } from '../federation/federation.tables.js';
import { parseIsoTime } from '../../shared/clock.js';
import { statement, type QueryRunner } from '../../shared/statement.js';
import type { MessageHook } from '../federation/federation.hooks.js';
import { peerDeadlinesJson } from '../federation/federation.pinned.js';
import { DEFAULT_ACK_DEADLINES_MIN, type Priority } from '../federation/federation.types.js';
import type { AckPolicy } from '../templates/templates.types.js';
import { needsAck } from './deadlines.policy.js';
import type { DeadlinesTable, DeadlinesTables } from './deadlines.tables.js';
import { ESCALATION, OVERDUE_STEP } from './deadlines.types.js';

const MINUTE_MS = 60_000;

// Compiled once, run for every message stored (shared/statement.ts).
const endEscalation = statement(['at', 'ack', 'of'], (db: Kysely<DeadlinesTables>, p) => db.updateTable('deadlines')
  .set({ next_step: null, next_at: null, acked_at: p.at, ack_message_id: p.ack })
  .where('message_id', '=', p.of).where('acked_at', 'is', null));
const peerPolicy = statement(['party'], (db: Kysely<DeadlinesTables>, p) => db.selectFrom('ack_policy_overrides').select(['kind', 'policy']).where('peer', '=', p.party));

/** Deadlines per INSERT (14 columns: within SQLite's and PostgreSQL's parameter limits). */
const INSERT_ROWS = 500;

/** The deadlines of a storing transaction's messages, written together when it flushes (federation.hooks.ts). */
const keptBack = new WeakMap<object, DeadlinesTable[]>();

async function writeKeptBack(trx: Transaction<FederationTables>): Promise<void> {
  const rows = keptBack.get(trx);
  if (rows === undefined || rows.length === 0) return;
  keptBack.delete(trx);
  const t = trx.withTables<DeadlinesTables>();
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    await t.insertInto('deadlines').values(rows.slice(i, i + INSERT_ROWS)).onConflict((oc) => oc.column('message_id').doNothing()).execute();
  }
}

/** What was agreed with a peer: deadlines per priority and the kinds whose acknowledgement policy differs from ack-policy.json. */
interface Agreed {
  deadlines: Record<Priority, number>;
  policy: ReadonlyMap<string, AckPolicy>;
}

/** What was agreed with each peer, read once per storing transaction (a batch holds many messages of one peer). */
const agreedIn = new WeakMap<object, Map<string, Agreed>>();

async function agreedWith(db: QueryRunner, trx: object, peer: string): Promise<Agreed> {
  let byPeer = agreedIn.get(trx);
  if (byPeer === undefined) agreedIn.set(trx, (byPeer = new Map()));
  let agreed = byPeer.get(peer);
  if (agreed === undefined) {
    const deadlines = await peerDeadlinesJson(db, peer);
    const overrides = (await peerPolicy(db, { party: peer })).rows as { kind: string; policy: AckPolicy }[];
    agreed = {
      deadlines: deadlines === undefined ? DEFAULT_ACK_DEADLINES_MIN : (JSON.parse(deadlines) as Record<Priority, number>),
      policy: new Map(overrides.map((o) => [o.kind, o.policy])),
    };
    byPeer.set(peer, agreed);
  }
  return agreed;
}

/**
 * The deadlines' part in storing messages (federation.hooks.ts), in the storing transaction:
 * - a message that needs a person's acknowledgement (deadlines.policy.ts: templates/ack-policy.json
 *   and what was agreed with the peer) gets its deadline: the envelope's `sent_at`
 *   plus the minutes agreed with the peer for its priority (`peers.deadlines`). Received, its
 *   escalation starts with step 0 due at once; sent, its overdue alert is due at the deadline.
 *   The DeadlineProcessor fires the steps.
 * - an `ack` (either direction), or the `pong` that answers a ping, ends the escalation of the
 *   message it answers: no further step fires.
 */
export const deadlinesHook: MessageHook = {
  name: 'deadlines',

  async apply(trx, m) {
    const { env, direction, storedAt } = m;
    const t = trx.withTables<DeadlinesTables>();
    if ((env.kind === 'ack' || env.kind === 'pong') && env.in_reply_to !== null) {
      // The deadline it ends may have been kept back in this transaction: written first.
      await writeKeptBack(trx);
      await endEscalation(t, { at: storedAt, ack: env.id, of: env.in_reply_to });
      return;
    }
    const peer = direction === 'in' ? env.from : env.to;
    const agreed = await agreedWith(t, trx, peer);
    if (!needsAck(env.kind, agreed.policy)) return;
    const minutes = agreed.deadlines[env.priority] ?? DEFAULT_ACK_DEADLINES_MIN[env.priority];
    const sentAt = parseIsoTime(env.sent_at);
    const start = Number.isNaN(sentAt) ? storedAt : sentAt;
    const dueAt = start + Math.round(minutes * MINUTE_MS);
    let rows = keptBack.get(trx);
    if (rows === undefined) keptBack.set(trx, (rows = []));
    rows.push({
      message_id: env.id, direction, peer, channel: env.channel, case_id: env.case, kind: env.kind, priority: env.priority,
      sent_at: start, due_at: dueAt,
      next_step: direction === 'in' ? ESCALATION[0]!.step : OVERDUE_STEP,
      next_at: direction === 'in' ? start : dueAt,
      created_at: storedAt, acked_at: null, ack_message_id: null,
    });
  },

  flush(trx) {
    return writeKeptBack(trx);
  },

  discard(trx) {
    keptBack.delete(trx);
  },
};
