import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../../shared/canonical.js';
import type { Clock } from '../../shared/clock.js';
import { fail, HotlineError } from '../../shared/errors.js';
import { fingerprint, publicKeyFromB64, signText, verifyText, type NodeKeys } from '../identity/identity.keys.js';
import { beginEpoch } from './federation.links.js';
import type { FederationTables, PeersTable } from './federation.tables.js';
import { allKeyHistory, insertKey, keyHistory, keysValidAt, type PinnedKey } from './federation.keys.js';
import {
  CHANNELS, DEFAULT_ACK_DEADLINES_MIN, PARTY_ID, PROTOCOL_VERSION,
  type Channel, type Priority, type Self,
} from './federation.types.js';

/** What one node hands another, out of band, to be pinned. Self-signed by the key it carries. */
export interface Descriptor {
  v: typeof PROTOCOL_VERSION;
  type: 'hotline-descriptor';
  party: string;
  name: string;
  url: string;
  public_key: string;
  fingerprint: string;
  channels: Channel[];
  sig: string;
}

export type { PinnedKey };

/** A pinned peer's lifecycle (issue 12): delivered to; pinned but not delivered to; no traffic either way, kept as evidence. */
export type PeerLifecycle = 'active' | 'suspended' | 'removed';

export interface Peer {
  party: string;
  name: string;
  url: string;
  keys: PinnedKey[];
  channels: Channel[];
  deadlines: Record<Priority, number>;
  added_at: number;
  updated_at: number;
  lifecycle: PeerLifecycle;
  /** When `lifecycle` last changed (ms), null if never. */
  lifecycle_changed_at: number | null;
}

export function makeDescriptor(self: Self, keys: NodeKeys): Descriptor {
  const body = {
    v: PROTOCOL_VERSION,
    type: 'hotline-descriptor' as const,
    party: self.party,
    name: self.name,
    url: self.url,
    public_key: keys.publicKeyB64,
    fingerprint: fingerprint(keys.publicKeyB64),
    channels: [...self.channels],
  };
  return { ...body, sig: signText(keys.privateKey, canonicalJson(body)) };
}

const DESCRIPTOR_FIELDS = 'channels,fingerprint,name,party,public_key,sig,type,url,v';

