import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { isUuid, uuidv7 } from '../../shared/ids.js';
import { CHANNELS, type Channel, type Self } from '../federation/federation.types.js';
import { contactFields, isEmail } from './directory.body.js';
import type { DirectoryContactsTable, DirectoryRotaTable, DirectoryTables } from './directory.tables.js';
import { POSITIONS, type Contact, type ContactInput, type Notify, type Position, type RotaIds, type RotaInput, type RotaStep } from './directory.types.js';

/** What editing this node's own directory needs. */
export interface OwnDirectoryDeps {
  db: Kysely<DirectoryTables>;
  self: Self;
  clock: Clock;
}

function usage(m: string): never {
  return fail('invalid_argument', m);
}

/** Checks that a channel is known and that this node serves it. */
export function ownChannel(self: Self, channel: string): Channel {
  if (!(CHANNELS as readonly string[]).includes(channel)) fail('unknown_channel', `Unknown channel "${channel}"; use one of: ${CHANNELS.join(', ')}`);
  if (!self.channels.includes(channel as Channel)) usage(`This node does not serve the channel "${channel}" (it serves ${self.channels.join(', ')})`);
  return channel as Channel;
}

/** Converts a stored row to a contact. */
export function toContact(r: DirectoryContactsTable): Contact {
  return {
    id: r.id, party: r.party, channel: r.channel as Channel, function: r.function, name: r.name,
    languages: JSON.parse(r.languages) as string[], hours: r.hours, phone: r.phone, email: r.email,
  };
}

/** The row that stores a contact. */
export function contactRow(c: Contact, addedAt: number): DirectoryContactsTable {
  return {
    party: c.party, id: c.id, channel: c.channel, function: c.function, name: c.name,
    languages: JSON.stringify(c.languages), hours: c.hours, phone: c.phone, email: c.email, added_at: addedAt,
  };
}

/** Adds a point of contact to this node's own directory; publish it with `publishDirectory`. */
export async function addContact(deps: OwnDirectoryDeps, input: ContactInput): Promise<Contact> {
  const channel = ownChannel(deps.self, input.channel);
  const now = deps.clock.now();
  const contact: Contact = { id: uuidv7(now), party: deps.self.party, ...contactFields({ ...input, channel }, usage) };
  await deps.db.insertInto('directory_contacts').values(contactRow(contact, now)).execute();
  return contact;
}

/** This node's own contacts (or a given party's), ordered by channel and when they were added. */
export async function listContacts(db: Kysely<DirectoryTables>, party: string, channel?: string): Promise<Contact[]> {
  let q = db.selectFrom('directory_contacts').selectAll().where('party', '=', party);
  if (channel !== undefined) q = q.where('channel', '=', channel);
  const rows = await q.orderBy('channel').orderBy('added_at').orderBy('id').execute();
  return rows.map(toContact);
}

/** Removes one of this node's contacts; refused (`contact_in_rota`) while a rota names it. */
export async function removeContact(deps: OwnDirectoryDeps, id: string): Promise<Contact> {
  if (!isUuid(id)) usage(`"${id}" is not a contact id (a UUID); see "hotline contact list"`);
  return deps.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('directory_contacts').selectAll().where('party', '=', deps.self.party).where('id', '=', id).executeTakeFirst();
    if (row === undefined) fail('not_found', `No contact ${id} in this node's directory; see "hotline contact list"`);
    const used = await trx.selectFrom('directory_rota').select(['channel', 'position'])
      .where('party', '=', deps.self.party).where('contact_id', '=', id).executeTakeFirst();
    if (used !== undefined) {
      fail('contact_in_rota', `Contact ${id} (${row.name}) is the ${used.position} on the ${used.channel} rota; set another rota with "hotline rota set" first`);
    }
    await trx.deleteFrom('directory_contacts').where('party', '=', deps.self.party).where('id', '=', id).execute();
    return toContact(row);
  });
}

