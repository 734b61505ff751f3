/**
 * Console sign-in and sessions (issue 11). A session is a random 256-bit id held by the browser in
 * the `hotline_session` cookie; the store keeps only its SHA-256, with a per-session CSRF token the
 * page sends back on every write. Sessions end at sign-out, after `idleMs` without a request, after
 * `absoluteMs` in all, and when their user is disabled or given a new password. Every sign-in, its
 * failures and locks are audited (never a password, a code or a session id).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sha256Hex } from '../../shared/canonical.js';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Actor, AuditEntry } from '../audit/audit.types.js';
import type { Channel } from '../federation/federation.types.js';
import { checkPassword, hashPassword, verifyPassword } from './users.passwords.js';
import { addressKey, clearFailures, countFailure, lockedUntil, userKey } from './users.signin.js';
import { checkTotpShape, matchTotp, newTotpSecret, qrSvg, totpUri } from './users.totp.js';
import type { UsersTable, UsersTables } from './users.tables.js';
import type { ConsoleOptions, Principal, Role } from './users.types.js';

export { DEFAULT_CONSOLE, type ConsoleOptions } from './users.types.js';

/** `last_seen_at` is written at most this often per session. */
const SEEN_RESOLUTION_MS = 60_000;

export interface SessionDeps {
  db: Kysely<UsersTables>;
  clock: Clock;
  options: Readonly<ConsoleOptions>;
  /** The node's party: the TOTP issuer ("Hotline <party>"). */
  party: string;
}

/**
 * Loopback addresses are never locked per address (the per-user lock holds): behind a reverse
 * proxy on the same host every browser comes from 127.0.0.1, and locking it would let anyone lock
 * everybody out with a few wrong passwords.
 */
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** A session as the API answers it (POST/GET /api/v1/session), before the node's own facts are added. */
export interface SessionInfo {
  user: string;
  role: Role;
  channels: Channel[];
  display_name: string | null;
  csrf_token: string;
  totp_enrolled: boolean;
  /** `console.require_totp` and no TOTP yet: the session may only enrol. */
  totp_enrolment_required: boolean;
}

/** A live session: who, and what its requests must carry. */
export interface ActiveSession {
  principal: Principal;
  info: SessionInfo;
  /** SHA-256 of the session id (its key in the store). */
  key: string;
}

export interface SignInInput {
  user: unknown;
  password: unknown;
  totp?: unknown;
}

/** THE answer to a wrong user name or password: the same for both. */
function refuseSignIn(): never {
  return fail('bad_credentials', 'The user name or password is wrong. Check both (passwords are case-sensitive); after several wrong tries sign-in is locked for a while');
}

function refuseSession(): never {
  return fail('unauthorized', 'You are not signed in, or your session has ended (signed out, unused for too long, or too old): sign in again');
}

function infoOf(u: UsersTable, csrf: string, requireTotp: boolean): SessionInfo {
  const enrolled = u.totp_secret !== null && u.totp_secret !== undefined;
  return {
    user: u.name, role: u.role as Role, channels: JSON.parse(u.channels) as Channel[], display_name: u.display_name ?? null,
    csrf_token: csrf, totp_enrolled: enrolled, totp_enrolment_required: requireTotp && !enrolled,
  };
}

export class SessionRepository {
  constructor(private readonly deps: SessionDeps) {}

  private get now(): number {
    return this.deps.clock.now();
  }

  private audit(e: AuditEntry): Promise<void> {
    return this.deps.db.transaction().execute((trx) => recordAudit(trx, e, this.now));
  }

