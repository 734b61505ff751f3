/**
 * The OASIS STIX 2.1 JSON schemas (test/reference/stix2.1-json-schemas/) as an independent oracle.
 *
 *   const oasis = oasisValidator();            // loads and registers every schema once per process
 *   const { valid, errors } = oasis.validate(obj);
 *
 * The schema is picked by the object's `type`: sdos/<type>.json, sros/<type>.json,
 * observables/<type>.json, or common/<type>.json for marking-definition, language-content,
 * extension-definition and bundle. An object of a type the schemas do not define is checked
 * against common/core.json when it looks like an SDO/SRO (an extension with extension_type new-sdo
 * or new-sro, or else a `created` or `modified` property) and against
 * common/cyber-observable-core.json when it looks like an SCO (new-sco, or neither property);
 * a value that is not an object goes to core.json (and fails). `schemaFor` says which was used.
 * Each schema is compiled on first use and cached, so calling validate many times is cheap.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const SCHEMAS = join(dirname(fileURLToPath(import.meta.url)), '..', 'reference', 'stix2.1-json-schemas', 'schemas');
const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

/*
 * Formats the schemas use that ajv-formats does not define. idn-hostname: labels of Unicode
 * letters, digits and inner hyphens (1-63 characters), at most 253 in all; idn-email: a local part
 * without spaces or @, then such a hostname of at least two labels.
 */
const IDN_LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
const IDN_HOSTNAME = new RegExp(`^(?=.{1,253}$)${IDN_LABEL}(?:\\.${IDN_LABEL})*$`, 'u');
const IDN_EMAIL = new RegExp(`^[^\\s@]+@${IDN_LABEL}(?:\\.${IDN_LABEL})+$`, 'u');

/** The schemas' verdict on one value. */
export interface OasisResult {
  valid: boolean;
  /** `<instance path> <message>` for each error ajv reports (it stops at the first failing branch). */
  errors: string[];
}

/** The oracle: validate many values cheaply (one compiled validator per schema, cached). */
export interface OasisValidator {
  validate(obj: unknown): OasisResult;
  /** The schema file (relative to schemas/) `validate` uses for this value. */
  schemaFor(obj: unknown): string;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
  });
}

function byType(): Map<string, string> {
  const map = new Map<string, string>();
  for (const folder of ['sdos', 'sros', 'observables']) {
    for (const f of readdirSync(join(SCHEMAS, folder))) map.set(f.replace(/\.json$/, ''), `${folder}/${f}`);
  }
  for (const t of ['marking-definition', 'language-content', 'extension-definition', 'bundle']) map.set(t, `common/${t}.json`);
  return map;
}

function looksLikeSdo(o: Record<string, unknown>): boolean {
  const ext = o.extensions;
  if (typeof ext === 'object' && ext !== null) {
    for (const v of Object.values(ext)) {
      const t = typeof v === 'object' && v !== null ? (v as { extension_type?: unknown }).extension_type : undefined;
      if (t === 'new-sco') return false;
      if (t === 'new-sdo' || t === 'new-sro') return true;
    }
  }
  return o.created !== undefined || o.modified !== undefined;
}

let instance: OasisValidator | undefined;

