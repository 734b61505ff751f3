import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { CHANNELS, PARTY_ID, TLPS, type Channel, type Tlp } from '../federation/federation.types.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { holdsChannel } from '../users/users.access.js';
import type { UsersTables } from '../users/users.tables.js';
import { tokenExists, userExists } from '../users/users.lookup.js';
import { isPinned } from '../federation/federation.pinned.js';
import type { Principal } from '../users/users.types.js';
import type { TaxiiCollectionsTable, TaxiiGrantsTable, TaxiiTables } from './taxii.tables.js';

/** A collection as the CLI and REST show it (TAXII's own resource is built in the HTTP adapter). */
export interface Collection {
  id: string;
  alias: string;
  title: string;
  description: string | null;
  channel: Channel;
  default_tlp: Tlp;
  /** `inbound-<party>`: the peer whose indicators land here. */
  peer: string | null;
  created_at: string;
}

export interface Grant {
  subject: string;
  read: boolean;
  write: boolean;
  granted_at: string;
}

/** What a principal may do with a collection. Not `visible` → the collection is 404 to it. */
export interface Access {
  visible: boolean;
  read: boolean;
  write: boolean;
}

export interface NewCollection {
  alias: string;
  title?: string;
  description?: string;
  channel?: string;
  tlp?: string;
}

const ALIAS = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The alias of the collection that a peer's `indicators` messages land in. */
export function inboundAlias(party: string): string {
  return `inbound-${party}`;
}

function toCollection(r: TaxiiCollectionsTable): Collection {
  return {
    id: r.id, alias: r.alias, title: r.title, description: r.description, channel: r.channel as Channel,
    default_tlp: r.default_tlp as Tlp, peer: r.peer, created_at: isoTime(Number(r.created_at)),
  };
}

function toGrant(r: TaxiiGrantsTable): Grant {
  return { subject: r.subject, read: r.can_read === 1, write: r.can_write === 1, granted_at: isoTime(Number(r.granted_at)) };
}

type Db = Kysely<TaxiiTables>;

/**
 * The subjects a principal matches in grants: itself, its token, its party (peer accounts), and
 * the channels it holds (this node's own users only: `channel:cert` never reaches a peer's account).
 */
export function subjectsOf(p: Principal): string[] {
  const out = [`user:${p.user}`];
  if (p.token !== undefined) out.push(`token:${p.token}`);
  if (p.peer !== undefined) out.push(`peer:${p.peer}`);
  else for (const c of p.channels) out.push(`channel:${c}`);
  return out;
}

/** Collections, their grants, and what a principal may do with each. */
export class CollectionRepository {
  constructor(private readonly deps: { db: Kysely<TaxiiTables>; clock: Clock }) {}

  /** Adds a collection; refuses a taken or malformed alias, an unknown channel or TLP. */
  add(input: NewCollection): Promise<Collection> {
    // One transaction: the alias check, the next key and the insert must see the same collections.
    return this.deps.db.transaction().execute((trx) => this.insert(trx, input, null));
  }

  /**
   * {@link add} on a given handle. Every method that may run inside a transaction takes the handle
   * as a required parameter: the store has one connection, so the plain handle used inside a
   * transaction waits for that transaction forever (eslint.config.js refuses defaults for it).
   */
  private async insert(trx: Db, input: NewCollection, peer: string | null): Promise<Collection> {
    const alias: string = String(input.alias);
    const uuidLike = Boolean(isUuid(alias)); // not a type guard here: a UUID-like alias is refused, not narrowed
    if (!ALIAS.test(alias) || uuidLike) {
      fail('invalid_argument', `A collection alias is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit, and not a UUID (got ${JSON.stringify(alias)})`);
    }
    if (peer === null && alias.startsWith('inbound-')) fail('invalid_argument', `Aliases "inbound-<party>" are kept for the collections peers' indicators land in`);
    const channel = input.channel ?? 'cert';
    if (!(CHANNELS as readonly string[]).includes(channel)) fail('unknown_channel', `Unknown channel "${channel}"; use one of: ${CHANNELS.join(', ')}`);
    const tlp = input.tlp ?? 'amber';
    if (!(TLPS as readonly string[]).includes(tlp)) fail('unknown_tlp', `Unknown TLP "${tlp}"; use one of: ${TLPS.join(', ')}`);
    const taken = await trx.selectFrom('taxii_collections').select('id').where('alias', '=', alias).executeTakeFirst();
    if (taken !== undefined) fail('collection_exists', `A collection "${alias}" already exists (id ${taken.id})`);
    // The next key (migration 0023), in the caller's transaction: on PostgreSQL two that add at once
    // conflict, and the later is run again (serializable, postgres.ts); SQLite runs one at a time.
    const last = await trx.selectFrom('taxii_collections').select((e) => e.fn.max('key').as('key')).executeTakeFirst();
    const row: TaxiiCollectionsTable = {
      id: randomUUID(), alias, title: input.title ?? alias, description: input.description ?? null, channel, default_tlp: tlp, peer,
      created_at: this.deps.clock.now(), key: Number(last?.key ?? 0) + 1,
    };
    await trx.insertInto('taxii_collections').values(row).execute();
    return toCollection(row);
  }

