/**
 * Property checkers the type rules are built from: each looks at one property value and reports
 * problems under its path. Paths of list items and members are only built when there is a problem.
 */
import type { StixProblem } from './stix.types.js';
import { EXTENSION_TYPES } from './stix.types.js';
import {
  HASH_HEX_DIGITS, identifierType, isBase64, isDictionaryKey, isHashKey, isHex, isHexDigits, isIdentifierOf, isLanguageTag,
  isTimestamp, isTypeName, isUri,
} from './stix.values.js';

/** No problems (yet): shared, never written to; `report` replaces it with a fresh list. */
const NONE: StixProblem[] = [];

/**
 * Where a validation collects its problems. `problems` starts as the shared empty list, so a
 * valid object allocates none; use `newCtx` and `report`, never push directly.
 */
export interface Ctx {
  problems: StixProblem[];
}

/** A context with no problems. */
export function newCtx(): Ctx {
  return { problems: NONE };
}

/** Empties a context for reuse (the list it had is left to whoever holds it). */
export function clearCtx(c: Ctx): void {
  c.problems = NONE;
}

/** Checks one property value found at `path`. */
export type Check = (v: unknown, path: string, c: Ctx) => void;

/** A rule on a primitive value: null when it holds, else what is wrong. */
export type Rule = (v: unknown) => string | null;

/** Records a problem. */
export function report(c: Ctx, path: string, message: string): void {
  if (c.problems === NONE) c.problems = [];
  c.problems.push({ path, message });
}

/** A JSON value's kind, for messages. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  return `a ${typeof v}`;
}

/** True when `v` is a JSON object (not null, not a list). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Turns a primitive rule into a property check. */
export function check(rule: Rule): Check {
  return (v, path, c) => {
    const e = rule(v);
    if (e !== null) report(c, path, e);
  };
}

/** A string. */
export const STRING: Rule = (v) => (typeof v === 'string' ? null : `must be a string, not ${kindOf(v)}`);
/** A boolean. */
export const BOOLEAN: Rule = (v) => (typeof v === 'boolean' ? null : `must be a boolean, not ${kindOf(v)}`);