/** Replaces this node's rota on one channel: each position names one of its contacts on that channel. */
export async function setRota(deps: OwnDirectoryDeps, input: RotaInput): Promise<RotaStep[]> {
  const channel = ownChannel(deps.self, input.channel);
  const ids: RotaIds = { primary: input.primary, backup: input.backup ?? null, supervisor: input.supervisor ?? null };
  const named = POSITIONS.map((p) => ids[p]).filter((x): x is string => x !== null);
  if (new Set(named).size !== named.length) usage('One contact can hold only one position on a rota');
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const rows: DirectoryRotaTable[] = [];
    for (const position of POSITIONS) {
      const id = ids[position];
      if (id === null) continue;
      const c = await trx.selectFrom('directory_contacts').select(['channel']).where('party', '=', deps.self.party).where('id', '=', id).executeTakeFirst();
      if (c === undefined) usage(`--${position} ${id} is not one of this node's contacts; see "hotline contact list"`);
      if (c.channel !== channel) usage(`--${position} ${id} is a contact on ${c.channel}, not on ${channel}`);
      const n = notifyOf(input.notify?.[position], position);
      rows.push({ party: deps.self.party, channel, position, contact_id: id, notify_webhook: n.webhook, notify_email: n.email, updated_at: now });
    }
    await trx.deleteFrom('directory_rota').where('party', '=', deps.self.party).where('channel', '=', channel).execute();
    await trx.insertInto('directory_rota').values(rows).execute();
  });
  return rotaFor(deps.db, deps.self.party, channel);
}

function notifyOf(n: Partial<Notify> | undefined, position: Position): Notify {
  const webhook = n?.webhook ?? null;
  const email = n?.email ?? null;
  if (webhook !== null) {
    let u: URL | undefined;
    try {
      u = new URL(webhook);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== 'https:' && u.protocol !== 'http:')) usage(`The ${position}'s webhook must be an http(s) URL (got "${webhook}")`);
  }
  if (email !== null && !isEmail(email)) usage(`The ${position}'s notification e-mail must be an e-mail address (got "${email}")`);
  return { webhook, email };
}

/**
 * The escalation chain of `party` on `channel`, in order (primary, backup, supervisor), skipping
 * empty positions; empty when no rota is set. For this node's own party each step carries where
 * to notify it. The escalation processor walks this chain.
 */
export async function rotaFor(db: Kysely<DirectoryTables>, party: string, channel: string): Promise<RotaStep[]> {
  const rows = await db.selectFrom('directory_rota')
    .innerJoin('directory_contacts', (j) => j.onRef('directory_contacts.party', '=', 'directory_rota.party').onRef('directory_contacts.id', '=', 'directory_rota.contact_id'))
    .selectAll('directory_contacts')
    .select(['directory_rota.position', 'directory_rota.notify_webhook', 'directory_rota.notify_email'])
    .where('directory_rota.party', '=', party).where('directory_rota.channel', '=', channel)
    .execute();
  return rows
    .map((r) => ({
      position: r.position as Position,
      contact: toContact(r),
      notify: r.notify_webhook === null && r.notify_email === null ? null : { webhook: r.notify_webhook, email: r.notify_email },
    }))
    .sort((a, b) => POSITIONS.indexOf(a.position) - POSITIONS.indexOf(b.position));
}

/** A party's rota on every channel as contact ids per position. */
export async function rotaIds(db: Kysely<DirectoryTables>, party: string): Promise<Partial<Record<Channel, RotaIds>>> {
  const rows = await db.selectFrom('directory_rota').select(['channel', 'position', 'contact_id']).where('party', '=', party).execute();
  const out: Partial<Record<Channel, RotaIds>> = {};
  for (const r of rows) {
    const ids = (out[r.channel as Channel] ??= { primary: null, backup: null, supervisor: null });
    ids[r.position as Position] = r.contact_id;
  }
  return out;
}
