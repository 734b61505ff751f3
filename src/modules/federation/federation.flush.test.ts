import { InsertQueryNode, type Kysely, type KyselyPlugin } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { describeEachDialect, makeStorePair, send, type StorePair } from '../../../test/helpers/stores.js';
import { casesHook } from '../cases/cases.hook.js';
import { deadlinesHook } from '../deadlines/deadlines.hook.js';
import { receiveBatch } from './federation.receive.js';
import type { FederationTables } from './federation.tables.js';

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/** The store seen through a plugin that counts INSERT statements per table. */
function countingInserts(db: Kysely<FederationTables>): { db: Kysely<FederationTables>; inserts: Map<string, number> } {
  const inserts = new Map<string, number>();
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (InsertQueryNode.is(args.node)) {
        const table = args.node.into?.table.identifier.name ?? '?';
        inserts.set(table, (inserts.get(table) ?? 0) + 1);
      }
      return args.node;
    },
    transformResult: (args) => Promise.resolve(args.result),
  };
  return { db: db.withPlugin(plugin), inserts };
}

describeEachDialect('hooks that keep rows back until the batch flushes', () => {
  it('a batch opens, follows up and closes cases in one INSERT per table; replies find cases opened earlier in the batch', async () => {
    pair = await makeStorePair();
    const [n1, n2, n3] = await send(pair.a, pair.b, 3);
    const [follow] = await send(pair.a, pair.b, 1, { case: n1!.id, in_reply_to: n1!.id, body: { text: 'more on this' } });
    const [close] = await send(pair.a, pair.b, 1, { kind: 'case-close', case: n2!.id, in_reply_to: n2!.id, body: { text: 'done' } });
    const counted = countingInserts(pair.b.db);
    const b = { ...pair.b, db: counted.db, hooks: [casesHook, deadlinesHook] };
    const results = await receiveBatch(b, [n1, n2, n3, follow, close]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(counted.inserts.get('cases')).toBe(1);
    expect(counted.inserts.get('deadlines')).toBe(1);
    const cases = await pair.b.db.withTables<{ cases: { id: string; state: string; last_message_id: string; closed_by: string | null } }>()
      .selectFrom('cases').select(['id', 'state', 'last_message_id', 'closed_by']).orderBy('id').execute();
    expect(cases).toEqual([
      { id: n1!.id, state: 'open', last_message_id: follow!.id, closed_by: null },
      { id: n2!.id, state: 'closed', last_message_id: close!.id, closed_by: close!.id },
      { id: n3!.id, state: 'open', last_message_id: n3!.id, closed_by: null },
    ].sort((x, y) => (x.id < y.id ? -1 : 1)));
    const deadlines = await pair.b.db.withTables<{ deadlines: { message_id: string } }>().selectFrom('deadlines').select('message_id').execute();
    expect(deadlines.map((d) => d.message_id).sort()).toEqual([n1!.id, n2!.id, n3!.id, follow!.id].sort());
  });

  it('a refusal in the batch: the others keep their cases and deadlines, the refused one leaves none', async () => {
    pair = await makeStorePair();
    const [n1] = await send(pair.a, pair.b, 1);
    // In a case this node does not hold: refused (not_in_case) by the cases hook.
    const [stray] = await send(pair.a, pair.b, 1, { case: '01890000-0000-7000-8000-000000000000' });
    const b = { ...pair.b, hooks: [casesHook, deadlinesHook] };
    const results = await receiveBatch(b, [n1, stray]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'not_in_case']);
    const cases = await pair.b.db.withTables<{ cases: { id: string } }>().selectFrom('cases').select('id').execute();
    expect(cases.map((c) => c.id)).toEqual([n1!.id]);
    const deadlines = await pair.b.db.withTables<{ deadlines: { message_id: string } }>().selectFrom('deadlines').select('message_id').execute();
    expect(deadlines.map((d) => d.message_id)).toEqual([n1!.id]);
  });
});
