import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import { shortIds } from '../../shared/shortid.js';
import { CHANNELS, type Channel, type Self } from '../federation/federation.types.js';
import { checkUserName } from '../users/users.service.js';
import type { User } from '../users/users.types.js';
import { contactFields, isEmail } from './directory.body.js';
import { holdersAt } from './directory.rota.js';
import type { DirectoryContactsTable, DirectoryRotaTable, DirectoryTables } from './directory.tables.js';
import { POSITIONS, type Contact, type ContactInput, type Notify, type Position, type RotaIds, type RotaInput, type RotaStep } from './directory.types.js';

/** What editing this node's own directory needs; `users` to link contacts to users. */
export interface OwnDirectoryDeps {
  db: Kysely<DirectoryTables>;
  self: Self;
  clock: Clock;
  users?: { get(name: string): Promise<User | undefined> };
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
    languages: JSON.parse(r.languages) as string[], hours: r.hours, phone: r.phone, email: r.email, user: r.user_name ?? null,
  };
}

/** The row that stores a contact. */
export function contactRow(c: Omit<Contact, 'user'> & { user?: string | null }, addedAt: number): DirectoryContactsTable {
  return {
    party: c.party, id: c.id, channel: c.channel, function: c.function, name: c.name,
    languages: JSON.stringify(c.languages), hours: c.hours, phone: c.phone, email: c.email, added_at: addedAt, user_name: c.user ?? null,
  };
}

/** A user of this node who may be linked to a contact on `channel`: exists, enabled, holds the channel. */
async function linkable(deps: OwnDirectoryDeps, user: string, channel: Channel): Promise<string> {
  checkUserName(user, '--user');
  const u = deps.users === undefined ? undefined : await deps.users.get(user);
  if (u === undefined) fail('unknown_user', `No user "${user}" on this node; see "hotline user list"`);
  if (u.disabled_at !== null) usage(`User "${user}" is disabled`);
  if (!u.channels.includes(channel)) usage(`User "${user}" does not hold the channel ${channel}; grant it with "hotline user edit ${user} --channels ..."`);
  return u.name;
}

/** Adds a point of contact to this node's own directory; publish it with `publishDirectory`. */
export async function addContact(deps: OwnDirectoryDeps, input: ContactInput): Promise<Contact> {
  const channel = ownChannel(deps.self, input.channel);
  const now = deps.clock.now();
  const user = input.user === undefined ? null : await linkable(deps, input.user, channel);
  const contact: Contact = { id: uuidv7(now), party: deps.self.party, ...contactFields({ ...input, channel }, usage), user };
  await deps.db.insertInto('directory_contacts').values(contactRow(contact, now)).execute();
  return contact;
}

/** Links one of this node's contacts to a user (who then takes duty as it, and is paged for TLP:RED through it), or unlinks it (null). */
export async function linkContact(deps: OwnDirectoryDeps, ref: string, user: string | null): Promise<Contact> {
  const c = await resolveContact(deps.db, deps.self.party, ref);
  const name = user === null ? null : await linkable(deps, user, c.channel);
  await deps.db.updateTable('directory_contacts').set({ user_name: name }).where('party', '=', deps.self.party).where('id', '=', c.id).execute();
  return { ...c, user: name };
}

/** This node's own contacts (or a given party's), ordered by channel and when they were added. */
export async function listContacts(db: Kysely<DirectoryTables>, party: string, channel?: string): Promise<Contact[]> {
  let q = db.selectFrom('directory_contacts').selectAll().where('party', '=', party);
  if (channel !== undefined) q = q.where('channel', '=', channel);
  const rows = await q.orderBy('channel').orderBy('added_at').orderBy('id').execute();
  return rows.map(toContact);
}

/**
 * One of a party's contacts by what a person types: its id or a unique prefix of at least 8
 * characters, or its name (any case) or linked user name, unambiguous (on `channel` when given).
 * `not_found` when none; `ambiguous_id` listing the candidates when several.
 */
export async function resolveContact(db: Kysely<DirectoryTables>, party: string, ref: string, channel?: string): Promise<Contact> {
  const all = (await listContacts(db, party)).filter((c) => channel === undefined || c.channel === channel);
  const typed = ref.trim().toLowerCase();
  let found = /^[0-9a-f-]{8,36}$/.test(typed) ? all.filter((c) => c.id.startsWith(typed)) : [];
  if (found.length === 0) found = all.filter((c) => c.name.toLowerCase() === typed || c.user === typed);
  if (found.length === 1) return found[0]!;
  const where = channel === undefined ? '' : ` on ${channel}`;
  if (found.length === 0) fail('not_found', `No contact "${ref}"${where} in this node's directory; see "hotline contact list"`);
  const short = shortIds(all.map((c) => c.id));
  fail('ambiguous_id', `"${ref}" names several contacts${where}; give the id. Candidates: ${found.map((c) => `${short.get(c.id)} (${c.name}, ${c.channel})`).join(', ')}`);
}

