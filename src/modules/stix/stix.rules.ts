/**
 * What each STIX 2.1 object type requires and allows: required properties, the checks of the
 * properties the specification defines (common and type-specific), and the rules that relate
 * properties to each other (sections 3-7). Built once at module load; looked up by type.
 */
import { canonicalTlpMarking, sameJson, TLP2_EXTENSION_ID } from './stix.tlp.js';
import { checkPattern } from './stix.pattern.js';
import type { StixCategory } from './stix.types.js';
import { EXTENSION_TYPES, META_TYPES, SDO_TYPES } from './stix.types.js';
import {
  BINARY, BOOLEAN, check, DICTIONARY, EXTENSIONS, EXTERNAL_REFERENCES, GRANULAR_MARKINGS, HASHES, HEX, integer,
  isRecord, KILL_CHAIN_PHASES, kindOf, LANGUAGE, list, matching, members, number, objects, oneOf, ref, refExcept,
  report, STRING, TIMESTAMP, TIMESTAMP_MILLIS, URL, type Check, type Ctx,
} from './stix.checks.js';
import { compareTimestamps, isDomainName, isEmailAddress, isIpv4, isIpv6, isLanguageTag, isMacAddress } from './stix.values.js';

/** How one object type is validated. */
export interface TypeRule {
  readonly category: StixCategory;
  readonly required: readonly string[];
  readonly props: ReadonlyMap<string, Check>;
  /** Cross-property rules, run after the properties are checked one by one. */
  readonly check: (o: Record<string, unknown>, c: Ctx) => void;
}

type Obj = Record<string, unknown>;

const S = check(STRING);
const B = check(BOOLEAN);
const T = check(TIMESTAMP);
const STRINGS = list(STRING, 'strings');
const INT = check(integer());
const NON_NEGATIVE = check(integer(0));
const r = (...types: string[]): Check => check(ref(types.length === 0 ? undefined : types));
const refs = (...types: string[]): Check => list(ref(types.length === 0 ? undefined : types), types.length === 0 ? 'STIX identifiers' : `${types.join(' or ')} ids`);
const value = (test: (s: string) => boolean, what: string): Check =>
  check((v) => (typeof v === 'string' && test(v) ? null : `must be ${what}`));

/** Objects a relationship or sighting may not point at: SROs, meta objects, bundles. */
const NOT_SRO_OR_META = ['relationship', 'sighting', 'bundle', ...META_TYPES];

const SDO_COMMON: Readonly<Record<string, Check>> = {
  created: check(TIMESTAMP_MILLIS),
  modified: check(TIMESTAMP_MILLIS),
  created_by_ref: r('identity'),
  revoked: B,
  labels: STRINGS,
  confidence: check(integer(0, 100)),
  lang: check(LANGUAGE),
  external_references: EXTERNAL_REFERENCES,
  object_marking_refs: refs('marking-definition'),
  granular_markings: GRANULAR_MARKINGS,
  extensions: EXTENSIONS,
};

const SCO_COMMON: Readonly<Record<string, Check>> = {
  object_marking_refs: refs('marking-definition'),
  granular_markings: GRANULAR_MARKINGS,
  extensions: EXTENSIONS,
  defanged: B,
};

const MARKING_COMMON: Readonly<Record<string, Check>> = {
  created: T,
  created_by_ref: r('identity'),
  external_references: EXTERNAL_REFERENCES,
  object_marking_refs: refs('marking-definition'),
  granular_markings: GRANULAR_MARKINGS,
  extensions: EXTENSIONS,
  name: S,
  definition_type: S,
  definition: check((v) => (isRecord(v) ? null : `must be an object, not ${kindOf(v)}`)),
};

/**
 * `later` must not be before `earlier` (or must be after it, when `strict`). Runs after the
 * property checks, so a timestamp without a problem reported at its path is valid.
 */