/** An integer in [min, max]. */
export function integer(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Rule {
  const range = min === Number.MIN_SAFE_INTEGER ? '' : max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`;
  const message = `must be an integer${range}`;
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : message);
}

/** A number in [min, max]. */
export function number(min = -Infinity, max = Infinity): Rule {
  const message = min === -Infinity ? 'must be a number' : `must be a number from ${min} to ${max}`;
  return (v) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : message);
}

const TIMESTAMP_MESSAGE = 'must be a timestamp: RFC 3339 in UTC with Z, on a real date (e.g. 2024-01-31T12:00:00Z)';
/** The `timestamp` type (see isTimestamp). */
export const TIMESTAMP: Rule = (v) => (typeof v === 'string' && isTimestamp(v) ? null : TIMESTAMP_MESSAGE);
/** A timestamp with at least millisecond precision (`created`, `modified`). */
export const TIMESTAMP_MILLIS: Rule = (v) => (typeof v === 'string' && isTimestamp(v, true)
  ? null
  : 'must be a timestamp precise to the millisecond: RFC 3339 in UTC with Z and at least 3 fractional digits (e.g. 2024-01-31T12:00:00.000Z), on a real date');

/** The `hex` type. */
export const HEX: Rule = (v) => (typeof v === 'string' && isHex(v) ? null : 'must be hex: a non-empty, even number of hex digits');
/** The `binary` type (base64). */
export const BINARY: Rule = (v) => (typeof v === 'string' && isBase64(v) ? null : 'must be binary: base64 (RFC 4648) with its padding');
/** A URL: an absolute RFC 3986 URI. */
export const URL: Rule = (v) => (typeof v === 'string' && isUri(v) ? null : 'must be a URL (an absolute RFC 3986 URI)');
/** An RFC 5646 language tag. */
export const LANGUAGE: Rule = (v) => (typeof v === 'string' && isLanguageTag(v) ? null : 'must be an RFC 5646 language tag (e.g. en, pt-BR)');

/** A string matching `re` (described as `what`). */
export function matching(re: RegExp, what: string): Rule {
  return (v) => (typeof v === 'string' && re.test(v) ? null : `must be ${what}`);
}

/** One of a closed set of strings. */
export function oneOf(values: readonly string[]): Rule {
  const set = new Set(values);
  const message = `must be one of ${values.join(', ')}`;
  return (v) => (typeof v === 'string' && set.has(v) ? null : message);
}

const ID_FORM = '<type>--<RFC 4122 UUID>';

/** `a tool`, `an indicator`. */
function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** A STIX identifier, of one of `types` when given. */
export function ref(types?: readonly string[]): Rule {
  if (types === undefined) {
    return (v) => (typeof v === 'string' && identifierType(v) !== null ? null : `must be a STIX identifier (${ID_FORM})`);
  }
  const message = `must be the id of ${types.map(article).join(' or ')} (${types[0] ?? ''}--<UUID>)`;
  if (types.length === 1) {
    const only = types[0] ?? '';
    return (v) => (typeof v === 'string' && isIdentifierOf(v, only) ? null : message);
  }
  const set = new Set(types);
  return (v) => {
    const t = typeof v === 'string' ? identifierType(v) : null;
    return t !== null && set.has(t) ? null : message;
  };
}

/** A STIX identifier of any type but those in `forbidden` (described as `what`). */
export function refExcept(forbidden: readonly string[], what: string): Rule {
  const set = new Set(forbidden);
  return (v) => {
    if (typeof v !== 'string') return `must be a STIX identifier (${ID_FORM}), not ${kindOf(v)}`;
    const t = identifierType(v);
    if (t === null) return `must be a STIX identifier (${ID_FORM})`;
    return set.has(t) ? `must be the id of ${what}, not of ${article(t)}` : null;
  };
}

const EMPTY_LIST = 'must not be an empty list (STIX prohibits empty lists: omit the property instead)';

/** A non-empty list whose items follow `rule`. */
export function list(rule: Rule, what: string): Check {
  return (v, path, c) => {
    if (!Array.isArray(v)) return report(c, path, `must be a list of ${what}, not ${kindOf(v)}`);
    if (v.length === 0) return report(c, path, EMPTY_LIST);
    for (let i = 0; i < v.length; i++) {
      const e = rule(v[i]);
      if (e !== null) report(c, `${path}[${i}]`, e);
    }
  };
}

/** A non-empty list of objects, each checked by `item`. */
export function objects(item: (o: Record<string, unknown>, path: string, c: Ctx) => void, what: string): Check {
  return (v, path, c) => {
    if (!Array.isArray(v)) return report(c, path, `must be a list of ${what}, not ${kindOf(v)}`);
    if (v.length === 0) return report(c, path, EMPTY_LIST);
    for (let i = 0; i < v.length; i++) {
      const o: unknown = v[i];
      if (!isRecord(o)) report(c, `${path}[${i}]`, `must be ${what}, not ${kindOf(o)}`);
      else item(o, `${path}[${i}]`, c);
    }
  };
}

/** Checks the members of a nested object: each `rules` entry, and `required` names. */
export function members(o: Record<string, unknown>, path: string, c: Ctx, rules: Readonly<Record<string, Rule>>, required: readonly string[] = []): void {
  for (const name of required) if (o[name] === undefined) report(c, `${path}.${name}`, 'required property is missing');
  for (const name in rules) {
    const v = o[name];
    const rule = rules[name];
    if (v === undefined || rule === undefined) continue;
    const e = rule(v);
    if (e !== null) report(c, `${path}.${name}`, e);
  }
}

/** A value a custom property may hold: anything JSON but null and the empty list. */
export function customValue(v: unknown): string | null {
  if (v === null) return 'must not be null (STIX has no null values: omit the property instead)';
  if (Array.isArray(v) && v.length === 0) return EMPTY_LIST;
  return null;
}

/** A `dictionary`: a non-empty object with dictionary keys and non-null values. */
export const DICTIONARY: Check = (v, path, c) => {
  if (!isRecord(v)) return report(c, path, `must be a dictionary (an object), not ${kindOf(v)}`);
  let n = 0;
  for (const k in v) {
    n++;
    if (!isDictionaryKey(k)) report(c, `${path}.${k}`, 'is not a valid dictionary key (1-250 ASCII letters, digits, _ or -)');
    const e = customValue(v[k]);
    if (e !== null) report(c, `${path}.${k}`, e);
  }
  if (n === 0) report(c, path, 'must not be an empty dictionary');
};

/** The `hashes` type: algorithm names to hash values (MD5 32 hex digits, SHA-1 40, SHA-256 64, SHA-512 128, …). */
export const HASHES: Check = (v, path, c) => {
  if (!isRecord(v)) return report(c, path, `must be a hashes dictionary (an object), not ${kindOf(v)}`);
  let n = 0;
  for (const k in v) {
    n++;
    const value = v[k];
    if (!isHashKey(k)) report(c, `${path}.${k}`, 'is not a valid hash algorithm name (3-250 ASCII letters, digits, _ or -)');
    else if (typeof value !== 'string' || value === '') report(c, `${path}.${k}`, 'must be a non-empty string');
    else {
      const digits = HASH_HEX_DIGITS.get(k);
      if (digits !== undefined && !isHexDigits(value, digits)) report(c, `${path}.${k}`, `is not a valid ${k} hash (${digits} hex digits)`);
    }
  }
  if (n === 0) report(c, path, 'must not be an empty dictionary');
};

const CVE = /^CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})$/;
const CAPEC = /^CAPEC-\d+$/;

function externalReference(o: Record<string, unknown>, path: string, c: Ctx): void {
  members(o, path, c, { source_name: STRING, description: STRING, url: URL, external_id: STRING }, ['source_name']);
  if (o.hashes !== undefined) HASHES(o.hashes, `${path}.hashes`, c);
  if (o.description === undefined && o.url === undefined && o.external_id === undefined) {
    report(c, path, 'an external reference needs a description, url or external_id besides its source_name');
  }
  const id = o.external_id;
  if (o.source_name === 'cve' && !(typeof id === 'string' && CVE.test(id))) {
    report(c, `${path}.external_id`, 'must be a CVE id (CVE-YYYY-NNNN) when source_name is cve');
  } else if (o.source_name === 'capec' && !(typeof id === 'string' && CAPEC.test(id))) {
    report(c, `${path}.external_id`, 'must be a CAPEC id (CAPEC-N) when source_name is capec');
  }
}

/** `external_references`: each needs source_name and one of description, url, external_id; cve/capec ids checked. */
export const EXTERNAL_REFERENCES = objects(externalReference, 'external references (objects)');

const SELECTOR = /^(?:[a-z0-9_-]{3,249}(?:\.(?:\[\d+\]|[a-z0-9_-]{1,250}))*|id)$/;
const MARKING_REF = ref(['marking-definition']);

function granularMarking(o: Record<string, unknown>, path: string, c: Ctx): void {
  const selectors = o.selectors;
  if (selectors === undefined) report(c, `${path}.selectors`, 'required property is missing');
  else list(matching(SELECTOR, 'a selector (a property path such as description or external_references.[0].url)'), 'selectors')(selectors, `${path}.selectors`, c);
  members(o, path, c, { marking_ref: MARKING_REF, lang: LANGUAGE });
  if ((o.marking_ref === undefined) === (o.lang === undefined)) {
    report(c, path, 'a granular marking must have exactly one of marking_ref and lang');
  }
}

/** `granular_markings`: non-empty selectors and exactly one of marking_ref (a marking-definition id) and lang. */
export const GRANULAR_MARKINGS = objects(granularMarking, 'granular markings (objects)');

const KILL_CHAIN_PHASE = (o: Record<string, unknown>, path: string, c: Ctx): void =>
  members(o, path, c, { kill_chain_name: STRING, phase_name: STRING }, ['kill_chain_name', 'phase_name']);

/** `kill_chain_phases`: each with kill_chain_name and phase_name. */
export const KILL_CHAIN_PHASES = objects(KILL_CHAIN_PHASE, 'kill chain phases (objects)');

const EXTENSION_DEFINITION_KEY = /^extension-definition--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const EXTENSION_TYPE = oneOf(EXTENSION_TYPES);

/** Required properties of the predefined SCO extensions (section 6). */
const PREDEFINED_EXTENSIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['archive-ext', ['contains_refs']],
  ['windows-pebinary-ext', ['pe_type']],
  ['http-request-ext', ['request_method', 'request_value']],
  ['icmp-ext', ['icmp_type_hex', 'icmp_code_hex']],
  ['socket-ext', ['address_family']],
]);

/** True when `k` is an extension-definition id used as an `extensions` key. */
export function isExtensionDefinitionKey(k: string): boolean {
  return EXTENSION_DEFINITION_KEY.test(k);
}

/**
 * `extensions`: keyed by an extension-definition id (the value then needs an `extension_type`) or
 * by a predefined extension name ending in `-ext`; values are non-empty objects.
 */
export const EXTENSIONS: Check = (v, path, c) => {
  if (!isRecord(v)) return report(c, path, `must be a dictionary of extensions (an object), not ${kindOf(v)}`);
  let n = 0;
  for (const k in v) {
    n++;
    const ext = v[k];
    const at = `${path}.${k}`;
    const byDefinition = isExtensionDefinitionKey(k);
    if (!byDefinition && !(k.endsWith('-ext') && isTypeName(k))) {
      report(c, at, 'an extension must be keyed by an extension-definition id or a predefined extension name ending in -ext');
    }
    if (!isRecord(ext)) {
      report(c, at, `an extension must be an object, not ${kindOf(ext)}`);
      continue;
    }
    if (byDefinition) {
      if (ext.extension_type === undefined) report(c, `${at}.extension_type`, 'required property is missing');
      else {
        const e = EXTENSION_TYPE(ext.extension_type);
        if (e !== null) report(c, `${at}.extension_type`, e);
      }
    } else {
      const required = PREDEFINED_EXTENSIONS.get(k);
      if (required !== undefined) members(ext, at, c, {}, required);
      if (Object.keys(ext).length === 0) report(c, at, 'an extension must not be empty');
    }
  }
  if (n === 0) report(c, path, 'must not be an empty dictionary');
};

/** The `extension_type` of an object's extensions that define a new object type, if any. */
export function newObjectExtension(extensions: unknown): 'new-sdo' | 'new-sco' | 'new-sro' | null {
  if (!isRecord(extensions)) return null;
  for (const k in extensions) {
    const ext = extensions[k];
    if (!isExtensionDefinitionKey(k) || !isRecord(ext)) continue;
    const t = ext.extension_type;
    if (t === 'new-sdo' || t === 'new-sco' || t === 'new-sro') return t;
  }
  return null;
}
