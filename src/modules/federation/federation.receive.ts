import type { Kysely, Transaction } from 'kysely';
import { sha256Hex } from '../../shared/canonical.js';
import { isoTime, parseIsoTime, type Clock } from '../../shared/clock.js';
import { fail, HotlineError, isHotlineError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { NodeKeys } from '../identity/identity.keys.js';
import { readEnvelope, signReceipt, verifyEnvelopeText } from './federation.envelope.js';
import { flushHooks, hookScoped, runHooks, type HookScope, type MessageHook } from './federation.hooks.js';
import { epochGenesis, linkLock, lockLinkIfAny, saveLinkHead } from './federation.links.js';
import { lockedTransaction } from '../../shared/serial.js';
import type { Peer, PeerRepository } from './federation.peers.js';
import { judgeFresh, parseKeyChangeBody } from './federation.keys.js';
import type { FederationTables, LinksTable, MessagesTable } from './federation.tables.js';
import type { Envelope, EnvelopeResult, Limits, Receipt, Self } from './federation.types.js';

export interface ReceiveDeps {
  db: Kysely<FederationTables>;
  keys: NodeKeys;
  self: Self;
  clock: Clock;
  limits: Limits;
  peers: PeerRepository;
  log: Logger;
  /** Other modules' checks and effects, run in the storing transaction (see federation.hooks.ts). */
  hooks?: readonly MessageHook[];
}

interface Checked {
  index: number;
  env: Envelope;
  text: string;
  hash: string;
  /**
   * Why a new envelope would be refused (peer, signature, channel, clock). Deferred so that a
   * byte-identical replay of an envelope already stored still gets its original receipt, even
   * after its key expired or it grew older than the age limit.
   */
  problem?: HotlineError;
}

/**
 * Receives a batch of envelopes (from HTTP or a carriage file; the same path for both):
 * verifies each, then stores the valid ones in one transaction and answers with a signed
 * receipt or a refusal per envelope, in order. An envelope whose id is already stored with the
 * same bytes gets its original receipt and changes nothing. Refusals change nothing.
 */
export async function receiveBatch(deps: ReceiveDeps, items: readonly unknown[]): Promise<EnvelopeResult[]> {
  if (items.length > deps.limits.maxBatchEnvelopes) {
    fail('batch_too_large', `The batch has ${items.length} envelopes; the limit is ${deps.limits.maxBatchEnvelopes}`);
  }
  const results: EnvelopeResult[] = new Array<EnvelopeResult>(items.length);
  const checked: Checked[] = [];
  const peers = new Map<string, Peer | undefined>();
  for (const [index, item] of items.entries()) {
    try {
      checked.push(await check(deps, item, peers, index));
    } catch (e) {
      results[index] = refusal(idOf(item), e);
    }
  }
  if (checked.length > 0) {
    // Hooks in batch scope, again with a savepoint per message if one refused (federation.hooks.ts).
    const locks = [...new Set(checked.map((c) => linkLock(c.env.from, deps.self.party)))];
    await hookScoped((scope) => lockedTransaction(deps.db, locks, async (trx) => {
      // Lock the links first: in SQLite the first statement must write, or a concurrent writer
      // (the CLI in another process) could leave this transaction on a stale snapshot.
      const links = new Map<string, LinksTable & { stored?: boolean }>();
      for (const c of checked) {
        if (!links.has(c.env.from)) links.set(c.env.from, await lockLinkIfAny(trx, c.env.from, deps.self.party));
      }
      const tx: BatchTx = { trx, scope, links, known: await knownIds(trx, checked), rows: [] };
      for (const c of checked) {
        try {
          results[c.index] = { id: c.env.id, ok: true, receipt: await store(deps, tx, c) };
        } catch (e) {
          if (!isHotlineError(e)) throw e;
          results[c.index] = refusal(c.env.id, e);
        }
      }
      await flushHooks(deps.hooks, trx);
      for (let i = 0; i < tx.rows.length; i += INSERT_CHUNK) {
        await trx.insertInto('messages').values(tx.rows.slice(i, i + INSERT_CHUNK)).execute();
      }
      for (const link of tx.links.values()) if (link.stored === true) await saveLinkHead(trx, link);
    }));
  }
  logRefusals(deps.log, results);
  return results;
}

async function check(deps: ReceiveDeps, item: unknown, peers: Map<string, Peer | undefined>, index: number): Promise<Checked> {
  const { env, text } = readEnvelope(item, deps.limits);
  if (env.to !== deps.self.party) {
    fail('wrong_recipient', `The envelope is addressed to "${env.to}"; this node is "${deps.self.party}"`);
  }
  const checked: Checked = { index, env, text, hash: sha256Hex(text) };
  try {
    await checkFresh(deps, env, text, peers);
  } catch (e) {
    if (!isHotlineError(e)) throw e;
    checked.problem = e;
  }
  return checked;
}

async function checkFresh(deps: ReceiveDeps, env: Envelope, text: string, peers: Map<string, Peer | undefined>): Promise<void> {
  if (!peers.has(env.from)) peers.set(env.from, await deps.peers.get(env.from));
  const peer = peers.get(env.from);
  if (peer === undefined) fail('unknown_peer', `"${env.from}" is not a pinned peer of "${deps.self.party}"; its administrator must add it`);
  // A removed peer's envelopes are refused; a suspended one's are still received (section 3.3): evidence is never lost.
  if (peer.lifecycle === 'removed') fail('peer_removed', `"${env.from}" was removed as a peer of "${deps.self.party}"; nothing from it is accepted until its administrator pins it again`);
  const now = deps.clock.now();
  const sentAt = parseIsoTime(env.sent_at);
  // The peer's key history, read once per batch: the key valid when the envelope was signed (not
  // past its rotation overlap, not compromised at sent_at), federation.keys.ts.
  const verdict = judgeFresh(peer.keys, (k) => verifyEnvelopeText(env, text, [k]), sentAt, now, env.from);
  if (!verdict.ok) fail(verdict.code === 'key_not_yet_valid' ? 'bad_signature' : verdict.code, verdict.message);
  if (env.kind === 'key-change') announceInBatch(peers, peer, env, verdict.key.key, now);
  if (!peer.channels.includes(env.channel)) {
    fail('channel_not_agreed', `Channel "${env.channel}" is not agreed with "${env.from}" (agreed: ${peer.channels.join(', ')})`);
  }
  if (sentAt > now + deps.limits.maxClockSkewMs) {
    fail('clock_skew', `sent_at ${env.sent_at} is ahead of this node's clock (${isoTime(now)}) by more than ${deps.limits.maxClockSkewMs / 1000} s; check the sender's clock`);
  }
  if (sentAt < now - deps.limits.maxEnvelopeAgeMs) {
    fail('stale_envelope', `sent_at ${env.sent_at} is older than the ${Math.round(deps.limits.maxEnvelopeAgeMs / 86_400_000)}-day limit`);
  }
}

/**
 * A rotation announced in this batch: the envelopes after it on the link are signed with the new
 * key, so the batch's copy of the peer learns it now (it is recorded when the key-change is stored;
 * a refused key-change refuses everything after it on the link, so nothing stores on its word alone).
 */
function announceInBatch(peers: Map<string, Peer | undefined>, peer: Peer, env: Envelope, signer: string, now: number): void {
  let b;
  try {
    b = parseKeyChangeBody(env.body, env.from);
  } catch {
    return; // refused by the key-change hook when stored
  }
  if (b.change !== 'rotation' || b.previous_key !== signer || peer.keys.some((k) => k.key === b.public_key)) return;
  const until = parseIsoTime(b.overlap_until!);
  peers.set(env.from, {
    ...peer,
    keys: [
      ...peer.keys.map((k) => (k.key === signer ? { ...k, valid_until: until } : k)),
      { key: b.public_key, fingerprint: b.fingerprint, added_at: now, valid_from: parseIsoTime(b.valid_from), valid_until: null, revoked_since: null, origin: 'key-change', statement_id: env.id },
    ],
  });
}

/** Rows per multi-row INSERT (17 columns: within SQLite's and PostgreSQL's parameter limits). */
const INSERT_CHUNK = 500;

type Known = Pick<MessagesTable, 'hash' | 'direction' | 'receipt'>;

/** One batch's transaction: link states, ids already stored (or stored earlier in this batch), rows to insert. */
interface BatchTx {
  trx: Transaction<FederationTables>;
  scope: HookScope;
  links: Map<string, LinksTable & { stored?: boolean }>;
  known: Map<string, Known>;
  rows: MessagesTable[];
}

async function knownIds(trx: Transaction<FederationTables>, checked: readonly Checked[]): Promise<Map<string, Known>> {
  const known = new Map<string, Known>();
  const ids = checked.map((c) => c.env.id);
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
    const rows = await trx.selectFrom('messages').select(['id', 'hash', 'direction', 'receipt']).where('id', 'in', ids.slice(i, i + INSERT_CHUNK)).execute();
    for (const r of rows) known.set(r.id, r);
  }
  return known;
}

