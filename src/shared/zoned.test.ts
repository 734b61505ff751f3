import { describe, expect, it } from 'vitest';
import { checkTimeZone, isTimeZone, localTime, zonedInstant } from './zoned.js';

describe('wall-clock time in a named time zone', () => {
  it('knows a weekday (0 = Monday) and minute of the day there', () => {
    // Monday 5 January 2026 05:50 UTC is 08:50 in Moscow (UTC+3) and 00:50 in New York (UTC-5).
    const t = Date.UTC(2026, 0, 5, 5, 50);
    expect(localTime(t, 'Europe/Moscow')).toEqual({ year: 2026, month: 1, day: 5, weekday: 0, minute: 8 * 60 + 50 });
    expect(localTime(t, 'America/New_York')).toEqual({ year: 2026, month: 1, day: 5, weekday: 0, minute: 50 });
    expect(localTime(t, 'Pacific/Honolulu')).toMatchObject({ day: 4, weekday: 6, minute: 19 * 60 + 50 });
  });

  it('finds the instant of a local time, across a daylight-saving change and past midnight', () => {
    expect(zonedInstant(2026, 1, 5, 9 * 60, 'Europe/Moscow')).toBe(Date.UTC(2026, 0, 5, 6, 0));
    // New York: EST (UTC-5) in January, EDT (UTC-4) from 8 March 2026.
    expect(zonedInstant(2026, 3, 7, 9 * 60, 'America/New_York')).toBe(Date.UTC(2026, 2, 7, 14, 0));
    expect(zonedInstant(2026, 3, 9, 9 * 60, 'America/New_York')).toBe(Date.UTC(2026, 2, 9, 13, 0));
    // 24:00 and later roll over to the next day; day 32 of January is 1 February.
    expect(zonedInstant(2026, 1, 31, 24 * 60 + 30, 'UTC')).toBe(Date.UTC(2026, 1, 1, 0, 30));
    expect(zonedInstant(2026, 1, 32, 0, 'UTC')).toBe(Date.UTC(2026, 1, 1));
  });

  it('accepts IANA names Intl knows and refuses anything else', () => {
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Asia/Vladivostok')).toBe(true);
    // Not in Intl.supportedValuesOf('timeZone') (aliases, other case): the formatter decides.
    for (const alias of ['Etc/UTC', 'US/Eastern', 'europe/moscow']) expect(isTimeZone(alias)).toBe(true);
    for (const bad of ['', 'Mars/Olympus_Mons', 42, null]) expect(isTimeZone(bad)).toBe(false);
    expect(() => checkTimeZone('Nowhere/Else')).toThrow(/"Nowhere\/Else" is not a time zone/);
  });
});
