import type { Kysely, Transaction } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { prefixBounds, resolveUuid } from '../../shared/shortid.js';
import { enqueue } from '../federation/federation.outbox.js';
import type { PeerRepository } from '../federation/federation.peers.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { CHANNELS, PRIORITIES, type Channel, type Envelope, type Priority } from '../federation/federation.types.js';
import { composeBody } from '../templates/templates.service.js';
import { whoIs } from '../users/users.service.js';
import type { Principal } from '../users/users.types.js';
import type { DirectoryPingsTable, DirectoryTables } from './directory.tables.js';
import type { DirectoryDeps } from './directory.types.js';
import { messageFields } from '../federation/federation.messages.js';

/** What `hotline ping` and POST /api/v1/pings give. */
export interface PingInput {
  to: string;
  channel: string;
  priority?: string;
  text?: string;
}

/**
 * Sends a ping test to a peer on a channel: a `ping` message that opens its own case. The peer's
 * on-duty officer answers it with a pong (a person, not the machine: the receipt already proves
 * the machine is up).
 */
export async function sendPing(deps: DirectoryDeps, input: PingInput): Promise<Envelope> {
  if (!(CHANNELS as readonly string[]).includes(input.channel)) fail('unknown_channel', `Unknown channel "${input.channel}"; use one of: ${CHANNELS.join(', ')}`);
  const priority = input.priority ?? 'routine';
  if (!(PRIORITIES as readonly string[]).includes(priority)) fail('unknown_priority', `Unknown priority "${priority}"; use one of: ${PRIORITIES.join(', ')}`);
  const text = input.text ?? `Ping test from ${deps.self.party} on ${input.channel}. On-duty officer: please answer with "hotline pong <this message's id> --as <your user name>".`;
  if (text.trim() === '') fail('invalid_argument', 'The ping text is empty');
  return enqueue(deps, {
    to: input.to, kind: 'ping', channel: input.channel as Channel, priority: priority as Priority, tlp: 'green',
    body: composeBody('ping', { text, lang: 'en' }),
  });
}

/** What `hotline pong` and POST /api/v1/pings/:id/pong give. */
export interface PongInput {
  ping: string;
  text?: string;
}

/**
 * Answers a ping this node received, in its case. The pong names the authenticated user `as`
 * who answers (the display name from the user record, users.service `whoIs`; "Node
 * administrator" for the administrator), never a name the caller types.
 */
export async function sendPong(deps: DirectoryDeps, input: PongInput, as: Principal): Promise<Envelope> {
  const dir = deps.db as Kysely<DirectoryTables>;
  const pingId = await resolveUuid(input.ping, 'ping', async (p, n) => {
    const { lo, hi } = prefixBounds(p);
    return (await dir.selectFrom('directory_pings').select('id').where('id', '>=', lo).where('id', '<', hi).orderBy('id').limit(n).execute()).map((r) => r.id);
  });
  const officer = (await whoIs(deps.db, as)).display_name;
  const ping = await receivedPing(dir, pingId);
  const msg = await messageFields(deps.db as Kysely<FederationTables>, ping.id, ['priority']);
  return enqueue(deps, {
    to: ping.peer, kind: 'pong', channel: ping.channel as Channel, priority: (msg?.priority ?? 'routine') as Priority, tlp: 'green',
    case: ping.case_id, in_reply_to: ping.id,
    body: composeBody('pong', { fields: { officer }, text: input.text ?? `Pong: ${officer}, on duty at ${deps.self.party}, received the ping test.`, lang: 'en' }),
    ...(as.via === undefined ? {} : { actor: as.via }),
  });
}

type PingDb = Kysely<DirectoryTables> | Transaction<DirectoryTables>;

/** A ping a peer sent this node, not yet answered; else `pong_without_ping` or `ping_already_answered`. */
export async function receivedPing(db: PingDb, id: string | null, from?: { peer: string; channel: string }): Promise<DirectoryPingsTable> {
  const row = id === null ? undefined : await db.selectFrom('directory_pings').selectAll().where('id', '=', id).where('direction', '=', 'in').executeTakeFirst();
  if (row === undefined || (from !== undefined && (row.peer !== from.peer || row.channel !== from.channel))) {
    fail('pong_without_ping', `No ping ${id ?? '(none named)'}${from === undefined ? '' : ` from "${from.peer}" on ${from.channel}`} was received by this node; a pong answers a ping received`);
  }
  if (row.answered_at !== null) {
    fail('ping_already_answered', `Ping ${row.id} was already answered by ${row.officer ?? 'an officer'} at ${isoTime(Number(row.answered_at))}`);
  }
  return row;
}

/** A ping this node sent to `peer` on `channel`; else `pong_without_ping`. */
export async function sentPing(db: PingDb, id: string | null, peer: string, channel: string): Promise<DirectoryPingsTable> {
  const row = id === null ? undefined : await db.selectFrom('directory_pings').selectAll().where('id', '=', id).where('direction', '=', 'out').executeTakeFirst();
  if (row === undefined || row.peer !== peer || row.channel !== channel) {
    fail('pong_without_ping', `A pong from "${peer}" on ${channel} for ${id === null ? 'no ping' : `ping ${id}`}, which this node did not send to "${peer}" on ${channel}`);
  }
  return row;
}

