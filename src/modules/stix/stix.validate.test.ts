/**
 * The STIX 2.1 validator, object by object: valid objects of every type pass; each broken object
 * is refused with exactly the problems expected (path and message), all of them at once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stixId, stixSamples } from '../../../test/helpers/oasis.js';
import type { StixProblem } from './stix.types.js';
import { SCO_TYPES, SDO_TYPES, SRO_TYPES, META_TYPES } from './stix.types.js';
import { validateBundle, validateObject } from './stix.validate.js';

type Obj = Record<string, unknown>;

const TLP_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';

/** The sample of `type` (the n-th), with `changes` applied (undefined deletes). */
function sample(type: string, changes: Obj = {}, n = 1): Obj {
  const o = stixSamples().find((s) => s.id === stixId(type, type === 'identity' ? 99 : type === 'extension-definition' ? 7 : n));
  if (o === undefined) throw new Error(`no sample ${type} ${n}`);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete o[k];
    else o[k] = v;
  }
  return o;
}

function problems(value: unknown): StixProblem[] {
  const r = validateObject(value);
  return r.ok ? [] : r.problems;
}

const p = (path: string, message: string): StixProblem => ({ path, message });
const MISSING = 'required property is missing';
const TS = 'must be a timestamp: RFC 3339 in UTC with Z, on a real date (e.g. 2024-01-31T12:00:00Z)';
const TS_MS = 'must be a timestamp precise to the millisecond: RFC 3339 in UTC with Z and at least 3 fractional digits (e.g. 2024-01-31T12:00:00.000Z), on a real date';

describe('validateObject accepts', () => {
  it('a sample of every known type, and new types defined by an extension', () => {
    const samples = stixSamples();
    const types = new Set(samples.map((s) => s.type));
    for (const t of [...SDO_TYPES, ...SRO_TYPES, ...SCO_TYPES, ...META_TYPES]) expect(types).toContain(t);
    for (const s of samples) expect(problems(s), String(s.id)).toEqual([]);
  });

  it('and returns the object itself, typed', () => {
    const o = sample('indicator');
    expect(validateObject(o)).toEqual({ ok: true, object: o });
    expect((validateObject(o) as { object: unknown }).object).toBe(o);
  });

  it('SCOs without spec_version, custom properties, upper-case UUID hex, v1/v5 UUIDs and leap days', () => {
    expect(problems(sample('ipv4-addr', { spec_version: undefined, x_seen_by: 'sensor-1', x_count: 3, x_tags: ['a'], x_meta: { a: 1 } }))).toEqual([]);
    expect(problems(sample('indicator', { id: 'indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F' }))).toEqual([]);
    expect(problems(sample('file', { id: 'file--5e5bc2f0-7b7f-5e6a-9d0f-0b3a4b1c2d3e' }))).toEqual([]);
    expect(problems(sample('campaign', { id: 'campaign--1621d4d4-b67d-11e3-9670-f01faf20d111' }))).toEqual([]);
    expect(problems(sample('campaign', { first_seen: '2024-02-29T00:00:00Z', last_seen: '2024-02-29T00:00:00.5Z' }))).toEqual([]);
    expect(problems(sample('campaign', { created: '2016-12-31T23:59:60.000Z', modified: '2016-12-31T23:59:60.000001Z' }))).toEqual([]);
  });
});

