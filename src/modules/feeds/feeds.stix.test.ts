/**
 * Feed records → STIX 2.1 bundles: every object valid for this node's validator and for the OASIS
 * schemas, the bundle self-contained and sendable, ids deterministic (SCO ids as STIX 2.1 section
 * 2.9 computes them), aggregation, the exact size estimate, the byte budget, and the reset.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oasisValidator } from '../../../test/helpers/oasis.js';
import { canonicalJson } from '../../shared/canonical.js';
import { HotlineError } from '../../shared/errors.js';
import { TLPS, type Tlp } from '../federation/federation.types.js';
import { tlpMarkingRef, tlpOf } from '../stix/stix.tlp.js';
import { validateBundle, validateObject } from '../stix/stix.validate.js';
import { checkedObjects } from '../taxii/taxii.indicators.js';
import { BundleBuilder, FIXED_TIME, producerId, type BundleOptions } from './feeds.stix.js';
import { addressUuid, HOTLINE_STIX_NAMESPACE, STIX_SCO_NAMESPACE, stixTime, UuidV5 } from './feeds.stixids.js';
import type { FeedRecord } from './feeds.types.js';

type Obj = Record<string, unknown>;

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);

function rec(over: Partial<FeedRecord> = {}): FeedRecord {
  return {
    line: 2, ip: '198.51.100.7', port: 443, timestamp: T0, type: 'infected-host', family: 'mirai', source: 'shadowserver-infected',
    asn: 64496, country: 'US', c2_ip: null, c2_port: null, protocol: null, hostname: null, ...over,
  };
}

function options(over: Partial<BundleOptions> = {}): BundleOptions {
  return { producer: { party: 'us', name: 'US National CERT' }, tlp: 'amber', source: 'shadowserver-infected', maxBytes: 10_000_000, ...over };
}

function builder(over: Partial<BundleOptions> = {}): BundleBuilder {
  return new BundleBuilder(options(over));
}

function bundleOf(records: readonly FeedRecord[], over: Partial<BundleOptions> = {}): { bundle: { id: string; objects: Obj[] }; text: string; objects: number } {
  const b = builder(over);
  for (const r of records) expect(b.add(r)).toBe(true);
  const built = b.build();
  return { bundle: JSON.parse(built.text) as { id: string; objects: Obj[] }, text: built.text, objects: built.objects };
}

/** UUIDv5 by the book: SHA-1 over namespace bytes + name bytes, version 5, variant 10xx. */
function uuidv5(namespace: string, name: string): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** A varied feed: v4 and v6, with and without port, all three types, many families (unicode, quotes), details present and absent, duplicates. */
function variedRecords(): FeedRecord[] {
  const families = ['mirai', 'emotet', 'qakbot', 'вирус', '蠕虫', 'bad"name\\x', 'tab\tfamily', 'émoji-😀', null];
  const out: FeedRecord[] = [];
  for (let i = 0; i < 120; i++) {
    const v6 = i % 5 === 0;
    out.push(rec({
      line: i + 2,
      ip: v6 ? `2001:db8::${(i + 1).toString(16)}` : `198.51.${i % 3}.${i + 1}`,
      port: i % 4 === 0 ? null : 1000 + i,
      timestamp: T0 + i * 1234,
      type: i % 3 === 0 ? 'c2-server' : i % 7 === 1 ? 'other' : 'infected-host',
      family: families[i % families.length]!,
      asn: i % 6 === 0 ? null : 64496 + i,
      country: i % 4 === 1 ? null : ['US', 'DE', 'RU'][i % 3]!,
      c2_ip: i % 2 === 0 ? '203.0.113.5' : null,
      c2_port: i % 4 === 0 ? 8080 : null,
      protocol: i % 3 === 1 ? 'tcp' : null,
      hostname: i % 5 === 2 ? `host-${i}.example.com` : i % 11 === 3 ? 'bücher.example' : null,
    }));
  }
  // duplicates of some of them, later and earlier
  for (let i = 0; i < 120; i += 7) out.push({ ...out[i]!, line: 500 + i, timestamp: out[i]!.timestamp + (i % 2 === 0 ? 60_000 : -60_000) });
  return out;
}

function refsOf(o: Obj): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (k.endsWith('_ref') && typeof v === 'string') out.push(v);
    if (k.endsWith('_refs') && Array.isArray(v)) out.push(...(v as string[]));
  }
  return out;
}

