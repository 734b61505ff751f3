import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { sha256Hex } from '../../shared/canonical.js';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { isUuid, uuidv7 } from '../../shared/ids.js';
import { CHANNELS, type Channel } from '../federation/federation.types.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { isPinned } from '../federation/federation.pinned.js';
import type { TokensTable, UsersTable, UsersTables } from './users.tables.js';
import { recordAudit } from '../audit/audit.service.js';
import { checkPassword, hashPassword } from './users.passwords.js';
import { NODE_ACTOR, type Actor, type AuditEntry } from '../audit/audit.types.js';
import {
  ADMIN_DISPLAY_NAME, ADMIN_NAME, DISPLAY_NAME_MAX, NODE_ADMIN, ROLES, USER_NAME,
  type NewToken, type Principal, type Role, type TokenInfo, type User,
} from './users.types.js';

export interface UserDeps {
  db: Kysely<UsersTables>;
  clock: Clock;
  /** SHA-256 (hex) of the node administrator's token (config `admin_token_sha256`). */
  adminTokenSha256: string;
}

/** What `hotline user add` and POST /api/v1/users take. */
export interface NewUser {
  name: string;
  role: string;
  /** A list, or a comma-separated string ("cert,crisis"). Optional for an admin (default: every channel). */
  channels?: string | readonly string[];
  /** Role `peer` only, and required for it: the pinned peer whose systems use the account. */
  peer?: string;
  /** What the person is called, e.g. "Ivan Petrov" (acknowledgements name it); default: none, the user name stands for it. */
  display_name?: string;
}

/** What `hotline user edit` and PATCH /api/v1/users/:name change. */
export interface UserEdit {
  display_name?: string;
}

/** `last_used_at` is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Parses a channel grant ("cert,crisis" or a list) into CHANNELS order; refuses unknown or empty. */
export function parseChannels(given: string | readonly string[]): Channel[] {
  const items = (typeof given === 'string' ? given.split(',') : [...given]).map((s) => String(s).trim()).filter((s) => s !== '');
  if (items.length === 0) fail('invalid_argument', `Name at least one channel, e.g. --channels cert,crisis (channels: ${CHANNELS.join(', ')})`);
  for (const c of items) {
    if (!(CHANNELS as readonly string[]).includes(c)) fail('unknown_channel', `Unknown channel "${c}"; use one of: ${CHANNELS.join(', ')}`);
  }
  return CHANNELS.filter((c) => items.includes(c));
}

/**
 * A display name: trimmed, 1 to {@link DISPLAY_NAME_MAX} characters, no control characters
 * (it is shown on one line, and signed into acknowledgements); else `invalid_argument`.
 */
export function checkDisplayName(given: unknown): string {
  const name = typeof given === 'string' ? given.trim() : '';
  if (name === '' || name.length > DISPLAY_NAME_MAX || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) {
    fail('invalid_argument', `A display name is 1 to ${DISPLAY_NAME_MAX} characters on one line, e.g. --display-name "Ivan Petrov" (got ${JSON.stringify(given)})`);
  }
  return name;
}

/**
 * Who `p` is, as an acknowledgement names them: the user name and the display name from the
 * user record (the user name when none is set); the node administrator, who has no record, is
 * `admin`, "Node administrator" (ADMIN_DISPLAY_NAME).
 */
export async function whoIs(db: Kysely<UsersTables>, p: Principal): Promise<{ user: string; display_name: string }> {
  if (p.user === ADMIN_NAME && p.role === 'admin') return { user: ADMIN_NAME, display_name: ADMIN_DISPLAY_NAME };
  const r = await db.selectFrom('users').select(['name', 'display_name']).where('name', '=', p.user).executeTakeFirst();
  if (r === undefined) fail('unknown_user', `No user "${p.user}" on this node; see "hotline user list"`);
  return { user: r.name, display_name: r.display_name ?? r.name };
}

