/**
 * The tables of the points-of-contact directory and of ping tests. Times are integer
 * milliseconds since the epoch (this node's clock); JSON columns are text. Created by the
 * migrations `0004_directory` and `0013_rota` in `adapters/storage/migrations/`.
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
  /** The user of this node the contact is (own contacts only; never published): who takes duty as it, who is paged for TLP:RED. */
  user_name: string | null;
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
  /** Peers: JSON `{ channel: [user names] }`, who may receive TLP:RED there, as the party published; null when it published none. */
  red_recipients: string | null;
}

/** A shift of this node's rota: `contact_id` holds `position` on `channel` on these weekdays between these hours (the node's time zone). */
export interface DirectoryShiftsTable {
  id: string;
  channel: string;
  position: string;
  contact_id: string;
  /** JSON: weekday numbers, 0 = Monday ... 6 = Sunday. */
  days: string;
  /** Minutes after local midnight; `end_min` <= `start_min` is a shift past midnight (ends the next day). */
  start_min: number;
  end_min: number;
  created_at: number;
}

/** An override of this node's rota: `contact_id` holds `position` on `channel` from `from_at` until `until_at` ("I take the duty now"). */
export interface DirectoryOverridesTable {
  id: string;
  channel: string;
  position: string;
  contact_id: string;
  from_at: number;
  until_at: number;
  /** The user who took it (`rota take --as`), or null. */
  taken_by: string | null;
  created_at: number;
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
  directory_shifts: DirectoryShiftsTable;
  directory_overrides: DirectoryOverridesTable;
}
