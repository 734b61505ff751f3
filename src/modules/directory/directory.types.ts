import type { UsersTables } from '../users/users.tables.js';
import type { Kysely } from 'kysely';
import type { OutboxDeps } from '../federation/federation.outbox.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { Channel } from '../federation/federation.types.js';
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
  /** Only for this node's own rota; null for peers' and when none is set. */
  notify: Notify | null;
}

/** What `hotline rota set` gives: a contact id per position, and optional notification targets. */
export interface RotaInput {
  channel: string;
  primary: string;
  backup?: string;
  supervisor?: string;
  notify?: Partial<Record<Position, Partial<Notify>>>;
}

/** The body of a `directory-update` message (docs/protocol.md section 5.7). */
export interface DirectoryUpdateBody {
  party: string;
  version: number;
  contacts: Omit<Contact, 'party'>[];
  rota: Partial<Record<Channel, RotaIds>>;
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