  /** Every collection, in a stable order (by alias). */
  async list(): Promise<Collection[]> {
    return (await this.deps.db.selectFrom('taxii_collections').selectAll().orderBy('alias').execute()).map(toCollection);
  }

  /** The collection with this id or alias. */
  find(idOrAlias: string): Promise<Collection | undefined> {
    return this.findIn(this.deps.db, idOrAlias);
  }

  private async findIn(trx: Db, idOrAlias: string): Promise<Collection | undefined> {
    const r = await trx.selectFrom('taxii_collections').selectAll()
      .where(isUuid(idOrAlias) ? 'id' : 'alias', '=', idOrAlias).executeTakeFirst();
    return r === undefined ? undefined : toCollection(r);
  }

  async require(idOrAlias: string): Promise<Collection> {
    const c = await this.find(idOrAlias);
    if (c === undefined) fail('not_found', `No collection "${idOrAlias}" on this node; see "hotline collection list"`);
    return c;
  }

  /**
   * The collection peer `party`'s indicators land in, made on first use (inside the storing
   * transaction): readable by every user of this node holding `cert`, written only by the federation.
   */
  async inbound(trx: Db, party: string): Promise<Collection> {
    const existing = await this.findIn(trx, inboundAlias(party));
    if (existing !== undefined) return existing;
    const c = await this.insert(trx, { alias: inboundAlias(party), title: `Indicators from ${party}`, description: `STIX objects received from peer ${party} in indicators messages`, channel: 'cert' }, party);
    await this.setGrant(trx, c.id, 'channel:cert', { read: true, write: false });
    return c;
  }

  /** Grants (or changes) read/write on a collection to a subject; both false removes the grant. */
  async grant(idOrAlias: string, subject: string, rights: { read: boolean; write: boolean }): Promise<Grant[]> {
    const c = await this.require(idOrAlias);
    await this.checkSubject(subject);
    await this.setGrant(this.deps.db, c.id, subject, rights);
    return this.grants(c.id);
  }

  async grants(idOrAlias: string): Promise<Grant[]> {
    const c = await this.require(idOrAlias);
    return (await this.deps.db.selectFrom('taxii_grants').selectAll().where('collection_id', '=', c.id).orderBy('subject').execute()).map(toGrant);
  }

  /**
   * What `p` may do with `c`. The channel wall first: a collection on a channel the principal does
   * not hold does not exist for it. The node administrator reads and writes every collection it
   * sees; everyone else needs a grant. (TLP still applies per object: taxii.visibility.ts.)
   */
  async access(p: Principal, c: Collection): Promise<Access> {
    if (!holdsChannel(p, c.channel)) return { visible: false, read: false, write: false };
    if (p.role === 'admin') return { visible: true, read: true, write: true };
    const rows = await this.deps.db.selectFrom('taxii_grants').select(['can_read', 'can_write'])
      .where('collection_id', '=', c.id).where('subject', 'in', subjectsOf(p)).execute();
    const read = rows.some((r) => r.can_read === 1);
    const write = rows.some((r) => r.can_write === 1);
    return { visible: read || write, read, write };
  }

  /** The collections `p` can see, with its access to each (TAXII `/collections/`). */
  async visibleTo(p: Principal): Promise<{ collection: Collection; access: Access }[]> {
    const out: { collection: Collection; access: Access }[] = [];
    for (const c of await this.list()) {
      const access = await this.access(p, c);
      if (access.visible) out.push({ collection: c, access });
    }
    return out;
  }

  private async setGrant(db: Db, collectionId: string, subject: string, rights: { read: boolean; write: boolean }): Promise<void> {
    await db.deleteFrom('taxii_grants').where('collection_id', '=', collectionId).where('subject', '=', subject).execute();
    if (!rights.read && !rights.write) return;
    await db.insertInto('taxii_grants').values({
      collection_id: collectionId, subject, can_read: rights.read ? 1 : 0, can_write: rights.write ? 1 : 0, granted_at: this.deps.clock.now(),
    }).execute();
  }

  /** Refuses a subject that names nothing on this node. */
  private async checkSubject(subject: string): Promise<void> {
    const m = /^(user|token|peer|channel):(.+)$/.exec(subject);
    if (m === null) fail('invalid_argument', `A grant names user:NAME, token:ID, peer:PARTY or channel:CHANNEL (got ${JSON.stringify(subject)})`);
    const [, kind, name] = m as unknown as [string, string, string];
    const db = this.deps.db as unknown as Kysely<UsersTables> & Kysely<FederationTables>;
    switch (kind) {
      case 'user':
        if (!await userExists(db, name)) {
          fail('unknown_user', `No user "${name}" on this node; see "hotline user list"`);
        }
        break;
      case 'token':
        if (!isUuid(name) || !await tokenExists(db, name)) {
          fail('not_found', `No token ${name} on this node; see "hotline token list"`);
        }
        break;
      case 'peer':
        if (!PARTY_ID.test(name) || !await isPinned(db, name)) {
          fail('unknown_peer', `No peer "${name}" is pinned on this node; see "hotline peer list"`);
        }
        break;
      default:
        if (!(CHANNELS as readonly string[]).includes(name)) fail('unknown_channel', `Unknown channel "${name}"; use one of: ${CHANNELS.join(', ')}`);
    }
  }
}
