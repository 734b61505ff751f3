/**
 * Every STIX object the TAXII server emits validates against the OASIS STIX 2.1 JSON schemas
 * (the independent oracle in test/reference/): every page of a few large randomized collections
 * (objects of every type the node knows, several versions, random optional properties), every
 * single-object answer, over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TLP_MARKINGS } from '../src/modules/stix/stix.tlp.js';
import { oasisValidator, stixSamples } from './helpers/oasis.js';
import { indicator, ipv4, malware, taxiiFixture, type TaxiiFixture } from './helpers/taxii.js';

let f: TaxiiFixture;
beforeAll(async () => {
  f = await taxiiFixture();
});
afterAll(async () => f?.stop());

type Obj = Record<string, unknown>;

/** A randomized collection: every sample type with fresh ids, random extra properties, some later versions. */
function collectionOf(seed: number, size: number): Obj[] {
  const rnd = fc.sample(fc.record({
    kind: fc.integer({ min: 0, max: 9 }),
    confidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    labels: fc.option(fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    desc: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    octet: fc.integer({ min: 1, max: 254 }),
    revise: fc.boolean(),
  }), { seed, numRuns: size });
  const samples = stixSamples();
  const out: Obj[] = [];
  rnd.forEach((r, i) => {
    let o: Obj;
    if (r.kind < 4) o = indicator();
    else if (r.kind < 6) o = ipv4(`203.0.${r.octet}.${i % 250}`);
    else if (r.kind < 7) o = malware(`family-${i}`);
    else {
      const s = samples[i % samples.length]!;
      const id = String(s.id);
      o = { ...s, id: `${id.slice(0, id.indexOf('--'))}--${crypto.randomUUID()}` };
    }
    const sdo = typeof o.created === 'string';
    if (sdo && r.confidence !== undefined && o.type !== 'marking-definition' && o.type !== 'language-content' && o.type !== 'extension-definition') o.confidence = r.confidence;
    if (sdo && r.labels !== undefined && o.type !== 'marking-definition' && o.type !== 'extension-definition') o.labels = r.labels;
    if (r.desc !== undefined && o.type === 'indicator') o.description = r.desc;
    out.push(o);
    if (sdo && r.revise && o.type !== 'marking-definition' && o.type !== 'extension-definition') out.push({ ...o, modified: '2026-11-30T12:00:00.000Z' });
  });
  return out;
}

describe('what the server emits', () => {
  it('the TLP marking definitions the node ships validate', () => {
    const oasis = oasisValidator();
    for (const m of TLP_MARKINGS) expect(oasis.validate(m), JSON.stringify(m)).toEqual({ valid: true, errors: [] });
  });

  it.each([[1, 1500, 100], [2, 3000, 1000], [3, 800, 7]])('every object of every page of a randomized collection (seed %i, %i objects, limit %i) validates against the OASIS schemas', async (seed, size, limit) => {
    const alias = `oasis-${seed}`;
    await f.node.ctx.taxii.collections.add({ alias });
    const objects = collectionOf(seed, size);
    const alice = f.as('admin');
    const s = await alice(`/taxii2/api/collections/${alias}/objects/`, { body: { objects } });
    expect(s.json, s.text.slice(0, 2000)).toMatchObject({ failure_count: 0 });
    const oasis = oasisValidator();
    let served = 0;
    let next: string | undefined;
    const types = new Set<string>();
    for (let pages = 0; ; pages++) {
      const r = await alice(`/taxii2/api/collections/${alias}/objects/?match[version]=all&limit=${limit}${next === undefined ? '' : `&next=${next}`}`);
      expect(r.status).toBe(200);
      for (const o of (r.json!.objects ?? []) as Obj[]) {
        const v = oasis.validate(o);
        expect(v.valid, `${String(o.id)}: ${v.errors.join('; ')}`).toBe(true);
        types.add(String(o.type));
        served++;
      }
      if (r.json!.more !== true) break;
      next = String(r.json!.next);
    }
    expect(served).toBe(objects.length);
    expect(types.size).toBeGreaterThan(10);
    // Single objects too (a sample of them).
    for (const o of objects.filter((_x, i) => i % 97 === 0)) {
      const r = await alice(`/taxii2/api/collections/${alias}/objects/${String(o.id)}/?match[version]=all`);
      for (const x of r.json!.objects as Obj[]) expect(oasis.validate(x).valid).toBe(true);
    }
  });
});
