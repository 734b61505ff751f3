import { dialectOf } from '../../shared/dialect.js';
import type { Kysely, Transaction } from 'kysely';
import { sha256Hex } from '../../shared/canonical.js';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail, isHotlineError } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import type { NodeKeys } from '../identity/identity.keys.js';
import { readEnvelope, signEnvelope } from './federation.envelope.js';
import { flushHooks, hookScoped, HookRefusal, inSavepoint, runHooks, type HookScope, type MessageHook } from './federation.hooks.js';
import { linkLock, lockLink } from './federation.links.js';
import { lockedTransaction } from '../../shared/serial.js';
import type { Peer, PeerRepository } from './federation.peers.js';
import type { FederationTables, LinksTable, MessagesTable } from './federation.tables.js';
import type { Actor } from '../audit/audit.types.js';
import type { Attachment, Channel, Envelope, Kind, Limits, Priority, Self, Tlp } from './federation.types.js';

export interface OutboxDeps {
  db: Kysely<FederationTables>;
  keys: NodeKeys;
  self: Self;
  clock: Clock;
  limits: Limits;
  peers: PeerRepository;
  /** Other modules' checks and effects, run in the storing transaction (see federation.hooks.ts). */
  hooks?: readonly MessageHook[];
}

/** What a sender decides; the outbox adds the link fields (`seq`, `prev`), the id and the signature. */
export interface Draft {
  to: string;
  kind: Kind;
  channel: Channel;
  priority: Priority;
  tlp: Tlp;
  body: Record<string, unknown>;
  /** The thread; a new case (the envelope's own id) when absent. */
  case?: string;
  in_reply_to?: string | null;
  attachments?: Attachment[];
  /** Who queued it and from where, when a person did (the audit hook records it); absent for the node's own messages. */
  actor?: Actor;
}

/** Most drafts committed in one transaction. */
const GROUP_MAX = 512;

/**
 * Appends a message to the outbound link to `draft.to` and stores it, signed: once the promise
 * resolves, the message survives any crash and will be delivered. Concurrent calls on the same
 * store are group-committed (one transaction and one fsync for all drafts waiting at that moment),
 * which is what lets a node accept thousands of messages a second on a disk that does ~1,000 fsyncs.
 */
export function enqueue(deps: OutboxDeps, draft: Draft): Promise<Envelope> {
  // Group per store and per set of hooks: callers that check differently never share a commit.
  let byHooks = groups.get(deps.db);
  if (byHooks === undefined) {
    byHooks = new WeakMap();
    groups.set(deps.db, byHooks);
  }
  const hooks = deps.hooks ?? NO_HOOKS;
  let group = byHooks.get(hooks);
  if (group === undefined) {
    group = new GroupCommit(deps);
    byHooks.set(hooks, group);
  }
  return group.add(draft);
}

const NO_HOOKS: readonly MessageHook[] = [];
const groups = new WeakMap<object, WeakMap<readonly MessageHook[], GroupCommit>>();

interface Waiting {
  draft: Draft;
  resolve: (e: Envelope) => void;
  reject: (e: unknown) => void;
}

