/**
 * The STIX 2.1 validator: decides whether one JSON value is a STIX 2.1 object this node stores,
 * and reports every problem it finds (not only the first), each with the property path.
 *
 * Checks, in order: a JSON object; `type` (syntax, a known type or a new type defined by an
 * extension-definition); `id` (`<type>--<RFC 4122 UUID>`); `spec_version` ("2.1"); then every
 * property: the ones the specification defines for the type, with their types and ranges, and
 * any other (custom) property, whose name must follow the custom property name rules and whose
 * value must not be null or an empty list (`*_ref` must hold an identifier, `*_refs` a non-empty
 * list of identifiers, `*_hex` hex, `*_bin` base64); then required properties and the rules that
 * relate properties (modified ≥ created, valid_until > valid_from, the STIX pattern, …).
 *
 * It allocates little and compiles nothing per call: regular expressions and per-type tables are
 * built at module load. It does not re-serialize the object.
 */
import { clearCtx, customValue, isRecord, kindOf, newCtx, newObjectExtension, report, type Ctx } from './stix.checks.js';
import { newObjectRule, RESERVED_PROPERTIES, ruleOf, type TypeRule } from './stix.rules.js';
import type { BundleValidation, StixObject, StixProblem, Validation } from './stix.types.js';
import { STIX_SPEC_VERSION } from './stix.types.js';
import { identifierType, isBase64, isHex, isIdentifierOf, isPropertyName, isTypeName } from './stix.values.js';

export type { BundleValidation, StixObject, StixProblem, Validation } from './stix.types.js';

/** validateObject is synchronous and not re-entrant: one context serves every call. */
const SCRATCH: Ctx = newCtx();

const STIX_20 = 'this node stores STIX 2.1 only: the object says spec_version "2.0" (convert it to STIX 2.1)';

/** The rule for the object's type, reporting a missing, malformed or unknown `type`. */
function checkType(o: Record<string, unknown>, type: unknown, c: Ctx): TypeRule | undefined {
  if (type === undefined) {
    report(c, 'type', 'required property is missing');
  } else if (typeof type !== 'string') {
    report(c, 'type', `must be a string, not ${kindOf(type)}`);
  } else if (!isTypeName(type)) {
    report(c, 'type', 'is not a STIX type name (3-250 characters: a-z, 0-9 and single hyphens, beginning with a letter)');
  } else {
    const kind = newObjectExtension(o.extensions);
    if (kind !== null) return newObjectRule(kind);
    report(c, 'type', `unknown STIX type '${type}': this node takes the STIX 2.1 types, and new types only with an extension-definition (extension_type new-sdo, new-sco or new-sro)`);
  }
  return undefined;
}

function checkId(o: Record<string, unknown>, type: string | null, c: Ctx): string | null {
  const id = o.id;
  if (id === undefined) {
    report(c, 'id', 'required property is missing');
    return null;
  }
  if (typeof id !== 'string') {
    report(c, 'id', `must be a string, not ${kindOf(id)}`);
    return null;
  }
  if (type !== null && isIdentifierOf(id, type)) return id;
  const prefix = identifierType(id);
  if (prefix === null) report(c, 'id', `must be ${type ?? '<type>'}--<UUID> with an RFC 4122 UUID (version 1-5, variant 10xx)`);
  else if (type !== null) report(c, 'id', `must begin with the object's type: '${type}--', not '${prefix}--'`);
  return id;
}

function checkSpecVersion(o: Record<string, unknown>, rule: TypeRule | undefined, c: Ctx): void {
  const v = o.spec_version;
  if (v === undefined) {
    if (rule !== undefined && rule.category !== 'sco') report(c, 'spec_version', `required property is missing (it must be "${STIX_SPEC_VERSION}")`);
  } else if (v === '2.0') {
    report(c, 'spec_version', STIX_20);
  } else if (v !== STIX_SPEC_VERSION) {
    report(c, 'spec_version', `must be "${STIX_SPEC_VERSION}"`);
  }
}

