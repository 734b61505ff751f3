/**
 * STIX 2.1 vocabulary: the object shape the node stores, the problem a validator reports, and the
 * object types this node knows (OASIS STIX 2.1, sections 4-7). Pure data, no behaviour.
 */

/** A STIX object as stored and served: the common properties, typed loosely, and anything else. */
export interface StixObject {
  type: string;
  id: string;
  spec_version?: string;
  created?: string;
  modified?: string;
  [k: string]: unknown;
}

/**
 * One thing wrong with an object. `path` names the property the way a person reads it:
 * `pattern`, `external_references[0].source_name`, `extensions.extension-definition--…`;
 * an empty path means the object itself.
 */
export interface StixProblem {
  path: string;
  message: string;
}

/** The outcome of validating one object: the object, or every problem found in it. */
export type Validation =
  | { ok: true; object: StixObject }
  | { ok: false; id: string | null; type: string | null; problems: StixProblem[] };

/** The outcome of validating a bundle envelope; its objects are validated one by one afterwards. */
export type BundleValidation =
  | { ok: true; id: string; objects: unknown[] }
  | { ok: false; id: string | null; problems: StixProblem[] };

/** STIX Domain Objects (section 4). */
export const SDO_TYPES = [
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator',
  'infrastructure', 'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data',
  'opinion', 'report', 'threat-actor', 'tool', 'vulnerability',
] as const;

/** STIX Relationship Objects (section 5). */
export const SRO_TYPES = ['relationship', 'sighting'] as const;

/** STIX Cyber-observable Objects (section 6). */
export const SCO_TYPES = [
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file',
  'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url',
  'user-account', 'windows-registry-key', 'x509-certificate',
] as const;

/** STIX Meta Objects (section 7). */
export const META_TYPES = ['language-content', 'marking-definition', 'extension-definition'] as const;

/** An SDO type name. */
export type SdoType = (typeof SDO_TYPES)[number];
/** An SRO type name. */
export type SroType = (typeof SRO_TYPES)[number];
/** An SCO type name. */
export type ScoType = (typeof SCO_TYPES)[number];
/** A meta object type name. */
export type MetaType = (typeof META_TYPES)[number];
/** Any type this node knows without an extension definition. */
export type KnownType = SdoType | SroType | ScoType | MetaType;

/** How the common properties apply to an object: SDO/SRO, SCO, or one of the three meta objects. */
export type StixCategory = 'sdo' | 'sro' | 'sco' | MetaType;

/** The `extension_type` values of an extension (section 7.3, extension-type-enum). */
export const EXTENSION_TYPES = ['new-sdo', 'new-sco', 'new-sro', 'property-extension', 'toplevel-property-extension'] as const;

/** The spec version this node stores. */
export const STIX_SPEC_VERSION = '2.1';