function order(o: Obj, c: Ctx, earlier: string, later: string, strict = false): void {
  const a = o[earlier];
  const b = o[later];
  if (typeof a !== 'string' || typeof b !== 'string') return;
  if (c.problems.length > 0 && c.problems.some((p) => p.path === earlier || p.path === later)) return;
  const cmp = compareTimestamps(b, a);
  if (strict ? cmp <= 0 : cmp < 0) report(c, later, `must be ${strict ? 'later than' : 'at or after'} ${earlier} (${a})`);
}

function missing(c: Ctx, path: string): void {
  report(c, path, 'required property is missing');
}

/** At least one of the type's own properties must be present (the schemas' anyOf for all-optional SCOs). */
function atLeastOne(names: readonly string[]): (o: Obj, c: Ctx) => void {
  return (o, c) => {
    if (!names.some((n) => o[n] !== undefined)) report(c, '', `needs at least one of ${names.join(', ')}`);
  };
}

const RULES = new Map<string, TypeRule>();

function commonFor(category: StixCategory): Readonly<Record<string, Check>> {
  if (category === 'sco') return SCO_COMMON;
  if (category === 'marking-definition') return MARKING_COMMON;
  return SDO_COMMON;
}

function rule(category: StixCategory, required: readonly string[], own: Readonly<Record<string, Check>>, extra?: (o: Obj, c: Ctx) => void): TypeRule {
  const common = commonFor(category);
  const props = new Map(Object.entries({ ...common, ...own }));
  const base = category === 'sco' ? [] : category === 'marking-definition' ? ['created'] : ['created', 'modified'];
  const sdoLike = category !== 'sco' && category !== 'marking-definition';
  return {
    category,
    required: [...base, ...required],
    props,
    check: (o, c) => {
      if (sdoLike) order(o, c, 'created', 'modified');
      extra?.(o, c);
    },
  };
}

function define(type: string, category: StixCategory, required: readonly string[], own: Readonly<Record<string, Check>>, extra?: (o: Obj, c: Ctx) => void): void {
  RULES.set(type, rule(category, required, own, extra));
}

const seen = (o: Obj, c: Ctx): void => order(o, c, 'first_seen', 'last_seen');

// ---- SDOs (section 4) ----