/** Validates a descriptor's shape and self-signature; the caller still compares the fingerprint out of band. */
export function parseDescriptor(value: unknown): Descriptor {
  const bad = (m: string): never => fail('invalid_argument', `Not a valid peer descriptor: ${m}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('expected a JSON object');
  const d = value as Record<string, unknown>;
  if (Object.keys(d).sort().join(',') !== DESCRIPTOR_FIELDS) bad(`expected exactly the fields ${DESCRIPTOR_FIELDS}`);
  if (d.v !== PROTOCOL_VERSION || d.type !== 'hotline-descriptor') bad('not a v1 hotline-descriptor');
  if (typeof d.party !== 'string' || !PARTY_ID.test(d.party)) bad('"party" must be a party id');
  const nameProblem = checkNodeName(d.name);
  if (nameProblem !== undefined) bad(nameProblem);
  if (typeof d.url !== 'string') bad('"url" must be a URL');
  checkPeerUrl(d.url as string);
  const channelsProblem = checkChannelList(d.channels);
  if (channelsProblem !== undefined) bad(channelsProblem);
  let key: KeyObject;
  try {
    key = publicKeyFromB64(String(d.public_key));
  } catch (e) {
    return bad(e instanceof HotlineError ? e.message : 'bad public key');
  }
  if (d.fingerprint !== fingerprint(String(d.public_key))) bad('"fingerprint" does not belong to "public_key"');
  const { sig, ...rest } = d;
  if (!verifyText(key, canonicalJson(rest), String(sig))) bad('the self-signature does not verify');
  return d as unknown as Descriptor;
}

/** A node's display name is 1 to this many Unicode code points (section 3.1). */
export const MAX_NODE_NAME = 200;

/**
 * What is wrong with a node's display name (a descriptor's or this node's config `name`), or
 * undefined: a string of 1 to 200 code points with no leading or trailing whitespace (as
 * String.prototype.trim removes it), so a blank name is refused too.
 */
export function checkNodeName(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return '"name" must be a non-empty string';
  if (name.trim() !== name) return `"name" must not begin or end with whitespace (got ${JSON.stringify(name)})`;
  const length = [...name].length;
  if (length > MAX_NODE_NAME) return `"name" is ${length} characters; at most ${MAX_NODE_NAME} are allowed`;
  return undefined;
}

/** What is wrong with a node's list of offered channels, or undefined: known channels, each at most once. */
export function checkChannelList(channels: unknown): string | undefined {
  if (!Array.isArray(channels) || channels.some((c) => !(CHANNELS as readonly unknown[]).includes(c))) {
    return `"channels" must list some of ${CHANNELS.join(', ')}`;
  }
  const repeated = channels.find((c, i) => channels.indexOf(c) !== i) as string | undefined;
  if (repeated !== undefined) return `"channels" lists "${repeated}" more than once`;
  return undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * A node URL (descriptor, config): absolute, https (plain http only on loopback: tests, demo),
 * and with no user name or password, query or fragment, since the endpoint path is appended to it.
 */
export function checkPeerUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fail('invalid_argument', `"${url}" is not a URL`);
  }
  // The parser drops an empty userinfo ("https://@x/"), query ("?") or fragment ("#"), so look at the text too.
  if (u.username !== '' || u.password !== '' || /^[^:/?#]+:\/\/[^/?#]*@/.test(url)) {
    fail('invalid_argument', `"${url}" must not carry a user name or password (the userinfo part before "@")`);
  }
  if (u.hash !== '' || url.includes('#')) fail('invalid_argument', `"${url}" must not carry a fragment (the part from "#")`);
  if (u.search !== '' || url.includes('?')) fail('invalid_argument', `"${url}" must not carry a query (the part from "?")`);
  if (u.protocol === 'https:') return;
  if (u.protocol === 'http:' && (LOOPBACK.has(u.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(u.hostname))) return;
  fail('invalid_argument', `"${url}" must use https (plain http is allowed only on loopback)`);
}

/** A peer's row with its key history (the key_history table, federation.keys.ts; `peers.keys` is no longer read). */
function toPeer(row: PeersTable, keys: PinnedKey[]): Peer {
  return {
    party: row.party,
    name: row.name,
    url: row.url,
    keys,
    channels: JSON.parse(row.channels) as Channel[],
    deadlines: JSON.parse(row.deadlines) as Record<Priority, number>,
    added_at: Number(row.added_at),
    updated_at: Number(row.updated_at),
    lifecycle: (row.state ?? 'active') as PeerLifecycle,
    lifecycle_changed_at: row.state_changed_at === null || row.state_changed_at === undefined ? null : Number(row.state_changed_at),
  };
}

/** A peer's state as `peer list --json` and the REST API show it: its lifecycle, or its link's key trouble. */
export type PeerState = 'ok' | 'key_mismatch' | 'suspended' | 'removed';

export function peerState(peer: Pick<Peer, 'lifecycle'>, linkErrorCode: string | null): PeerState {
  if (peer.lifecycle !== 'active') return peer.lifecycle;
  return linkErrorCode === 'key_mismatch' ? 'key_mismatch' : 'ok';
}

/**
 * The keys a peer must hold now: what a descriptor update must be signed by and what a key proof
 * (docs/protocol.md section 9.4) must verify with: those of its key history valid for a new
 * signature now (not past a rotation's overlap, not declared compromised; federation.keys.ts).
 */
export function keysHeldNow(peer: Peer, now: number): PinnedKey[] {
  return peer.keys.filter((k) => (k.valid_until === null || k.valid_until > now) && (k.revoked_since === null || k.revoked_since > now));
}

/**
 * Refuses a descriptor whose key is not the one whose fingerprint a person was given out of band.
 * Spacing does not count, and the line `hotline fingerprint` prints ("<party>  <digits>") may be
 * passed whole: its party must then be the descriptor's.
 */
export function checkFingerprint(d: Descriptor, given: string): void {
  const digits = (s: string): string => s.replace(/\s+/g, '');
  const expected = digits(d.fingerprint);
  if (digits(given) === expected) return;
  const named = /^\s*(\S+)\s+([\d\s]+)$/.exec(given);
  if (named !== null && digits(named[2]!) === expected) {
    if (named[1] === d.party) return;
    fail('invalid_argument', `The fingerprint you were given is named for "${named[1]}", but the descriptor is "${d.party}"'s; do not pin it`);
  }
  fail('invalid_argument', `The descriptor's fingerprint ${d.fingerprint} is not the one you were given (${given.trim()}); do not pin it`);
}