/** One ping test as `hotline pings` lists it. */
export interface PingView {
  id: string;
  direction: 'in' | 'out';
  peer: string;
  channel: string;
  case: string;
  sent_at: string;
  answered_at: string | null;
  officer: string | null;
  pong_id: string | null;
  /** ms from sending (or receiving) the ping to receiving (or sending) its pong. */
  answer_ms: number | null;
}

/** One ping test by id (sent or received), or undefined. */
export async function pingById(db: Kysely<DirectoryTables>, id: string): Promise<DirectoryPingsTable | undefined> {
  return isUuid(id) ? db.selectFrom('directory_pings').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
}

/**
 * Ping tests, newest first; `pending` keeps only the unanswered ones, `channels` only those
 * channels, `peer` and `channel` one peer's or channel's, `since` (ms) those sent since then (the
 * history a reachability chart draws).
 */
export async function listPings(
  db: Kysely<DirectoryTables>,
  opts: { direction?: 'in' | 'out'; pending?: boolean; limit?: number; channels?: readonly string[]; peer?: string; channel?: string; since?: number } = {},
): Promise<PingView[]> {
  let q = db.selectFrom('directory_pings').selectAll();
  if (opts.direction !== undefined) q = q.where('direction', '=', opts.direction);
  if (opts.peer !== undefined) q = q.where('peer', '=', opts.peer);
  if (opts.channel !== undefined) q = q.where('channel', '=', opts.channel);
  if (opts.since !== undefined) q = q.where('sent_at', '>=', opts.since);
  if (opts.channels !== undefined) q = q.where('channel', 'in', opts.channels.length === 0 ? [''] : [...opts.channels]);
  if (opts.pending === true) q = q.where('answered_at', 'is', null);
  const rows = await q.orderBy('sent_at', 'desc').orderBy('id', 'desc').limit(Math.min(opts.limit ?? 50, 1000)).execute();
  return rows.map((r) => ({
    id: r.id, direction: r.direction, peer: r.peer, channel: r.channel, case: r.case_id, sent_at: isoTime(Number(r.sent_at)),
    answered_at: r.answered_at === null ? null : isoTime(Number(r.answered_at)), officer: r.officer, pong_id: r.pong_id,
    answer_ms: r.answered_at === null ? null : Number(r.answered_at) - Number(r.sent_at),
  }));
}

/** Reachability of one peer on one channel, from the pings this node sent it. */
export interface Reachability {
  peer: string;
  channel: string;
  sent: number;
  answered: number;
  median_ms: number | null;
  worst_ms: number | null;
  last_sent_at: string | null;
  /** When a ping was last answered (this node's time of receiving the pong). */
  last_success_at: string | null;
  last_officer: string | null;
}

/** The median of some numbers (the mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Per peer and agreed channel (and any other channel pinged): pings sent, answered, median and
 * worst time to answer, last success. Time to answer runs on this node's clock, from storing the
 * ping to storing its pong, so it is what the pinging party experienced.
 */
export async function reachability(deps: { db: Kysely<DirectoryTables>; peers: PeerRepository }, opts: { peer?: string; channel?: string } = {}): Promise<Reachability[]> {
  let q = deps.db.selectFrom('directory_pings').select(['peer', 'channel', 'sent_at', 'answered_at', 'officer']).where('direction', '=', 'out');
  if (opts.peer !== undefined) q = q.where('peer', '=', opts.peer);
  if (opts.channel !== undefined) q = q.where('channel', '=', opts.channel);
  const rows = await q.orderBy('sent_at').execute();
  const groups = new Map<string, typeof rows>();
  for (const p of await deps.peers.list()) {
    if (opts.peer !== undefined && p.party !== opts.peer) continue;
    for (const c of p.channels) if (opts.channel === undefined || c === opts.channel) groups.set(`${p.party} ${c}`, []);
  }
  for (const r of rows) {
    const key = `${r.peer} ${r.channel}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [r]);
    else group.push(r);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, pings]) => {
    const [peer, channel] = key.split(' ') as [string, string];
    const answered = pings.filter((p) => p.answered_at !== null);
    const times = answered.map((p) => Number(p.answered_at) - Number(p.sent_at));
    const last = answered.reduce<(typeof answered)[number] | undefined>((a, p) => (a === undefined || Number(p.answered_at) > Number(a.answered_at) ? p : a), undefined);
    return {
      peer, channel, sent: pings.length, answered: answered.length, median_ms: median(times),
      worst_ms: times.length === 0 ? null : times.reduce((a, b) => Math.max(a, b)),
      last_sent_at: pings.length === 0 ? null : isoTime(Number(pings.at(-1)!.sent_at)),
      last_success_at: last === undefined ? null : isoTime(Number(last.answered_at)),
      last_officer: last?.officer ?? null,
    };
  });
}
