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

/** Parses an RFC 3339 UTC timestamp ("...Z"); returns NaN when it is not one. */
export function parseIsoTime(s: string): number {
  if (!RFC3339_UTC.test(s)) return Number.NaN;
  const ms = Date.parse(s);
  // Date.parse rolls 2026-02-30 over to March and accepts 24:00; only real instants pass.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== s.slice(0, 19)) return Number.NaN;
  return ms;
}
