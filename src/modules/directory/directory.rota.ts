import type { Kysely } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import { localTime, WEEKDAYS, zonedInstant } from '../../shared/zoned.js';
import type { Channel } from '../federation/federation.types.js';
import { ownChannel, resolveContact, rotaFor, toContact, type OwnDirectoryDeps } from './directory.service.js';
import type { DirectoryOverridesTable, DirectoryShiftsTable, DirectoryTables } from './directory.tables.js';
import { POSITIONS, type Contact, type DutyView, type Override, type Position, type RotaStep, type Shift } from './directory.types.js';

/**
 * The rota is people and time. Who holds a position on a channel at an instant: the latest
 * override in force then (`rota take`); else the first shift (by when it was added) whose weekdays
 * and hours, in the node's time zone, cover that instant; else the contact `rota set` named.
 */

const DAY = 24 * 60;
const MAX_OVERRIDE_MS = 31 * 24 * 60 * 60_000;

function usage(m: string): never {
  return fail('invalid_argument', m);
}

function position(p: string | undefined): Position {
  const v = p ?? 'primary';
  if (!(POSITIONS as readonly string[]).includes(v)) usage(`--position must be one of ${POSITIONS.join(', ')} (got "${v}")`);
  return v as Position;
}

/** "mon-fri", "sat,sun", "mon,wed-fri", "daily": weekday numbers (0 = Monday). */
export function parseDays(s: string): number[] {
  const t = s.trim().toLowerCase();
  if (t === 'daily' || t === 'all') return [0, 1, 2, 3, 4, 5, 6];
  const out = new Set<number>();
  const day = (d: string): number => {
    const i = WEEKDAYS.indexOf(d.trim().slice(0, 3) as (typeof WEEKDAYS)[number]);
    if (i < 0 || d.trim().length < 3) usage(`--days: "${d.trim()}" is not a weekday; use mon, tue, wed, thu, fri, sat, sun, ranges such as mon-fri, or daily`);
    return i;
  };
  for (const part of t.split(',')) {
    const [a, b] = part.split('-');
    if (b === undefined) out.add(day(a!));
    else for (let i = day(a!), end = day(b); ; i = (i + 1) % 7) {
      out.add(i);
      if (i === end) break;
    }
  }
  return [...out].sort();
}

const TIME = /^([01]?\d|2[0-4]):([0-5]\d)$/;

/** "08:00-18:00" as minutes after midnight; an end at or before the start ends the next day ("22:00-06:00"). */
export function parseHours(s: string): [number, number] {
  const [a, b] = s.split('-').map((x) => x.trim());
  const minutes = (x: string | undefined): number => {
    const m = x === undefined ? null : TIME.exec(x);
    if (m === null || (Number(m[1]) === 24 && m[2] !== '00')) return usage(`--hours must be two times of day such as 08:00-18:00 or 22:00-06:00 (got "${s}")`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const start = minutes(a);
  const end = minutes(b);
  if (start >= DAY || start === end) usage(`--hours "${s}": a shift starts before 24:00 and does not end when it starts`);
  return [start, end];
}

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** Whether a shift covers the local weekday and minute. */
function covers(s: DirectoryShiftsTable, weekday: number, minute: number): boolean {
  const days = JSON.parse(s.days) as number[];
  if (s.start_min < s.end_min) return days.includes(weekday) && minute >= s.start_min && minute < s.end_min;
  return (days.includes(weekday) && minute >= s.start_min) || (days.includes((weekday + 6) % 7) && minute < s.end_min);
}

async function contactsById(db: Kysely<DirectoryTables>, party: string, ids: readonly string[]): Promise<Map<string, Contact>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('directory_contacts').selectAll().where('party', '=', party).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, toContact(r)]));
}

interface Entries {
  shifts: DirectoryShiftsTable[];
  overrides: DirectoryOverridesTable[];
  contacts: Map<string, Contact>;
}

async function entries(db: Kysely<DirectoryTables>, party: string, channel: string, from: number): Promise<Entries> {
  const shifts = await db.selectFrom('directory_shifts').selectAll().where('channel', '=', channel).orderBy('created_at').orderBy('id').execute();
  const overrides = await db.selectFrom('directory_overrides').selectAll().where('channel', '=', channel).where('until_at', '>', from)
    .orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  return { shifts, overrides, contacts: await contactsById(db, party, [...shifts, ...overrides].map((e) => e.contact_id)) };
}

function holdersFrom(base: readonly RotaStep[], e: Entries, at: number, timeZone: string): RotaStep[] {
  const local = localTime(at, timeZone);
  const out: RotaStep[] = [];
  for (const p of POSITIONS) {
    const o = e.overrides.find((x) => x.position === p && x.from_at <= at && at < x.until_at && e.contacts.has(x.contact_id));
    if (o !== undefined) {
      out.push({ position: p, contact: e.contacts.get(o.contact_id)!, notify: null, source: 'override', entry: o.id, until: isoTime(o.until_at) });
      continue;
    }
    const s = e.shifts.find((x) => x.position === p && covers(x, local.weekday, local.minute) && e.contacts.has(x.contact_id));
    if (s !== undefined) {
      out.push({ position: p, contact: e.contacts.get(s.contact_id)!, notify: null, source: 'shift', entry: s.id });
      continue;
    }
    const b = base.find((x) => x.position === p);
    if (b !== undefined) out.push({ ...b, source: 'rota' });
  }
  return out;
}

