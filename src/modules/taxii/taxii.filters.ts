import { fail } from '../../shared/errors.js';
import { parseMicros } from './taxii.time.js';

/**
 * The URL filters of TAXII 2.1 section 3.4, parsed once into a typed {@link PageRequest}.
 * Malformed values are 400 `filter_invalid` ("If any of the URL query parameters are malformed,
 * the TAXII Server MUST return an HTTP 400"); unknown `match[...]` fields are ignored, as the
 * spec allows.
 */

/** `match[version]`: a union of keywords and exact versions (µs). */
export interface VersionFilter {
  readonly all: boolean;
  readonly first: boolean;
  readonly last: boolean;
  readonly at: readonly number[];
}

export interface ObjectFilter {
  /** µs; only versions added strictly after it. */
  readonly addedAfter: number | null;
  readonly ids: readonly string[] | null;
  readonly types: readonly string[] | null;
  readonly versions: VersionFilter;
  /** Null: the latest spec version of each object (here always 2.1, the only one stored). */
  readonly specVersions: readonly string[] | null;
}

export interface PageRequest {
  readonly filter: ObjectFilter;
  readonly limit: number;
  /** The opaque `next` as the client sent it (taxii.cursor.ts checks it). */
  readonly next: string | null;
  /** True when the request named no filter at all (then a `next` brings its own). */
  readonly filtersGiven: boolean;
}

/** Which endpoint a request is for: each takes a different set of filters (TAXII 2.1 section 5). */
export type Endpoint = 'objects' | 'manifest' | 'object' | 'versions' | 'delete';

const ALLOWED: Record<Endpoint, readonly string[]> = {
  objects: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  manifest: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  object: ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'],
  versions: ['added_after', 'limit', 'next', 'match[spec_version]'],
  delete: ['match[version]', 'match[spec_version]'],
};

export const ALL_VERSIONS: VersionFilter = Object.freeze({ all: true, first: false, last: false, at: [] });
const LAST_VERSION: VersionFilter = Object.freeze({ all: false, first: false, last: true, at: [] });

/** At most this many values in one comma list (each is one index walk; taxii.query.ts). */
export const MAX_LIST = 100;

const STIX_TYPE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-?$/;
const STIX_ID = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*-?)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SPEC_VERSION = /^\d+\.\d+$/;

/** True when `s` has the form of a STIX identifier (`type--uuid`). */
export function isStixId(s: string): boolean {
  return STIX_ID.test(s);
}

type Query = Readonly<Record<string, unknown>>;

function single(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) fail('filter_invalid', `"${name}" may be given once; it was given ${v.length} times`, { parameter: name });
  if (typeof v !== 'string') fail('filter_invalid', `"${name}" must be a string`, { parameter: name });
  return v;
}

function list(q: Query, name: string, check: (s: string) => boolean, what: string): string[] | null {
  const v = single(q, name);
  if (v === undefined) return null;
  const items = v.split(',');
  if (items.length > MAX_LIST) fail('filter_invalid', `"${name}" lists ${items.length} values; at most ${MAX_LIST} are accepted`, { parameter: name });
  for (const s of items) {
    if (!check(s)) fail('filter_invalid', `"${name}": ${JSON.stringify(s)} is not ${what} (values are separated by commas, without spaces)`, { parameter: name });
  }
  if (new Set(items).size !== items.length) fail('filter_invalid', `"${name}" lists a value twice`, { parameter: name });
  return items;
}

function versions(q: Query, fallback: VersionFilter): VersionFilter {
  const items = list(q, 'match[version]', (s) => s === 'first' || s === 'last' || s === 'all' || !Number.isNaN(parseMicros(s)),
    'first, last, all or a STIX timestamp such as 2026-01-01T00:00:00.000Z');
  if (items === null) return fallback;
  if (items.includes('all') && items.length > 1) fail('filter_invalid', '"match[version]=all" must not be combined with other versions', { parameter: 'match[version]' });
  const at = [...new Set(items.filter((s) => s !== 'first' && s !== 'last' && s !== 'all').map(parseMicros))];
  return { all: items.includes('all'), first: items.includes('first'), last: items.includes('last'), at };
}

/**
 * Parses a request's query for `endpoint`. `maxLimit` is the server's page size limit: a larger
 * `limit` is lowered to it (TAXII allows fewer objects than asked); `defaultLimit` applies when
 * the client gives none.
 */
export function parsePageRequest(q: Query, endpoint: Endpoint, opts: { maxLimit: number; defaultLimit: number }): PageRequest {
  const allowed = ALLOWED[endpoint];
  const given = (name: string): boolean => allowed.includes(name) && q[name] !== undefined;
  let addedAfter: number | null = null;
  const aa = given('added_after') ? single(q, 'added_after') : undefined;
  if (aa !== undefined) {
    addedAfter = parseMicros(aa);
    if (Number.isNaN(addedAfter)) fail('filter_invalid', `"added_after" must be a timestamp such as 2026-01-01T00:00:00.000000Z (got ${JSON.stringify(aa)})`, { parameter: 'added_after' });
  }
  let limit = opts.defaultLimit;
  const l = given('limit') ? single(q, 'limit') : undefined;
  if (l !== undefined) {
    if (!/^\d{1,15}$/.test(l) || Number(l) === 0) fail('filter_invalid', `"limit" must be a positive integer (got ${JSON.stringify(l)})`, { parameter: 'limit' });
    limit = Math.min(Number(l), opts.maxLimit);
  }
  const next = given('next') ? single(q, 'next') ?? null : null;
  if (next === '') fail('cursor_invalid', '"next" is empty; send the value of "next" from the previous page, or leave it out');
  const filter: ObjectFilter = {
    addedAfter,
    ids: given('match[id]') ? list(q, 'match[id]', isStixId, 'a STIX id (type--uuid)') : null,
    types: given('match[type]') ? list(q, 'match[type]', (s) => s.length >= 3 && s.length <= 250 && STIX_TYPE.test(s), 'a STIX type') : null,
    versions: given('match[version]') ? versions(q, LAST_VERSION) : endpoint === 'versions' || endpoint === 'delete' ? ALL_VERSIONS : LAST_VERSION,
    specVersions: given('match[spec_version]') ? list(q, 'match[spec_version]', (s) => SPEC_VERSION.test(s), 'a STIX spec version such as 2.1') : null,
  };
  const filtersGiven = ['added_after', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'].some(given);
  return { filter, limit, next, filtersGiven };
}
