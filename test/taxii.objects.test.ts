import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, expectTaxiiError, indicator, ipv4, malware, TAXII, taxiiFixture, type Taxii, type TaxiiFixture } from './helpers/taxii.js';

/**
 * TAXII 2.1 conformance, part 2: objects (GET, POST), one object (GET, DELETE), versions,
 * manifest, status, and every filter of section 3.4, over real HTTP.
 */
let f: TaxiiFixture;
let alice: Taxii;
beforeAll(async () => {
  f = await taxiiFixture();
  alice = f.as('alice');
});
afterAll(async () => f?.stop());

type Obj = Record<string, unknown>;

/** A fresh collection alice may read and write. */
async function fresh(alias: string): Promise<string> {
  const c = await f.node.ctx.taxii.collections.add({ alias });
  await f.node.ctx.taxii.collections.grant(alias, 'user:alice', { read: true, write: true });
  return `/taxii2/api/collections/${c.id}/`;
}

async function post(base: string, objects: unknown[]): Promise<Obj> {
  const r = await alice(`${base}objects/`, { body: envelope(objects) });
  expect(r.status, r.text).toBe(202);
  expect(r.headers.get('content-type')).toBe(TAXII);
  return r.json!;
}

/** Every object id of a walk over `path` (following next), and the pages' date_added headers. */
async function walk(path: string, list: 'objects' | 'versions' = 'objects'): Promise<unknown[]> {
  const out: unknown[] = [];
  let next: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await alice(next === undefined ? path : `${path}${sep}next=${encodeURIComponent(next)}`);
    expect(r.status, r.text).toBe(200);
    out.push(...((r.json![list] ?? []) as unknown[]));
    if (r.json!.more !== true) return out;
    next = r.json!.next as string;
    expect(typeof next).toBe('string');
  }
  throw new Error('walk did not end');
}

const v = (o: Obj, modified: string): Obj => ({ ...o, modified });

