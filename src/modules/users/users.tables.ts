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
  /** The console password: `scrypt$N=..,r=..,p=..$<salt>$<hash>` (users.passwords.ts); null: none set. Migration `0017_console`. */
  password_hash?: string | null;
  password_set_at?: number | null;
  /** The confirmed TOTP secret (base32); null: not enrolled. */
  totp_secret?: string | null;
  /** A TOTP secret being enrolled, until a code confirms it. */
  totp_pending?: string | null;
  /** The last TOTP time step accepted: a code is accepted once (no replay within its window). */
  totp_last_step?: number | null;
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

/** A console session (users.sessions.ts): only the SHA-256 of the cookie's secret is stored. */
export interface SessionsTable {
  id_sha256: string;
  user_name: string;
  /** Sent back in X-CSRF-Token on every cookie-authenticated write. */
  csrf_token: string;
  created_at: number;
  /** Moved forward at most once a minute (idle timeout). */
  last_seen_at: number;
  address: string;
}

/** Sign-in failures and locks per key (`user:<name>`, `addr:<ip>`), users.signin.ts. */
export interface SigninThrottleTable {
  key: string;
  failures: number;
  first_at: number;
  locked_until: number | null;
}

export interface UsersTables {
  users: UsersTable;
  tokens: TokensTable;
  sessions: SessionsTable;
  signin_throttle: SigninThrottleTable;
}