define('attack-pattern', 'sdo', ['name'], { name: S, description: S, aliases: STRINGS, kill_chain_phases: KILL_CHAIN_PHASES });
define('campaign', 'sdo', ['name'], { name: S, description: S, aliases: STRINGS, first_seen: T, last_seen: T, objective: S }, seen);
define('course-of-action', 'sdo', ['name'], { name: S, description: S });
define('grouping', 'sdo', ['context', 'object_refs'], { name: S, description: S, context: S, object_refs: refs() });
define('identity', 'sdo', ['name'], { name: S, description: S, roles: STRINGS, identity_class: S, sectors: STRINGS, contact_information: S });
define('incident', 'sdo', ['name'], { name: S, description: S, kill_chain_phases: KILL_CHAIN_PHASES });
define('indicator', 'sdo', ['pattern', 'pattern_type', 'valid_from'], {
  name: S, description: S, indicator_types: STRINGS, pattern: S, pattern_type: S, pattern_version: S,
  valid_from: T, valid_until: T, kill_chain_phases: KILL_CHAIN_PHASES,
}, (o, c) => {
  order(o, c, 'valid_from', 'valid_until', true);
  const pattern = o.pattern;
  if (typeof pattern !== 'string') return;
  if (o.pattern_type === 'stix') {
    const p = checkPattern(pattern);
    if (p !== null) report(c, p.path, p.message);
  } else if (pattern.trim() === '') report(c, 'pattern', 'must not be empty');
});
define('infrastructure', 'sdo', ['name'], {
  name: S, description: S, infrastructure_types: STRINGS, aliases: STRINGS, kill_chain_phases: KILL_CHAIN_PHASES, first_seen: T, last_seen: T,
}, seen);
define('intrusion-set', 'sdo', ['name'], {
  name: S, description: S, aliases: STRINGS, first_seen: T, last_seen: T, goals: STRINGS, resource_level: S,
  primary_motivation: S, secondary_motivations: STRINGS,
}, seen);
define('location', 'sdo', [], {
  name: S, description: S, latitude: check(number(-90, 90)), longitude: check(number(-180, 180)), precision: check(number()),
  region: S, country: S, administrative_area: S, city: S, street_address: S, postal_code: S,
}, (o, c) => {
  const lat = o.latitude !== undefined;
  const long = o.longitude !== undefined;
  if (o.region === undefined && o.country === undefined && !(lat && long)) report(c, '', 'a location needs region, country, or latitude and longitude');
  if (lat !== long) report(c, lat ? 'longitude' : 'latitude', 'required with ' + (lat ? 'latitude' : 'longitude'));
  if (o.precision !== undefined && !(lat && long)) report(c, 'precision', 'only allowed with latitude and longitude');
});
define('malware', 'sdo', ['is_family'], {
  name: S, description: S, malware_types: STRINGS, is_family: B, aliases: STRINGS, kill_chain_phases: KILL_CHAIN_PHASES,
  first_seen: T, last_seen: T, operating_system_refs: refs('software'), architecture_execution_envs: STRINGS,
  implementation_languages: STRINGS, capabilities: STRINGS, sample_refs: refs('file', 'artifact'),
}, (o, c) => {
  if (o.is_family === true && o.name === undefined) report(c, 'name', 'required when is_family is true');
  seen(o, c);
});
define('malware-analysis', 'sdo', ['product'], {
  product: S, version: S, host_vm_ref: r('software'), operating_system_ref: r('software'), installed_software_refs: refs('software'),
  configuration_version: S, modules: STRINGS, analysis_engine_version: S, analysis_definition_version: S, submitted: T,
  analysis_started: T, analysis_ended: T, result_name: S, result: S, analysis_sco_refs: refs(),
  sample_ref: r('file', 'artifact', 'network-traffic'),
}, (o, c) => {
  if (o.result === undefined && o.analysis_sco_refs === undefined) report(c, '', 'a malware-analysis needs result or analysis_sco_refs');
});
define('note', 'sdo', ['content', 'object_refs'], { abstract: S, content: S, authors: STRINGS, object_refs: refs() });
define('observed-data', 'sdo', ['first_observed', 'last_observed', 'number_observed'], {
  first_observed: T, last_observed: T, number_observed: check(integer(1, 999999999)),
  object_refs: list(refExcept([...SDO_TYPES, ...META_TYPES, 'bundle'], 'an SCO or SRO'), 'SCO and SRO ids'),
  objects: (v, path, c) => {
    if (!isRecord(v) || Object.keys(v).length === 0) return report(c, path, 'must be a non-empty dictionary of cyber-observable objects');
    for (const k in v) {
      const sco = v[k];
      if (!isRecord(sco) || typeof sco.type !== 'string') report(c, `${path}.${k}`, 'must be a cyber-observable object with a type');
    }
  },
}, (o, c) => {
  order(o, c, 'first_observed', 'last_observed');
  if ((o.object_refs === undefined) === (o.objects === undefined)) report(c, '', 'an observed-data needs exactly one of object_refs and (deprecated) objects');
});
define('opinion', 'sdo', ['opinion', 'object_refs'], {
  explanation: S, authors: STRINGS, opinion: check(oneOf(['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'])), object_refs: refs(),
});
define('report', 'sdo', ['name', 'published', 'object_refs'], { name: S, description: S, report_types: STRINGS, published: T, object_refs: refs() });
define('threat-actor', 'sdo', ['name'], {
  name: S, description: S, threat_actor_types: STRINGS, aliases: STRINGS, first_seen: T, last_seen: T, roles: STRINGS,
  goals: STRINGS, sophistication: S, resource_level: S, primary_motivation: S, secondary_motivations: STRINGS,
  personal_motivations: STRINGS,
}, seen);
define('tool', 'sdo', ['name'], { name: S, description: S, tool_types: STRINGS, aliases: STRINGS, kill_chain_phases: KILL_CHAIN_PHASES, tool_version: S });
define('vulnerability', 'sdo', ['name'], { name: S, description: S });

// ---- SROs (section 5) ----

