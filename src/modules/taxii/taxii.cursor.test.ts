import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeys } from '../identity/identity.keys.js';
import { CursorCodec } from './taxii.cursor.js';
import { parsePageRequest } from './taxii.filters.js';
import { formatMicros, parseMicros } from './taxii.time.js';

const opts = { maxLimit: 100, defaultLimit: 10 };

describe('TAXII timestamps', () => {
  it('parse any fraction and format six digits; round trips at microseconds', () => {
    expect(parseMicros('2026-12-01T07:30:55Z')).toBe(Date.UTC(2026, 11, 1, 7, 30, 55) * 1000);
    expect(parseMicros('2026-12-01T07:30:55.1Z')).toBe(Date.UTC(2026, 11, 1, 7, 30, 55) * 1000 + 100000);
    expect(parseMicros('2026-12-01T07:30:55.123456789Z')).toBe(Date.UTC(2026, 11, 1, 7, 30, 55) * 1000 + 123456);
    for (const bad of ['2026-02-30T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01 07:30:55Z', '2026-12-01T07:30:55+00:00', '']) expect(parseMicros(bad)).toBeNaN();
    fc.assert(fc.property(fc.integer({ min: 0, max: 4102444800000000 }), (us) => {
      expect(parseMicros(formatMicros(us))).toBe(us);
      expect(formatMicros(us)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }));
  });
});

describe('the next cursor', () => {
  const codec = new CursorCodec(generateKeys().keys.privateKey);
  const req = parsePageRequest({ 'match[type]': 'indicator,malware', 'match[version]': 'all' }, 'objects', opts);
  const expect_ = { collection: 'c1', endpoint: 'objects', filter: req.filter, filtersGiven: true };

  it('decodes what it encoded, for the same walk', () => {
    const next = codec.encode({ c: 'c1', e: 'objects', f: req.filter, p: 1796110255123456 });
    expect(codec.decode(next, expect_)).toEqual({ c: 'c1', e: 'objects', f: req.filter, p: 1796110255123456 });
    // A request that repeats no filter takes the walk's.
    expect(codec.decode(next, { ...expect_, filter: parsePageRequest({}, 'objects', opts).filter, filtersGiven: false }).f).toEqual(req.filter);
  });

  it('refuses any change to a cursor, one from another node, another collection, endpoint or filters', () => {
    const next = codec.encode({ c: 'c1', e: 'objects', f: req.filter, p: 42 });
    const raw = Buffer.from(next, 'base64url');
    fc.assert(fc.property(fc.nat({ max: raw.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const t = Buffer.from(raw);
      t[i] = t[i]! ^ x;
      expect(() => codec.decode(t.toString('base64url'), expect_)).toThrow(expect.objectContaining({ code: 'cursor_invalid' }) as Error);
    }));
    const other = new CursorCodec(generateKeys().keys.privateKey);
    expect(() => other.decode(next, expect_)).toThrow(/not issued by this server/);
    expect(() => codec.decode(next, { ...expect_, collection: 'c2' })).toThrow(/another collection/);
    expect(() => codec.decode(next, { ...expect_, endpoint: 'manifest' })).toThrow(/another collection or endpoint/);
    const otherFilter = parsePageRequest({ 'match[type]': 'indicator' }, 'objects', opts).filter;
    expect(() => codec.decode(next, { ...expect_, filter: otherFilter })).toThrow(/other filters/);
    expect(() => codec.decode('x'.repeat(10), expect_)).toThrow(/not a value this server issued/);
  });
});

describe('filters', () => {
  it('defaults: the latest version, the default page; versions and delete take every version', () => {
    expect(parsePageRequest({}, 'objects', opts)).toEqual({
      filter: { addedAfter: null, ids: null, types: null, versions: { all: false, first: false, last: true, at: [] }, specVersions: null },
      limit: 10, next: null, filtersGiven: false,
    });
    expect(parsePageRequest({}, 'versions', opts).filter.versions.all).toBe(true);
    expect(parsePageRequest({}, 'delete', opts).filter.versions.all).toBe(true);
    expect(parsePageRequest({ limit: '1000' }, 'objects', opts).limit).toBe(100);
  });

  it('ignores filters an endpoint does not take and match fields it does not know', () => {
    const r = parsePageRequest({ 'match[type]': 'indicator', 'match[id]': 'x', 'match[color]': 'red', foo: 'bar' }, 'versions', opts);
    expect(r.filter.types).toBeNull();
    expect(r.filter.ids).toBeNull();
    expect(r.filtersGiven).toBe(false);
  });
});
