/**
 * The tables of the STIX object store and the TAXII 2.1 server, as Kysely sees them; created by
 * the migration `0007_taxii` in `adapters/storage/migrations/` (`stix_objects` as rebuilt by
 * `0023_stix_keys`). Times of creation are integer milliseconds; `date_added`, `version` and
 * `request_timestamp` are integer MICROseconds since the epoch, because TAXII timestamps carry
 * microseconds and `date_added` is the paging key.
 */

/** A TAXII collection. */
export interface TaxiiCollectionsTable {
  /** A UUID (TAXII wants an identifier): what URLs use. */
  id: string;
  /** Unique, human: `indicators`, `inbound-ru`, `domestic`. The CLI and URLs accept it too. */
  alias: string;
  title: string;
  description: string | null;
  /** The channel wall applies: only principals holding this channel see the collection (default `cert`). */
  channel: string;
  /** The TLP of objects that carry no TLP marking of their own. */
  default_tlp: string;
  /** For `inbound-<party>`: the peer whose `indicators` messages land here. Null for local ones. */
  peer: string | null;
  created_at: number;
  /** A small number, unique, in creation order: what `stix_objects` rows name their collection by (migration 0023). */
  key: number;
}

/**
 * Who may read or write a collection. `subject` is `user:NAME`, `token:ID`, `peer:PARTY` (the
 * accounts of a peer) or `channel:NAME` (every user holding that channel).
 */
export interface TaxiiGrantsTable {
  collection_id: string;
  subject: string;
  can_read: number;
  can_write: number;
  granted_at: number;
}

/** One version of one STIX object in one collection. */
export interface StixObjectsTable {
  /** taxii_collections.key of the collection. */
  collection_key: number;
  /** When this node stored this version, in µs; unique across the store and increasing: the paging key. */
  date_added: number;
  object_id: string;
  /** 48 bits of `object_id` (taxii.lookups.ts idHash): what the lookup by object is indexed by. */
  id_hash: number;
  type: string;
  /** The version in µs: `modified`, else `created`, else (objects without versions, e.g. SCOs) `date_added`. */
  version: number;
  /** 1 when `version` came from the object's `modified` or `created`. */
  has_version: number;
  spec_version: string;
  /** 1 for the earliest, resp. latest, version of the object held in this collection. */
  is_first: number;
  is_last: number;
  /** The TLP the node enforces on this version: the most restrictive of its own marking and where it came from. */
  tlp: string;
  /** `local` (posted here over TAXII or made by this node) or the party whose message carried it. */
  source: string;
  /** The user (or `peer:PARTY`) that added it. */
  added_by: string;
  /** TLP:RED: JSON list of the user names who may read it (besides `added_by`); else null. */
  recipients: string | null;
  /** The `indicators` message that carried it, when it came over the federation. */
  message_id: string | null;
  /** The object's JSON text, served as it is. */
  object: string;
}

/** A TAXII status resource: one POST to a collection's objects, or one inbound `indicators` message. */
export interface TaxiiStatusTable {
  id: string;
  collection_id: string;
  /** Who may read it: the user who posted, or `peer:PARTY` for an inbound message. */
  principal: string;
  /** `pending` while parts are being stored, then `complete`. */
  status: string;
  request_timestamp: number;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  message_id: string | null;
}

/** The per-object outcomes of a status, one row per batch stored (so a large POST is not rewritten per batch). */
export interface TaxiiStatusPartsTable {
  status_id: string;
  part: number;
  /** JSON: StatusDetail[] */
  successes: string;
  /** JSON: StatusDetail[] */
  failures: string;
}

/** Small store-wide values; `date_added_hwm` is the highest `date_added` handed out (µs). */
export interface TaxiiMetaTable {
  key: string;
  value: string;
}

// A type, not an interface: `withTables<TaxiiTables>()` needs an index signature.
export type TaxiiTables = {
  taxii_collections: TaxiiCollectionsTable;
  taxii_grants: TaxiiGrantsTable;
  stix_objects: StixObjectsTable;
  taxii_status: TaxiiStatusTable;
  taxii_status_parts: TaxiiStatusPartsTable;
  taxii_meta: TaxiiMetaTable;
};