/** The agreed channels for a descriptor: those it offers that this node serves, narrowed to `wanted` if given; at least one. */
function agreeChannels(d: Descriptor, self: Self, wanted: readonly Channel[] | undefined): Channel[] {
  const channels = (wanted ?? d.channels).filter((c) => d.channels.includes(c) && self.channels.includes(c));
  if (channels.length === 0) fail('invalid_argument', `No channel in common: the peer offers ${d.channels.join(', ')}, this node ${self.channels.join(', ')}`);
  return channels;
}

/** Peer store: pinning, listing, and the keys valid for verification now. */
export class PeerRepository {
  constructor(private readonly deps: { db: Kysely<FederationTables>; clock: Clock; self: Self }) {}

  async add(d: Descriptor, opts: { channels?: Channel[]; expectFingerprint?: string } = {}): Promise<Peer> {
    const { db, clock, self } = this.deps;
    if (d.party === self.party) fail('invalid_argument', `"${d.party}" is this node's own party; a node does not peer with itself`);
    if (opts.expectFingerprint !== undefined) checkFingerprint(d, opts.expectFingerprint);
    const channels = agreeChannels(d, self, opts.channels);
    const now = clock.now();
    const removed = await this.get(d.party);
    if (removed?.lifecycle === 'removed') return this.readd(removed, d, channels, now);
    const row: PeersTable = {
      party: d.party,
      name: d.name,
      url: d.url,
      keys: JSON.stringify([{ key: d.public_key, fingerprint: d.fingerprint, added_at: now, valid_until: null }]),
      channels: JSON.stringify(channels),
      deadlines: JSON.stringify(DEFAULT_ACK_DEADLINES_MIN),
      added_at: now,
      updated_at: now,
      state: 'active',
      state_changed_at: null,
    };
    const inserted = await db.insertInto('peers').values(row).onConflict((oc) => oc.column('party').doNothing()).executeTakeFirst();
    const added = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
    if (!added) {
      fail('peer_exists', `A peer "${d.party}" is already pinned. To move it to a new descriptor signed by its pinned key (URL, name, channels), `
        + `use "hotline peer update ${d.party} --descriptor FILE". Its key changes by its own signed key-change (hotline key rotate `
        + `on its node), or, if its key was lost or compromised, by "hotline peer repin ${d.party} --descriptor <file> --fingerprint <digits>" `
        + 'after comparing the new fingerprint by phone (protocol section 18)');
    }
    await insertKey(db, d.party, { key: d.public_key, added_at: now, valid_from: null, valid_until: null, revoked_since: null, origin: 'pinned', statement_id: null });
    return toPeer(row, await keyHistory(db, d.party));
  }

  /**
   * Pins a removed peer again: its row comes back to life with the new descriptor (a new key is
   * added to the list, the old one kept for the evidence and valid until now), and our link to it
   * begins a new epoch (federation.links.ts beginEpoch). Returns the peer and the epoch's first seq.
   */
  private async readd(old: Peer, d: Descriptor, channels: Channel[], now: number): Promise<Peer & { epoch_start_seq: number }> {
    const { db, self } = this.deps;
    const keep = keysHeldNow(old, now).some((k) => k.key === d.public_key);
    const start = await db.transaction().execute(async (trx) => {
      if (!keep) {
        // A new key: the old ones stay in the key history for the old evidence, valid until now.
        await trx.updateTable('key_history').set({ valid_until: now }).where('party', '=', d.party)
          .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', now)])).execute();
        await insertKey(trx, d.party, { key: d.public_key, added_at: now, valid_from: now, valid_until: null, revoked_since: null, origin: 'pinned', statement_id: null });
      }
      await trx.updateTable('peers').set({
        name: d.name, url: d.url, channels: JSON.stringify(channels), updated_at: now, state: 'active', state_changed_at: now,
      }).where('party', '=', d.party).where('state', '=', 'removed').execute();
      return beginEpoch(trx, self.party, d.party);
    });
    return { ...(await this.require(d.party)), epoch_start_seq: start };
  }

