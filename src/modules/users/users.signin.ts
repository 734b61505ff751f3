/**
 * Sign-in throttling: failures counted per user name (known or not: an unknown name is locked the
 * same way, so the answer tells nothing) and per source address, in the store (a restart does not
 * unlock). `maxFailures` within `lockMs` locks the key for `lockMs`.
 */
import type { Kysely, Transaction } from 'kysely';
import type { UsersTables } from './users.tables.js';

export interface ThrottleRule {
  maxFailures: number;
  lockMs: number;
}

export const userKey = (name: string): string => `user:${name.slice(0, 64)}`;
export const addressKey = (address: string): string => `addr:${address}`;

/** When the first of these keys that is locked at `now` opens, or undefined when none is. */
export async function lockedUntil(db: Kysely<UsersTables>, keys: readonly string[], now: number): Promise<number | undefined> {
  const rows = await db.selectFrom('signin_throttle').select(['locked_until']).where('key', 'in', [...keys]).where('locked_until', '>', now).execute();
  if (rows.length === 0) return undefined;
  return Math.max(...rows.map((r) => Number(r.locked_until)));
}

/** Counts a failure for `key`; returns the time it is locked until when this failure locks it. */
export async function countFailure(trx: Transaction<UsersTables>, key: string, rule: ThrottleRule, now: number): Promise<number | undefined> {
  const r = await trx.selectFrom('signin_throttle').selectAll().where('key', '=', key).executeTakeFirst();
  const fresh = r === undefined || now - Number(r.first_at) > rule.lockMs;
  const failures = fresh ? 1 : Number(r.failures) + 1;
  const locks = failures >= rule.maxFailures;
  const row = locks
    ? { key, failures: 0, first_at: now, locked_until: now + rule.lockMs }
    : { key, failures, first_at: fresh ? now : Number(r.first_at), locked_until: r?.locked_until ?? null };
  await trx.insertInto('signin_throttle').values(row)
    .onConflict((oc) => oc.column('key').doUpdateSet({ failures: row.failures, first_at: row.first_at, locked_until: row.locked_until }))
    .execute();
  return locks ? row.locked_until ?? undefined : undefined;
}

/** A successful sign-in forgets the user's failures (not the address's). */
export async function clearFailures(trx: Transaction<UsersTables>, key: string): Promise<void> {
  await trx.deleteFrom('signin_throttle').where('key', '=', key).execute();
}