async function store(deps: ReceiveDeps, tx: BatchTx, c: Checked): Promise<Receipt> {
  const { env } = c;
  const existing = tx.known.get(env.id);
  if (existing !== undefined) {
    if (existing.hash === c.hash && existing.direction === 'in' && existing.receipt !== null) {
      return JSON.parse(existing.receipt) as Receipt;
    }
    if (c.problem !== undefined) throw c.problem;
    fail('replay_mismatch', `Envelope ${env.id} is already stored with different content; nothing was changed`);
  }
  if (c.problem !== undefined) throw c.problem;
  const link = tx.links.get(env.from)!;
  // The first envelope of a new link epoch (section 4.1): its prev is the epoch's genesis, and it may
  // follow a gap (what the sender queued in the old epoch and never sent stays with it).
  const epochStart = env.seq > link.last_seq && env.seq > 1 && (env.prev !== link.head_hash || env.seq > link.last_seq + 1)
    && env.prev === epochGenesis(env.from, env.to, env.seq);
  const lastSeq = epochStart ? env.seq - 1 : link.last_seq;
  const head = epochStart ? env.prev : link.head_hash;
  if (env.seq <= lastSeq) {
    fail('seq_rewind', `seq ${env.seq} from "${env.from}" is already taken (this node holds the link up to ${lastSeq})`, { expected_seq: lastSeq + 1 });
  }
  if (env.seq > lastSeq + 1) {
    fail('seq_gap', `seq ${env.seq} from "${env.from}" skips ahead; this node expects ${lastSeq + 1}: resend from there`, { expected_seq: lastSeq + 1 });
  }
  if (env.prev !== head) {
    fail('prev_mismatch', `prev of seq ${env.seq} does not match this node's link head ${head.slice(0, 16)}…; the two link histories differ`, { expected_seq: lastSeq + 1 });
  }
  const now = deps.clock.now();
  // The hooks' check and apply: a refusal undoes what they wrote (federation.hooks.ts), and the row
  // and the link's head below are recorded only once they have passed.
  await runHooks(deps.hooks, tx.trx, { env, direction: 'in', hash: c.hash, storedAt: now }, tx.scope);
  const receipt = signReceipt(
    {
      v: 1, type: 'receipt', id: env.id, seq: env.seq, from: deps.self.party, to: env.from,
      envelope_hash: c.hash, link_hash: c.hash, received_at: isoTime(now),
    },
    deps.keys.privateKey,
  );
  const row: MessagesTable = {
    id: env.id, direction: 'in', from_party: env.from, to_party: env.to, seq: env.seq, hash: c.hash,
    kind: env.kind, channel: env.channel, case_id: env.case, in_reply_to: env.in_reply_to, priority: env.priority,
    tlp: env.tlp, sent_at: env.sent_at, envelope: c.text, stored_at: now, receipt: JSON.stringify(receipt), receipted_at: now,
  };
  tx.rows.push(row);
  tx.known.set(row.id, row);
  link.last_seq = env.seq;
  link.head_hash = c.hash;
  if (epochStart) link.epoch_start_seq = env.seq;
  link.stored = true;
  return receipt;
}

