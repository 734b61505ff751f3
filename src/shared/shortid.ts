import { fail } from './errors.js';

/** The shortest prefix of an id a person may type (as git's abbreviated hashes). */
export const MIN_PREFIX = 8;

const HEX_PREFIX = /^[0-9a-f-]+$/;

/**
 * A person's id as typed, lower-cased: a whole UUID, or a prefix of one of at least
 * {@link MIN_PREFIX} characters (dashes included as in the UUID, e.g. `01a2467f` or `01a2467f-3b2c`).
 * Anything else is `invalid_argument`, naming `what`.
 */
export function idInput(input: string, what: string): string {
  const s = input.trim().toLowerCase();
  if (s.length < MIN_PREFIX || s.length > 36 || !HEX_PREFIX.test(s)) {
    fail('invalid_argument', `"${input}" is not a ${what} id: give the id, or at least its first ${MIN_PREFIX} characters`);
  }
  return s;
}

/**
 * Resolves a typed id or prefix to one whole id. `candidates(prefix, limit)` returns ids that start with
 * the prefix (a `LIKE 'prefix%'` over the table's primary key; at most `limit`). None: `not_found`;
 * several: `ambiguous_id` listing them (a usage error, exit 2).
 */
export async function resolveId(
  input: string,
  what: string,
  candidates: (prefix: string, limit: number) => Promise<readonly string[]>,
): Promise<string> {
  const prefix = idInput(input, what);
  const found = await candidates(prefix, 10);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) fail('not_found', `No ${what} ${input} on this node`);
  fail('ambiguous_id', `"${input}" is the start of several ${what} ids; type more of it. Candidates: ${found.join(', ')}${found.length >= 10 ? ', …' : ''}`);
}

/**
 * The shortest prefix of each id, at least {@link MIN_PREFIX} characters, that no other id in the list
 * shares: how a listing shows ids (UUIDv7 ids made in the same minute share their first 8 characters).
 */
export function shortIds(ids: readonly string[]): Map<string, string> {
  const sorted = [...new Set(ids)].sort();
  const out = new Map<string, string>();
  const common = (a: string, b: string): number => {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
  };
  sorted.forEach((id, i) => {
    const before = i > 0 ? common(id, sorted[i - 1]!) : 0;
    const after = i + 1 < sorted.length ? common(id, sorted[i + 1]!) : 0;
    let n = Math.max(MIN_PREFIX, before + 1, after + 1);
    if (id[n - 1] === '-') n++;
    out.set(id, id.slice(0, Math.min(n, id.length)));
  });
  return out;
}

/** The bounds of the ids that start with `prefix` (`id >= lo and id < hi`): a `LIKE 'prefix%'` that uses the primary key's index. */
export function prefixBounds(prefix: string): { lo: string; hi: string } {
  // '~' sorts after every character of a UUID (digits, a-f, '-').
  return { lo: prefix, hi: `${prefix}~` };
}

const WHOLE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * {@link resolveId}, except that a whole UUID is returned as typed (lower-cased) without asking
 * the store: whether it exists is the caller's next question, as before short ids.
 */
export async function resolveUuid(
  input: string,
  what: string,
  candidates: (prefix: string, limit: number) => Promise<readonly string[]>,
): Promise<string> {
  const s = input.trim().toLowerCase();
  return WHOLE_UUID.test(s) ? s : resolveId(input, what, candidates);
}

/**
 * {@link shortIds} for the ids a listing shows, unique in the whole table rather than in the
 * listing: `neighbours(id)` gives the ids just before and after it in the table (two reads of
 * the primary key), so that a prefix copied from a filtered listing still names one id.
 */
export async function shortIdsAmong(ids: readonly string[], neighbours: (id: string) => Promise<readonly string[]>): Promise<Map<string, string>> {
  const all = new Set(ids);
  for (const id of new Set(ids)) for (const n of await neighbours(id)) all.add(n);
  const short = shortIds([...all]);
  return new Map(ids.map((id) => [id, short.get(id)!]));
}