/** [what, object, the problems expected, in order] */
const REFUSED: [string, unknown, StixProblem[]][] = [
  ['null', null, [p('', 'a STIX object must be a JSON object, not null')]],
  ['a list', [], [p('', 'a STIX object must be a JSON object, not a list')]],
  ['no type', sample('indicator', { type: undefined }), [p('type', MISSING)]],
  ['a type that is not a name', sample('indicator', { type: 'Indicator' }), [p('type', 'is not a STIX type name (3-250 characters: a-z, 0-9 and single hyphens, beginning with a letter)')]],
  ['an unknown type', { ...sample('indicator'), type: 'x-acme-thing', id: stixId('x-acme-thing') }, [p('type', "unknown STIX type 'x-acme-thing': this node takes the STIX 2.1 types, and new types only with an extension-definition (extension_type new-sdo, new-sco or new-sro)")]],
  ['an id of another type', sample('indicator', { id: stixId('malware') }), [p('id', "must begin with the object's type: 'indicator--', not 'malware--'")]],
  ['a UUIDv7 id', sample('indicator', { id: 'indicator--018f3a6e-5d2b-7c3e-9a1b-2c3d4e5f6a7b' }), [p('id', 'must be indicator--<UUID> with an RFC 4122 UUID (version 1-5, variant 10xx)')]],
  ['a UUID of the wrong variant', sample('indicator', { id: 'indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f' }), [p('id', 'must be indicator--<UUID> with an RFC 4122 UUID (version 1-5, variant 10xx)')]],
  ['no id', sample('file', { id: undefined }), [p('id', MISSING)]],
  ['STIX 2.0', sample('indicator', { spec_version: '2.0' }), [p('spec_version', 'this node stores STIX 2.1 only: the object says spec_version "2.0" (convert it to STIX 2.1)')]],
  ['an SCO of STIX 2.0', sample('url', { spec_version: '2.0' }), [p('spec_version', 'this node stores STIX 2.1 only: the object says spec_version "2.0" (convert it to STIX 2.1)')]],
  ['no spec_version on an SDO', sample('tool', { spec_version: undefined }), [p('spec_version', 'required property is missing (it must be "2.1")')]],
  ['spec_version 2.2', sample('note', { spec_version: '2.2' }), [p('spec_version', 'must be "2.1"')]],
  ['created without milliseconds', sample('tool', { created: '2024-03-01T10:00:00Z' }), [p('created', TS_MS)]],
  ['created on 29 February 2023', sample('tool', { created: '2023-02-29T10:00:00.000Z' }), [p('created', TS_MS)]],
  ['modified with an offset', sample('tool', { modified: '2024-03-02T10:00:00.000+00:00' }), [p('modified', TS_MS)]],
  ['modified before created', sample('tool', { modified: '2024-02-29T23:59:59.999Z' }), [p('modified', 'must be at or after created (2024-03-01T10:00:00.000Z)')]],
  ['no created', sample('tool', { created: undefined }), [p('created', MISSING)]],
  ['common properties of the wrong kinds', sample('identity', {
    confidence: 101, labels: ['ok', 3], revoked: 'no', lang: 'not a tag', created_by_ref: stixId('malware'), object_marking_refs: [stixId('identity')],
  }), [
    p('created_by_ref', 'must be the id of an identity (identity--<UUID>)'),
    p('confidence', 'must be an integer from 0 to 100'),
    p('labels[1]', 'must be a string, not a number'),
    p('revoked', 'must be a boolean, not a string'),
    p('lang', 'must be an RFC 5646 language tag (e.g. en, pt-BR)'),
    p('object_marking_refs[0]', 'must be the id of a marking-definition (marking-definition--<UUID>)'),
  ]],
  ['an empty list', sample('malware', { malware_types: [] }), [p('malware_types', 'must not be an empty list (STIX prohibits empty lists: omit the property instead)')]],
  ['external references', sample('tool', { external_references: [{ source_name: 'cve', external_id: 'CVE-12' }, { url: 'no scheme', hashes: { 'SHA-1': 'abc' } }, 'x'] }), [
    p('external_references[0].external_id', 'must be a CVE id (CVE-YYYY-NNNN) when source_name is cve'),
    p('external_references[1].source_name', MISSING),
    p('external_references[1].url', 'must be a URL (an absolute RFC 3986 URI)'),
    p('external_references[1].hashes.SHA-1', 'is not a valid SHA-1 hash (40 hex digits)'),
    p('external_references[2]', 'must be external references (objects), not a string'),
  ]],
  ['an external reference with a source only', sample('tool', { external_references: [{ source_name: 'vendor' }] }), [p('external_references[0]', 'an external reference needs a description, url or external_id besides its source_name')]],
  ['granular markings', sample('indicator', { granular_markings: [{ selectors: [], marking_ref: TLP_GREEN, lang: 'en' }, { selectors: ['Name'] }] }), [
    p('granular_markings[0].selectors', 'must not be an empty list (STIX prohibits empty lists: omit the property instead)'),
    p('granular_markings[0]', 'a granular marking must have exactly one of marking_ref and lang'),
    p('granular_markings[1].selectors[0]', 'must be a selector (a property path such as description or external_references.[0].url)'),
    p('granular_markings[1]', 'a granular marking must have exactly one of marking_ref and lang'),
  ]],
  ['extensions', sample('tool', { extensions: { 'foo': 1, [stixId('extension-definition', 3)]: {}, 'pdf-ext': {} } }), [
    p('extensions.foo', 'an extension must be keyed by an extension-definition id or a predefined extension name ending in -ext'),
    p('extensions.foo', 'an extension must be an object, not a number'),
    p(`extensions.${stixId('extension-definition', 3)}.extension_type`, MISSING),
    p('extensions.pdf-ext', 'an extension must not be empty'),
  ]],
  ['a predefined extension without its required properties', sample('file', { extensions: { 'archive-ext': { comment: 'zip' } } }), [p('extensions.archive-ext.contains_refs', MISSING)]],
  ['custom properties', sample('tool', {
    BadName: 1, ab: 1, x_list: [], x_null: null, x_thing_ref: 'nope', x_things_refs: [stixId('file'), 'a'], x_data_hex: 'abc', x_data_bin: '***', severity: 'high',
  }), [
    p('BadName', 'is not a valid property name (3-250 characters: a-z, 0-9 and _, beginning with a letter)'),
    p('ab', 'is not a valid property name (3-250 characters: a-z, 0-9 and _, beginning with a letter)'),
    p('x_list', 'must not be an empty list (STIX prohibits empty lists: omit the property instead)'),
    p('x_null', 'must not be null (STIX has no null values: omit the property instead)'),
    p('x_thing_ref', 'must be a STIX identifier (a property named *_ref holds an id)'),
    p('x_things_refs[1]', 'must be a STIX identifier'),
    p('x_data_hex', 'must be hex (a property named *_hex holds an even number of hex digits)'),
    p('x_data_bin', 'must be base64 (a property named *_bin holds binary data)'),
    p('severity', 'is a reserved property name in STIX 2.1 and must not be used'),
  ]],
  ['an indicator with a broken pattern', sample('indicator', { pattern: "[ipv4-addr:value = '198.51.100.3'" }), [p('pattern', "expected ']' to close the observation expression opened at offset 0 at offset 33, found the end of the pattern")]],
  ['an indicator valid until it starts', sample('indicator', { valid_until: '2024-03-01T10:00:00.000Z' }), [p('valid_until', 'must be later than valid_from (2024-03-01T10:00:00Z)')]],
  ['an indicator without pattern_type, and an empty snort rule', sample('indicator', { pattern_type: undefined, valid_from: 'yesterday' }), [p('valid_from', TS), p('pattern_type', MISSING)]],
  ['an empty non-STIX pattern', sample('indicator', { pattern: ' ' }, 2), [p('pattern', 'must not be empty')]],
  ['a malware family without a name', sample('malware', { name: undefined }), [p('name', 'required when is_family is true')]],
  ['a relationship to a marking definition', sample('relationship', { source_ref: TLP_GREEN, relationship_type: 'Indicates' }), [
    p('relationship_type', 'must be lower-case ASCII letters, digits and hyphens'),
    p('source_ref', 'must be the id of an SDO or SCO, not of a marking-definition'),
  ]],
  ['a sighting counted too high, seen last before first', sample('sighting', { count: 1e9, last_seen: '2024-03-01T09:00:00Z', where_sighted_refs: [stixId('malware')] }), [
    p('count', 'must be an integer from 0 to 999999999'),
    p('where_sighted_refs[0]', 'must be the id of an identity or a location (identity--<UUID>)'),
    p('last_seen', 'must be at or after first_seen (2024-03-01T10:00:00Z)'),
  ]],
  ['observed data with both objects and object_refs', sample('observed-data', { number_observed: 0, objects: { 0: { type: 'ipv4-addr', value: '10.0.0.1' } } }), [
    p('number_observed', 'must be an integer from 1 to 999999999'),
    p('', 'an observed-data needs exactly one of object_refs and (deprecated) objects'),
  ]],
  ['observed data pointing at an SDO', sample('observed-data', { object_refs: [stixId('indicator')] }), [p('object_refs[0]', 'must be the id of an SCO or SRO, not of an indicator')]],
  ['a location with a latitude only', sample('location', { latitude: 91 }, 1), [p('latitude', 'must be a number from -90 to 90'), p('longitude', 'required with latitude')]],
  ['a location with nothing', sample('location', { region: undefined, precision: 5 }, 1), [p('', 'a location needs region, country, or latitude and longitude'), p('precision', 'only allowed with latitude and longitude')]],
  ['a malware analysis without result', sample('malware-analysis', { result: undefined, sample_ref: stixId('url') }), [
    p('sample_ref', 'must be the id of a file or an artifact or a network-traffic (file--<UUID>)'),
    p('', 'a malware-analysis needs result or analysis_sco_refs'),
  ]],
  ['an opinion that is not on the scale', sample('opinion', { opinion: 'maybe' }), [p('opinion', 'must be one of strongly-disagree, disagree, neutral, agree, strongly-agree')]],
  ['a report without objects', sample('report', { object_refs: undefined }), [p('object_refs', MISSING)]],
  ['IPv4 addresses', sample('ipv4-addr', { value: '256.1.1.1' }), [p('value', 'must be an IPv4 address, optionally in CIDR notation (e.g. 198.51.100.0/24)')]],
  ['IPv4 CIDR /33', sample('ipv4-addr', { value: '10.0.0.0/33' }), [p('value', 'must be an IPv4 address, optionally in CIDR notation (e.g. 198.51.100.0/24)')]],
  ['IPv6 with two ::', sample('ipv6-addr', { value: '2001::db8::1' }), [p('value', 'must be an IPv6 address, optionally in CIDR notation (e.g. 2001:db8::/32)')]],
  ['IPv6 with a zone', sample('ipv6-addr', { value: 'fe80::1%eth0' }), [p('value', 'must be an IPv6 address, optionally in CIDR notation (e.g. 2001:db8::/32)')]],
  ['a domain name with a leading hyphen', sample('domain-name', { value: '-c2.example.com', resolves_to_refs: [stixId('url')] }), [
    p('value', 'must be a domain name (RFC 1034/5890)'),
    p('resolves_to_refs[0]', 'must be the id of an ipv4-addr or an ipv6-addr or a domain-name (ipv4-addr--<UUID>)'),
  ]],
  ['a URL without a scheme', sample('url', { value: 'c2.example.com/gate.php' }), [p('value', 'must be a URL (an absolute RFC 3986 URI)')]],
  ['an e-mail address without a domain', sample('email-addr', { value: 'alice@localhost' }), [p('value', 'must be one e-mail address (RFC 5322 addr-spec)')]],
  ['an upper-case MAC address', sample('mac-addr', { value: 'D2:FB:49:24:37:18' }), [p('value', 'must be a lower-case, colon-delimited MAC-48 address (e.g. d2:fb:49:24:37:18)')]],
  ['a file without hashes or name', sample('file', { name: undefined, hashes: undefined, size: -1 }), [p('size', 'must be an integer of at least 0'), p('', 'a file needs hashes or name')]],
  ['a file with a short MD5', sample('file', { hashes: { MD5: 'abc', TLSH: '' } }), [p('hashes.MD5', 'is not a valid MD5 hash (32 hex digits)'), p('hashes.TLSH', 'must be a non-empty string')]],
  ['members named like Object.prototype (custom hash names are fine)', sample('file', { hashes: { constructor: 'x', toString: 'y' }, extensions: { constructor: {}, 'toString-ext': { a: 1 } }, valueOf: 1 }), [
    p('extensions.constructor', 'an extension must be keyed by an extension-definition id or a predefined extension name ending in -ext'),
    p('extensions.constructor', 'an extension must not be empty'),
    p('extensions.toString-ext', 'an extension must be keyed by an extension-definition id or a predefined extension name ending in -ext'),
    p('valueOf', 'is not a valid property name (3-250 characters: a-z, 0-9 and _, beginning with a letter)'),
  ]],
  ['network traffic active with an end', sample('network-traffic', { is_active: true, end: '2024-03-01T09:00:00Z', dst_port: 70000 }), [
    p('dst_port', 'must be an integer from 0 to 65535'),
    p('end', 'must be at or after start (2024-03-01T10:00:00Z)'),
    p('end', 'not allowed when is_active is true'),
  ]],
  ['network traffic with no ends', sample('network-traffic', { src_ref: undefined, dst_ref: undefined, protocols: undefined }), [p('protocols', MISSING), p('', 'a network-traffic needs src_ref or dst_ref')]],
  ['a multipart e-mail with a body', sample('email-message', { body: 'x', body_multipart: [{ content_type: 'text/plain' }] }, 2), [
    p('body_multipart[0]', 'a MIME part needs exactly one of body and body_raw_ref'),
    p('body', 'not allowed when is_multipart is true (use body_multipart)'),
  ]],
  ['an artifact with payload and url', sample('artifact', { url: 'https://example.com/a.bin' }), [p('', 'an artifact needs exactly one of payload_bin and url'), p('hashes', 'required when url is present')]],
  ['a registry key abbreviated', sample('windows-registry-key', { key: 'HKLM\\Software\\Example' }), [p('key', 'must name the hive in full (HKEY_LOCAL_MACHINE, not HKLM)')]],
  ['an empty user account', sample('user-account', { user_id: undefined, account_login: undefined, is_privileged: undefined }), [p('', 'needs at least one of extensions, user_id, credential, account_login, account_type, display_name, is_service_account, is_privileged, can_escalate_privs, is_disabled, account_created, account_expires, credential_last_changed, account_first_login, account_last_login')]],
  ['a negative AS number', sample('autonomous-system', { number: -1 }), [p('number', 'must be an integer from 0 to 4294967295')]],
  ['a statement marking without a statement', sample('marking-definition', { definition: {} }), [p('definition.statement', MISSING)]],
  ['a marking without definition', sample('marking-definition', { definition: undefined, definition_type: undefined, created: '2024-03-01T10:00Z' }), [
    p('created', TS), p('definition_type', MISSING), p('definition', MISSING),
  ]],
  ['an extension definition without creator', sample('extension-definition', { created_by_ref: undefined, extension_properties: ['x_a'] }), [
    p('created_by_ref', MISSING),
    p('extension_properties', 'only allowed when extension_types includes toplevel-property-extension'),
  ]],
  ['a translation of a bundle', sample('language-content', { object_ref: stixId('bundle'), contents: { 'not a tag': 'x' } }), [
    p('object_ref', 'must be the id of the object translated, not of a bundle'),
    p('contents.not a tag', 'must be keyed by an RFC 5646 language tag'),
    p('contents.not a tag', 'must be an object of translated properties'),
  ]],
  ['a new SDO type without created', { ...stixSamples().find((s) => s.type === 'x-acme-widget'), created: undefined }, [p('created', MISSING)]],
];

