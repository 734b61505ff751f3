/**
 * TAXII timestamps: RFC 3339 UTC with a `Z`; the server emits exactly six fractional digits
 * (TAXII 2.1 section 2: "the TAXII timestamp MUST have microsecond precision") and accepts any
 * number on input. Internally times are integer microseconds since the epoch.
 */

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Microseconds since the epoch of an RFC 3339 UTC timestamp (STIX or TAXII), or NaN when it is
 * not one or is not a real instant (2026-02-30, 24:00:00). Digits beyond the sixth are dropped.
 *
 * @example parseMicros('2026-12-01T07:30:55.123456Z') // 1796110255123456
 */
export function parseMicros(s: string): number {
  const m = TIMESTAMP.exec(s);
  if (m === null) return Number.NaN;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h
    || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== se) return Number.NaN;
  const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(frac);
}

/** The TAXII form of a time in microseconds: `2026-12-01T07:30:55.123456Z`. */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}
