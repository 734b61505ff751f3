/** Time source injected everywhere a decision depends on "now"; tests use {@link FakeClock}. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  private t: number;
  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.t = typeof start === 'number' ? start : start.getTime();
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(t: number): void {
    this.t = t;
  }
}

/** RFC 3339 UTC with milliseconds, the only timestamp form on the wire. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (1-12) of the proleptic Gregorian calendar; 0 for a month outside 1-12. */
function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1] ?? 0;
}

/** The number written by the `len` characters of `s` at `at`, or -1 if one is not an ASCII digit (the caller checks that `s` is that long). */
export function digitsAt(s: string, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The fields of a date and time written `YYYY-MM-DDTHH:MM:SS` (separators not checked here). */
export interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * The fields of `s`'s first 19 characters, if they are digits where digits go and name a real
 * calendar day and a time from 00:00:00 to 23:59:60 (what a second of 60 may be is the caller's
 * rule); else undefined. The caller checks the separators and that `s` is long enough.
 */
export function dateTimeFields(s: string): DateTimeFields | undefined {
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  const second = digitsAt(s, 17, 2);
  if (year < 0 || day < 1 || day > daysInMonth(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  return { year, month, day, hour, minute, second };
}

/**
 * Parses an RFC 3339 UTC timestamp ("...Z"); returns NaN when it is not one (no such day, hour 24,
 * a leap second). Fractions of a millisecond are dropped, as Date.parse drops them. Read field by
 * field: every received envelope's times pass here, and Date.parse with a round trip through
 * toISOString to refuse what it rolls over (2026-02-30 into March) cost ten times as much
 * (clock.test.ts holds that version as the oracle).
 */
export function parseIsoTime(s: string): number {
  if (!RFC3339_UTC.test(s)) return Number.NaN;
  const f = dateTimeFields(s);
  if (f === undefined || f.second > 59) return Number.NaN;
  const { year, month, day, hour, minute, second } = f;
  const fraction = s.length - 21; // digits after the point (none: the string ends at index 19 with 'Z')
  const ms = fraction <= 0 ? 0 : digitsAt(s, 20, Math.min(fraction, 3)) * (fraction >= 3 ? 1 : fraction === 2 ? 10 : 100);
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC reads years 0-99 as 1900-1999; set the year itself (2000, a leap year, holds any day).
  const early = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  early.setUTCFullYear(year);
  return early.getTime();
}