const NOT_SRO = refExcept(NOT_SRO_OR_META, 'an SDO or SCO');
define('relationship', 'sro', ['relationship_type', 'source_ref', 'target_ref'], {
  relationship_type: check(matching(/^[a-z0-9-]+$/, 'lower-case ASCII letters, digits and hyphens')), description: S,
  source_ref: check(NOT_SRO), target_ref: check(NOT_SRO), start_time: T, stop_time: T,
}, (o, c) => order(o, c, 'start_time', 'stop_time', true));
define('sighting', 'sro', ['sighting_of_ref'], {
  description: S, first_seen: T, last_seen: T, count: check(integer(0, 999999999)), sighting_of_ref: check(NOT_SRO),
  observed_data_refs: refs('observed-data'), where_sighted_refs: refs('identity', 'location'), summary: B,
}, seen);

// ---- SCOs (section 6) ----

const IP_RESOLVES = refs('mac-addr');
const IP_BELONGS = refs('autonomous-system');
const ADDRESS_REF = r('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name');
const MIME = /^(?:application|audio|font|image|message|model|multipart|text|video)\/[a-zA-Z0-9.+_-]+/;

define('artifact', 'sco', [], {
  mime_type: check(matching(MIME, 'an IANA media type (type/subtype)')), payload_bin: check(BINARY), url: check(URL), hashes: HASHES,
  encryption_algorithm: check(oneOf(['AES-256-GCM', 'ChaCha20-Poly1305', 'mime-type-indicated'])), decryption_key: S,
}, (o, c) => {
  if ((o.payload_bin === undefined) === (o.url === undefined)) report(c, '', 'an artifact needs exactly one of payload_bin and url');
  if (o.url !== undefined && o.hashes === undefined) report(c, 'hashes', 'required when url is present');
  if (o.decryption_key !== undefined && o.encryption_algorithm === undefined) report(c, 'encryption_algorithm', 'required when decryption_key is present');
});
define('autonomous-system', 'sco', ['number'], { number: check(integer(0, 4294967295)), name: S, rir: S });
define('directory', 'sco', ['path'], { path: S, path_enc: S, ctime: T, mtime: T, atime: T, contains_refs: refs('file', 'directory') });
define('domain-name', 'sco', ['value'], { value: value(isDomainName, 'a domain name (RFC 1034/5890)'), resolves_to_refs: refs('ipv4-addr', 'ipv6-addr', 'domain-name') });
define('email-addr', 'sco', ['value'], { value: value(isEmailAddress, 'one e-mail address (RFC 5322 addr-spec)'), display_name: S, belongs_to_ref: r('user-account') });