  /**
   * Moves a pinned peer to its new self-signed descriptor (URL, name, channels offered): accepted
   * only if signed by a key the peer holds now ({@link keysHeldNow}), so nobody else can move a
   * peer. The agreed channels are narrowed to what the new descriptor still offers (or `channels`).
   * Returns the peer before and after.
   */
  async update(party: string, d: Descriptor, opts: { channels?: Channel[] } = {}): Promise<{ before: Peer; after: Peer }> {
    const { db, clock, self } = this.deps;
    const before = await this.require(party);
    if (before.lifecycle === 'removed') fail('peer_removed', `"${party}" was removed; pin it again with "hotline peer add" (a new link epoch) instead of updating it`);
    if (d.party !== party) fail('descriptor_not_pinned', `The descriptor is for "${d.party}", not "${party}"; nothing was changed`);
    const now = clock.now();
    const held = keysHeldNow(before, now);
    if (!held.some((k) => k.key === d.public_key)) {
      fail('descriptor_not_pinned', `The descriptor for "${party}" is signed by a key with fingerprint ${d.fingerprint}, not by its pinned key `
        + `(${held.map((k) => k.fingerprint).join(', ') || 'none valid now'}); nothing was changed. A peer with a new key is pinned again after comparing fingerprints by phone, not updated`);
    }
    const channels = agreeChannels(d, self, opts.channels ?? before.channels.filter((c) => d.channels.includes(c)));
    await db.updateTable('peers').set({ name: d.name, url: d.url, channels: JSON.stringify(channels), updated_at: now }).where('party', '=', party).execute();
    return { before, after: await this.require(party) };
  }

  /**
   * Suspends, resumes or removes a peer. Suspend and resume are refused for a removed peer
   * (`peer_removed`); doing what is already done changes nothing. Returns the peer before and after.
   */
  async setLifecycle(party: string, to: PeerLifecycle): Promise<{ before: Peer; after: Peer }> {
    const { db, clock } = this.deps;
    const before = await this.require(party);
    if (before.lifecycle === 'removed' && to !== 'removed') {
      fail('peer_removed', `"${party}" was removed; pin it again with "hotline peer add" (a new link epoch) to talk to it`);
    }
    if (before.lifecycle !== to) {
      const now = clock.now();
      await db.updateTable('peers').set({ state: to, state_changed_at: now, updated_at: now }).where('party', '=', party).execute();
    }
    return { before, after: await this.require(party) };
  }

  async get(party: string): Promise<Peer | undefined> {
    const row = await this.deps.db.selectFrom('peers').selectAll().where('party', '=', party).executeTakeFirst();
    return row === undefined ? undefined : toPeer(row, await keyHistory(this.deps.db, party));
  }

  async require(party: string): Promise<Peer> {
    const peer = await this.get(party);
    if (peer === undefined) fail('unknown_peer', `No peer "${party}" is pinned on this node; add it with "hotline peer add"`);
    return peer;
  }

  /** Every pinned peer, removed ones included (their evidence stays). */
  async list(): Promise<Peer[]> {
    const rows = await this.deps.db.selectFrom('peers').selectAll().orderBy('party').execute();
    const keys = await allKeyHistory(this.deps.db);
    return rows.map((r) => toPeer(r, keys.get(r.party) ?? []));
  }

  /** The peers this node may still send to (suspended ones queue): every one not removed. */
  async listReachable(): Promise<Peer[]> {
    return (await this.list()).filter((p) => p.lifecycle !== 'removed');
  }
}

/**
 * The public keys of a peer that verify new signatures at time `now`: within their validity (a
 * rotated-out key until its overlap ends) and not declared compromised (federation.keys.ts).
 */
export function validKeys(peer: Peer, now: number): KeyObject[] {
  return keysValidAt(peer.keys, now);
}
