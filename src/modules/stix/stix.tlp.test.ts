/**
 * TLP markings: the OASIS TLP 2.0 definitions and the STIX 2.1 TLP 1.0 ones, the mapping from a
 * marking id to a TLP level, the most restrictive level of an object, and the refusal of a
 * marking definition that reuses a TLP id with other content.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TLPS, type Tlp } from '../federation/federation.types.js';
import { canonicalTlpMarking, sameJson, TLP1_MARKINGS, TLP2_EXTENSION_ID, TLP_MARKINGS, tlpMarkingRef, tlpOf, tlpOfMarkingRef } from './stix.tlp.js';
import { validateObject } from './stix.validate.js';

/** Verified against oasis-open/cti-stix-common-objects (TLP 2.0) and the STIX 2.1 spec / OASIS schema (TLP 1.0). */
const TLP2: Record<Tlp, string> = {
  'clear': 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  'green': 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  'amber': 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  'red': 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};
const TLP1 = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};

describe('TLP marking definitions', () => {
  it('are the five OASIS TLP 2.0 objects, clear to red', () => {
    expect(TLP_MARKINGS.map((m) => m.id)).toEqual(TLPS.map((t) => TLP2[t]));
    expect(TLP_MARKINGS[3]).toEqual({
      type: 'marking-definition',
      spec_version: '2.1',
      id: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
      created: '2022-10-01T00:00:00.000Z',
      name: 'TLP:AMBER+STRICT',
      extensions: { 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: 'amber+strict' } },
    });
    expect(TLP_MARKINGS.map((m) => m.name)).toEqual(['TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED']);
    expect(TLP2_EXTENSION_ID).toBe('extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d');
  });

  it('include the four TLP 1.0 objects of STIX 2.1 section 7.2.1.4', () => {
    expect(TLP1_MARKINGS[0]).toEqual({
      type: 'marking-definition', spec_version: '2.1', id: TLP1.white, created: '2017-01-20T00:00:00.000Z',
      definition_type: 'tlp', name: 'TLP:WHITE', definition: { tlp: 'white' },
    });
    expect(TLP1_MARKINGS.map((m) => m.id)).toEqual(Object.values(TLP1));
  });

  it('are frozen and valid', () => {
    for (const m of [...TLP_MARKINGS, ...TLP1_MARKINGS]) {
      expect(Object.isFrozen(m) && Object.isFrozen(m.extensions ?? m.definition)).toBe(true);
      expect(validateObject(m)).toEqual({ ok: true, object: m });
      expect(canonicalTlpMarking(m.id)).toBe(m);
    }
  });
});

describe('tlpOfMarkingRef and tlpMarkingRef', () => {
  it('map both TLP versions to levels, white to clear', () => {
    for (const t of TLPS) {
      expect(tlpOfMarkingRef(TLP2[t])).toBe(t);
      expect(tlpMarkingRef(t)).toBe(TLP2[t]);
    }
    expect(tlpOfMarkingRef(TLP1.white)).toBe('clear');
    expect(tlpOfMarkingRef(TLP1.green)).toBe('green');
    expect(tlpOfMarkingRef(TLP1.amber)).toBe('amber');
    expect(tlpOfMarkingRef(TLP1.red)).toBe('red');
  });

  it('know no other id', () => {
    expect(tlpOfMarkingRef('marking-definition--00000000-0000-4000-8000-000000000001')).toBeNull();
    expect(tlpOfMarkingRef('')).toBeNull();
  });
});

