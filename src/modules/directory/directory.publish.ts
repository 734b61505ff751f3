import type { Kysely, Transaction } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { fail, isHotlineError } from '../../shared/errors.js';
import { enqueue } from '../federation/federation.outbox.js';
import type { Peer, PeerRepository } from '../federation/federation.peers.js';
import { CHANNELS, type Channel, type Self } from '../federation/federation.types.js';
import { contactRow, listContacts, rotaIds } from './directory.service.js';
import type { DirectoryRotaTable, DirectoryTables } from './directory.tables.js';
import { POSITIONS, type Contact, type DirectoryDeps, type DirectoryUpdateBody, type RotaIds } from './directory.types.js';

/** What `publishDirectory` did: the version published and one directory-update per peer (or why not). */
export interface PublishResult {
  version: number;
  sent: { to: string; channel: Channel; id: string; contacts: number }[];
  failed: { to: string; code: string; message: string }[];
}

/**
 * Publishes this party's contacts and rota: takes the next version number, then queues one signed
 * `directory-update` per pinned peer, on the first channel agreed with it, carrying the contacts
 * and rota of the channels agreed with that peer only. Notification targets are never published.
 */
export async function publishDirectory(deps: DirectoryDeps): Promise<PublishResult> {
  const { self } = deps;
  const db: Kysely<DirectoryTables> = deps.db;
  const now = deps.clock.now();
  const own = await db.transaction().execute(async (trx) => {
    await trx.insertInto('directory_parties').values({ party: self.party, version: 1, updated_at: now, message_id: null, red_recipients: null })
      .onConflict((oc) => oc.column('party').doUpdateSet((eb) => ({ version: eb('directory_parties.version', '+', 1), updated_at: now })))
      .execute();
    const row = await trx.selectFrom('directory_parties').select('version').where('party', '=', self.party).executeTakeFirstOrThrow();
    return { version: Number(row.version), contacts: await listContacts(trx, self.party), rota: await rotaIds(trx, self.party) };
  });
  const peers = await deps.peers.listReachable();
  const result: PublishResult = { version: own.version, sent: [], failed: [] };
  const queued = await Promise.allSettled(peers.map(async (p) => {
    const body = bodyFor(p, self, own);
    const env = await enqueue(deps, { to: p.party, kind: 'directory-update', channel: p.channels[0]!, priority: 'routine', tlp: 'amber', body: { ...body } });
    return { to: p.party, channel: env.channel, id: env.id, contacts: body.contacts.length };
  }));
  queued.forEach((q, i) => {
    if (q.status === 'fulfilled') result.sent.push(q.value);
    else if (isHotlineError(q.reason)) result.failed.push({ to: peers[i]!.party, code: q.reason.code, message: q.reason.message });
    else throw q.reason;
  });
  return result;
}

function bodyFor(peer: Peer, self: Self, own: { version: number; contacts: Contact[]; rota: Partial<Record<Channel, RotaIds>> }): DirectoryUpdateBody {
  const shared = (c: Channel): boolean => peer.channels.includes(c) && self.channels.includes(c);
  const rota: DirectoryUpdateBody['rota'] = {};
  for (const c of CHANNELS) if (shared(c) && own.rota[c] !== undefined) rota[c] = own.rota[c];
  const red: Partial<Record<Channel, string[]>> = {};
  for (const c of CHANNELS) {
    if (!shared(c)) continue;
    const users = [...new Set(own.contacts.filter((x) => x.channel === c && x.user !== null).map((x) => x.user!))].sort();
    if (users.length > 0) red[c] = users;
  }
  return {
    party: self.party,
    version: own.version,
    contacts: own.contacts.filter((c) => shared(c.channel)).map(({ party: _party, user: _user, ...c }) => c),
    rota,
    red_recipients: red,
  };
}

/**
 * Applies a peer's directory-update inside the storing transaction: a newer version replaces
 * everything this node held about that party; an older or equal one changes nothing. Returns
 * whether it replaced.
 */
export async function applyDirectoryUpdate(trx: Transaction<DirectoryTables>, body: DirectoryUpdateBody, messageId: string, storedAt: number): Promise<boolean> {
  const party = body.party;
  const held = await trx.selectFrom('directory_parties').select('version').where('party', '=', party).executeTakeFirst();
  if (held !== undefined && Number(held.version) >= body.version) return false;
  await trx.deleteFrom('directory_rota').where('party', '=', party).execute();
  await trx.deleteFrom('directory_contacts').where('party', '=', party).execute();
  if (body.contacts.length > 0) {
    await trx.insertInto('directory_contacts').values(body.contacts.map((c) => contactRow({ ...c, party }, storedAt))).execute();
  }
  const rota: DirectoryRotaTable[] = [];
  for (const [channel, ids] of Object.entries(body.rota)) {
    for (const position of POSITIONS) {
      const id = ids[position];
      if (id !== null) rota.push({ party, channel, position, contact_id: id, notify_webhook: null, notify_email: null, updated_at: storedAt });
    }
  }
  if (rota.length > 0) await trx.insertInto('directory_rota').values(rota).execute();
  const red = body.red_recipients === undefined ? null : JSON.stringify(body.red_recipients);
  await trx.insertInto('directory_parties').values({ party, version: body.version, updated_at: storedAt, message_id: messageId, red_recipients: red })
    .onConflict((oc) => oc.column('party').doUpdateSet({ version: body.version, updated_at: storedAt, message_id: messageId, red_recipients: red }))
    .execute();
  return true;
}

