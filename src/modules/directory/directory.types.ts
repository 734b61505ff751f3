import type { UsersTables } from '../users/users.tables.js';
import type { Kysely } from 'kysely';
import type { OutboxDeps } from '../federation/federation.outbox.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { fail } from '../../shared/errors.js';
import { PARTY_ID, type Channel } from '../federation/federation.types.js';
import type { DirectoryTables } from './directory.tables.js';

/** The rota's escalation chain, in order: who is on duty, who next, who last. */
export const POSITIONS = ['primary', 'backup', 'supervisor'] as const;
export type Position = (typeof POSITIONS)[number];

/** A point of contact: per channel, with out-of-band means to reach them. */
export interface Contact {
  id: string;
  party: string;
  channel: Channel;
  /** What they are, e.g. "CERT duty officer", "24/7 point of contact (Art. 35)". */
  function: string;
  name: string;
  /** Language tags, e.g. ["en", "ru"]. */
  languages: string[];
  /** e.g. "24/7" or "Mon-Fri 08:00-18:00 UTC"; null when not stated. */
  hours: string | null;
  phone: string | null;
  email: string | null;
  /** The user of this node the contact is (own contacts; never published), or null. */
  user: string | null;
}

/** What a person gives to add a contact (`hotline contact add`, POST /api/v1/contacts). */
export interface ContactInput {
  channel: string;
  function: string;
  name: string;
  languages?: readonly string[];
  hours?: string;
  phone?: string;
  email?: string;
  /** A user of this node who holds the channel: links the contact to them. */
  user?: string;
}

/** Where escalation notifies a rota position (kept on this node; never published). */
export interface Notify {
  webhook: string | null;
  email: string | null;
}

/** A channel's rota as contact ids per position (null: nobody in that position). */
export type RotaIds = Record<Position, string | null>;

/** One step of the escalation chain returned by `rotaFor`. */
export interface RotaStep {
  position: Position;
  contact: Contact;
  /** Only for this node's own rota, and only for the contact `rota set` named; null otherwise (a shift's or override's holder is reached at the contact's e-mail). */
  notify: Notify | null;
  /** Why this contact holds the position: the rota (`rota set`), a shift, or an override (`rota take`); with a time, always set. */
  source?: 'rota' | 'shift' | 'override';
  /** The shift's or override's id. */
  entry?: string;
  /** An override: when it ends. */
  until?: string;
}

/** What `hotline rota set` gives: a contact (short id or name) per position to change, null to empty it; positions not given keep their holder. */
export interface RotaInput {
  channel: string;
  primary?: string | null;
  backup?: string | null;
  supervisor?: string | null;
  notify?: Partial<Record<Position, Partial<Notify>>>;
}

/** A shift: who holds a position on a channel on some weekdays between two times of day (the node's time zone). */
export interface Shift {
  id: string;
  channel: Channel;
  position: Position;
  contact: Contact;
  /** e.g. ["mon","tue","wed","thu","fri"]. */
  days: string[];
  /** "08:00-18:00"; an end at or before the start ends the next day. */
  hours: string;
}

/** An override: someone holds a position from a time until a time ("I take the duty now"). */
export interface Override {
  id: string;
  channel: Channel;
  position: Position;
  contact: Contact;
  from: string;
  until: string;
  taken_by: string | null;
}

/** Who is on duty on a channel now, and who takes the primary position next (and when). */
export interface DutyView {
  channel: Channel;
  time_zone: string;
  now: RotaStep[];
  next: { at: string; contact: Contact | null; source: 'rota' | 'shift' | 'override' | null } | null;
}

/** The body of a `directory-update` message (docs/protocol.md section 5.7). */
export interface DirectoryUpdateBody {
  party: string;
  version: number;
  contacts: Omit<Contact, 'party' | 'user'>[];
  rota: Partial<Record<Channel, RotaIds>>;
  /** Per channel, the user names at the party that may receive TLP:RED there; absent from older nodes. */
  red_recipients?: Partial<Record<Channel, string[]>>;
}

/** One entry of the optional `ping_schedule` in hotline.json. */
export interface PingScheduleEntry {
  readonly to: string;
  readonly channel: Channel;
  readonly every_minutes: number;
}

/**
 * The store as this module needs it: one handle seen both as the federation's tables (outbox,
 * messages) and as the directory's (Kysely is invariant in its tables type, so the two views are
 * intersected rather than the tables).
 */
export type DirectoryDb = Kysely<FederationTables> & Kysely<DirectoryTables> & Kysely<UsersTables>;

/** What sending directory-updates, pings and pongs needs: the outbox (with the message hooks) over a store holding both modules' tables. */
export type DirectoryDeps = OutboxDeps & { db: DirectoryDb };

/**
 * Validates the optional `ping_schedule` of hotline.json:
 * `[{ "to": "ru", "channel": "crisis", "every_minutes": 1440 }]`. Problems are `config_invalid`
 * and name the entry and field.
 */
export function parsePingSchedule(raw: unknown, self: { party: string; channels: readonly Channel[] }): readonly PingScheduleEntry[] {
  if (raw === undefined) return Object.freeze([]);
  const bad = (m: string): never => fail('config_invalid', `"ping_schedule"${m}`);
  if (!Array.isArray(raw)) bad(' must be a list of { "to": party, "channel": channel, "every_minutes": integer }');
  const seen = new Set<string>();
  return Object.freeze((raw as unknown[]).map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return bad(`[${i}] must be an object`);
    const o = e as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !['to', 'channel', 'every_minutes'].includes(k));
    if (extra !== undefined) bad(`[${i}].${extra} is not a setting; known: to, channel, every_minutes`);
    if (typeof o.to !== 'string' || !PARTY_ID.test(o.to)) bad(`[${i}].to must be a peer's party id`);
    if (o.to === self.party) bad(`[${i}].to is this node's own party; ping tests go to peers`);
    if (!self.channels.includes(o.channel as Channel)) bad(`[${i}].channel must be one of this node's channels: ${self.channels.join(', ')}`);
    const every = o.every_minutes;
    if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > 525_600) bad(`[${i}].every_minutes must be a whole number of minutes from 1 to 525600`);
    const entry: PingScheduleEntry = Object.freeze({ to: o.to as string, channel: o.channel as Channel, every_minutes: every as number });
    if (seen.has(scheduleKey(entry))) bad(`[${i}] repeats ${entry.to} on ${entry.channel}; one entry per peer and channel`);
    seen.add(scheduleKey(entry));
    return entry;
  }));
}

/** One entry per peer and channel. */
export function scheduleKey(e: PingScheduleEntry): string {
  return `${e.to} ${e.channel}`;
}