describe('validateObject refuses', () => {
  it.each(REFUSED)('%s', (_what, value, expected) => {
    const r = validateObject(value);
    expect(r.ok).toBe(false);
    expect(problems(value)).toEqual(expected);
  });

  it('with the id and type when they can be read', () => {
    expect(validateObject(sample('tool', { name: 3 }))).toEqual({ ok: false, id: stixId('tool'), type: 'tool', problems: [p('name', 'must be a string, not a number')] });
    expect(validateObject({ type: 7, id: 7 })).toMatchObject({ ok: false, id: null, type: null });
  });
});

describe('validateObject (properties)', () => {
  const samples = stixSamples().filter((s) => !String(s.type).startsWith('x-'));
  const wrongKind = (v: unknown): unknown => (typeof v === 'string' ? 42 : typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v) || typeof v === 'object' ? 'x' : 1);

  it('never throws, whatever the JSON', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('type', 'id', 'spec_version', 'created', 'pattern', 'extensions', 'value'), fc.jsonValue())), (v) => {
      const r = validateObject(v);
      if (!r.ok) expect(r.problems.length).toBeGreaterThan(0);
    }), { numRuns: 3000 });
  });

  it('never throws on samples with hostile members anywhere (prototype names, odd nesting, null prototypes)', () => {
    const nasty = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'archive-ext', 'MD5', 'SHA-256',
      'selectors', 'marking_ref', 'lang', 'extension_type', 'source_name', 'external_id', 'definition', 'tlp', 'statement', 'type', 'id');
    const key = fc.oneof(nasty, fc.string({ maxLength: 10 }), fc.constantFrom(...new Set(stixSamples().flatMap((o) => Object.keys(o)))));
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
    }));
    const where = fc.constantFrom('top', 'extensions', 'hashes', 'external_references', 'granular_markings', 'definition', 'contents', 'objects');
    fc.assert(fc.property(fc.constantFrom(...stixSamples()), where, key, value, (s, at, k, v) => {
      const o = structuredClone(s);
      if (at === 'top') o[k] = v;
      else if (at === 'external_references' || at === 'granular_markings') o[at] = [v, { [k]: v }];
      else o[at] = { [k]: v };
      const r = validateObject(o);
      if (!r.ok) expect(r.problems.every((x) => typeof x.path === 'string' && typeof x.message === 'string')).toBe(true);
    }), { numRuns: 3000 });
  });

  it('refuses any sample with one defined property of the wrong kind, naming it', () => {
    const cases = samples.flatMap((s) => Object.keys(s).filter((k) => !k.startsWith('x_')).map((k) => [s, k] as const));
    fc.assert(fc.property(fc.constantFrom(...cases), ([s, k]) => {
      const broken = { ...structuredClone(s), [k]: wrongKind(s[k]) };
      const r = validateObject(broken);
      expect(r.ok).toBe(false);
      expect(problems(broken).some((x) => x.path === k || x.path.startsWith(`${k}.`) || x.path.startsWith(`${k}[`))).toBe(true);
    }), { numRuns: 1000 });
  });
});