describe('POST objects and the status resource (sections 4.3, 5.5)', () => {
  it('stores the valid objects of an envelope and reports each invalid one with its reason; GET status says the same', async () => {
    const base = await fresh('post-mixed');
    const good = [indicator(), ipv4('192.0.2.7'), malware('mirai')];
    const bad = [
      { ...indicator(), id: 'indicator--not-a-uuid' },
      { ...indicator(), pattern: "[ipv4-addr:value = '1.2.3.4'" },
      { ...indicator(), modified: '2026-02-30T00:00:00Z' },
      { type: 'no-such-type', id: 'no-such-type--6ba7b810-9dad-41d1-80b4-00c04fd430c8', spec_version: '2.1', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z' },
      'not an object',
    ];
    const s = await post(base, [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3], bad[4]]);
    expect(s).toMatchObject({ status: 'complete', total_count: 8, success_count: 3, failure_count: 5, pending_count: 0 });
    expect((s.successes as Obj[]).map((x) => x.id)).toEqual(good.map((o) => o.id));
    const failures = s.failures as { id: string; version: string; message: string }[];
    expect(failures.map((x) => x.id)).toEqual(['indicator--not-a-uuid', ...bad.slice(1, 4).map((o) => (o as Obj).id), 'objects[7]']);
    expect(failures[0]!.message).toMatch(/^id: /);
    expect(failures[1]!.message).toMatch(/^pattern: /);
    expect(failures[2]!.message).toMatch(/^modified: /);
    expect(failures[3]!.message).toMatch(/unknown STIX type/i);
    expect(typeof s.request_timestamp).toBe('string');
    expect(s.request_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const got = await alice(`/taxii2/api/status/${String(s.id)}/`);
    expect(got.json).toEqual(s);
    // Another user may not read the status (404, not 403).
    expectTaxiiError(await f.as('reader')(`/taxii2/api/status/${String(s.id)}/`), 404, 'not_found');
    expectTaxiiError(await alice('/taxii2/api/status/00000000-0000-4000-8000-000000000000/'), 404, 'not_found');
    expect(await walk(`${base}objects/?match[version]=all`)).toEqual(good);
  });

  it('serves objects in any script exactly as posted, however many non-ASCII texts a page holds', async () => {
    const base = await fresh('post-scripts');
    const names = ['ботнет '.repeat(150), '僵尸网络'.repeat(300), 'ＡＢＣ😀'.repeat(200), 'say "hi"\\ \n\ttab', 'ascii', 'é', '𝔘'.repeat(500)];
    const objects = Array.from({ length: 21 }, (_x, i) => malware(names[i % names.length]!, { description: `#${i} ${names[(i + 3) % names.length]!}` }));
    expect(await post(base, objects)).toMatchObject({ success_count: objects.length, failure_count: 0 });
    expect(await walk(`${base}objects/`)).toEqual(objects);
    expect(await walk(`${base}objects/?limit=4`)).toEqual(objects);
  });

  it('is idempotent for an identical version (whatever its key order), refuses a different object under the same id and modified, and takes a later version', async () => {
    const base = await fresh('post-versions');
    const o = indicator({ modified: '2026-11-30T10:00:00.000Z' });
    await post(base, [o]);
    const reordered = Object.fromEntries(Object.entries(o).reverse());
    const again = await post(base, [reordered, o]);
    expect(again).toMatchObject({ success_count: 2, failure_count: 0 });
    expect((again.successes as Obj[]).every((x) => x.message === 'already stored')).toBe(true);
    const conflict = await post(base, [{ ...o, name: 'changed without a new modified' }]);
    expect(conflict).toMatchObject({ success_count: 0, failure_count: 1 });
    const later = v({ ...o, name: 'v2' }, '2026-11-30T11:00:00.000Z');
    await post(base, [later]);
    expect(await walk(`${base}objects/?match[version]=all`)).toEqual([o, later]);
    // SCOs have no versions: the same content again is one object.
    const ip = ipv4('203.0.113.9');
    await post(base, [ip]);
    expect((await post(base, [ip])).successes).toEqual([expect.objectContaining({ id: ip.id, message: 'already stored' })]);
    expect((await walk(`${base}objects/?match[type]=ipv4-addr&match[version]=all`))).toEqual([ip]);
  });

  it('stores a large envelope in batches (one status, every object once), naming an invalid object without an id by its place in the envelope', async () => {
    const base = await fresh('post-large');
    const objects = Array.from({ length: 2500 }, () => indicator());
    // Without an id, a failure is named objects[i]: i counts from the envelope's start, not from
    // the batch's (2,000 objects on SQLite) or the validation slice's (250) the object fell in.
    const noId = [3, 260, 2003];
    const sent: unknown[] = objects.map((o, i) => (noId.includes(i) ? { ...o, id: undefined } : o));
    const s = await post(base, sent);
    expect(s).toMatchObject({ status: 'complete', total_count: 2500, success_count: 2497, failure_count: 3, pending_count: 0 });
    expect((s.successes as unknown[]).length).toBe(2497);
    expect((s.failures as { id: string }[]).map((x) => x.id)).toEqual(noId.map((i) => `objects[${i}]`));
    expect(await walk(`${base}objects/?limit=1000`)).toEqual(objects.filter((_, i) => !noId.includes(i)));
  });

  it.each([
    ['malformed JSON', { raw: '{"objects": [' }, 400, 'malformed_json'],
    ['a JSON array', { body: [indicator()] }, 422, 'bundle_invalid'],
    ['no objects', { body: { more: false } }, 422, 'bundle_invalid'],
    ['empty objects', { body: { objects: [] } }, 422, 'bundle_invalid'],
    ['objects not a list', { body: { objects: { a: 1 } } }, 422, 'bundle_invalid'],
  ] as const)('refuses %s with the TAXII error resource, storing nothing', async (_name, init, status, code) => {
    const before = await f.counts();
    expectTaxiiError(await alice(`/taxii2/api/collections/${f.c.intel.id}/objects/`, init), status, code);
    expect(await f.counts()).toEqual(before);
  });

  it('refuses a body over max_content_length with 413, storing nothing', async () => {
    const small = await taxiiFixture({ taxii: { maxContentLength: 4096 } });
    try {
      const before = await small.counts();
      const r = await small.as('alice')(`/taxii2/api/collections/${small.c.intel.id}/objects/`, { body: envelope(Array.from({ length: 20 }, () => indicator())) });
      expectTaxiiError(r, 413, 'body_too_large');
      expect(await small.counts()).toEqual(before);
      expect((await small.as('alice')('/taxii2/api/')).json?.max_content_length).toBe(4096);
    } finally {
      await small.stop();
    }
  });
});

describe('GET objects and the filters (sections 3.4, 5.4)', () => {
  let base: string;
  const i1 = indicator({ created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z' });
  const i1b = v(i1, '2026-01-02T00:00:00.000Z');
  const i1c = v(i1, '2026-01-03T00:00:00.000Z');
  const i2 = indicator();
  const m1 = malware('emotet');
  const ip = ipv4('198.51.100.200');
  let dates: string[] = [];

  beforeAll(async () => {
    base = await fresh('filters');
    // One POST per object so each has its own date_added in this order: i1, i2, m1, i1b, ip, i1c.
    for (const o of [i1, i2, m1, i1b, ip, i1c]) await post(base, [o]);
    const man = await alice(`${base}manifest/?match[version]=all`);
    dates = (man.json!.objects as { date_added: string }[]).map((x) => x.date_added);
    expect(dates).toHaveLength(6);
  });

  const get = async (q: string): Promise<unknown[]> => {
    const r = await alice(`${base}objects/${q}`);
    expect(r.status, r.text).toBe(200);
    return (r.json!.objects ?? []) as unknown[];
  };

  it('returns the latest version of each object by default, in date_added order, with the X-TAXII-Date-Added headers of the page', async () => {
    const r = await alice(`${base}objects/`);
    expect(r.json).toEqual({ more: false, objects: [i2, m1, ip, i1c] });
    expect(r.headers.get('x-taxii-date-added-first')).toBe(dates[1]);
    expect(r.headers.get('x-taxii-date-added-last')).toBe(dates[5]);
    for (const d of dates) expect(d).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('match[version]: all, first, last, an exact timestamp, and comma lists of them (a union)', async () => {
    expect(await get('?match[version]=all')).toEqual([i1, i2, m1, i1b, ip, i1c]);
    expect(await get('?match[version]=first')).toEqual([i1, i2, m1, ip]);
    expect(await get('?match[version]=last')).toEqual([i2, m1, ip, i1c]);
    expect(await get('?match[version]=first,last')).toEqual([i1, i2, m1, ip, i1c]);
    expect(await get('?match[version]=2026-01-02T00:00:00.000Z')).toEqual([i1b]);
    // The same instant written differently matches too.
    expect(await get('?match[version]=2026-01-02T00:00:00Z,first')).toEqual([i1, i2, m1, i1b, ip]);
    expect(await get('?match[version]=1999-01-01T00:00:00Z')).toEqual([]);
  });

  it('match[type] and match[id], single and as comma lists, combined with versions (ANDed)', async () => {
    expect(await get('?match[type]=malware')).toEqual([m1]);
    expect(await get('?match[type]=malware,ipv4-addr')).toEqual([m1, ip]);
    expect(await get('?match[type]=indicator&match[version]=all')).toEqual([i1, i2, i1b, i1c]);
    expect(await get('?match[type]=campaign')).toEqual([]);
    expect(await get(`?match[id]=${String(i1.id)}`)).toEqual([i1c]);
    expect(await get(`?match[id]=${String(i1.id)}&match[version]=all`)).toEqual([i1, i1b, i1c]);
    expect(await get(`?match[id]=${String(i1.id)},${String(ip.id)}&match[version]=first`)).toEqual([i1, ip]);
    expect(await get(`?match[id]=${String(i1.id)}&match[type]=malware`)).toEqual([]);
  });

  it('added_after is strictly after date_added, at any precision; match[spec_version]', async () => {
    expect(await get(`?added_after=${dates[2]!}&match[version]=all`)).toEqual([i1b, ip, i1c]);
    expect(await get(`?added_after=${dates[5]!}`)).toEqual([]);
    expect(await get('?added_after=2000-01-01T00:00:00Z')).toEqual([i2, m1, ip, i1c]);
    expect(await get('?match[spec_version]=2.1')).toEqual([i2, m1, ip, i1c]);
    expect(await get('?match[spec_version]=2.0,2.1&match[type]=malware')).toEqual([m1]);
    expect(await get('?match[spec_version]=2.0')).toEqual([]);
  });

  it('an empty result is an empty envelope {} without the date headers', async () => {
    const r = await alice(`${base}objects/?match[type]=campaign`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('{}');
    expect(r.headers.get('x-taxii-date-added-first')).toBeNull();
  });

  it('limit and next: pages of at most limit, more/next until the end, limit may change between pages, a limit above the maximum is lowered', async () => {
    const p1 = await alice(`${base}objects/?match[version]=all&limit=2`);
    expect(p1.json).toMatchObject({ more: true, objects: [i1, i2] });
    expect(p1.headers.get('x-taxii-date-added-last')).toBe(dates[1]);
    const p2 = await alice(`${base}objects/?match[version]=all&limit=3&next=${String(p1.json!.next)}`);
    expect(p2.json).toMatchObject({ more: true, objects: [m1, i1b, ip] });
    // A next alone (no filters repeated) continues the same walk.
    const p3 = await alice(`${base}objects/?next=${String(p2.json!.next)}`);
    expect(p3.json).toEqual({ more: false, objects: [i1c] });
    expect(await walk(`${base}objects/?match[version]=all&limit=1`)).toEqual([i1, i2, m1, i1b, ip, i1c]);
    expect((await alice(`${base}objects/?limit=999999999`)).status).toBe(200);
  });

  it.each([
    ['limit=0'], ['limit=-1'], ['limit=abc'], ['limit=1.5'], ['limit=1&limit=2'],
    ['added_after=yesterday'], ['added_after=2026-02-30T00:00:00Z'], ['added_after=2026-01-01T00:00:00'],
    ['match[version]=newest'], ['match[version]=all,first'], ['match[version]=first,first'], ['match[version]=2026-13-01T00:00:00Z'],
    ['match[type]=Indicator'], ['match[type]=indicator,,malware'], ['match[type]=indicator, malware'],
    ['match[id]=indicator--123'], ['match[id]=x'],
    ['match[spec_version]=two'],
    ['match[type]=a&match[type]=b'],
    [`match[type]=${Array.from({ length: 101 }, (_, i) => `t${i}xx`).join(',')}`],
  ])('refuses a malformed filter (%s) with 400 filter_invalid', async (q) => {
    expectTaxiiError(await alice(`${base}objects/?${q}`), 400, 'filter_invalid');
  });

  it('refuses a next that was not issued, was altered, belongs to another walk or comes with other filters (400 cursor_invalid)', async () => {
    const p1 = await alice(`${base}objects/?match[version]=all&limit=2`);
    const next = String(p1.json!.next);
    const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const bad of ['', 'abc', flip(next, 0), flip(next, 20), flip(next, next.length - 1), `${next}AA`, Buffer.from('{"p":0}').toString('base64url').padEnd(30, 'A')]) {
      expectTaxiiError(await alice(`${base}objects/?match[version]=all&limit=2&next=${encodeURIComponent(bad)}`), 400, 'cursor_invalid');
    }
    expectTaxiiError(await alice(`${base}objects/?match[version]=first&next=${next}`), 400, 'cursor_invalid');
    expectTaxiiError(await alice(`${base}manifest/?match[version]=all&next=${next}`), 400, 'cursor_invalid');
    expectTaxiiError(await alice(`/taxii2/api/collections/${f.c.intel.id}/objects/?match[version]=all&next=${next}`), 400, 'cursor_invalid');
  });

  it('manifest: one record per version with date_added, version and media type, filtered and paged like objects', async () => {
    const r = await alice(`${base}manifest/?match[type]=indicator&match[version]=all&limit=3`);
    expect(r.json).toMatchObject({ more: true, next: expect.any(String) as string });
    expect(r.json!.objects).toEqual([
      { id: i1.id, date_added: dates[0], version: '2026-01-01T00:00:00.000Z', media_type: 'application/stix+json;version=2.1' },
      { id: i2.id, date_added: dates[1], version: i2.modified, media_type: 'application/stix+json;version=2.1' },
      { id: i1.id, date_added: dates[3], version: '2026-01-02T00:00:00.000Z', media_type: 'application/stix+json;version=2.1' },
    ]);
    expect(r.headers.get('x-taxii-date-added-first')).toBe(dates[0]);
    const all = (await alice(`${base}manifest/?match[version]=all`)).json!.objects as { id: string; version: string }[];
    // An object without versions (an SCO) is versioned by its date_added, consistently.
    expect(all.find((x) => x.id === ip.id)!.version).toBe(dates[4]);
  });

  it('one object: its latest version by default, filtered by version; an unknown one is 404', async () => {
    const one = async (q: string): Promise<unknown> => (await alice(`${base}objects/${String(i1.id)}/${q}`)).json;
    expect(await one('')).toEqual({ more: false, objects: [i1c] });
    expect(await one('?match[version]=all&limit=2')).toMatchObject({ more: true, objects: [i1, i1b] });
    expect(await one('?match[version]=first')).toEqual({ more: false, objects: [i1] });
    expectTaxiiError(await alice(`${base}objects/${String(indicator().id)}/`), 404, 'not_found');
    expectTaxiiError(await alice(`${base}objects/not-an-id/`), 404, 'not_found');
    expectTaxiiError(await alice(`${base}objects/${String(i1.id)}/?match[version]=1999-01-01T00:00:00Z`), 404, 'not_found');
  });

  it('versions: every version of one object in date_added order, paged', async () => {
    const r = await alice(`${base}objects/${String(i1.id)}/versions/`);
    expect(r.json).toEqual({ more: false, versions: ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'] });
    expect(r.headers.get('x-taxii-date-added-first')).toBe(dates[0]);
    expect(r.headers.get('x-taxii-date-added-last')).toBe(dates[5]);
    expect(await walk(`${base}objects/${String(i1.id)}/versions/?limit=1`, 'versions')).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
    expect((await alice(`${base}objects/${String(i1.id)}/versions/?added_after=${dates[3]!}`)).json).toEqual({ more: false, versions: ['2026-01-03T00:00:00.000Z'] });
    expectTaxiiError(await alice(`${base}objects/${String(indicator().id)}/versions/`), 404, 'not_found');
  });
});

describe('DELETE one object (section 5.7)', () => {
  it('removes one version with match[version] (the previous one becomes the latest), or every version by default; then it is 404 and gone from the manifest', async () => {
    const base = await fresh('deletes');
    const o = indicator({ created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z' });
    const o2 = v(o, '2026-01-02T00:00:00.000Z');
    const o3 = v(o, '2026-01-03T00:00:00.000Z');
    const other = indicator();
    await post(base, [o, o2, o3, other]);
    const d1 = await alice(`${base}objects/${String(o.id)}/?match[version]=last`, { method: 'DELETE' });
    expect(d1.status).toBe(200);
    expect(d1.headers.get('content-type')).toBe(TAXII);
    expect((await alice(`${base}objects/${String(o.id)}/`)).json).toEqual({ more: false, objects: [o2] });
    await alice(`${base}objects/${String(o.id)}/?match[version]=first`, { method: 'DELETE' });
    expect((await alice(`${base}objects/${String(o.id)}/versions/`)).json).toEqual({ more: false, versions: ['2026-01-02T00:00:00.000Z'] });
    expect((await alice(`${base}objects/?match[version]=first`)).json!.objects).toEqual([o2, other]);
    expect((await alice(`${base}objects/${String(o.id)}/`, { method: 'DELETE' })).status).toBe(200);
    expectTaxiiError(await alice(`${base}objects/${String(o.id)}/`), 404, 'not_found');
    expectTaxiiError(await alice(`${base}objects/${String(o.id)}/`, { method: 'DELETE' }), 404, 'not_found');
    const man = (await alice(`${base}manifest/?match[version]=all`)).json!.objects as { id: string }[];
    expect(man.map((x) => x.id)).toEqual([other.id]);
  });
});
