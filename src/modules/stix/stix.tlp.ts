/**
 * Traffic Light Protocol markings in STIX 2.1.
 *
 * TLP 2.0: the five marking-definition objects the OASIS CTI TC publishes in
 * oasis-open/cti-stix-common-objects (extension-definition-specifications/tlp-2.0/ and
 * objects/marking-definition/), each a marking-definition with a property-extension of
 * extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d carrying `tlp_2_0`. The node emits these.
 *
 * TLP 1.0: the four definitions of the STIX 2.1 specification, section 7.2.1.4 (also enumerated
 * by the OASIS JSON schema marking-definition.json and cti-python-stix2's v21 TLP_* constants).
 * They are still read: TLP:WHITE means TLP:CLEAR.
 */
import { TLPS, type Tlp } from '../federation/federation.types.js';
import type { StixObject } from './stix.types.js';

/** The OASIS extension definition that TLP 2.0 marking definitions use. */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

const TLP2_IDS: Readonly<Record<Tlp, string>> = {
  'clear': 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  'green': 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  'amber': 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  'red': 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

const TLP1_IDS = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function tlp2(tlp: Tlp): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP2_IDS[tlp],
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${tlp.toUpperCase()}`,
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp } },
  };
}

function tlp1(level: keyof typeof TLP1_IDS): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP1_IDS[level],
    created: '2017-01-20T00:00:00.000Z',
    definition_type: 'tlp',
    name: `TLP:${level.toUpperCase()}`,
    definition: { tlp: level },
  };
}

/** The five TLP 2.0 marking definitions, clear to red, exactly as OASIS publishes them (frozen). */
export const TLP_MARKINGS: readonly StixObject[] = deepFreeze(TLPS.map(tlp2));

/** The four TLP 1.0 marking definitions of STIX 2.1 section 7.2.1.4, white to red (frozen). */
export const TLP1_MARKINGS: readonly StixObject[] = deepFreeze((['white', 'green', 'amber', 'red'] as const).map(tlp1));

const CANONICAL = new Map<string, StixObject>([...TLP_MARKINGS, ...TLP1_MARKINGS].map((m) => [m.id, m]));

const TLP_BY_REF = new Map<string, Tlp>([
  ...TLPS.map((t): [string, Tlp] => [TLP2_IDS[t], t]),
  [TLP1_IDS.white, 'clear'],
  [TLP1_IDS.green, 'green'],
  [TLP1_IDS.amber, 'amber'],
  [TLP1_IDS.red, 'red'],
]);

const RANK = new Map<Tlp, number>(TLPS.map((t, i) => [t, i]));

/** The TLP a marking-definition id stands for (TLP 2.0 or 1.0; TLP 1.0 white is clear), or null. */
export function tlpOfMarkingRef(id: string): Tlp | null {
  return TLP_BY_REF.get(id) ?? null;
}

/** The TLP 2.0 marking-definition id of a TLP level. */
export function tlpMarkingRef(tlp: Tlp): string {
  return TLP2_IDS[tlp];
}

/** The canonical TLP marking definition (2.0 or 1.0) with this id, if it is one. */
export function canonicalTlpMarking(id: string): StixObject | undefined {
  return CANONICAL.get(id);
}

/**
 * The most restrictive TLP marking an object carries, in `object_marking_refs` or in any
 * `granular_markings[].marking_ref` (clear < green < amber < amber+strict < red), or null when it
 * carries no TLP marking. Tolerates malformed properties (ignores what is not a marking id).
 */
export function tlpOf(obj: Readonly<Record<string, unknown>>): Tlp | null {
  let best = -1;
  const consider = (ref: unknown): void => {
    if (typeof ref !== 'string') return;
    const tlp = TLP_BY_REF.get(ref);
    if (tlp !== undefined) best = Math.max(best, RANK.get(tlp) ?? -1);
  };
  const refs = obj.object_marking_refs;
  if (Array.isArray(refs)) for (const r of refs) consider(r);
  const granular = obj.granular_markings;
  if (Array.isArray(granular)) {
    for (const g of granular) if (g !== null && typeof g === 'object') consider((g as { marking_ref?: unknown }).marking_ref);
  }
  return best < 0 ? null : (TLPS[best] ?? null);
}

/** Structural equality of JSON values (member order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && sameJson(ra[k], rb[k]));
}