describe('validateBundle', () => {
  const bundle = { type: 'bundle', id: stixId('bundle'), objects: [sample('indicator'), { anything: true }] };

  it('accepts a bundle and hands back its objects unvalidated', () => {
    expect(validateBundle(bundle)).toEqual({ ok: true, id: stixId('bundle'), objects: bundle.objects });
    expect(validateBundle({ type: 'bundle', id: stixId('bundle') })).toEqual({ ok: true, id: stixId('bundle'), objects: [] });
  });

  it('refuses what is not a STIX 2.1 bundle', () => {
    expect(validateBundle([])).toEqual({ ok: false, id: null, problems: [p('', 'a bundle must be a JSON object, not a list')] });
    expect(validateBundle({ type: 'Bundle', id: stixId('report'), objects: [] })).toEqual({ ok: false, id: null, problems: [
      p('type', 'must be "bundle"'),
      p('id', 'must be bundle--<UUID> with an RFC 4122 UUID'),
      p('objects', 'must not be an empty list (omit objects for an empty bundle)'),
    ] });
    expect(validateBundle({ id: stixId('bundle'), spec_version: '2.0', objects: {} })).toEqual({ ok: false, id: stixId('bundle'), problems: [
      p('type', 'required property is missing (it must be "bundle")'),
      p('spec_version', 'this node stores STIX 2.1 only: the bundle says spec_version "2.0" (convert it to STIX 2.1)'),
      p('objects', 'must be a list of STIX objects, not an object'),
    ] });
    expect(validateBundle({ type: 'bundle', spec_version: '2.1' })).toEqual({ ok: false, id: null, problems: [p('id', MISSING), p('spec_version', 'is not a property of a STIX 2.1 bundle')] });
  });
});
