import { fail } from './errors.js';

/**
 * Wall-clock time in a named IANA time zone (the node's `time_zone`), through Intl only: which
 * weekday and minute of the day an instant is there, and which instant a local date and time is.
 * Weekdays are numbered from Monday (0) to Sunday (6).
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** The canonical zone names the runtime lists: checking one costs a lookup, not a formatter (~30 ms of ICU data at a CLI verb's start). */
let canonical: ReadonlySet<string> | undefined;

/** True when `tz` is a time zone this runtime knows (e.g. "UTC", "Europe/Moscow"). */
export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz === '') return false;
  // Every listed name is one a formatter accepts; aliases ("Etc/UTC", "US/Eastern") and other
  // spellings are not listed, and are checked by building the formatter.
  canonical ??= new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);
  if (canonical.has(tz)) return true;
  try {
    format(tz);
    return true;
  } catch {
    return false;
  }
}

/** Refuses a time zone the runtime does not know (`invalid_argument`, or the code given). */
export function checkTimeZone(tz: unknown, code: 'invalid_argument' | 'config_invalid' = 'invalid_argument'): string {
  if (!isTimeZone(tz)) fail(code, `"${String(tz)}" is not a time zone; use an IANA name such as UTC, Europe/Moscow or America/New_York`);
  return tz;
}

/** An instant's local date, weekday (0 = Monday) and minute of the day in `timeZone`. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minute: number;
}

export function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of format(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(parts.weekday!.toLowerCase() as (typeof WEEKDAYS)[number]),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The instant at which the local date `year-month-day` reaches `minute` (may exceed a day) in `timeZone`. */
export function zonedInstant(year: number, month: number, day: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minute);
  const offsetAt = (t: number): number => {
    const l = localTime(t, timeZone);
    return Date.UTC(l.year, l.month - 1, l.day, 0, l.minute) - Math.floor(t / 60_000) * 60_000;
  };
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return t;
}