/** The oracle, built once per process (schemas registered eagerly, compiled lazily and cached). */
export function oasisValidator(): OasisValidator {
  if (instance !== undefined) return instance;
  const ajv = new Ajv2020({ unicodeRegExp: false, strict: false, allErrors: false });
  addFormatsModule.default(ajv);
  ajv.addFormat('idn-hostname', IDN_HOSTNAME);
  ajv.addFormat('idn-email', IDN_EMAIL);
  for (const f of files(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(f, 'utf8')) as object);
  const types = byType();
  const compiled = new Map<string, ValidateFunction>();

  const schemaFor = (obj: unknown): string => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'common/core.json';
    const o = obj as Record<string, unknown>;
    const known = typeof o.type === 'string' ? types.get(o.type) : undefined;
    if (known !== undefined) return known;
    return looksLikeSdo(o) ? 'common/core.json' : 'common/cyber-observable-core.json';
  };

  instance = {
    schemaFor,
    validate(obj) {
      const file = schemaFor(obj);
      let fn = compiled.get(file);
      if (fn === undefined) {
        const got = ajv.getSchema(BASE + file);
        if (got === undefined) throw new Error(`OASIS schema ${file} is not loaded`);
        fn = got;
        compiled.set(file, fn);
      }
      if (fn(obj)) return { valid: true, errors: [] };
      return { valid: false, errors: (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`) };
    },
  };
  return instance;
}

/** `<type>--00000000-0000-4000-8000-<n as 12 hex digits>`: a valid (v4) STIX id, deterministic. */
export function stixId(type: string, n = 1): string {
  return `${type}--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

const CREATED = '2024-03-01T10:00:00.000Z';
const MODIFIED = '2024-03-02T10:00:00.000Z';
const IDENTITY = stixId('identity', 99);
const TLP_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
const NEW_TYPE_EXTENSION = stixId('extension-definition', 7);

function sdo(type: string, n: number, props: Record<string, unknown>): Record<string, unknown> {
  return { type, spec_version: '2.1', id: stixId(type, n), created: CREATED, modified: MODIFIED, created_by_ref: IDENTITY, ...props };
}

function sco(type: string, n: number, props: Record<string, unknown>): Record<string, unknown> {
  return { type, spec_version: '2.1', id: stixId(type, n), ...props };
}

/**
 * Valid STIX 2.1 objects, at least one of every type the node knows (SDOs, SROs, SCOs, meta
 * objects) plus a new SDO and a new SCO defined by an extension; each is accepted by the OASIS
 * schemas and by validateObject. Fresh copies on every call: mutate them freely.
 */
export function stixSamples(): Record<string, unknown>[] {
  return [
    sdo('attack-pattern', 1, { name: 'Spear phishing', kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'initial-access' }], external_references: [{ source_name: 'capec', external_id: 'CAPEC-163' }] }),
    sdo('campaign', 1, { name: 'Operation Example', first_seen: '2023-01-01T00:00:00Z', last_seen: '2023-06-01T00:00:00Z', objective: 'espionage' }),
    sdo('course-of-action', 1, { name: 'Block the C2 address', description: 'Add a firewall rule.' }),
    sdo('grouping', 1, { name: 'Suspicious activity', context: 'suspicious-activity', object_refs: [stixId('indicator', 1), stixId('ipv4-addr', 1)] }),
    sdo('identity', 99, { name: 'National CERT', identity_class: 'organization', sectors: ['government-national'] }),
    sdo('incident', 1, { name: 'Ransomware at a hospital' }),
    sdo('indicator', 1, {
      name: 'C2 address', indicator_types: ['malicious-activity'], pattern: "[ipv4-addr:value = '198.51.100.3'] OR [domain-name:value = 'c2.example.com']",
      pattern_type: 'stix', valid_from: '2024-03-01T10:00:00Z', valid_until: '2024-06-01T10:00:00Z', confidence: 80, labels: ['c2'],
      object_marking_refs: [TLP_GREEN], kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }],
      granular_markings: [{ selectors: ['name', 'external_references.[0].url'], marking_ref: TLP_GREEN }],
      external_references: [{ source_name: 'example-feed', url: 'https://feed.example.com/items/1', external_id: 'item-1' }],
    }),
    sdo('indicator', 2, { pattern: 'alert tcp any any -> any 443 (msg:"x"; sid:1;)', pattern_type: 'snort', valid_from: '2024-03-01T10:00:00.000Z' }),
    sdo('infrastructure', 1, { name: 'C2 server', infrastructure_types: ['command-and-control'], first_seen: '2024-01-01T00:00:00Z' }),
    sdo('intrusion-set', 1, { name: 'Example Group', aliases: ['EG'], primary_motivation: 'organizational-gain' }),
    sdo('location', 1, { region: 'europe' }),
    sdo('location', 2, { name: 'Data centre', latitude: 48.8566, longitude: 2.3522, precision: 100, country: 'FR' }),
    sdo('malware', 1, { name: 'ExampleRAT', is_family: true, malware_types: ['remote-access-trojan'], sample_refs: [stixId('file', 1)] }),
    sdo('malware', 2, { is_family: false, operating_system_refs: [stixId('software', 1)] }),
    sdo('malware-analysis', 1, { product: 'sandbox', result: 'malicious', sample_ref: stixId('file', 1), analysis_started: '2024-03-01T10:00:00Z' }),
    sdo('note', 1, { abstract: 'Triage', content: 'Seen at two sites.', authors: ['analyst'], object_refs: [stixId('indicator', 1)] }),
    sdo('observed-data', 1, { first_observed: '2024-03-01T10:00:00Z', last_observed: '2024-03-01T11:00:00Z', number_observed: 3, object_refs: [stixId('ipv4-addr', 1)] }),
    sdo('opinion', 1, { opinion: 'agree', explanation: 'Confirmed.', object_refs: [stixId('indicator', 1)] }),
    sdo('report', 1, { name: 'Weekly report', published: '2024-03-03T00:00:00Z', report_types: ['threat-report'], object_refs: [stixId('indicator', 1)] }),
    sdo('threat-actor', 1, { name: 'Example Actor', threat_actor_types: ['crime-syndicate'], sophistication: 'advanced' }),
    sdo('tool', 1, { name: 'nmap', tool_types: ['network-capture'] }),
    sdo('vulnerability', 1, { name: 'CVE-2021-44228', external_references: [{ source_name: 'cve', external_id: 'CVE-2021-44228' }] }),
    sdo('relationship', 1, { relationship_type: 'indicates', source_ref: stixId('indicator', 1), target_ref: stixId('malware', 1), start_time: '2024-03-01T00:00:00Z', stop_time: '2024-04-01T00:00:00Z' }),
    sdo('sighting', 1, {
      sighting_of_ref: stixId('indicator', 1), count: 2, first_seen: '2024-03-01T10:00:00Z', last_seen: '2024-03-01T12:00:00Z',
      where_sighted_refs: [IDENTITY], observed_data_refs: [stixId('observed-data', 1)], summary: false,
    }),
    sco('artifact', 1, { mime_type: 'text/plain', payload_bin: 'aGVsbG8gd29ybGQ=' }),
    sco('autonomous-system', 1, { number: 64496, name: 'Example AS', rir: 'RIPE NCC' }),
    sco('directory', 1, { path: 'C:\\Windows\\System32', contains_refs: [stixId('file', 1)] }),
    sco('domain-name', 1, { value: 'c2.example.com', resolves_to_refs: [stixId('ipv4-addr', 1)] }),
    sco('email-addr', 1, { value: 'alice@example.com', display_name: 'Alice' }),
    sco('email-message', 1, { is_multipart: false, date: '2024-03-01T10:00:00Z', from_ref: stixId('email-addr', 1), to_refs: [stixId('email-addr', 2)], subject: 'Invoice', body: 'Please see attached.' }),
    sco('email-message', 2, { is_multipart: true, body_multipart: [{ content_type: 'text/plain', body: 'hello' }, { body_raw_ref: stixId('artifact', 1) }] }),
    sco('file', 1, { name: 'invoice.exe', size: 1024, hashes: { 'MD5': 'cead3f77f6cda6ec00f57d76c9a6879f', 'SHA-256': 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' }, parent_directory_ref: stixId('directory', 1) }),
    sco('ipv4-addr', 1, { value: '198.51.100.3', resolves_to_refs: [stixId('mac-addr', 1)], belongs_to_refs: [stixId('autonomous-system', 1)] }),
    sco('ipv4-addr', 2, { value: '203.0.113.0/24' }),
    sco('ipv6-addr', 1, { value: '2001:db8::1' }),
    sco('ipv6-addr', 2, { value: '2001:db8:85a3::/48' }),
    sco('mac-addr', 1, { value: 'd2:fb:49:24:37:18' }),
    sco('mutex', 1, { name: '__CLEANSWEEP__' }),
    sco('network-traffic', 1, { src_ref: stixId('ipv4-addr', 1), dst_ref: stixId('ipv4-addr', 2), dst_port: 443, protocols: ['ipv4', 'tcp'], start: '2024-03-01T10:00:00Z', end: '2024-03-01T10:05:00Z', is_active: false }),
    sco('process', 1, { pid: 1234, command_line: 'cmd.exe /c whoami', image_ref: stixId('file', 1) }),
    sco('software', 1, { name: 'Windows', vendor: 'Microsoft', version: '10' }),
    sco('url', 1, { value: 'https://c2.example.com/gate.php?id=1' }),
    sco('user-account', 1, { user_id: '1001', account_login: 'alice', is_privileged: false }),
    sco('windows-registry-key', 1, { key: 'HKEY_LOCAL_MACHINE\\Software\\Example', values: [{ name: 'Run', data: 'evil.exe', data_type: 'REG_SZ' }] }),
    sco('x509-certificate', 1, { issuer: 'CN=Example CA', serial_number: '4c:0b:1d:19', validity_not_before: '2024-01-01T00:00:00Z', validity_not_after: '2025-01-01T00:00:00Z' }),
    { type: 'marking-definition', spec_version: '2.1', id: stixId('marking-definition', 1), created: CREATED, definition_type: 'statement', definition: { statement: 'Copyright 2024 National CERT' } },
    sdo('language-content', 1, { object_ref: stixId('campaign', 1), object_modified: MODIFIED, contents: { de: { name: 'Operation Beispiel' } } }),
    sdo('extension-definition', 7, { name: 'Acme widgets', schema: 'https://example.com/acme-widget.json', version: '1.0', extension_types: ['new-sdo', 'new-sco'] }),
    sdo('x-acme-widget', 1, { name: 'widget', x_acme_colour: 'blue', extensions: { [NEW_TYPE_EXTENSION]: { extension_type: 'new-sdo' } } }),
    sco('x-acme-token', 1, { value: 'tok-1', extensions: { [NEW_TYPE_EXTENSION]: { extension_type: 'new-sco' } } }),
  ];
}