/** Refuses a name that is not a user name (USER_NAME). */
export function checkUserName(name: unknown, what = 'A user name'): string {
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    fail('invalid_argument', `${what} must be 2 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter (got ${JSON.stringify(name)})`);
  }
  return name;
}

function toUser(r: UsersTable): User {
  return {
    name: r.name, role: r.role as Role, channels: JSON.parse(r.channels) as Channel[],
    created_at: isoTime(Number(r.created_at)), disabled_at: r.disabled_at === null ? null : isoTime(Number(r.disabled_at)),
    ...(r.peer === null || r.peer === undefined ? {} : { peer: r.peer }),
    display_name: r.display_name ?? null,
  };
}

/** The principal of an enabled user, authenticated (or not) by token `token`. */
function principalOf(u: { name: string; role: string; channels: readonly Channel[]; peer: string | null }, token?: string): Principal {
  return Object.freeze({
    user: u.name, role: u.role as Role, channels: Object.freeze([...u.channels]),
    ...(token === undefined ? {} : { token }), ...(u.peer === null ? {} : { peer: u.peer }),
  });
}

function toToken(r: TokensTable): TokenInfo {
  const t = (v: number | null): string | null => (v === null ? null : isoTime(Number(v)));
  return { id: r.id, user: r.user_name, created_at: isoTime(Number(r.created_at)), last_used_at: t(r.last_used_at), revoked_at: t(r.revoked_at) };
}

/**
 * THE answer to a request without valid credentials (unknown, malformed or revoked token, a
 * disabled user, a token of another user): `unauthorized`, always this message, whatever the
 * reason, so that it tells an unauthenticated caller nothing.
 */
export function refuseCredentials(): never {
  return fail('unauthorized', 'Send "Authorization: Bearer <token>" with a valid token for this node: the admin token is in <home>/admin.token; user tokens come from "hotline token create"; a revoked token or a disabled user\'s token is not valid');
}

/** Users, their API tokens, and turning a bearer secret (or a `--as` name) into a {@link Principal}. */
export class UserRepository {
  private readonly adminHash: Buffer;

  constructor(private readonly deps: UserDeps) {
    this.adminHash = Buffer.from(deps.adminTokenSha256, 'hex');
  }

  /** Audit `e` in the caller's transaction (users' changes are recorded with them). */
  private audit(trx: Transaction<UsersTables>, e: AuditEntry): Promise<void> {
    return recordAudit(trx, e, this.deps.clock.now());
  }