class GroupCommit {
  private readonly waiting: Waiting[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(private readonly deps: OutboxDeps) {}

  add(draft: Draft): Promise<Envelope> {
    return new Promise<Envelope>((resolve, reject) => {
      this.waiting.push({ draft, resolve, reject });
      // Flush on the next turn of the event loop, not now: the store is synchronous, so a flush
      // started here would commit this one draft before any other request could join the group.
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, GROUP_MAX);
        try {
          const results = await appendAll(this.deps, group.map((w) => w.draft), (links) => this.join(group, links));
          group.forEach((w, i) => {
            const r = results[i]!;
            if (r instanceof Error) w.reject(r);
            else w.resolve(r);
          });
        } catch (e) {
          for (const w of group) w.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Moves the drafts queued since `group` was taken, to links it writes, into it (in their order,
   * up to GROUP_MAX), and returns them: while a group waits for its links' locks (another process
   * is writing them), what queues meanwhile commits with it instead of waiting a turn of its own.
   */
  private join(group: Waiting[], links: ReadonlySet<string>): Draft[] {
    const joined: Draft[] = [];
    const rest: Waiting[] = [];
    for (const w of this.waiting) {
      if (group.length < GROUP_MAX && links.has(w.draft.to)) {
        group.push(w);
        joined.push(w.draft);
      } else rest.push(w);
    }
    this.waiting.splice(0, this.waiting.length, ...rest);
    return joined;
  }
}

/**
 * Appends drafts in order in one transaction. A draft that is invalid (unknown peer, channel not
 * agreed, over a limit) gets its error and takes no seq; the others are stored. `more`, asked once
 * the transaction may begin, gives drafts to the same links to append after them (results follow
 * in the same order).
 */
export async function appendAll(deps: OutboxDeps, drafts: readonly Draft[], more?: (links: ReadonlySet<string>) => readonly Draft[]): Promise<(Envelope | Error)[]> {
  const peers = await peersOf(deps, drafts);
  const links = [...new Set(drafts.map((d) => d.to))];
  let all = drafts;
  let asked = false;
  // Several processes, or the deliverer, writing the same link (PostgreSQL): they wait for each
  // other before the transaction begins, instead of conflicting in it (shared/serial.ts).
  return hookScoped((scope) => lockedTransaction(deps.db, queueLocks(deps, links), async (trx) => {
    // Once: a run again (a conflict, or the hooks' second run after a refusal) keeps the same drafts.
    if (!asked && more !== undefined) all = [...drafts, ...more(new Set(links))];
    asked = true;
    // Writers that take no such lock (carriage, re-pinning): the link's row is locked first, so a
    // conflict shows at once and the transaction runs again before doing the work, instead of after.
    // One link: the first draft's lockLink does it. Several: all of them here, in one order.
    if (dialectOf(trx) === 'postgres' && links.length > 1) {
      await trx.selectFrom('links').select('to_party').where('from_party', '=', deps.self.party)
        .where('to_party', 'in', links).orderBy('to_party').forUpdate().execute();
    }
    return appendIn(deps, trx, all, peers, scope);
  }));
}

/**
 * The locks ({@link lockedTransaction}) of a transaction that queues to these peers, e.g. with
 * {@link enqueueIn}: their links' (federation.links.ts linkLock).
 */
export function queueLocks(deps: Pick<OutboxDeps, 'self'>, to: Iterable<string>): string[] {
  return [...new Set(to)].map((party) => linkLock(deps.self.party, party));
}

/**
 * The pinned peers the drafts go to, read before a transaction opens: the store has one
 * connection, so reading them through `deps` inside the transaction would wait for itself.
 */
export async function peersOf(deps: OutboxDeps, drafts: readonly Draft[]): Promise<Map<string, Peer | undefined>> {
  const peers = new Map<string, Peer | undefined>();
  for (const d of drafts) if (!peers.has(d.to)) peers.set(d.to, await deps.peers.get(d.to));
  return peers;
}

/**
 * Queues drafts inside the caller's transaction (what another module needs when queueing must
 * commit or roll back with its own writes, e.g. a feed run's batch and its deduplication keys),
 * with their peers read beforehand ({@link peersOf}); begin that transaction under
 * {@link queueLocks}. Unlike {@link enqueue}, any refusal throws (rolling the caller's transaction
 * back).
 */
export async function enqueueIn(deps: OutboxDeps, trx: Transaction<FederationTables>, drafts: readonly Draft[], peers: ReadonlyMap<string, Peer | undefined>): Promise<Envelope[]> {
  // One savepoint for the whole group, its hooks in batch scope: any refusal undoes every write of
  // the group (the caller may catch the error and go on with its transaction).
  try {
    return await inSavepoint(trx, async () => {
      const out = await appendIn(deps, trx, drafts, peers, 'batch');
      const refused = out.find((r) => r instanceof Error);
      if (refused !== undefined) throw refused;
      return out as Envelope[];
    });
  } catch (e) {
    throw e instanceof HookRefusal ? e.refusal : e;
  }
}

async function appendIn(
  deps: OutboxDeps, trx: Transaction<FederationTables>, drafts: readonly Draft[], peers: ReadonlyMap<string, Peer | undefined>, scope: HookScope,
): Promise<(Envelope | Error)[]> {
  const links = new Map<string, LinksTable>();
  const out: (Envelope | Error)[] = [];
  const rows: MessagesTable[] = [];
  for (const draft of drafts) {
    try {
      checkPeer(peers.get(draft.to), draft);
      const { env, row } = await append(deps, trx, links, draft, scope);
      out.push(env);
      rows.push(row);
    } catch (e) {
      if (!isHotlineError(e)) throw e;
      out.push(e);
    }
  }
  await flushHooks(deps.hooks, trx);
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx.insertInto('messages').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }
  for (const link of links.values()) {
    await trx.updateTable('links')
      .set({ last_seq: link.last_seq, head_hash: link.head_hash, next_attempt_at: link.next_attempt_at })
      .where('from_party', '=', link.from_party).where('to_party', '=', link.to_party).execute();
  }
  return out;
}

/** Rows per multi-row INSERT: 17 columns × 500 stays under SQLite's and PostgreSQL's parameter limits. */
const INSERT_CHUNK = 500;

function checkPeer(peer: Peer | undefined, draft: Draft): void {
  if (peer === undefined) fail('unknown_peer', `No peer "${draft.to}" is pinned on this node; add it with "hotline peer add"`);
  if (peer.lifecycle === 'removed') fail('peer_removed', `"${peer.party}" was removed; nothing more is sent to it. Pin it again with "hotline peer add" (a new link epoch) to write to it`);
  if (!peer.channels.includes(draft.channel)) {
    fail('channel_not_agreed', `Channel "${draft.channel}" is not agreed with "${peer.party}" (agreed: ${peer.channels.join(', ')})`);
  }
}

async function append(
  deps: OutboxDeps, trx: Transaction<FederationTables>, links: Map<string, LinksTable>, draft: Draft, scope: HookScope,
): Promise<{ env: Envelope; row: MessagesTable }> {
  let link = links.get(draft.to);
  if (link === undefined) {
    link = await lockLink(trx, deps.self.party, draft.to);
    links.set(draft.to, link);
  }
  const now = deps.clock.now();
  const id = uuidv7(now);
  const seq = link.last_seq + 1;
  const unsigned = {
    v: 1 as const, id, from: deps.self.party, to: draft.to, seq, prev: link.head_hash, sent_at: isoTime(now),
    kind: draft.kind, channel: draft.channel, case: draft.case ?? id, in_reply_to: draft.in_reply_to ?? null,
    priority: draft.priority, tlp: draft.tlp, body: draft.body,
    ...(draft.attachments === undefined || draft.attachments.length === 0 ? {} : { attachments: draft.attachments }),
  };
  // Checked as a peer will check it, and its canonical text (stored, sent, hashed) read in the same pass.
  const { env, text } = readEnvelope(signEnvelope(unsigned, deps.keys.privateKey), deps.limits);
  const hash = sha256Hex(text);
  // The hooks' check and apply (federation.hooks.ts): a refusal undoes what they wrote and takes no seq.
  await runHooks(deps.hooks, trx, { env, direction: 'out', hash, storedAt: now, ...(draft.actor === undefined ? {} : { actor: draft.actor }) }, scope);
  const row: MessagesTable = {
    id, direction: 'out', from_party: env.from, to_party: env.to, seq, hash, kind: env.kind, channel: env.channel,
    case_id: env.case, in_reply_to: env.in_reply_to, priority: env.priority, tlp: env.tlp, sent_at: env.sent_at,
    envelope: text, stored_at: now, receipt: null, receipted_at: null,
  };
  link.last_seq = seq;
  link.head_hash = hash;
  link.next_attempt_at ??= now;
  return { env, row };
}
