import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { BackgroundLoop } from '../../shared/loop.js';
import { KeyedPool } from '../../shared/pool.js';
import { isHotlineError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { EventBus, EventMarking } from '../../shared/events.js';
import { underLease, type Leases } from '../../shared/leases.js';
import { receiptCheck } from './federation.envelope.js';
import { getLink, linkLock } from './federation.links.js';
import { lockedTransaction } from '../../shared/serial.js';
import { storeReceipts } from './federation.messages.js';
import { lastErrorCode } from './federation.types.js';
import { keysHeldNow, validKeys, type Peer, type PeerRepository } from './federation.peers.js';
import { newChallenge, proofProblem, type KeyChallenge } from './federation.proof.js';
import type { FederationTables, LinksTable } from './federation.tables.js';
import type { DeliveryOptions, Self } from './federation.types.js';

/** Carries a batch of canonical envelope texts to a peer and returns its parsed answer; `signal` aborts it (the node stops). */
export interface Transport {
  deliver(peer: Peer, envelopes: readonly string[], signal?: AbortSignal): Promise<unknown>;
  /**
   * Sends a key challenge to the peer's endpoint (docs/protocol.md section 9.4) and returns the
   * HTTP status and the parsed body (undefined when it is not JSON); throws only when no answer came
   * (`peer_unreachable`, `redirect_refused`).
   */
  challenge(peer: Peer, challenge: KeyChallenge, signal?: AbortSignal): Promise<{ status: number; body: unknown }>;
}

// Read with the rest of hotline.json (config.ts), which need not load delivery.
export { DEFAULT_DELIVERY, type DeliveryOptions } from './federation.types.js';

export interface DeliveryDeps {
  db: Kysely<FederationTables>;
  self: Self;
  clock: Clock;
  peers: PeerRepository;
  transport: Transport;
  log: Logger;
  options: DeliveryOptions;
  random?: () => number;
  /** Told of every receipt applied, e.g. for metrics: (messages receipted, link). */
  onDelivered?: (count: number, to: string) => void;
  /**
   * Told once per incident when a peer's receipts stop verifying with its pinned key (the link's
   * last error becomes `key_mismatch` after being something else): a reinstalled node, or someone
   * else answering for it. Not told again on the retries that follow, only after the link recovered
   * or failed otherwise in between. An error thrown here is logged; delivery goes on.
   */
  onKeyMismatch?: (incident: KeyMismatch) => Promise<void>;
  /** The live events (`event: delivery`: receipted, retrying), published after the receipts commit; nothing is built when nobody listens. */
  events?: EventBus;
  /**
   * Several processes of one node on one PostgreSQL store: a link is delivered only under its lease
   * (`link:<party>`, shared/leases.ts), so one process at a time delivers it, in order; a killed
   * process's lease lapses and another takes the link over. Absent (SQLite: one process per home): no leases.
   */
  leases?: Leases;
}

/** The lease a link is delivered under. */
export function linkLease(party: string): string {
  return `link:${party}`;
}

/** A peer's receipt that no pinned key verifies, as {@link DeliveryDeps.onKeyMismatch} is told of it. */
export interface KeyMismatch {
  peer: string;
  /** The fingerprints pinned for the peer (the newest last). */
  fingerprints: string[];
  /** The seq whose receipt failed. */
  seq: number;
  /** When this node saw it (ms). */
  at: number;
  /** The link's last error, as `peer list` shows it. */
  error: string;
}

/**
 * Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1),
 * capped. Half-jitter keeps retries spread out without ever retrying at once.
 */
export function backoffMs(attempts: number, o: Pick<DeliveryOptions, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number): number {
  const ceiling = Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// The stable code in front of a link's `last_error`: in federation.types.ts, so that the CLI's
// listings use it without loading the delivery loop.
export { lastErrorCode } from './federation.types.js';

interface Outcome {
  receipted: number;
  /** The receipts to store (envelopes that had none yet), in the transaction that advances the link. */
  accepted?: readonly { id: string; receipt: string }[];
  error?: string;
  /** Where to transmit from next (a peer's gap report can move it back). */
  nextSeq: number;
}

/**
 * The durable outbox's delivery loop. Each link is delivered in `seq` order with at most one
 * batch in flight; a link's state (cursor, attempts, next attempt, last error) lives in the
 * store, so a restart resumes exactly where the last receipt left it. Links are drained
 * independently: a pass starts a drain for each due link not already in flight (at most
 * `concurrency` at once) and returns without waiting for them; the end of a drain wakes the
 * loop. A peer that never answers holds only its own link.
 */
export class DeliveryProcessor {
  /** stop() was called: in-progress drains end after their current batch. */
  private stopRequested = false;
  private readonly loop: BackgroundLoop;
  /** Links being drained now: one drain per link, at most `concurrency` at once. */
  private readonly drains: KeyedPool<string>;
  private readonly random: () => number;
  /** Aborts the requests in flight when the node stops. */
  private abort = new AbortController();
  /**
   * Links whose endpoint proved it holds the pinned key (section 9.4), by party: the URL and keys
   * it was proved for. Forgotten on any failed attempt on the link, and lost on a restart; a key or
   * URL change no longer matches. While it matches, batches go without a challenge.
   */
  private readonly proven = new Map<string, string>();
  /** Links another process delivered at the last pass, and until when its lease runs: their wake-ups are its to act on. */
  private othersHold = new Map<string, number>();

  constructor(private readonly deps: DeliveryDeps) {
    this.random = deps.random ?? Math.random;
    this.loop = new BackgroundLoop({
      pass: () => this.dispatch(),
      sleepMs: () => deps.options.pollMs,
      onError: (e) => deps.log.error({ err: e }, 'delivery pass failed'),
    });
    this.drains = new KeyedPool<string>({
      limit: () => deps.options.concurrency,
      // A drain ended: a slot is free, and its link may be due again.
      onEnd: () => {
        if (this.loop.running) this.loop.wake();
      },
      onError: (e, to) => deps.log.error({ err: e, to }, 'delivery on a link failed'),
    });
  }

  start(): void {
    this.stopRequested = false;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.loop.start();
  }

  /** Stops the loop, aborts the requests in flight (not recorded as failures) and waits for the drains to end. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.loop.stop();
    this.abort.abort();
    await this.drains.idle();
  }

  /**
   * Something was queued (to `to`, when the caller knows): look now instead of at the next poll.
   * Every pass a wake-up starts costs two queries, in every process of a node, so some need none:
   * - a link a drain here delivers: the drain reads the link again after each batch, and its end
   *   starts a pass;
   * - a link another process delivered at the last pass: that process hears the same wake-up; if it
   *   gave the lease up, it took no note of its own link and looks; if it died, its lease lapses by
   *   the time noted, and the loop's poll looks.
   */
  wake(to?: string): void {
    if (to !== undefined && (this.drains.has(to) || (this.othersHold.get(to) ?? 0) > this.deps.clock.now())) return;
    this.loop.wake();
  }

  /** Links due at `now` to peers that are neither suspended nor removed, longest waiting first. */
  private async dueLinks(now: number): Promise<string[]> {
    const due = await this.deps.db.selectFrom('links').innerJoin('peers', 'peers.party', 'links.to_party').select('links.to_party')
      .where('links.from_party', '=', this.deps.self.party)
      .where('links.next_attempt_at', '<=', now)
      .whereRef('links.send_from_seq', '<=', 'links.last_seq')
      .where('peers.state', '=', 'active')
      .orderBy('links.next_attempt_at').orderBy('links.to_party')
      .execute();
    const leases = this.deps.leases;
    if (leases === undefined) return due.map((l) => l.to_party);
    // Not the links another process delivers now (its lease is live): it hears the same wake-ups.
    const busy = await leases.heldByOthers(linkLease(''), now);
    this.othersHold = new Map([...busy].map(([name, until]) => [name.slice(linkLease('').length), until]));
    return due.filter((l) => !busy.has(linkLease(l.to_party))).map((l) => l.to_party);
  }

  /** Delivers a link under its lease (when leases are in use): nothing when another process holds it. */
  private leased(to: string): Promise<number> {
    return underLease(this.deps.leases, linkLease(to), () => this.drain(to), 0);
  }

  /** The loop's pass: starts a drain for every due link it has a slot for, and returns without waiting for them. */
  private async dispatch(): Promise<void> {
    for (const to of await this.dueLinks(this.deps.clock.now())) {
      if (this.drains.full) break;
      this.drains.start(to, async () => {
        await this.leased(to);
      });
    }
  }

  /**
   * Delivers every link that is due now, each until it is empty or fails, at most `concurrency`
   * at once, and waits for them; returns messages receipted (tests drive the processor with this).
   */
  async runOnce(): Promise<number> {
    let total = 0;
    await this.drains.runAll(await this.dueLinks(this.deps.clock.now()), async (to) => {
      total += await this.leased(to);
    });
    return total;
  }

  private async drain(to: string): Promise<number> {
    let total = 0;
    for (;;) {
      // The lease lapsed (a renewal failed or came late): another process may deliver the link now.
      if (this.deps.leases !== undefined && !this.deps.leases.holds(linkLease(to))) return total;
      const link = await getLink(this.deps.db, this.deps.self.party, to);
      if (link === undefined || link.send_from_seq > link.last_seq) return total;
      // Read per batch (as before): a peer suspended or removed meanwhile ends the drain, no error recorded.
      const peer = await this.deps.peers.get(to);
      if (peer !== undefined && peer.lifecycle !== 'active') return total;
      const outcome = await this.deliverBatch(link, peer);
      // Stopped mid-request: the abort is not the peer's failure; the next start retries.
      if (this.abort.signal.aborted && outcome.error !== undefined) return total;
      if (!await this.record(link, outcome)) return total;
      total += outcome.receipted;
      if (outcome.error !== undefined || this.stopRequested) return total;
    }
  }

  private async deliverBatch(link: LinksTable, pinned: Peer | undefined): Promise<Outcome> {
    const { db, options } = this.deps;
    const rows = await db.selectFrom('messages').select(['id', 'seq', 'hash', 'envelope', 'receipt'])
      .where('from_party', '=', link.from_party).where('to_party', '=', link.to_party)
      .where('seq', '>=', link.send_from_seq)
      .orderBy('seq').limit(options.batchSize).execute();
    const batch: typeof rows = [];
    let bytes = 0;
    for (const r of rows) {
      bytes += Buffer.byteLength(r.envelope, 'utf8') + 1;
      if (batch.length > 0 && bytes > options.maxBatchBytes) break;
      batch.push(r);
    }
    const nothing: Outcome = { receipted: 0, nextSeq: link.send_from_seq };
    if (batch.length === 0) return { ...nothing, error: `storage_error: the store holds no envelope at seq ${link.send_from_seq} on the link to ${link.to_party}; run "hotline verify"` };
    let peer: Peer;
    let answer: unknown;
    try {
      peer = pinned ?? await this.deps.peers.require(link.to_party);
      // Nothing goes to an endpoint that has not proved it holds the pinned key (section 9.4).
      const unproved = await this.prove(peer, link);
      if (unproved !== undefined) return { ...nothing, error: unproved };
      answer = await this.deps.transport.deliver(peer, batch.map((r) => r.envelope), this.abort.signal);
    } catch (e) {
      // A coded failure keeps its code in front, e.g. "redirect_refused: ru answered HTTP 307 ...".
      return { ...nothing, error: isHotlineError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e) };
    }
    const results = (answer as { results?: unknown } | null)?.results;
    if (!Array.isArray(results) || results.length !== batch.length) {
      return { ...nothing, error: `peer_error: ${link.to_party} answered with ${Array.isArray(results) ? results.length : 'no'} results for ${batch.length} envelopes` };
    }
    const keys = validKeys(peer, this.deps.clock.now());
    const accepted: { id: string; receipt: string }[] = [];
    let nextSeq = link.send_from_seq;
    let error: string | undefined;
    for (const [i, row] of batch.entries()) {
      const res = (results[i] ?? {}) as { ok?: unknown; receipt?: unknown; error?: { code?: unknown; message?: unknown; expected_seq?: unknown } | null };
      const seq = Number(row.seq);
      if (res.ok === true) {
        const problem = receiptCheck(res.receipt, { self: this.deps.self.party, peer: link.to_party, id: row.id, seq, hash: row.hash }, keys);
        if (problem?.code === 'key_mismatch') {
          const pinned = peer.keys.at(-1)?.fingerprint ?? '?';
          error = `key_mismatch: ${link.to_party}'s receipt for seq ${seq} does not verify with its pinned key (fingerprint ${pinned}); `
            + `was ${link.to_party} reinstalled with a new key? Call its administrator and compare fingerprints (hotline peer show ${link.to_party})`;
          break;
        }
        if (problem !== undefined) {
          error = `bad_receipt: ${problem.message}`;
          break;
        }
        if (row.receipt === null) accepted.push({ id: row.id, receipt: JSON.stringify(res.receipt) });
        nextSeq = seq + 1;
        continue;
      }
      const given = String(res.error?.code ?? '');
      const code = /^[a-z][a-z0-9_]{0,63}$/.test(given) ? given : 'unknown'; // a peer's text: only a code-shaped one is kept
      const expected = res.error?.expected_seq;
      error = `${code}: ${link.to_party} refused seq ${seq}: ${String(res.error?.message ?? '')}`;
      if ((code === 'seq_gap' || code === 'seq_rewind' || code === 'prev_mismatch') && typeof expected === 'number') {
        if (expected < seq && expected < link.epoch_start_seq) {
          // The peer lacks envelopes of an epoch that ended: they are never sent; send the new epoch's first (section 4.1).
          nextSeq = link.epoch_start_seq;
          if (nextSeq < seq) error = undefined;
          else error = `link_diverged: ${link.to_party} expects seq ${expected}, before this link's epoch began at seq ${link.epoch_start_seq}, and refused ${seq} (${code})`;
        } else if (expected < seq) {
          nextSeq = expected; // the peer lacks earlier envelopes: resend them from our store
          error = undefined;
          this.deps.log.warn({ to: link.to_party, expected, seq }, 'peer reported a gap; resending from its expected seq');
        } else {
          error = `link_diverged: the link to ${link.to_party} has diverged: it expects seq ${expected} but refused ${seq} (${code}); compare link hashes with its administrator`;
        }
      }
      break;
    }
    return error === undefined ? { receipted: accepted.length, accepted, nextSeq } : { receipted: accepted.length, accepted, nextSeq, error };
  }

  /**
   * Makes sure the peer's endpoint proved it holds the pinned key since the last failure or start
   * (cached: nothing to do on the hot path); returns the error to record when it did not.
   */
  private async prove(peer: Peer, link: LinksTable): Promise<string | undefined> {
    const now = this.deps.clock.now();
    const held = keysHeldNow(peer, now);
    const proofFor = `${peer.url}\n${held.map((k) => k.key).join(',')}`;
    if (this.proven.get(peer.party) === proofFor) return undefined;
    const challenge = newChallenge(this.deps.self.party, peer.party);
    const answer = await this.deps.transport.challenge(peer, challenge, this.abort.signal);
    if (answer.status === 429 || answer.status >= 500) {
      return `peer_error: ${peer.party} answered the key challenge with HTTP ${answer.status}; nothing was sent, will retry`;
    }
    const problem = answer.status === 200 ? proofProblem(answer.body, challenge, peer, now) : `it answered HTTP ${answer.status} instead of a proof`;
    if (problem !== undefined) {
      const pinned = peer.keys.at(-1)?.fingerprint ?? '?';
      return `key_mismatch: ${peer.party} at ${peer.url} did not prove it holds its pinned key (fingerprint ${pinned}): ${problem}; `
        + `nothing was sent (seq ${link.send_from_seq} onwards wait). Was ${peer.party} reinstalled with a new key, or is someone else answering at its address? `
        + `Call its administrator and compare fingerprints (hotline peer show ${peer.party})`;
    }
    this.proven.set(peer.party, proofFor);
    return undefined;
  }

  /** Stores a batch's outcome; false when the link's cursor moved meanwhile (another process delivered it: nothing recorded but the receipts). */
  private async record(link: LinksTable, o: Outcome): Promise<boolean> {
    const now = this.deps.clock.now();
    const failed = o.error !== undefined;
    // Any failure: the next attempt proves the key again before sending (section 9.4).
    if (failed) this.proven.delete(link.to_party);
    const attempts = failed ? link.attempts + 1 : 0;
    if (failed) this.deps.log.warn({ to: link.to_party, attempts, error: o.error }, 'delivery failed; will retry');
    const newIncident = lastErrorCode(o.error) === 'key_mismatch' && lastErrorCode(link.last_error) !== 'key_mismatch';
    // The receipts and the link's progress commit together: one transaction, one fsync per batch.
    // On PostgreSQL it begins once no one else writes the link (its lock, shared/serial.ts): the
    // processes queueing on the link wait for it, and it for them, instead of conflicting.
    const moved = await lockedTransaction(this.deps.db, [linkLock(link.from_party, link.to_party)], async (trx) => {
      const r = await trx.updateTable('links')
        .set({
          send_from_seq: o.nextSeq,
          acked_seq: Math.max(link.acked_seq, o.nextSeq - 1),
          attempts,
          last_attempt_at: now,
          last_error: failed ? (o.error ?? null) : null,
          next_attempt_at: failed ? now + backoffMs(attempts, this.deps.options, this.random) : now,
        })
        // Compare-and-set on the cursor: a process whose lease lapsed mid-batch never moves it back.
        .where('from_party', '=', link.from_party).where('to_party', '=', link.to_party)
        .where('send_from_seq', '=', link.send_from_seq).executeTakeFirst();
      // The receipts are stored either way: each verified, and only where none is stored yet.
      if (o.accepted !== undefined && o.accepted.length > 0) await storeReceipts(trx, o.accepted, now);
      return Number(r.numUpdatedRows) > 0;
    });
    if (!moved) {
      this.deps.log.warn({ to: link.to_party, seq: link.send_from_seq }, 'the link moved on while this batch was in flight (another process delivered it); outcome dropped');
      return false;
    }
    if (o.receipted > 0) this.deps.onDelivered?.(o.receipted, link.to_party);
    if (this.deps.events?.listening === true) await this.publish(link, o);
    if (newIncident) await this.keyMismatch(link.to_party, o.nextSeq, o.error!, now);
    return true;
  }

  /** `event: delivery` for each message receipted, and `retrying` for the one the attempt stopped at. */
  private async publish(link: LinksTable, o: Outcome): Promise<void> {
    const bus = this.deps.events!;
    const ids = (o.accepted ?? []).map((a) => a.id);
    // Two lookups, each by a whole key (the ids are this link's: the batch's receipts named them).
    // One statement with `from_party = … and to_party = … and (id in … or seq = …)` was planned on
    // PostgreSQL as a walk of the link's index filtering every message it ever sent (17 ms a batch
    // at 20,000 messages, growing with the link) while the table's statistics were young.
    const q = this.deps.db.selectFrom('messages').select(['id', 'seq', 'channel', 'tlp', 'envelope']);
    const rows = ids.length === 0 ? [] : await q.where('id', 'in', ids).execute();
    if (o.error !== undefined) {
      rows.push(...await q.where('from_party', '=', link.from_party).where('to_party', '=', link.to_party).where('seq', '=', o.nextSeq).execute());
    }
    for (const r of rows) {
      const body = (JSON.parse(r.envelope) as { body?: Record<string, unknown> }).body ?? {};
      const recipients = Array.isArray(body.recipients) && body.recipients.every((x) => typeof x === 'string') ? (body.recipients as string[]) : null;
      const marked: EventMarking = { direction: 'out', channel: r.channel, tlp: r.tlp, sender: typeof body.sender === 'string' ? body.sender : null, recipients };
      const state = ids.includes(r.id) ? 'receipted' : 'retrying';
      bus.publish({ name: 'delivery', marked, data: { message_id: r.id, state } });
    }
  }

  private async keyMismatch(to: string, seq: number, error: string, at: number): Promise<void> {
    const { log, onKeyMismatch, peers } = this.deps;
    log.error({ to, error }, 'key_mismatch: the peer did not prove it holds its pinned key, or its receipts no longer verify with it');
    if (onKeyMismatch === undefined) return;
    try {
      const peer = await peers.get(to);
      await onKeyMismatch({ peer: to, fingerprints: (peer?.keys ?? []).map((k) => k.fingerprint), seq, at, error });
    } catch (e) {
      log.error({ err: e, to }, 'could not queue the key_mismatch alert');
    }
  }
}
