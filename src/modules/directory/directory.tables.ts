/**
 * The tables of the points-of-contact directory and of ping tests. Times are integer
 * milliseconds since the epoch (this node's clock); JSON columns are text. Created by the
 * migration `0004_directory` in `adapters/storage/migrations/`.
 */

/** A point of contact of a party (this node's own, or a peer's as its last directory-update said). */
export interface DirectoryContactsTable {
  party: string;
  id: string;
  channel: string;
  function: string;
  name: string;
  /** JSON: string[] of language tags, e.g. ["en","ru"] */
  languages: string;
  hours: string | null;
  phone: string | null;
  email: string | null;
  added_at: number;
}

/** One position of a party's rota on a channel: primary (on duty), backup, supervisor. */
export interface DirectoryRotaTable {
  party: string;
  channel: string;
  position: string;
  contact_id: string;
  /** Where escalation notifies this position (own rota only; never published). */
  notify_webhook: string | null;
  notify_email: string | null;
  updated_at: number;
}

/** Per party: the directory version this node holds, and when it was published (own) or accepted (peer). */
export interface DirectoryPartiesTable {
  party: string;
  version: number;
  updated_at: number;
  /** The directory-update message that carried this version (peers), or null (own). */
  message_id: string | null;
}

/** One ping test: sent by this node (`out`) or received from a peer (`in`), and its answer. */
export interface DirectoryPingsTable {
  /** The ping message's id. */
  id: string;
  direction: 'in' | 'out';
  /** The other party: the one pinged (out) or the one who pinged us (in). */
  peer: string;
  channel: string;
  case_id: string;
  /** When this node stored the ping (sent it, or received it). */
  sent_at: number;
  /** When this node stored the pong (received it, or sent it); null while unanswered. */
  answered_at: number | null;
  pong_id: string | null;
  /** The officer who answered, as the pong names them. */
  officer: string | null;
}

export interface DirectoryTables {
  directory_contacts: DirectoryContactsTable;
  directory_rota: DirectoryRotaTable;
  directory_parties: DirectoryPartiesTable;
  directory_pings: DirectoryPingsTable;
}
