/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s) through the `otpauth` package; the QR code
 * of the otpauth:// URI as SVG through `qrcode`. Both are imported on first use (a CLI verb that
 * opens the node never loads them). A code is accepted once: the time step it matched is stored,
 * and a code of that step or an earlier one is refused (no replay within its window).
 */
import { fail } from '../../shared/errors.js';

/** Codes of one step before and after now are accepted (clock drift of a phone). */
const WINDOW = 1;
const PERIOD = 30;

type Otpauth = typeof import('otpauth');
let lib: Promise<Otpauth> | undefined;
const otpauth = (): Promise<Otpauth> => (lib ??= import('otpauth'));

/** A fresh secret (160 bits, base32). */
export async function newTotpSecret(): Promise<string> {
  const { Secret } = await otpauth();
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app reads: issuer "Hotline <party>", label the user name. */
export async function totpUri(secret: string, user: string, issuer: string): Promise<string> {
  const { TOTP, Secret } = await otpauth();
  return new TOTP({ issuer, label: user, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: PERIOD }).toString();
}

/** The QR code of `text` as an SVG document. */
export async function qrSvg(text: string): Promise<string> {
  const qrcode = await import('qrcode');
  return qrcode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * The time step `code` matches for `secret` at `now` (within {@link WINDOW} steps), or undefined:
 * a wrong code, or one of a step at or before `lastStep` (already used).
 */
export async function matchTotp(secret: string, code: unknown, now: number, lastStep: number | null | undefined): Promise<number | undefined> {
  if (typeof code !== 'string' || !/^\d{6}$/.test(code.trim())) return undefined;
  const { TOTP, Secret } = await otpauth();
  const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: PERIOD });
  const delta = totp.validate({ token: code.trim(), timestamp: now, window: WINDOW });
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / PERIOD) + delta;
  if (lastStep !== null && lastStep !== undefined && step <= Number(lastStep)) return undefined;
  return step;
}

/** Refuses a code that is not six digits before any work (`invalid_argument`). */
export function checkTotpShape(code: unknown): string {
  if (typeof code !== 'string' || !/^\s*\d{6}\s*$/.test(code)) fail('invalid_argument', 'A TOTP code is the 6 digits your authenticator app shows now');
  return code.trim();
}