const MIME_PART = (o: Obj, path: string, c: Ctx): void => {
  members(o, path, c, { body: STRING, body_raw_ref: ref(['artifact', 'file']), content_type: STRING, content_disposition: STRING });
  if ((o.body === undefined) === (o.body_raw_ref === undefined)) report(c, path, 'a MIME part needs exactly one of body and body_raw_ref');
};
define('email-message', 'sco', ['is_multipart'], {
  is_multipart: B, date: T, content_type: S, from_ref: r('email-addr'), sender_ref: r('email-addr'), to_refs: refs('email-addr'),
  cc_refs: refs('email-addr'), bcc_refs: refs('email-addr'), message_id: S, subject: S, received_lines: STRINGS,
  additional_header_fields: DICTIONARY, body: S, body_multipart: objects(MIME_PART, 'MIME parts (objects)'), raw_email_ref: r('artifact'),
}, (o, c) => {
  if (o.is_multipart === true && o.body !== undefined) report(c, 'body', 'not allowed when is_multipart is true (use body_multipart)');
  if (o.is_multipart === false && o.body_multipart !== undefined) report(c, 'body_multipart', 'not allowed when is_multipart is false (use body)');
});
define('file', 'sco', [], {
  hashes: HASHES, size: NON_NEGATIVE, name: S, name_enc: S, magic_number_hex: check(HEX), mime_type: S, ctime: T, mtime: T, atime: T,
  parent_directory_ref: r('directory'), contains_refs: refs(), content_ref: r('artifact'),
}, (o, c) => {
  if (o.hashes === undefined && o.name === undefined) report(c, '', 'a file needs hashes or name');
});
define('ipv4-addr', 'sco', ['value'], { value: value((s) => isIpv4(s), 'an IPv4 address, optionally in CIDR notation (e.g. 198.51.100.0/24)'), resolves_to_refs: IP_RESOLVES, belongs_to_refs: IP_BELONGS });
define('ipv6-addr', 'sco', ['value'], { value: value((s) => isIpv6(s), 'an IPv6 address, optionally in CIDR notation (e.g. 2001:db8::/32)'), resolves_to_refs: IP_RESOLVES, belongs_to_refs: IP_BELONGS });
define('mac-addr', 'sco', ['value'], { value: value(isMacAddress, 'a lower-case, colon-delimited MAC-48 address (e.g. d2:fb:49:24:37:18)') });
define('mutex', 'sco', ['name'], { name: S });
define('network-traffic', 'sco', ['protocols'], {
  start: T, end: T, is_active: B, src_ref: ADDRESS_REF, dst_ref: ADDRESS_REF, src_port: check(integer(0, 65535)), dst_port: check(integer(0, 65535)),
  protocols: STRINGS, src_byte_count: NON_NEGATIVE, dst_byte_count: NON_NEGATIVE, src_packets: NON_NEGATIVE, dst_packets: NON_NEGATIVE,
  ipfix: DICTIONARY, src_payload_ref: r('artifact'), dst_payload_ref: r('artifact'), encapsulates_refs: refs('network-traffic'),
  encapsulated_by_ref: r('network-traffic'),
}, (o, c) => {
  order(o, c, 'start', 'end');
  if (o.src_ref === undefined && o.dst_ref === undefined) report(c, '', 'a network-traffic needs src_ref or dst_ref');
  if (o.is_active === true && o.end !== undefined) report(c, 'end', 'not allowed when is_active is true');
});
const PROCESS: Readonly<Record<string, Check>> = {
  is_hidden: B, pid: INT, created_time: T, cwd: S, command_line: S, environment_variables: DICTIONARY,
  opened_connection_refs: refs('network-traffic'), creator_user_ref: r('user-account'), image_ref: r('file'), parent_ref: r('process'),
  child_refs: refs('process'),
};
define('process', 'sco', [], PROCESS, atLeastOne(['extensions', ...Object.keys(PROCESS)]));
define('software', 'sco', ['name'], { name: S, cpe: S, swid: S, languages: STRINGS, vendor: S, version: S });
define('url', 'sco', ['value'], { value: check(URL) });
const USER_ACCOUNT: Readonly<Record<string, Check>> = {
  user_id: S, credential: S, account_login: S, account_type: S, display_name: S, is_service_account: B, is_privileged: B,
  can_escalate_privs: B, is_disabled: B, account_created: T, account_expires: T, credential_last_changed: T,
  account_first_login: T, account_last_login: T,
};
define('user-account', 'sco', [], USER_ACCOUNT, atLeastOne(['extensions', ...Object.keys(USER_ACCOUNT)]));
const REGISTRY_VALUE = (o: Obj, path: string, c: Ctx): void => members(o, path, c, {
  name: STRING, data: STRING, data_type: oneOf([
    'REG_NONE', 'REG_SZ', 'REG_EXPAND_SZ', 'REG_BINARY', 'REG_DWORD', 'REG_DWORD_BIG_ENDIAN', 'REG_DWORD_LITTLE_ENDIAN', 'REG_LINK',
    'REG_MULTI_SZ', 'REG_RESOURCE_LIST', 'REG_FULL_RESOURCE_DESCRIPTION', 'REG_RESOURCE_REQUIREMENTS_LIST', 'REG_QWORD', 'REG_INVALID_TYPE',
  ]),
});
const HIVE_ABBREVIATION = /^(?:HKLM|HKCU|HKCR|HKCC|HKU)(?:\\|$)/i;
const REGISTRY_KEY: Readonly<Record<string, Check>> = {
  key: check((v) => (typeof v !== 'string' ? `must be a string, not ${kindOf(v)}` : HIVE_ABBREVIATION.test(v) ? 'must name the hive in full (HKEY_LOCAL_MACHINE, not HKLM)' : null)),
  values: objects(REGISTRY_VALUE, 'registry values (objects)'), modified_time: T, creator_user_ref: r('user-account'), number_of_subkeys: NON_NEGATIVE,
};
define('windows-registry-key', 'sco', [], REGISTRY_KEY, atLeastOne(Object.keys(REGISTRY_KEY)));
const X509: Readonly<Record<string, Check>> = {
  is_self_signed: B, hashes: HASHES, version: S, serial_number: S, signature_algorithm: S, issuer: S, validity_not_before: T,
  validity_not_after: T, subject: S, subject_public_key_algorithm: S, subject_public_key_modulus: S, subject_public_key_exponent: NON_NEGATIVE,
  x509_v3_extensions: check((v) => (isRecord(v) ? null : `must be an object, not ${kindOf(v)}`)),
};
define('x509-certificate', 'sco', [], X509, atLeastOne(Object.keys(X509)));