/** Who holds each position of `party`'s rota on `channel` at `at` (see the top of this file); `base` is the rota `rota set` made. */
export async function holdersAt(db: Kysely<DirectoryTables>, party: string, channel: string, base: readonly RotaStep[], at: number, timeZone: string): Promise<RotaStep[]> {
  return holdersFrom(base, await entries(db, party, channel, at), at, timeZone);
}

function toShift(r: DirectoryShiftsTable, c: Contact): Shift {
  return {
    id: r.id, channel: r.channel as Channel, position: r.position as Position, contact: c,
    days: (JSON.parse(r.days) as number[]).map((d) => WEEKDAYS[d]!), hours: `${hhmm(r.start_min)}-${hhmm(r.end_min)}`,
  };
}

function toOverride(r: DirectoryOverridesTable, c: Contact): Override {
  return {
    id: r.id, channel: r.channel as Channel, position: r.position as Position, contact: c,
    from: isoTime(r.from_at), until: isoTime(r.until_at), taken_by: r.taken_by,
  };
}

/** Adds a shift to this node's rota: `contact` (short id or name, on `channel`) holds `position` on `days` during `hours`. */
export async function addShift(deps: OwnDirectoryDeps, input: { channel: string; position?: string; contact: string; days: string; hours: string }): Promise<Shift> {
  const channel = ownChannel(deps.self, input.channel);
  const p = position(input.position);
  const days = parseDays(input.days);
  const [start, end] = parseHours(input.hours);
  const c = await resolveContact(deps.db, deps.self.party, input.contact, channel);
  const now = deps.clock.now();
  const row: DirectoryShiftsTable = { id: uuidv7(now), channel, position: p, contact_id: c.id, days: JSON.stringify(days), start_min: start, end_min: end, created_at: now };
  await deps.db.insertInto('directory_shifts').values(row).execute();
  return toShift(row, c);
}

/** This node's shifts and the overrides not yet ended, on one channel or all. */
export async function listRotaEntries(deps: OwnDirectoryDeps, channel?: string): Promise<{ shifts: Shift[]; overrides: Override[] }> {
  const now = deps.clock.now();
  let sq = deps.db.selectFrom('directory_shifts').selectAll();
  let oq = deps.db.selectFrom('directory_overrides').selectAll().where('until_at', '>', now);
  if (channel !== undefined) {
    sq = sq.where('channel', '=', channel);
    oq = oq.where('channel', '=', channel);
  }
  const shifts = await sq.orderBy('channel').orderBy('created_at').orderBy('id').execute();
  const overrides = await oq.orderBy('channel').orderBy('from_at').orderBy('id').execute();
  const contacts = await contactsById(deps.db, deps.self.party, [...shifts, ...overrides].map((e) => e.contact_id));
  return {
    shifts: shifts.flatMap((s) => (contacts.has(s.contact_id) ? [toShift(s, contacts.get(s.contact_id)!)] : [])),
    overrides: overrides.flatMap((o) => (contacts.has(o.contact_id) ? [toOverride(o, contacts.get(o.contact_id)!)] : [])),
  };
}

/**
 * "I take the duty now": the contact linked to `user` on `channel` holds `position` (default
 * primary) from now until `until` (at most 31 days ahead). `invalid_argument` when the user has no
 * contact on that channel (link one with `hotline contact link`).
 */
export async function takeDuty(deps: OwnDirectoryDeps, input: { channel: string; user: string; position?: string; until: number }): Promise<Override> {
  const channel = ownChannel(deps.self, input.channel);
  const p = position(input.position);
  const now = deps.clock.now();
  if (!Number.isFinite(input.until) || input.until <= now) usage('The duty must end in the future (--until a later time, or --for a positive duration)');
  if (input.until - now > MAX_OVERRIDE_MS) usage('A duty taken lasts at most 31 days; use a shift for a standing arrangement');
  const mine = await deps.db.selectFrom('directory_contacts').selectAll().where('party', '=', deps.self.party).where('channel', '=', channel)
    .where('user_name', '=', input.user).orderBy('added_at').execute();
  if (mine.length === 0) usage(`User "${input.user}" is not linked to a contact on ${channel}; link one with "hotline contact link CONTACT ${input.user}"`);
  const c = toContact(mine[0]!);
  const row: DirectoryOverridesTable = { id: uuidv7(now), channel, position: p, contact_id: c.id, from_at: now, until_at: input.until, taken_by: input.user, created_at: now };
  await deps.db.insertInto('directory_overrides').values(row).execute();
  return toOverride(row, c);
}

