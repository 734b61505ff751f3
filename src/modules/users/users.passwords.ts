/**
 * Console passwords (issue 11): scrypt from node:crypto with a per-user random salt; the stored
 * form records its parameters, `scrypt$N=32768,r=8,p=1$<salt base64url>$<hash base64url>`, so that
 * they can be raised later (a hash made with weaker ones still verifies). Compared in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { fail } from '../../shared/errors.js';

/** The fewest characters of a password. */
export const PASSWORD_MIN = 12;
/** The most (scrypt takes any length; this bounds what a request makes the node hash). */
export const PASSWORD_MAX = 1024;

/** Today's parameters: about 50 ms and 32 MiB per hash on a server core (OWASP's minimum is N=2^17 with r=8 at p=1 for 128 MiB; 2^15 keeps sign-in bursts cheap on small nodes). */
export const SCRYPT_PARAMS = Object.freeze({ N: 32768, r: 8, p: 1 });
const KEY_LEN = 32;
const SALT_LEN = 16;

function scryptAsync(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LEN, opts, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** Refuses a password shorter than {@link PASSWORD_MIN} characters (`password_too_short`) or absurdly long. */
export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || [...password].length < PASSWORD_MIN) {
    fail('password_too_short', `A password has at least ${PASSWORD_MIN} characters; a few unrelated words make a good one`);
  }
  if (password.length > PASSWORD_MAX) fail('invalid_argument', `A password has at most ${PASSWORD_MAX} characters`);
  return password;
}

/** The stored form of `password` (checked with {@link checkPassword} first). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await scryptAsync(password, salt, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const STORED = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** A stored hash to compare against when the user is unknown or has no password: the same work, always false. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `stored`. With `stored` null (no such user, or no password set) a
 * decoy hash is computed all the same, so that the answer takes as long either way.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const m = stored === null || stored === undefined ? null : STORED.exec(stored);
  if (m === null) {
    decoy ??= hashPassword(randomBytes(18).toString('base64url'));
    await verifyPassword(password, await decoy);
    return false;
  }
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5]!, 'base64url');
  const key = await scryptAsync(password.slice(0, PASSWORD_MAX), Buffer.from(m[4]!, 'base64url'), { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
