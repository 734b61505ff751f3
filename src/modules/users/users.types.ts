import { CHANNELS, type Channel } from '../federation/federation.types.js';
import type { Actor } from '../audit/audit.types.js';

export const ROLES = ['admin', 'officer', 'peer'] as const;
/**
 * `admin` runs the node (peers, users, tokens); `officer` reads and writes the channels granted to
 * it; `peer` is an account another party's systems use to read and write the TAXII collections
 * granted to that party (never the REST API: adapters/http/auth.ts refuses it there).
 */
export type Role = (typeof ROLES)[number];

/** A user name: 2 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter. */
export const USER_NAME = /^[a-z][a-z0-9._-]{1,31}$/;

/** The name of the node administrator's built-in identity (the token in `<home>/admin.token`). */
export const ADMIN_NAME = 'admin';

/** Who is asking: the user behind a token (REST) or named with `--as` (CLI). */
export interface Principal {
  readonly user: string;
  readonly role: Role;
  readonly channels: readonly Channel[];
  /** The API token it authenticated with (its id), for per-token TAXII grants; absent for the admin token and the CLI. */
  readonly token?: string;
  /** Role `peer`: the party whose account this is. */
  readonly peer?: string;
  /**
   * Who acts and from where, for the audit trail (modules/audit): set by the adapters (REST: the
   * user and the request's IP address; CLI: the user or `cli:<os user>`, and `cli`). What a person
   * does with a principal that has it is recorded; the node's own work has none.
   */
  readonly via?: Actor;
}

/** The display name of the node administrator (it has no user record): what its acknowledgements name. */
export const ADMIN_DISPLAY_NAME = 'Node administrator';

/** Most characters of a display name (the `officer` field of an ack, templates/ack.json). */
export const DISPLAY_NAME_MAX = 200;

/** The node administrator: the config's admin token, and the CLI without `--as`. Holds every channel. */
export const NODE_ADMIN: Principal = Object.freeze({ user: ADMIN_NAME, role: 'admin', channels: Object.freeze([...CHANNELS]) });

/** A user as the API and the CLI show it. */
export interface User {
  name: string;
  role: Role;
  channels: Channel[];
  created_at: string;
  disabled_at: string | null;
  /** Role `peer`: the party whose systems use it. */
  peer?: string;
  /** What the person is called, e.g. "Ivan Petrov"; null when not set (the user name stands for it). */
  display_name: string | null;
}

/** A token as listed (never with its secret). */
export interface TokenInfo {
  id: string;
  user: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A token just created: the only time its secret is shown. */
export interface NewToken extends TokenInfo {
  secret: string;
}

/** `console` in hotline.json (config.ts parses it). */
export interface ConsoleOptions {
  /** A session unused this long ends (default 8 h: a duty officer's shift with the page open). */
  idleMs: number;
  /** A session ends this long after sign-in whatever happens (default 24 h). */
  absoluteMs: number;
  /** Every console user must have TOTP: one without gets a session that can only enrol. */
  requireTotp: boolean;
  /** Wrong sign-ins for one user name within `lockMs` that lock it for `lockMs` (default 5, 15 min). */
  maxFailures: number;
  lockMs: number;
  /** Wrong sign-ins from one address within `lockMs` that lock the address (default 20). */
  maxFailuresPerAddress: number;
}

export const DEFAULT_CONSOLE: Readonly<ConsoleOptions> = Object.freeze({
  idleMs: 8 * 3600_000, absoluteMs: 24 * 3600_000, requireTotp: false, maxFailures: 5, lockMs: 15 * 60_000, maxFailuresPerAddress: 20,
});