  /**
   * Adds a user; refuses a taken or reserved name, an unknown role, a bad channel list. `actor`:
   * who does it, for the audit trail (recorded in the same transaction).
   */
  async add(input: NewUser, actor: Actor = NODE_ACTOR): Promise<User> {
    const name = checkUserName(input.name);
    if (name === ADMIN_NAME) fail('invalid_argument', `"${ADMIN_NAME}" is reserved for the node administrator (the token in <home>/admin.token)`);
    if (!(ROLES as readonly string[]).includes(input.role)) fail('invalid_argument', `Unknown role "${input.role}"; use one of: ${ROLES.join(', ')}`);
    const role = input.role as Role;
    if (input.channels === undefined && role !== 'admin') {
      fail('invalid_argument', `An ${role} needs channels: --channels with some of ${CHANNELS.join(', ')}`);
    }
    const channels = input.channels === undefined ? [...CHANNELS] : parseChannels(input.channels);
    if ((role === 'peer') !== (input.peer !== undefined)) {
      fail('invalid_argument', role === 'peer'
        ? 'A peer account names the party whose systems use it: --peer PARTY (a pinned peer; see "hotline peer list")'
        : `Only a user with role "peer" is bound to a party; drop --peer or use --role peer`);
    }
    const peer = input.peer ?? null;
    const displayName = input.display_name === undefined ? null : checkDisplayName(input.display_name);
    const row: UsersTable = { name, role, channels: JSON.stringify(channels), created_at: this.deps.clock.now(), disabled_at: null, peer, display_name: displayName };
    await this.deps.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('users').select('name').where('name', '=', name).executeTakeFirst();
      if (taken !== undefined) fail('user_exists', `A user "${name}" already exists on this node`);
      if (peer !== null) {
        if (!await isPinned(trx as unknown as Kysely<FederationTables>, peer)) fail('unknown_peer', `No peer "${peer}" is pinned on this node; add it first with "hotline peer add"`);
      }
      await trx.insertInto('users').values(row).execute();
      await this.audit(trx, { actor, action: 'user.add', subject: name, details: { role, channels, ...(peer === null ? {} : { peer }) } });
    });
    return toUser(row);
  }

  async list(): Promise<User[]> {
    return (await this.deps.db.selectFrom('users').selectAll().orderBy('name').execute()).map(toUser);
  }

  async get(name: string): Promise<User | undefined> {
    const r = await this.deps.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return r === undefined ? undefined : toUser(r);
  }

  /** The user, or `unknown_user`. */
  async require(name: string): Promise<User> {
    const u = await this.get(name);
    if (u === undefined) fail('unknown_user', `No user "${name}" on this node; see "hotline user list"`);
    return u;
  }

  /** Changes a user's display name; refuses an unknown user (`unknown_user`) and an edit that changes nothing. */
  async edit(name: string, change: UserEdit, actor: Actor = NODE_ACTOR): Promise<User> {
    if (change.display_name === undefined) fail('invalid_argument', 'Say what to change, e.g. --display-name "Ivan Petrov"');
    const displayName = checkDisplayName(change.display_name);
    await this.require(name);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ display_name: displayName }).where('name', '=', name).execute();
      await this.audit(trx, { actor, action: 'user.edit', subject: name, details: { display_name: displayName } });
    });
    return this.require(name);
  }

  /** Disables a user: its tokens stop working at once. Disabling twice keeps the first time. */
  async disable(name: string, actor: Actor = NODE_ACTOR): Promise<User> {
    await this.require(name);
    await this.deps.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('users').set({ disabled_at: this.deps.clock.now() })
        .where('name', '=', name).where('disabled_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await this.audit(trx, { actor, action: 'user.disable', subject: name });
      // Its console sessions end with it.
      await trx.deleteFrom('sessions').where('user_name', '=', name).execute();
    });
    return this.require(name);
  }

  /**
   * Sets a user's console password (`hotline user passwd`, `user add --password-stdin`): at least
   * PASSWORD_MIN characters (`password_too_short`), hashed with scrypt (users.passwords.ts). The
   * user's sessions end. Audited, never the password. A peer's account never signs in (TAXII only).
   */
  async setPassword(name: string, password: string, actor: Actor = NODE_ACTOR): Promise<void> {
    checkPassword(password);
    const u = await this.require(name);
    if (u.role === 'peer') fail('invalid_argument', `"${u.name}" is an account of peer ${u.peer ?? '?'}: it uses TAXII with a token and never signs in to the console, so it has no password`);
    const hash = await hashPassword(password);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ password_hash: hash, password_set_at: this.deps.clock.now() }).where('name', '=', u.name).execute();
      await trx.deleteFrom('sessions').where('user_name', '=', u.name).execute();
      await this.audit(trx, { actor, action: 'user.password', subject: u.name });
    });
  }

  /** Removes a user's TOTP second factor (`hotline user totp NAME --reset`: a lost phone); they enrol again. */
  async resetTotp(name: string, actor: Actor = NODE_ACTOR): Promise<void> {
    const u = await this.require(name);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ totp_secret: null, totp_pending: null, totp_last_step: null }).where('name', '=', u.name).execute();
      await this.audit(trx, { actor, action: 'user.totp_reset', subject: u.name });
    });
  }

  /** Whether the user has a console password and a TOTP factor (`hotline user list`). */
  async signInState(name: string): Promise<{ password: boolean; totp: boolean }> {
    const r = await this.deps.db.selectFrom('users').select(['password_hash', 'totp_secret']).where('name', '=', name).executeTakeFirst();
    return { password: (r?.password_hash ?? null) !== null, totp: (r?.totp_secret ?? null) !== null };
  }

  /** Creates a token for an enabled user; the secret is returned here and never again. */
  async createToken(userName: string, actor: Actor = NODE_ACTOR): Promise<NewToken> {
    const user = await this.require(userName);
    if (user.disabled_at !== null) fail('invalid_argument', `User "${user.name}" is disabled (since ${user.disabled_at}); a token for it would not work`);
    const now = this.deps.clock.now();
    const secret = randomBytes(32).toString('base64url');
    const row: TokensTable = {
      id: uuidv7(now), user_name: user.name, secret_sha256: sha256Hex(secret), created_at: now, last_used_at: null, revoked_at: null,
    };
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('tokens').values(row).execute();
      // The token's id and user: never its secret, nor its hash.
      await this.audit(trx, { actor, action: 'token.create', subject: row.id, details: { user: user.name } });
    });
    return { ...toToken(row), secret };
  }

  async listTokens(userName?: string): Promise<TokenInfo[]> {
    let q = this.deps.db.selectFrom('tokens').selectAll();
    if (userName !== undefined) q = q.where('user_name', '=', (await this.require(userName)).name);
    return (await q.orderBy('created_at').orderBy('id').execute()).map(toToken);
  }

  /** Revokes a token; revoking twice keeps the first time. */
  async revokeToken(id: string, actor: Actor = NODE_ACTOR): Promise<TokenInfo> {
    if (!isUuid(id)) fail('invalid_argument', `"${id}" is not a token id (a UUID, as "hotline token list" shows it)`);
    await this.deps.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('tokens').set({ revoked_at: this.deps.clock.now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await this.audit(trx, { actor, action: 'token.revoke', subject: id });
    });
    const r = await this.deps.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (r === undefined) fail('not_found', `No token ${id} on this node; see "hotline token list"`);
    return toToken(r);
  }

  /**
   * The principal behind a bearer secret: the node administrator for the config's admin token,
   * else the token's user. Unknown, malformed and revoked tokens, and tokens of disabled users,
   * are all `unauthorized` with one message ({@link refuseCredentials}), on one code path: a caller
   * without a valid token learns nothing about which tokens exist. The admin hash is compared in
   * constant time; a user token is found by its SHA-256, never by the secret.
   */
  async authenticate(secret: string): Promise<Principal> {
    const hash = sha256Hex(secret);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)) return NODE_ADMIN;
    const r = await this.deps.db.selectFrom('tokens').innerJoin('users', 'users.name', 'tokens.user_name')
      .select(['tokens.id', 'tokens.revoked_at', 'tokens.last_used_at', 'users.name', 'users.role', 'users.channels', 'users.disabled_at', 'users.peer'])
      .where('tokens.secret_sha256', '=', hash).executeTakeFirst();
    if (r === undefined || r.revoked_at !== null || r.disabled_at !== null) return refuseCredentials();
    const now = this.deps.clock.now();
    if (r.last_used_at === null || now - Number(r.last_used_at) >= LAST_USED_RESOLUTION_MS) {
      await this.deps.db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', r.id).execute();
    }
    return principalOf({ ...r, channels: JSON.parse(r.channels) as Channel[] }, r.id);
  }

  /** The principal a CLI command acts as with `--as NAME`: `unknown_user`, or `unauthorized` if disabled. */
  async principalFor(name: string): Promise<Principal> {
    if (name === ADMIN_NAME) return NODE_ADMIN;
    const u = await this.require(name);
    if (u.disabled_at !== null) fail('unauthorized', `User "${u.name}" is disabled (since ${u.disabled_at})`);
    return principalOf({ name: u.name, role: u.role, channels: u.channels, peer: u.peer ?? null });
  }
}