/** One warning line per batch with refusals: counts per code and the first refusal, never a line per envelope. */
function logRefusals(log: Logger, results: readonly EnvelopeResult[]): void {
  const codes: Record<string, number> = {};
  let first: EnvelopeResult | undefined;
  for (const r of results) {
    if (r.ok) continue;
    first ??= r;
    codes[r.error.code] = (codes[r.error.code] ?? 0) + 1;
  }
  if (first === undefined || first.ok) return;
  const refused = Object.values(codes).reduce((a, b) => a + b, 0);
  log.warn({ refused, of: results.length, codes, first: { id: first.id, code: first.error.code, expected_seq: first.error.expected_seq } },
    `batch: ${refused} of ${results.length} envelopes refused; first: ${first.error.message}`);
}

function idOf(item: unknown): string | null {
  if (typeof item === 'object' && item !== null && 'id' in item && typeof item.id === 'string') return item.id;
  return null;
}

function refusal(id: string | null, e: unknown): EnvelopeResult {
  if (e instanceof HotlineError) {
    const expected = e.details?.expected_seq;
    return {
      id,
      ok: false,
      error: typeof expected === 'number' ? { code: e.code, message: e.message, expected_seq: expected } : { code: e.code, message: e.message },
    };
  }
  throw e;
}
