/**
 * The tables the audit module owns (migration `0016_audit`). Times are integer milliseconds since
 * the epoch; `details` is canonical JSON text. Reached only through audit.service.ts.
 */
export interface AuditTable {
  /** 1, 2, 3, ... with no gap: the order of the trail. */
  seq: number;
  /** UUIDv7 of the record. */
  id: string;
  at: number;
  /** Who: a user name, `cli:<os user>` (the CLI without --as), or `node`. */
  actor: string;
  /** What: a stable action name (AUDIT_ACTIONS), e.g. `message.send`. */
  action: string;
  /** The id or name of what it was done to, if any. */
  subject: string | null;
  /** From where: the REST caller's IP address, `cli`, or `node`. */
  address: string;
  /** Small canonical JSON object: never a message body nor a secret. */
  details: string;
  /** The previous record's hash (64 zeros for the first). */
  prev_hash: string;
  /** SHA-256 (hex) of the canonical JSON of the record (every column above, details parsed). */
  hash: string;
}

/** One row, name `audit`: the last record's seq and hash (so that removing the last record shows). */
export interface AuditHeadTable {
  name: string;
  seq: number;
  hash: string;
}

export interface AuditTables {
  audit: AuditTable;
  audit_head: AuditHeadTable;
}