describe('BundleBuilder: what it emits', () => {
  const records = variedRecords();
  const { bundle, text, objects } = bundleOf(records);

  it('writes a bundle every object of which the node validator and the OASIS schemas accept', () => {
    const oasis = oasisValidator();
    expect(validateBundle(bundle).ok).toBe(true);
    expect(oasis.validate(bundle).errors).toEqual([]);
    expect(bundle.objects.length).toBe(objects);
    const types = new Set<string>();
    for (const o of bundle.objects) {
      types.add(o.type as string);
      const v = validateObject(o);
      expect(v.ok ? [] : v.problems, JSON.stringify(o)).toEqual([]);
      expect(oasis.validate(o).errors, JSON.stringify(o)).toEqual([]);
    }
    expect([...types].sort()).toEqual([
      'identity', 'indicator', 'infrastructure', 'ipv4-addr', 'ipv6-addr', 'malware', 'marking-definition', 'observed-data', 'relationship', 'sighting',
    ]);
    expect(text.startsWith('{"type":"bundle","id":"bundle--')).toBe(true);
  });

  it('is sendable as is: checkedObjects at the feed TLP takes every object', () => {
    expect(checkedObjects(bundle, 'amber')).toHaveLength(bundle.objects.length);
    expect(() => checkedObjects(bundle, 'green')).toThrow(HotlineError);
  });

  it('is self-contained: every reference points into the bundle, and ids are unique', () => {
    const ids = new Set(bundle.objects.map((o) => o.id as string));
    expect(ids.size).toBe(bundle.objects.length);
    for (const o of bundle.objects) for (const ref of refsOf(o)) expect(ids.has(ref), `${o.id as string} → ${ref}`).toBe(true);
  });

  it('marks everything with the feed TLP, the identity with TLP:CLEAR; SDOs and SROs are created by the producer', () => {
    const identity = producerId('us');
    for (const o of bundle.objects) {
      if (o.type === 'marking-definition') continue;
      expect(o.object_marking_refs).toEqual([o.type === 'identity' ? tlpMarkingRef('clear') : tlpMarkingRef('amber')]);
      if (o.type !== 'identity' && !(o.type as string).endsWith('-addr')) expect(o.created_by_ref).toBe(identity);
    }
    expect(bundle.objects.filter((o) => o.type === 'marking-definition').map((o) => o.id)).toEqual([tlpMarkingRef('clear'), tlpMarkingRef('amber')]);
    expect(bundle.objects.filter((o) => o.type === 'identity')).toEqual([{
      type: 'identity', spec_version: '2.1', id: identity, created: FIXED_TIME, modified: FIXED_TIME, name: 'US National CERT',
      identity_class: 'organization', object_marking_refs: [tlpMarkingRef('clear')],
    }]);
  });

  it('writes, per family, a malware, a botnet infrastructure and infrastructure uses malware; unicode names intact', () => {
    const malware = bundle.objects.filter((o) => o.type === 'malware');
    expect(malware.map((m) => m.name).sort()).toEqual(['bad"name\\x', 'emotet', 'mirai', 'qakbot', 'tab\tfamily', 'émoji-😀', 'вирус', '蠕虫'].sort());
    for (const m of malware) {
      expect(m).toMatchObject({ is_family: true, malware_types: ['bot'], created: FIXED_TIME, modified: FIXED_TIME });
      const infra = bundle.objects.find((o) => o.type === 'infrastructure' && o.name === `${m.name as string} botnet`);
      expect(infra).toMatchObject({ infrastructure_types: ['botnet'] });
      expect(bundle.objects.filter((o) => o.relationship_type === 'uses' && o.source_ref === infra?.id && o.target_ref === m.id)).toHaveLength(1);
    }
  });

  it('writes C2 servers as indicators with the right pattern, indicating the malware, and the botnet consisting of the address', () => {
    const { bundle: b } = bundleOf([
      rec({ type: 'c2-server', ip: '198.51.100.7', port: 443, protocol: 'tcp', family: 'mirai' }),
      rec({ type: 'c2-server', ip: '198.51.100.8', port: null }),
      rec({ type: 'c2-server', ip: '2001:db8::1', port: 8443, family: null }),
      rec({ type: 'c2-server', ip: '2001:db8::2', port: null }),
    ]);
    const indicators = b.objects.filter((o) => o.type === 'indicator');
    expect(indicators.map((o) => o.pattern)).toEqual([
      "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
      "[ipv4-addr:value = '198.51.100.8']",
      "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = '2001:db8::1' AND network-traffic:dst_port = 8443]",
      "[ipv6-addr:value = '2001:db8::2']",
    ]);
    const first = indicators[0]!;
    expect(first).toMatchObject({
      name: 'mirai C2 198.51.100.7 port 443', indicator_types: ['malicious-activity'], pattern_type: 'stix', pattern_version: '2.1',
      valid_from: stixTime(T0), created: stixTime(T0), modified: stixTime(T0),
      description: 'mirai C2 server 198.51.100.7 port 443 (AS64496, US), protocol tcp; reported by shadowserver-infected',
    });
    const malware = b.objects.find((o) => o.type === 'malware')!;
    const infra = b.objects.find((o) => o.type === 'infrastructure')!;
    const address = b.objects.find((o) => o.type === 'ipv4-addr' && o.value === '198.51.100.7')!;
    const withFamily = [0, 1, 3].map((i) => indicators[i]!.id);
    expect(b.objects.filter((o) => o.relationship_type === 'indicates').map((o) => [o.source_ref, o.target_ref])).toEqual(withFamily.map((id) => [id, malware.id]));
    expect(b.objects.filter((o) => o.relationship_type === 'consists-of').map((o) => [o.source_ref, o.target_ref])).toEqual([
      [infra.id, address.id], [infra.id, b.objects.find((o) => o.value === '198.51.100.8')!.id], [infra.id, b.objects.find((o) => o.value === '2001:db8::2')!.id],
    ]);
    // no family: the indicator alone
    expect(indicators[2]).toMatchObject({ name: 'C2 2001:db8::1 port 8443', description: 'C2 server 2001:db8::1 port 8443 (AS64496, US); reported by shadowserver-infected' });
  });

  it('writes infected hosts as observed-data and a sighting of the family; without a family, and for other records, observed-data only', () => {
    const { bundle: b } = bundleOf([
      rec({ ip: '198.51.100.7', port: 51234, c2_ip: '203.0.113.5', c2_port: 80, protocol: 'http', hostname: 'pc-1.example.com' }),
      rec({ ip: '198.51.100.9', family: null }),
      rec({ ip: '198.51.100.10', type: 'other', family: 'mirai' }),
    ]);
    const address = (ip: string): Obj => b.objects.find((o) => o.value === ip)!;
    const observed = b.objects.filter((o) => o.type === 'observed-data');
    expect(observed.map((o) => o.object_refs)).toEqual([[address('198.51.100.7').id], [address('198.51.100.9').id], [address('198.51.100.10').id]]);
    expect(observed[0]).toMatchObject({ first_observed: stixTime(T0), last_observed: stixTime(T0), number_observed: 1 });
    const sightings = b.objects.filter((o) => o.type === 'sighting');
    expect(sightings).toEqual([expect.objectContaining({
      sighting_of_ref: b.objects.find((o) => o.type === 'malware')!.id, observed_data_refs: [observed[0]!.id], where_sighted_refs: [producerId('us')],
      count: 1, first_seen: stixTime(T0), last_seen: stixTime(T0),
      description: 'Host 198.51.100.7 port 51234 (AS64496, US) infected with mirai, C2 203.0.113.5 port 80, protocol http, hostname pc-1.example.com; reported by shadowserver-infected',
    })]);
  });

  it('aggregates records with the same ip, port, type and family: count, first and last seen', () => {
    const b = builder();
    const base = rec({ port: 23 });
    for (const dt of [0, 5000, -3000, 2000]) b.add({ ...base, timestamp: T0 + dt });
    b.add({ ...base, port: 24 });
    b.add({ ...base, family: 'emotet' });
    b.add({ ...base, type: 'other' });
    expect([b.records, b.entries, b.ipCount()]).toEqual([7, 4, 1]);
    expect(b.families()).toEqual(['mirai', 'emotet']);
    const o = (JSON.parse(b.build().text) as { objects: Obj[] }).objects;
    const sighting = o.find((x) => x.type === 'sighting' && x.count === 4)!;
    expect(sighting).toMatchObject({ first_seen: stixTime(T0 - 3000), last_seen: stixTime(T0 + 5000), created: stixTime(T0 - 3000), modified: stixTime(T0 + 5000) });
    const observed = o.find((x) => x.id === (sighting.observed_data_refs as string[])[0])!;
    expect(observed).toMatchObject({ number_observed: 4, first_observed: stixTime(T0 - 3000), last_observed: stixTime(T0 + 5000) });
    expect(o.filter((x) => x.type === 'ipv4-addr')).toHaveLength(1);
    expect(o.filter((x) => x.type === 'observed-data')).toHaveLength(4);
  });

  it('refuses a timestamp that is no STIX timestamp, and an address that is not canonical', () => {
    const b = builder();
    for (const timestamp of [NaN, 253402300800000, -62167219200001, 1.5]) {
      expect(() => b.add(rec({ timestamp }))).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
    for (const ip of ['198.51.100.7"', '2001:DB8::1', 'fe80::1%eth0', '']) {
      expect(() => b.add(rec({ ip }))).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    }
    expect(b.isEmpty()).toBe(true);
    b.add(rec({ timestamp: -1 }));
    const o = (JSON.parse(b.build().text) as { objects: Obj[] }).objects.find((x) => x.type === 'observed-data')!;
    expect(o.first_observed).toBe('1969-12-31T23:59:59.999Z');
    expect(validateObject(o).ok).toBe(true);
  });
});

describe('BundleBuilder: ids', () => {
  it('gives addresses the STIX 2.1 deterministic ids (section 2.9 and published examples)', () => {
    expect(addressUuid('198.51.100.3')).toBe('28bb3599-77cd-5a82-a950-b5bc3caf07c4'); // the STIX 2.1 specification, section 2.9
    expect(addressUuid('1.2.3.4')).toBe('0198f97b-e65d-5025-87e5-58bc39d4bdb4'); // OpenCTI's ipv4-addr of 1.2.3.4
    expect(addressUuid('2001:db8::1')).toBe('6469e3a9-b053-5e34-a025-9396ae051d26');
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
      expect(addressUuid(ip)).toBe(uuidv5(STIX_SCO_NAMESPACE, canonicalJson({ value: ip })));
    }), { numRuns: 300 });
    const { bundle } = bundleOf([rec({ ip: '198.51.100.3' }), rec({ ip: '2001:db8::1' })]);
    expect(bundle.objects.filter((o) => (o.type as string).endsWith('-addr')).map((o) => o.id)).toEqual([
      'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4', 'ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26',
    ]);
  });

  it('computes UUIDv5 like the book, for any prefix and name (one block, several, non-ASCII)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 90 }), fc.string({ unit: 'grapheme', maxLength: 90 }), (prefix, name) => {
      expect(new UuidV5(HOTLINE_STIX_NAMESPACE, prefix).of(name)).toBe(uuidv5(HOTLINE_STIX_NAMESPACE, prefix + name));
    }), { numRuns: 500 });
  });

  it('names the identity and family objects by party (and TLP for the family objects)', () => {
    expect(producerId('us')).toBe(`identity--${uuidv5(HOTLINE_STIX_NAMESPACE, 'identity:us')}`);
    const { bundle } = bundleOf([rec()]);
    const byType = (t: string): Obj => bundle.objects.find((o) => o.type === t)!;
    expect(byType('malware').id).toBe(`malware--${uuidv5(HOTLINE_STIX_NAMESPACE, 'malware:us:amber:mirai')}`);
    expect(byType('infrastructure').id).toBe(`infrastructure--${uuidv5(HOTLINE_STIX_NAMESPACE, 'infrastructure:us:amber:mirai')}`);
  });

  it('makes the same objects from the same input in any builder; other TLPs and parties get other family ids, the same identity', () => {
    const records = variedRecords();
    const a = bundleOf(records);
    const b = bundleOf(records);
    expect(b.bundle.objects).toEqual(a.bundle.objects);
    expect(b.bundle.id).not.toBe(a.bundle.id);
    const green = bundleOf(records, { tlp: 'green' });
    const ids = (x: { objects: Obj[] }, t: string): unknown[] => x.objects.filter((o) => o.type === t).map((o) => o.id);
    expect(ids(green.bundle, 'identity')).toEqual(ids(a.bundle, 'identity'));
    expect(ids(green.bundle, 'ipv4-addr')).toEqual(ids(a.bundle, 'ipv4-addr'));
    for (const t of ['malware', 'infrastructure', 'sighting', 'indicator']) expect(ids(green.bundle, t).some((id) => ids(a.bundle, t).includes(id))).toBe(false);
    const ru = bundleOf(records, { producer: { party: 'ru', name: 'RU CERT' } });
    expect(ids(ru.bundle, 'identity')).toEqual([producerId('ru')]);
    expect(ids(ru.bundle, 'malware').some((id) => ids(a.bundle, 'malware').includes(id))).toBe(false);
  });

  it('names per-entry objects over the party, TLP, source and family, the kind, and type|ip|port|first seen', () => {
    const prefix = (family: string): string => createHash('sha256').update(['us', 'amber', 'shadowserver-infected', `f:${family}`].join('\u0000')).digest('hex').slice(0, 48);
    const name = (kind: string, type: string, ip: string, port: string): string => uuidv5(HOTLINE_STIX_NAMESPACE, `${prefix('mirai')}${kind}${type}${ip}|${port}|${T0}`);
    const long = '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff';
    const { bundle } = bundleOf([rec({ port: 51234 }), rec({ type: 'c2-server', ip: long, port: null })]);
    const ids = (t: string): unknown[] => bundle.objects.filter((o) => o.type === t).map((o) => o.id);
    expect(ids('observed-data')).toEqual([`observed-data--${name('O', 'i', '198.51.100.7', '51234')}`]);
    expect(ids('sighting')).toEqual([`sighting--${name('S', 'i', '198.51.100.7', '51234')}`]);
    expect(ids('indicator')).toEqual([`indicator--${name('I', 'c', long, '-')}`]);
    expect(ids('relationship')).toContain(`relationship--${name('N', 'c', long, '-')}`);
    expect(ids('relationship')).toContain(`relationship--${name('C', 'c', long, '-')}`);
  });

  it('gives every per-entry object its own id, depending on the first seen time', () => {
    const a = bundleOf([rec()]).bundle.objects;
    const b = bundleOf([rec({ timestamp: T0 + 1 })]).bundle.objects;
    const id = (x: Obj[], t: string): unknown => x.find((o) => o.type === t)!.id;
    expect(id(a, 'sighting')).not.toBe(id(b, 'sighting'));
    expect(id(a, 'observed-data')).not.toBe(id(b, 'observed-data'));
    expect(id(a, 'ipv4-addr')).toBe(id(b, 'ipv4-addr'));
  });
});