/** Removes one of this node's contacts; refused (`contact_in_rota`) while a rota, a shift or a current override names it. */
export async function removeContact(deps: OwnDirectoryDeps, ref: string): Promise<Contact> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const c = await resolveContact(trx, deps.self.party, ref);
    const used = await trx.selectFrom('directory_rota').select(['channel', 'position'])
      .where('party', '=', deps.self.party).where('contact_id', '=', c.id).executeTakeFirst();
    if (used !== undefined) {
      fail('contact_in_rota', `Contact ${c.id} (${c.name}) is the ${used.position} on the ${used.channel} rota; set another rota with "hotline rota set" first`);
    }
    const shift = await trx.selectFrom('directory_shifts').select(['id', 'position']).where('contact_id', '=', c.id).executeTakeFirst();
    if (shift !== undefined) fail('contact_in_rota', `Contact ${c.id} (${c.name}) has a ${shift.position} shift (${shift.id}); remove it with "hotline rota remove" first`);
    const taken = await trx.selectFrom('directory_overrides').select(['id', 'position']).where('contact_id', '=', c.id).where('until_at', '>', now).executeTakeFirst();
    if (taken !== undefined) fail('contact_in_rota', `Contact ${c.id} (${c.name}) holds the ${taken.position} position by override ${taken.id}; end it with "hotline rota remove" first`);
    await trx.deleteFrom('directory_overrides').where('contact_id', '=', c.id).execute();
    await trx.deleteFrom('directory_contacts').where('party', '=', deps.self.party).where('id', '=', c.id).execute();
    return c;
  });
}

/**
 * Changes this node's rota on one channel: each position given names one of its contacts on that
 * channel (short id or name), or null to empty it; positions not given keep their holder and
 * notification targets. One contact holds one position.
 */
export async function setRota(deps: OwnDirectoryDeps, input: RotaInput): Promise<RotaStep[]> {
  const channel = ownChannel(deps.self, input.channel);
  const given = POSITIONS.filter((p) => input[p] !== undefined || input.notify?.[p] !== undefined);
  if (given.length === 0) usage(`Give at least one position to change: ${POSITIONS.map((p) => `--${p} CONTACT`).join(', ')}`);
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const held = await trx.selectFrom('directory_rota').selectAll().where('party', '=', deps.self.party).where('channel', '=', channel).execute();
    const rows = new Map<Position, DirectoryRotaTable>(held.map((r) => [r.position as Position, r]));
    for (const position of POSITIONS) {
      const ref = input[position];
      if (ref === null) rows.delete(position);
      else if (ref !== undefined) {
        const c = await resolveContact(trx, deps.self.party, ref, channel).catch(async (e: unknown) => {
          if ((e as { code?: string }).code !== 'not_found') throw e;
          const elsewhere = await resolveContact(trx, deps.self.party, ref).catch(() => undefined);
          if (elsewhere !== undefined) usage(`--${position} ${ref} is a contact on ${elsewhere.channel}, not on ${channel}`);
          return usage(`--${position} ${ref} is not one of this node's contacts on ${channel}; see "hotline contact list --channel ${channel}"`);
        });
        const keep = rows.get(position);
        rows.set(position, {
          party: deps.self.party, channel, position, contact_id: c.id, updated_at: now,
          notify_webhook: keep?.notify_webhook ?? null, notify_email: keep?.notify_email ?? null,
        });
      }
      const n = input.notify?.[position];
      if (n !== undefined) {
        const row = rows.get(position);
        if (row === undefined) usage(`No ${position} on the ${channel} rota to notify; name one with --${position} CONTACT`);
        const checked = notifyOf(n, position);
        if (n.webhook !== undefined) row.notify_webhook = checked.webhook;
        if (n.email !== undefined) row.notify_email = checked.email;
        row.updated_at = now;
      }
    }
    const named = [...rows.values()].map((r) => r.contact_id);
    if (new Set(named).size !== named.length) usage('One contact can hold only one position on a rota');
    await trx.deleteFrom('directory_rota').where('party', '=', deps.self.party).where('channel', '=', channel).execute();
    if (rows.size > 0) await trx.insertInto('directory_rota').values([...rows.values()]).execute();
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
 * empty positions; empty when no rota is set. Without `when`: the rota as `rota set` made it (and
 * as a peer published it). With `when` (this node's own party): who holds each position at
 * `when.at`, shifts and overrides applied in the node's time zone (directory.rota.ts). The
 * escalation processor asks this when each step fires.
 */
export async function rotaFor(db: Kysely<DirectoryTables>, party: string, channel: string, when?: { at: number; timeZone: string }): Promise<RotaStep[]> {
  const rows = await db.selectFrom('directory_rota')
    .innerJoin('directory_contacts', (j) => j.onRef('directory_contacts.party', '=', 'directory_rota.party').onRef('directory_contacts.id', '=', 'directory_rota.contact_id'))
    .selectAll('directory_contacts')
    .select(['directory_rota.position', 'directory_rota.notify_webhook', 'directory_rota.notify_email'])
    .where('directory_rota.party', '=', party).where('directory_rota.channel', '=', channel)
    .execute();
  const base: RotaStep[] = rows
    .map((r) => ({
      position: r.position as Position,
      contact: toContact(r),
      notify: r.notify_webhook === null && r.notify_email === null ? null : { webhook: r.notify_webhook, email: r.notify_email },
    }))
    .sort((a, b) => POSITIONS.indexOf(a.position) - POSITIONS.indexOf(b.position));
  return when === undefined ? base : holdersAt(db, party, channel, base, when.at, when.timeZone);
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

/**
 * This party's contacts on any of `channels` linked to any of these users, oldest first (TLP:RED
 * pages its recipients through them: a round of escalation reads them once and picks each
 * message's by channel and user).
 */
export async function contactsOfUsers(db: Kysely<DirectoryTables>, party: string, channels: readonly string[], users: readonly string[]): Promise<Contact[]> {
  if (users.length === 0 || channels.length === 0) return [];
  const rows = await db.selectFrom('directory_contacts').selectAll().where('party', '=', party).where('channel', 'in', [...new Set(channels)])
    .where('user_name', 'in', [...new Set(users)]).orderBy('added_at').orderBy('id').execute();
  return rows.map(toContact);
}