// ---- meta objects (section 7) ----

define('language-content', 'language-content', ['object_ref', 'contents'], {
  object_ref: check(refExcept(['bundle', 'language-content'], 'the object translated')), object_modified: T,
  contents: (v, path, c) => {
    if (!isRecord(v) || Object.keys(v).length === 0) return report(c, path, 'must be a non-empty dictionary of language tags to translations');
    for (const lang in v) {
      if (!isLanguageTag(lang)) report(c, `${path}.${lang}`, 'must be keyed by an RFC 5646 language tag');
      if (!isRecord(v[lang])) report(c, `${path}.${lang}`, 'must be an object of translated properties');
    }
  },
});

define('marking-definition', 'marking-definition', [], {}, (o, c) => {
  const canonical = typeof o.id === 'string' ? canonicalTlpMarking(o.id) : undefined;
  if (canonical !== undefined) {
    if (!sameJson(o, canonical)) report(c, '', 'a TLP marking definition must not be redefined: it must equal the canonical definition of its id');
    return;
  }
  if (o.extensions === undefined) {
    if (o.definition_type === undefined) missing(c, 'definition_type');
    if (o.definition === undefined) missing(c, 'definition');
  }
  const d = o.definition;
  if (o.definition_type === 'tlp') report(c, 'id', 'a TLP 1.0 marking definition must use one of the four ids of STIX 2.1 section 7.2.1.4');
  else if (o.definition_type === 'statement' && isRecord(d)) members(d, 'definition', c, { statement: STRING }, ['statement']);
  if (isRecord(o.extensions) && o.extensions[TLP2_EXTENSION_ID] !== undefined) {
    report(c, 'id', 'a TLP 2.0 marking definition must use one of the five OASIS ids');
  }
});

define('extension-definition', 'extension-definition', ['created_by_ref', 'name', 'schema', 'version', 'extension_types'], {
  name: S, description: S, schema: S, version: S, extension_types: list(oneOf(EXTENSION_TYPES), 'extension types'), extension_properties: STRINGS,
}, (o, c) => {
  if (o.extension_properties !== undefined && !(Array.isArray(o.extension_types) && o.extension_types.includes('toplevel-property-extension'))) {
    report(c, 'extension_properties', 'only allowed when extension_types includes toplevel-property-extension');
  }
});

const NEW_OBJECT_RULES: Readonly<Record<'new-sdo' | 'new-sco' | 'new-sro', TypeRule>> = {
  'new-sdo': rule('sdo', [], {}),
  'new-sro': rule('sro', [], {}),
  'new-sco': rule('sco', [], {}),
};

/** The rule of a type this node knows, if it does. */
export function ruleOf(type: string): TypeRule | undefined {
  return RULES.get(type);
}

/** The rule for a new object type defined by an extension: only the common properties of its kind. */
export function newObjectRule(kind: 'new-sdo' | 'new-sco' | 'new-sro'): TypeRule {
  return NEW_OBJECT_RULES[kind];
}

/** Properties whose names are reserved in STIX 2.1 and must not be used (as the OASIS schemas). */
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set(['severity', 'action', 'username', 'phone_numbers']);
