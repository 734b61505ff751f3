/**
 * The tables the users module owns, as Kysely sees them. Times are integer milliseconds since
 * the epoch; JSON columns are text. `adapters/storage` creates them (migration `0003_users`).
 */
export interface UsersTable {
  /** The user's name: unique, lower case (USER_NAME in users.types.ts). */
  name: string;
  /** 'admin' | 'officer' */
  role: string;
  /** JSON: Channel[] the user may read and write, in CHANNELS order. */
  channels: string;
  created_at: number;
  /** Set when the user is disabled: every token of the user stops working. */
  disabled_at: number | null;
  /** Role `peer` only: the party whose systems use this account (TAXII only). Migration `0007_taxii`. */
  peer: string | null;
  /** What a person is called ("Ivan Petrov"), as an acknowledgement names them; null: the user name. Migration `0010_users_display_name`. */
  display_name: string | null;
}

/** An API token. Only the SHA-256 of its secret is stored; the secret is shown once, at creation. */
export interface TokensTable {
  id: string;
  user_name: string;
  /** Lower-case hex SHA-256 of the bearer secret. */
  secret_sha256: string;
  created_at: number;
  /** Updated at most once a minute, so that reading does not turn every request into a write. */
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface UsersTables {
  users: UsersTable;
  tokens: TokensTable;
}