  /**
   * Signs `input.user` in from `address`: a new session (its id, for the cookie, is returned here
   * only). Refusals: `signin_locked` (429: the user name or the address is locked, until `details.until`),
   * `bad_credentials` (wrong name or password, or an account that may not sign in: disabled, or a
   * peer's), `totp_required` (password right, a code is needed), `totp_invalid` (wrong or used code).
   */
  async signIn(input: SignInInput, address: string): Promise<{ id: string; session: SessionInfo }> {
    const name = typeof input.user === 'string' ? input.user.trim().toLowerCase() : '';
    const password = typeof input.password === 'string' ? input.password : '';
    const actor: Actor = { who: name === '' ? 'anonymous' : name.slice(0, 64), address };
    const { options } = this.deps;
    const byAddress = !LOOPBACK.test(address);
    const keys = byAddress ? [userKey(name), addressKey(address)] : [userKey(name)];
    const locked = await lockedUntil(this.deps.db, keys, this.now);
    if (locked !== undefined) this.refuseLocked(locked);
    const u = name === '' ? undefined : await this.deps.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    // Unknown users, users without a password, disabled and peer accounts: the same scrypt work and the same answer.
    const ok = await verifyPassword(password, u?.password_hash ?? null);
    if (!ok || u === undefined || u.disabled_at !== null || u.role === 'peer') return this.failed(actor, name, address, 'password');
    if (u.totp_secret !== null && u.totp_secret !== undefined) {
      if (input.totp === undefined || input.totp === null || input.totp === '') {
        fail('totp_required', 'Enter the 6-digit code your authenticator app shows for this node');
      }
      const step = await matchTotp(u.totp_secret, input.totp, this.now, u.totp_last_step);
      if (step === undefined) return this.failed(actor, name, address, 'totp');
      // Spent here, only if no concurrent sign-in spent this step (or a later one) first.
      const spent = await this.deps.db.updateTable('users').set({ totp_last_step: step }).where('name', '=', u.name)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)])).executeTakeFirst();
      if (Number(spent.numUpdatedRows) === 0) return this.failed(actor, name, address, 'totp');
    }
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const now = this.now;
    await this.deps.db.transaction().execute(async (trx) => {
      await clearFailures(trx, userKey(name));
      await trx.insertInto('sessions').values({ id_sha256: sha256Hex(id), user_name: u.name, csrf_token: csrf, created_at: now, last_seen_at: now, address }).execute();
      await recordAudit(trx, { actor, action: 'auth.sign_in', subject: u.name, details: { totp: u.totp_secret !== null && u.totp_secret !== undefined } }, now);
    });
    return { id, session: infoOf(u, csrf, options.requireTotp) };
  }

  private refuseLocked(until: number): never {
    return fail('signin_locked', `Too many wrong sign-ins: sign-in for this user or from this address is locked until ${isoTime(until)} (UTC). Wait, or ask the node's administrator`, { until: isoTime(until) });
  }

  /** A wrong password or code: counted per user name and per address (maybe locking them), audited, refused. */
  private async failed(actor: Actor, name: string, address: string, what: 'password' | 'totp'): Promise<never> {
    const { options } = this.deps;
    const now = this.now;
    const locked = await this.deps.db.transaction().execute(async (trx) => {
      const byUser = await countFailure(trx, userKey(name), { maxFailures: options.maxFailures, lockMs: options.lockMs }, now);
      const byAddress = !LOOPBACK.test(address)
        ? await countFailure(trx, addressKey(address), { maxFailures: options.maxFailuresPerAddress, lockMs: options.lockMs }, now)
        : undefined;
      await recordAudit(trx, { actor, action: 'auth.sign_in_failed', subject: name === '' ? null : name.slice(0, 64), details: { reason: what } }, now);
      const until = byUser ?? byAddress;
      if (until !== undefined) {
        await recordAudit(trx, { actor, action: 'auth.locked', subject: byUser !== undefined ? userKey(name) : addressKey(address), details: { until: isoTime(until) } }, now);
      }
      return until;
    });
    if (locked !== undefined) this.refuseLocked(locked);
    if (what === 'totp') fail('totp_invalid', 'That code is wrong or was already used: enter the code your authenticator app shows now');
    return refuseSignIn();
  }

  /**
   * The live session behind a cookie's id: `unauthorized` when there is none, it has ended (idle,
   * absolute timeout) or its user is disabled (the session is deleted then). `touch`: count this
   * request as activity (the idle timeout starts again); the event stream's re-checks do not.
   */
  async resolve(id: string, touch = true): Promise<ActiveSession> {
    const key = sha256Hex(id);
    const r = await this.deps.db.selectFrom('sessions').innerJoin('users', 'users.name', 'sessions.user_name')
      .selectAll('users')
      // Aliased: users has a created_at of its own.
      .select(['sessions.csrf_token as csrf_token', 'sessions.created_at as session_created_at', 'sessions.last_seen_at as session_seen_at'])
      .where('sessions.id_sha256', '=', key).executeTakeFirst();
    if (r === undefined) return refuseSession();
    const now = this.now;
    const { options } = this.deps;
    if (r.disabled_at !== null || r.role === 'peer' || now - Number(r.session_created_at) >= options.absoluteMs || now - Number(r.session_seen_at) >= options.idleMs) {
      await this.deps.db.deleteFrom('sessions').where('id_sha256', '=', key).execute();
      return refuseSession();
    }
    if (touch && now - Number(r.session_seen_at) >= SEEN_RESOLUTION_MS) {
      await this.deps.db.updateTable('sessions').set({ last_seen_at: now }).where('id_sha256', '=', key).execute();
    }
    const channels = JSON.parse(r.channels) as Channel[];
    const principal: Principal = Object.freeze({ user: r.name, role: r.role as Role, channels: Object.freeze([...channels]) });
    return { principal, info: infoOf(r, r.csrf_token, options.requireTotp), key };
  }

  /** Ends the session (sign-out). */
  async signOut(s: ActiveSession, actor: Actor): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('sessions').where('id_sha256', '=', s.key).execute();
      await recordAudit(trx, { actor, action: 'auth.sign_out', subject: s.principal.user }, this.now);
    });
  }

  /** Changes the signed-in user's own password: the current one first; the user's other sessions end. */
  async changePassword(s: ActiveSession, current: unknown, next: unknown, actor: Actor): Promise<void> {
    const u = await this.deps.db.selectFrom('users').select(['name', 'password_hash']).where('name', '=', s.principal.user).executeTakeFirst();
    if (!(await verifyPassword(typeof current === 'string' ? current : '', u?.password_hash ?? null)) || u === undefined) {
      fail('bad_credentials', 'The current password is wrong');
    }
    const password = checkPassword(next);
    const hash = await hashPassword(password);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ password_hash: hash, password_set_at: this.now }).where('name', '=', u.name).execute();
      await trx.deleteFrom('sessions').where('user_name', '=', u.name).where('id_sha256', '!=', s.key).execute();
      await recordAudit(trx, { actor, action: 'user.password', subject: u.name, details: { by: 'self' } }, this.now);
    });
  }

  /** Starts TOTP enrolment: a new secret (replacing one not yet confirmed), its URI and QR code. */
  async totpStart(s: ActiveSession): Promise<{ secret: string; uri: string; qr_svg: string }> {
    const secret = await newTotpSecret();
    await this.deps.db.updateTable('users').set({ totp_pending: secret }).where('name', '=', s.principal.user).execute();
    const uri = await totpUri(secret, s.principal.user, `Hotline ${this.deps.party}`);
    return { secret, uri, qr_svg: await qrSvg(uri) };
  }

  /** Confirms enrolment with a code of the pending secret; from then on sign-in asks for a code. */
  async totpConfirm(s: ActiveSession, code: unknown, actor: Actor): Promise<void> {
    const given = checkTotpShape(code);
    const u = await this.deps.db.selectFrom('users').select(['name', 'totp_pending']).where('name', '=', s.principal.user).executeTakeFirst();
    const pending = u?.totp_pending;
    if (pending === null || pending === undefined) fail('invalid_argument', 'Start the enrolment first (POST /api/v1/account/totp), then confirm with a code');
    const step = await matchTotp(pending, given, this.now, null);
    if (step === undefined) fail('totp_invalid', 'That code does not match: check the time on your phone and enter the code it shows now');
    await this.deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ totp_secret: pending, totp_pending: null, totp_last_step: step }).where('name', '=', s.principal.user).execute();
      await recordAudit(trx, { actor, action: 'user.totp', subject: s.principal.user }, this.now);
    });
  }

  /** Number of live sessions of a user (tests, `hotline user list` later). */
  async count(user: string): Promise<number> {
    const r = await this.deps.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('user_name', '=', user).executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