/**
 * "I hand the duty over": `to` (one of this node's contacts on `channel`: short id, name or linked
 * user) holds `position` (default primary) from now until `until`. Only the one holding that
 * position now (the contact linked to `by`) may hand it over, or an administrator
 * (`forbidden` otherwise); handing it to oneself is `invalid_argument` (take it instead).
 */
export async function handOverDuty(
  deps: OwnDirectoryDeps, timeZone: string,
  input: { channel: string; by: string; admin: boolean; to: string; position?: string; until: number },
): Promise<Override> {
  const channel = ownChannel(deps.self, input.channel);
  const p = position(input.position);
  const now = deps.clock.now();
  if (!Number.isFinite(input.until) || input.until <= now) usage('The duty handed over must end in the future (a later "until")');
  if (input.until - now > MAX_OVERRIDE_MS) usage('A duty handed over lasts at most 31 days; use a shift for a standing arrangement');
  const target = await resolveContact(deps.db, deps.self.party, input.to, channel);
  const holder = (await holdersAt(deps.db, deps.self.party, channel, await rotaFor(deps.db, deps.self.party, channel), now, timeZone)).find((s) => s.position === p);
  if (!input.admin && holder?.contact.user !== input.by) {
    fail('forbidden', `Only the ${p} on duty on ${channel} now (${holder === undefined ? 'nobody' : holder.contact.name}) or an administrator may hand it over; take the duty first`);
  }
  if (holder?.contact.id === target.id) usage(`${target.name} already holds the ${p} position on ${channel}`);
  const row: DirectoryOverridesTable = { id: uuidv7(now), channel, position: p, contact_id: target.id, from_at: now, until_at: input.until, taken_by: input.by, created_at: now };
  await deps.db.insertInto('directory_overrides').values(row).execute();
  return toOverride(row, target);
}

/** Removes a shift, or ends an override now, by its id or a unique prefix of at least 8 characters. */
export async function removeRotaEntry(deps: OwnDirectoryDeps, ref: string): Promise<{ removed: 'shift' | 'override'; id: string }> {
  const typed = ref.trim().toLowerCase();
  if (!/^[0-9a-f-]{8,36}$/.test(typed)) usage(`"${ref}" is not a shift or override id: give the id, or at least its first 8 characters (see "hotline rota shifts")`);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const shifts = await trx.selectFrom('directory_shifts').select('id').where('id', 'like', `${typed}%`).limit(10).execute();
    const overrides = await trx.selectFrom('directory_overrides').select('id').where('id', 'like', `${typed}%`).where('until_at', '>', now).limit(10).execute();
    const found = [...shifts.map((s) => ({ removed: 'shift' as const, id: s.id })), ...overrides.map((o) => ({ removed: 'override' as const, id: o.id }))];
    if (found.length === 0) fail('not_found', `No shift or current override ${ref} on this node; see "hotline rota shifts"`);
    if (found.length > 1) fail('ambiguous_id', `"${ref}" is the start of several rota entries; type more of it. Candidates: ${found.map((f) => f.id).join(', ')}`);
    const f = found[0]!;
    if (f.removed === 'shift') await trx.deleteFrom('directory_shifts').where('id', '=', f.id).execute();
    else await trx.updateTable('directory_overrides').set({ until_at: now }).where('id', '=', f.id).execute();
    return f;
  });
}

/** Instants after `from` (within 8 days) at which the holders of a position may change: shift edges and override ends and starts. */
function changesAfter(e: Entries, from: number, timeZone: string): number[] {
  const out = new Set<number>();
  for (const o of e.overrides) for (const t of [o.from_at, o.until_at]) if (t > from) out.add(t);
  const today = localTime(from, timeZone);
  for (let d = 0; d <= 8; d++) {
    for (const s of e.shifts) {
      for (const m of [s.start_min, s.end_min]) {
        const t = zonedInstant(today.year, today.month, today.day + d, m, timeZone);
        if (t > from) out.add(t);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Who is on duty now on each channel this node serves, and who takes the primary position next (within 8 days) and when. */
export async function dutyNow(deps: OwnDirectoryDeps, timeZone: string, channel?: string): Promise<DutyView[]> {
  const now = deps.clock.now();
  const out: DutyView[] = [];
  for (const c of deps.self.channels.filter((x) => channel === undefined || x === ownChannel(deps.self, channel))) {
    const base = await rotaFor(deps.db, deps.self.party, c);
    const e = await entries(deps.db, deps.self.party, c, now);
    const current = holdersFrom(base, e, now, timeZone);
    const primary = current.find((s) => s.position === 'primary');
    let next: DutyView['next'] = null;
    for (const t of changesAfter(e, now, timeZone)) {
      const then = holdersFrom(base, e, t, timeZone).find((s) => s.position === 'primary');
      if (then?.contact.id !== primary?.contact.id) {
        next = { at: isoTime(t), contact: then?.contact ?? null, source: then?.source ?? null };
        break;
      }
    }
    out.push({ channel: c, time_zone: timeZone, now: current, next });
  }
  return out;
}