describe('BundleBuilder: sizes, budget and reset', () => {
  const families = fc.oneof(fc.constantFrom('mirai', 'emotet', null), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }));
  const record = fc.record({
    ip: fc.oneof(fc.ipV4(), fc.constantFrom('2001:db8::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:fffe', '::1')),
    port: fc.option(fc.integer({ min: 0, max: 65535 })),
    timestamp: fc.integer({ min: -62167219200000, max: 253402300799999 }),
    type: fc.constantFrom('infected-host' as const, 'c2-server' as const, 'other' as const),
    family: families,
    asn: fc.option(fc.integer({ min: 0, max: 4294967295 })),
    country: fc.option(fc.constantFrom('US', 'DE', 'ÄÖ')),
    c2_ip: fc.option(fc.ipV4()),
    c2_port: fc.option(fc.integer({ min: 0, max: 65535 })),
    protocol: fc.option(fc.constantFrom('tcp', 'http', 'ü"\\')),
    hostname: fc.option(fc.string({ unit: 'binary', maxLength: 30 })),
  }).map((r): FeedRecord => ({ line: 1, source: 'x', ...r }));

  it('knows the exact size of the bundle it will write', () => {
    fc.assert(fc.property(fc.array(record, { maxLength: 40 }), fc.nat(3), fc.constantFrom(...TLPS), (records, dupes, tlp) => {
      const b = builder({ tlp, source: 'feed "ü"', producer: { party: 'us', name: 'CERT ✓' } });
      for (const r of records) for (let k = 0; k <= dupes; k++) b.add({ ...r, timestamp: Math.max(-62167219200000, r.timestamp - k) });
      const estimate = b.bytes;
      const built = b.build();
      expect(built.bytes.length).toBe(estimate);
      expect(Buffer.byteLength(built.text)).toBe(estimate);
      expect(built.text).toBe(built.bytes.toString('utf8'));
      const parsed = JSON.parse(built.text) as { objects: Obj[] };
      expect(parsed.objects).toHaveLength(built.objects);
      for (const o of parsed.objects) expect(validateObject(o).ok, JSON.stringify(o)).toBe(true);
    }), { numRuns: 200 });
  });

  it('keeps every bundle within maxBytes, refusing the record that would not fit, and loses no record', () => {
    const b = builder({ maxBytes: 20_000 });
    const records = variedRecords();
    const bundles: { bytes: Buffer; records: number }[] = [];
    for (const r of records) {
      if (b.add(r)) continue;
      const built = b.build();
      bundles.push({ bytes: Buffer.from(built.bytes), records: built.records });
      expect(b.add(r)).toBe(true);
    }
    const last = b.build();
    bundles.push({ bytes: Buffer.from(last.bytes), records: last.records });
    expect(bundles.length).toBeGreaterThan(3);
    for (const x of bundles) expect(x.bytes.length).toBeLessThanOrEqual(20_000);
    expect(bundles.reduce((n, x) => n + x.records, 0)).toBe(records.length);
    // each bundle stands alone
    for (const x of bundles) {
      const parsed = JSON.parse(x.bytes.toString('utf8')) as { objects: Obj[] };
      expect(checkedObjects(parsed, 'amber')).toHaveLength(parsed.objects.length);
    }
    // an empty builder takes any record, however large
    const tiny = builder({ maxBytes: 10 });
    expect(tiny.add(rec())).toBe(true);
    expect(tiny.add(rec({ ip: '198.51.100.99' }))).toBe(false);
  });

  it('starts over after each build', () => {
    const b = builder();
    const empty = b.bytes;
    expect(b.isEmpty()).toBe(true);
    b.add(rec());
    b.add(rec({ type: 'c2-server', family: 'emotet', ip: '2001:db8::5' }));
    const first = b.build();
    const firstId = (JSON.parse(first.text) as { id: string }).id;
    expect([b.isEmpty(), b.records, b.entries, b.ipCount(), b.families(), b.bytes]).toEqual([true, 0, 0, 0, [], empty]);
    b.add(rec({ family: 'emotet' }));
    const second = b.build();
    const objects = (x: { text: string }): Obj[] => (JSON.parse(x.text) as { objects: Obj[] }).objects;
    expect(objects(second).map((o) => o.type)).toEqual(['identity', 'marking-definition', 'marking-definition', 'malware', 'infrastructure', 'relationship', 'ipv4-addr', 'observed-data', 'sighting']);
    expect(objects(second).filter((o) => o.type === 'malware').map((o) => o.name)).toEqual(['emotet']);
    expect(firstId).not.toBe((JSON.parse(second.text) as { id: string }).id);
    // the bytes are the builder's buffer: text decoded before the next build stays, an undecoded one is refused
    b.add(rec());
    const unread = b.build();
    const kept = Buffer.from(unread.bytes);
    b.add(rec({ ip: '198.51.100.200' }));
    b.build();
    expect(() => unread.text).toThrow(/after the next build/);
    expect(unread.bytes.equals(kept)).toBe(false);
    expect(first.text.length).toBeGreaterThan(0);
    const none = b.build();
    expect([none.objects, none.records]).toEqual([3, 0]);
    expect(validateBundle(JSON.parse(none.text)).ok).toBe(true);
  });

  it('marks at each TLP with that TLP only, and a TLP:CLEAR feed carries one marking definition', () => {
    for (const tlp of TLPS) {
      const { bundle } = bundleOf([rec(), rec({ type: 'c2-server', ip: '198.51.100.1' })], { tlp });
      const marked = checkedObjects(bundle, tlp).filter((o) => o.type !== 'marking-definition');
      expect(marked.map((o) => tlpOf(o)).filter((t) => t !== tlp && t !== 'clear')).toEqual([]);
      expect(bundle.objects.filter((o) => o.type === 'marking-definition')).toHaveLength(tlp === 'clear' ? 1 : 2);
      expect(bundle.objects.filter((o) => o.type === 'sighting').map((o) => o.object_marking_refs)).toEqual([[tlpMarkingRef(tlp as Tlp)]]);
    }
  });
});