/**
 * Refuses a TLP:RED message to `peer` on `channel` naming a recipient the peer has not published
 * as one who may receive TLP:RED there (its directory-update's `red_recipients`): `unknown_recipient`.
 * The directory hook calls it for every TLP:RED message this node queues.
 */
export async function checkRedRecipientsPublished(db: Kysely<DirectoryTables>, peer: string, channel: string, recipients: readonly string[]): Promise<void> {
  const row = await db.selectFrom('directory_parties').select(['red_recipients']).where('party', '=', peer).executeTakeFirst();
  const published = row?.red_recipients == null ? [] : (JSON.parse(row.red_recipients) as Partial<Record<string, string[]>>)[channel] ?? [];
  const unknown = recipients.filter((r) => !published.includes(r));
  if (unknown.length === 0) return;
  const known = published.length === 0
    ? `${peer} has published no user who may receive TLP:RED on ${channel}${row === undefined ? ' (no directory from it yet)' : ''}`
    : `${peer} publishes on ${channel}: ${published.join(', ')}`;
  fail('unknown_recipient', `TLP:RED recipient(s) ${unknown.join(', ')} not in ${peer}'s directory: ${known}; see "hotline directory --party ${peer}"`);
}

/** One channel of a party's entry in the directory. */
export interface DirectoryChannelView {
  channel: Channel;
  contacts: Contact[];
  rota: RotaIds;
  /** Peers: the user names it published as able to receive TLP:RED on this channel. Own: the users linked to contacts here. */
  red_recipients: string[];
  /** Peers only: when a ping on this channel was last answered (the last proof a person is there). */
  last_pong_at: string | null;
}

/** A party's entry as this node knows it. */
export interface DirectoryPartyView {
  party: string;
  name: string | null;
  own: boolean;
  /** The version held (own: last published); null when none. */
  version: number | null;
  /** Own: when last published. Peers: when the version held was received (last confirmed). */
  updated_at: string | null;
  channels: DirectoryChannelView[];
}

/** The whole directory as this node knows it: its own entry first, then each peer's. */
export async function viewDirectory(
  deps: { db: Kysely<DirectoryTables>; self: Self; peers: PeerRepository }, opts: { party?: string; channel?: string } = {},
): Promise<DirectoryPartyView[]> {
  const { db, self } = deps;
  if (opts.channel !== undefined && !(CHANNELS as readonly string[]).includes(opts.channel)) {
    fail('unknown_channel', `Unknown channel "${opts.channel}"; use one of: ${CHANNELS.join(', ')}`);
  }
  const peers = await deps.peers.list();
  const held = await db.selectFrom('directory_parties').selectAll().execute();
  const parties = [self.party, ...new Set([...peers.map((p) => p.party), ...held.map((h) => h.party)].filter((p) => p !== self.party).sort())];
  if (opts.party !== undefined && !parties.includes(opts.party)) {
    fail('not_found', `This node knows no directory entry for "${opts.party}"; known: ${parties.join(', ')}`);
  }
  const out: DirectoryPartyView[] = [];
  for (const party of opts.party === undefined ? parties : [opts.party]) {
    const own = party === self.party;
    const peer = peers.find((p) => p.party === party);
    const h = held.find((x) => x.party === party);
    const contacts = await listContacts(db, party);
    const rota = await rotaIds(db, party);
    const pongs = own ? new Map<string, number>() : await lastPongs(db, party);
    const known = new Set<Channel>([...(own ? self.channels : peer?.channels ?? []), ...contacts.map((c) => c.channel)]);
    const channels = CHANNELS.filter((c) => known.has(c) && (opts.channel === undefined || c === opts.channel)).map((channel) => ({
      channel,
      contacts: contacts.filter((c) => c.channel === channel),
      rota: rota[channel] ?? { primary: null, backup: null, supervisor: null },
      red_recipients: own
        ? [...new Set(contacts.filter((c) => c.channel === channel && c.user !== null).map((c) => c.user!))].sort()
        : (h?.red_recipients == null ? [] : (JSON.parse(h.red_recipients) as Partial<Record<string, string[]>>)[channel] ?? []),
      last_pong_at: pongs.has(channel) ? isoTime(pongs.get(channel)!) : null,
    }));
    out.push({
      party, own, name: own ? self.name : peer?.name ?? null,
      version: h === undefined ? null : Number(h.version),
      updated_at: h === undefined ? null : isoTime(Number(h.updated_at)),
      channels,
    });
  }
  return out;
}

async function lastPongs(db: Kysely<DirectoryTables>, party: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('directory_pings')
    .select((eb) => ['channel', eb.fn.max('answered_at').as('last')])
    .where('direction', '=', 'out').where('peer', '=', party).where('answered_at', 'is not', null)
    .groupBy('channel').execute();
  return new Map(rows.filter((r) => r.last !== null).map((r) => [r.channel, Number(r.last)]));
}