/** A property this node has no definition for: a custom property, or one of another object type. */
function checkCustom(name: string, v: unknown, c: Ctx): void {
  if (RESERVED_PROPERTIES.has(name)) return report(c, name, 'is a reserved property name in STIX 2.1 and must not be used');
  if (!isPropertyName(name)) {
    return report(c, name, 'is not a valid property name (3-250 characters: a-z, 0-9 and _, beginning with a letter)');
  }
  const e = customValue(v);
  if (e !== null) return report(c, name, e);
  if (name.endsWith('_ref')) {
    if (typeof v !== 'string' || identifierType(v) === null) report(c, name, 'must be a STIX identifier (a property named *_ref holds an id)');
  } else if (name.endsWith('_refs')) {
    if (!Array.isArray(v)) return report(c, name, 'must be a list of STIX identifiers (a property named *_refs holds ids)');
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== 'string' || identifierType(x) === null) report(c, `${name}[${i}]`, 'must be a STIX identifier');
    }
  } else if (name.endsWith('_hex')) {
    if (typeof v !== 'string' || !isHex(v)) report(c, name, 'must be hex (a property named *_hex holds an even number of hex digits)');
  } else if (name.endsWith('_bin')) {
    if (typeof v !== 'string' || !isBase64(v)) report(c, name, 'must be base64 (a property named *_bin holds binary data)');
  }
}

/**
 * Validates one STIX 2.1 object. On success the value itself is returned, typed; otherwise every
 * problem found, with the object's id and type when they could be read.
 */
export function validateObject(value: unknown): Validation {
  if (!isRecord(value)) {
    return { ok: false, id: null, type: null, problems: [{ path: '', message: `a STIX object must be a JSON object, not ${kindOf(value)}` }] };
  }
  const c = SCRATCH;
  clearCtx(c);
  const t = value.type;
  const known = typeof t === 'string' ? ruleOf(t) : undefined;
  const rule = known ?? checkType(value, t, c);
  const type = typeof t === 'string' && (known !== undefined || isTypeName(t)) ? t : null;
  const id = checkId(value, type, c);
  checkSpecVersion(value, rule, c);
  if (rule !== undefined) {
    const props = rule.props;
    for (const name in value) {
      if (name === 'type' || name === 'id' || name === 'spec_version') continue;
      const v = value[name];
      if (v === undefined) continue; // not JSON: a JS caller's absent property
      const prop = props.get(name);
      if (prop !== undefined) prop(v, name, c);
      else checkCustom(name, v, c);
    }
    for (const name of rule.required) if (value[name] === undefined) report(c, name, 'required property is missing');
    rule.check(value, c);
  }
  const problems = c.problems;
  if (problems.length === 0) return { ok: true, object: value as StixObject };
  return { ok: false, id: typeof id === 'string' ? id : null, type, problems };
}

/**
 * Validates a bundle's envelope: `{"type": "bundle", "id": "bundle--<UUID>", "objects": [...]}`.
 * `objects` is optional (STIX 2.1 section 8) but, like every STIX list, not empty when present;
 * a 2.1 bundle has no `spec_version` (a 2.0 bundle's "2.0" is refused as STIX 2.0). The objects
 * themselves are not looked at: validate them one by one with validateObject.
 */
export function validateBundle(value: unknown): BundleValidation {
  if (!isRecord(value)) {
    return { ok: false, id: null, problems: [{ path: '', message: `a bundle must be a JSON object, not ${kindOf(value)}` }] };
  }
  const problems: StixProblem[] = [];
  if (value.type !== 'bundle') {
    problems.push({ path: 'type', message: value.type === undefined ? 'required property is missing (it must be "bundle")' : 'must be "bundle"' });
  }
  const id = value.id;
  let bundleId: string | null = null;
  if (id === undefined) problems.push({ path: 'id', message: 'required property is missing' });
  else if (typeof id !== 'string' || !isIdentifierOf(id, 'bundle')) problems.push({ path: 'id', message: 'must be bundle--<UUID> with an RFC 4122 UUID' });
  else bundleId = id;
  if (value.spec_version !== undefined) {
    problems.push({ path: 'spec_version', message: value.spec_version === '2.0' ? STIX_20.replace('the object', 'the bundle') : 'is not a property of a STIX 2.1 bundle' });
  }
  const objects = value.objects;
  if (objects !== undefined && !Array.isArray(objects)) problems.push({ path: 'objects', message: `must be a list of STIX objects, not ${kindOf(objects)}` });
  else if (Array.isArray(objects) && objects.length === 0) problems.push({ path: 'objects', message: 'must not be an empty list (omit objects for an empty bundle)' });
  if (problems.length > 0) return { ok: false, id: bundleId, problems };
  return { ok: true, id: bundleId ?? '', objects: Array.isArray(objects) ? (objects as unknown[]) : [] };
}