describe('tlpOf', () => {
  it('is the most restrictive TLP of object and granular markings', () => {
    expect(tlpOf({ object_marking_refs: [TLP2.green, TLP1.amber] })).toBe('amber');
    expect(tlpOf({ object_marking_refs: [TLP2.red, TLP2.clear] })).toBe('red');
    expect(tlpOf({ object_marking_refs: [TLP2.amber], granular_markings: [{ selectors: ['name'], marking_ref: TLP2['amber+strict'] }] })).toBe('amber+strict');
    expect(tlpOf({ object_marking_refs: [TLP1.white] })).toBe('clear');
    expect(tlpOf({ granular_markings: [{ selectors: ['description'], marking_ref: TLP1.red }, { selectors: ['name'], lang: 'en' }] })).toBe('red');
  });

  it('is null without a TLP marking, and ignores malformed markings', () => {
    expect(tlpOf({})).toBeNull();
    expect(tlpOf({ object_marking_refs: ['marking-definition--00000000-0000-4000-8000-000000000001'] })).toBeNull();
    expect(tlpOf({ object_marking_refs: 'x', granular_markings: [null, 3, { marking_ref: 7 }] })).toBeNull();
    expect(tlpOf({ object_marking_refs: [5, TLP2.green] })).toBe('green');
  });

  it('is the maximum for any combination', () => {
    const refs = fc.array(fc.constantFrom(...TLPS), { maxLength: 5 });
    fc.assert(fc.property(refs, refs, (a, b) => {
      const obj = { object_marking_refs: a.map((t) => TLP2[t]), granular_markings: b.map((t) => ({ selectors: ['name'], marking_ref: TLP2[t] })) };
      const all = [...a, ...b];
      const expected = all.length === 0 ? null : TLPS[Math.max(...all.map((t) => TLPS.indexOf(t)))];
      expect(tlpOf(obj)).toBe(expected);
    }));
  });
});

describe('a TLP marking definition', () => {
  const copy = (m: object): Record<string, unknown> => structuredClone(m) as Record<string, unknown>;

  it('may be sent again unchanged, in any member order', () => {
    const m = copy(TLP_MARKINGS[1] ?? {});
    const reordered = Object.fromEntries(Object.entries(m).reverse());
    expect(validateObject(reordered).ok).toBe(true);
  });

  it('must not be redefined', () => {
    const message = 'a TLP marking definition must not be redefined: it must equal the canonical definition of its id';
    const green = copy(TLP_MARKINGS[1] ?? {});
    green.name = 'TLP:GREEN (ours)';
    expect(validateObject(green)).toMatchObject({ ok: false, problems: [{ path: '', message }] });
    const red = copy(TLP_MARKINGS[4] ?? {});
    (red.extensions as Record<string, Record<string, unknown>>)[TLP2_EXTENSION_ID]!.tlp_2_0 = 'clear';
    expect(validateObject(red)).toMatchObject({ ok: false, problems: [{ path: '', message }] });
    const white = copy(TLP1_MARKINGS[0] ?? {});
    white.definition = { tlp: 'green' };
    expect(validateObject(white)).toMatchObject({ ok: false, problems: [{ path: '', message }] });
    const extra = copy(TLP1_MARKINGS[3] ?? {});
    extra.x_note = 'mine';
    expect(validateObject(extra)).toMatchObject({ ok: false, problems: [{ path: '', message }] });
  });

  it('must use the TLP ids', () => {
    const fake1 = { ...copy(TLP1_MARKINGS[2] ?? {}), id: 'marking-definition--00000000-0000-4000-8000-000000000001' };
    expect(validateObject(fake1)).toMatchObject({ ok: false, problems: [{ path: 'id', message: 'a TLP 1.0 marking definition must use one of the four ids of STIX 2.1 section 7.2.1.4' }] });
    const fake2 = { ...copy(TLP_MARKINGS[2] ?? {}), id: 'marking-definition--00000000-0000-4000-8000-000000000002' };
    expect(validateObject(fake2)).toMatchObject({ ok: false, problems: [{ path: 'id', message: 'a TLP 2.0 marking definition must use one of the five OASIS ids' }] });
  });
});

describe('sameJson', () => {
  it('compares JSON values structurally', () => {
    expect(sameJson({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson([], {})).toBe(false);
    expect(sameJson({}, [])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
  });
});
