/**
 * Paging is by cursor over an index: walking `next` from any `added_after` returns every matching
 * version exactly once, in date_added order, while other objects are being added between pages.
 * Property-based (fast-check), on a real SQLite store through the TAXII service.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openContext, type NodeContext } from '../src/context.js';
import { NODE_ADMIN } from '../src/modules/users/users.types.js';
import { formatMicros } from '../src/modules/taxii/taxii.time.js';
import { silentLogger } from '../src/shared/logger.js';
import { makeHome } from './helpers/nodes.js';
import { indicator, ipv4, malware } from './helpers/taxii.js';

let ctx: NodeContext;
let n = 0;
beforeAll(async () => {
  const h = await makeHome('us');
  ctx = await openContext(loadConfig(h.home), { log: silentLogger });
});
afterAll(async () => ctx?.close());

type Obj = Record<string, unknown>;
const kinds = ['indicator', 'malware', 'ipv4-addr'] as const;

/** An object of a kind, or a later version of an existing one. */
function make(kind: (typeof kinds)[number], i: number): Obj {
  if (kind === 'indicator') return indicator();
  if (kind === 'malware') return malware(`family-${i}`);
  return ipv4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
}

interface Stored { id: string; date_added: string; type: string }

async function everything(alias: string): Promise<Stored[]> {
  const c = await ctx.taxii.collections.require(alias);
  const rows = await ctx.db.selectFrom('stix_objects').select(['object_id', 'date_added', 'type']).where('collection_key', '=', await ctx.taxii.store.keyOf(ctx.db, c.id)).orderBy('date_added').execute();
  return rows.map((r) => ({ id: r.object_id, date_added: String(r.date_added), type: r.type }));
}

describe('walking next', () => {
  it('returns every matching version exactly once, in order, from any added_after, with concurrent additions', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.constantFrom(...kinds), { minLength: 0, maxLength: 40 }),
      fc.nat({ max: 45 }),
      fc.integer({ min: 1, max: 7 }),
      fc.array(fc.array(fc.constantFrom(...kinds), { maxLength: 3 }), { maxLength: 12 }),
      fc.option(fc.constantFrom(...kinds), { nil: null }),
      fc.boolean(),
      async (initial, startAt, limit, additions, type, reversion) => {
        const alias = `walk-${n++}`;
        await ctx.taxii.collections.add({ alias });
        const add = async (objs: Obj[]): Promise<void> => {
          if (objs.length > 0) expect((await ctx.taxii.add(NODE_ADMIN, alias, { objects: objs })).failure_count).toBe(0);
        };
        const firstBatch = initial.map((k, i) => make(k, i));
        // Some objects get a second version, so that versions interleave with other objects.
        const versions = reversion ? firstBatch.filter((o) => o.type === 'indicator').map((o) => ({ ...o, modified: '2026-12-01T00:00:00.000Z' })) : [];
        for (const o of [...firstBatch, ...versions]) await add([o]);
        const before = await everything(alias);
        const start = startAt === 0 || before.length === 0 ? null : before[Math.min(startAt, before.length) - 1]!.date_added;
        const q: Record<string, unknown> = { 'match[version]': 'all', limit: String(limit) };
        if (start !== null) q.added_after = formatMicros(Number(start));
        if (type !== null) q['match[type]'] = type;
        const seen: Stored[] = [];
        let next: string | null = null;
        let round = 0;
        for (let guard = 0; guard < 1000; guard++) {
          const page = await ctx.taxii.page(NODE_ADMIN, alias, 'objects', next === null ? q : { ...q, next });
          expect(page.rows.length).toBeLessThanOrEqual(limit);
          seen.push(...page.rows.map((r) => ({ id: r.object_id, date_added: String(r.date_added), type: (JSON.parse(r.object) as { type: string }).type })));
          // Other clients add objects while this one walks.
          await add((additions[round++] ?? []).map((k, i) => make(k, 1000 + round * 10 + i)));
          if (!page.more) break;
          next = page.next;
        }
        const expected = (await everything(alias)).filter((s) => (start === null || BigInt(s.date_added) > BigInt(start)) && (type === null || s.type === type));
        expect(seen.map((s) => s.date_added)).toEqual(expected.map((s) => s.date_added).slice(0, seen.length));
        // Everything added before the walk ended is seen (additions after the last page are not yet due).
        const lastRoundAdds = (additions[round - 1] ?? []).filter((k) => type === null || k === type).length;
        expect(seen.length).toBeGreaterThanOrEqual(expected.length - lastRoundAdds);
        expect(new Set(seen.map((s) => s.date_added)).size).toBe(seen.length);
      },
    ), { numRuns: 40 });
  });

  it('the latest-version walk (the default) returns each object once when only new objects arrive', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat({ max: 3 }), { maxLength: 8 }), async (count, limit, adds) => {
      const alias = `last-${n++}`;
      await ctx.taxii.collections.add({ alias });
      const objs = Array.from({ length: count }, () => indicator());
      await ctx.taxii.add(NODE_ADMIN, alias, { objects: objs });
      const ids: string[] = [];
      let next: string | null = null;
      const added: Obj[] = [];
      for (let round = 0; round < 200; round++) {
        const page = await ctx.taxii.page(NODE_ADMIN, alias, 'objects', next === null ? { limit: String(limit) } : { limit: String(limit), next });
        ids.push(...page.rows.map((r) => r.object_id));
        const more = Array.from({ length: adds[round] ?? 0 }, () => indicator());
        if (more.length > 0) await ctx.taxii.add(NODE_ADMIN, alias, { objects: more });
        added.push(...more);
        if (!page.more) {
          // What arrived after the last page is for the next walk: everything before it was seen once, in order.
          const all = [...objs, ...added].map((o) => o.id as string);
          expect(ids).toEqual(all.slice(0, ids.length));
          expect(ids.length).toBeGreaterThanOrEqual(all.length - more.length);
          return;
        }
        next = page.next;
      }
      throw new Error('walk did not end');
    }), { numRuns: 30 });
  });
});
