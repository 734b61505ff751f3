/** Times as an officer reads them: in their own zone, with UTC beside (what the peer and the evidence use). */
import { useEffect, useState } from 'react';
import { useLang, type Lang } from './i18n';

// Intl formatters are costly to build and a page of countdowns formats hundreds of times a second: built once each.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function cached<F extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (f === undefined) { f = make(); formatters.set(key, f); }
  return f;
}

function fmt(d: Date, lang: Lang, timeZone: string, withZone: boolean): string {
  return cached(`dt|${lang}|${timeZone}|${withZone}`, () => new Intl.DateTimeFormat(lang, {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hour12: false, ...(withZone ? { timeZoneName: 'short' } : {}),
  })).format(d);
}

/** "05.12.2026, 23:05 GMT+3 (20:05 UTC)"; one string when the user's zone is UTC. */
export function formatInstant(iso: string | number, lang: Lang, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const local = fmt(d, lang, timeZone, true);
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return local;
  const utc = cached(`utc|${lang}`, () => new Intl.DateTimeFormat(lang, { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hour12: false })).format(d);
  return `${local} (${utc} UTC)`;
}

/** An instant in a <time> element, local with UTC beside. */
export function Instant({ at }: { at: string | number | null | undefined }) {
  const { lang, timeZone } = useLang();
  if (at === null || at === undefined) return <span>—</span>;
  const d = new Date(at);
  return <time dateTime={Number.isNaN(d.getTime()) ? undefined : d.toISOString()}>{formatInstant(at, lang, timeZone)}</time>;
}

/** Milliseconds since the epoch, re-rendered every `everyMs` (countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** A duration as the largest two units, e.g. "1 h 05 min", "42 s" (language-neutral digits and units). */
export function formatDuration(ms: number, lang: Lang): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const unit = (value: number, u: 'hour' | 'minute' | 'second') =>
    cached(`unit|${lang}|${u}`, () => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'narrow' })).format(value);
  if (h > 0) return `${unit(h, 'hour')} ${unit(m, 'minute')}`;
  if (m > 0) return `${unit(m, 'minute')} ${unit(sec, 'second')}`;
  return unit(sec, 'second');
}
