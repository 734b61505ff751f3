import { RawNode, sql, type Kysely, type KyselyPlugin } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { fail } from '../../shared/errors.js';
import { describeEachDialect, makeStorePair, send, type StoreNode, type StorePair } from '../../../test/helpers/stores.js';
import { enqueue } from './federation.outbox.js';
import { receiveBatch } from './federation.receive.js';
import type { MessageHook } from './federation.hooks.js';
import type { FederationTables } from './federation.tables.js';

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/**
 * A hook that writes a row for every message it applies (to a table of its own) and then, for a
 * message whose body says so, refuses it: what it wrote must go with the refusal.
 */
function refusingHook(): MessageHook {
  return {
    name: 'refuses-on-demand',
    async apply(trx, m) {
      await sql`insert into hook_effects (id) values (${m.env.id})`.execute(trx);
      if (m.env.body.refuse === true) fail('invalid_argument', 'this hook refuses the message');
    },
  };
}

async function withEffects(node: StoreNode): Promise<StoreNode> {
  await sql`create table hook_effects (id text primary key)`.execute(node.db);
  return { ...node, hooks: [refusingHook()] };
}

async function effects(db: Kysely<FederationTables>): Promise<string[]> {
  return (await sql<{ id: string }>`select id from hook_effects order by id`.execute(db)).rows.map((r) => r.id);
}

describeEachDialect('a hook that refuses in apply', () => {
  it('on receive: the envelope is refused with no row, no effect and no advance of the link; the batch goes on', async () => {
    pair = await makeStorePair();
    const b = await withEffects(pair.b);
    const first = await send(pair.a, pair.b, 1);
    const [refused] = await send(pair.a, pair.b, 1, { body: { text: 'refuse me', refuse: true } });
    const rest = await send(pair.a, pair.b, 2);
    const results = await receiveBatch(b, [...first, refused, ...rest]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'invalid_argument', 'seq_gap', 'seq_gap']);
    expect(results[2]!.ok ? undefined : results[2]!.error.expected_seq).toBe(2);
    const rows = await b.db.selectFrom('messages').select(['id', 'seq']).where('direction', '=', 'in').orderBy('seq').execute();
    expect(rows).toEqual([{ id: first[0]!.id, seq: 1 }]);
    expect(await effects(b.db)).toEqual([first[0]!.id]);
    const link = await b.db.selectFrom('links').selectAll().where('from_party', '=', pair.a.self.party).executeTakeFirstOrThrow();
    expect(Number(link.last_seq)).toBe(1);
    // A later batch resumes from the stored head: the refused seq is still the one expected.
    const again = await receiveBatch(b, [refused]);
    expect(again[0]!.ok ? 'ok' : again[0]!.error.code).toBe('invalid_argument');
    expect(await effects(b.db)).toEqual([first[0]!.id]);
  });

  it('on receive: envelopes the hooks accept are stored with their effects', async () => {
    pair = await makeStorePair();
    const b = await withEffects(pair.b);
    const [ok1, ok2] = await send(pair.a, pair.b, 2);
    const results = await receiveBatch(b, [ok1, ok2]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await effects(b.db)).toEqual([ok1!.id, ok2!.id].sort());
  });

  it('on receive: a batch the hooks accept takes no savepoint; one with a refusal is run again with one per message', async () => {
    pair = await makeStorePair();
    const b = await withEffects(pair.b);
    const counted = countingSavepoints(b.db);
    const accepted = await send(pair.a, pair.b, 3);
    expect((await receiveBatch({ ...b, db: counted.db }, accepted)).every((r) => r.ok)).toBe(true);
    expect(counted.savepoints).toBe(0);
    const [refused] = await send(pair.a, pair.b, 1, { body: { text: 'refuse me', refuse: true } });
    const [after] = await receiveBatch({ ...b, db: counted.db }, [refused]);
    expect(after!.ok ? 'ok' : after!.error.code).toBe('invalid_argument');
    expect(counted.savepoints).toBe(1);
    expect(await effects(b.db)).toEqual(accepted.map((e) => (e as { id: string }).id).sort());
  });

  it('on send: the refused draft takes no seq and leaves no effect; the next draft takes the seq', async () => {
    pair = await makeStorePair();
    const a = await withEffects(pair.a);
    const draft = { to: pair.b.self.party, kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'green' } as const;
    const one = await enqueue(a, { ...draft, body: { text: 'one' } });
    const [refused, two] = await Promise.allSettled([
      enqueue(a, { ...draft, body: { text: 'refuse me', refuse: true } }),
      enqueue(a, { ...draft, body: { text: 'two' } }),
    ]);
    expect(refused.status).toBe('rejected');
    expect(refused.status === 'rejected' ? (refused.reason as { code?: string }).code : undefined).toBe('invalid_argument');
    expect(two.status === 'fulfilled' ? two.value.seq : undefined).toBe(2);
    expect(two.status === 'fulfilled' ? two.value.prev : undefined).toBe(
      (await a.db.selectFrom('messages').select('hash').where('id', '=', one.id).executeTakeFirstOrThrow()).hash,
    );
    const rows = await a.db.selectFrom('messages').select(['seq', 'id']).where('direction', '=', 'out').orderBy('seq').execute();
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2]);
    expect(await effects(a.db)).toEqual(rows.map((r) => r.id).sort());
    const link = await a.db.selectFrom('links').selectAll().where('to_party', '=', pair.b.self.party).executeTakeFirstOrThrow();
    expect(Number(link.last_seq)).toBe(2);
    // The chain the peer receives has no gap.
    const got = await receiveBatch(pair.b, (await a.db.selectFrom('messages').select('envelope').where('direction', '=', 'out').orderBy('seq').execute()).map((r) => JSON.parse(r.envelope) as unknown));
    expect(got.every((r) => r.ok)).toBe(true);
  });
});

/** The store seen through a plugin that counts the savepoints taken (SQL `savepoint ...` statements). */
function countingSavepoints(db: Kysely<FederationTables>): { db: Kysely<FederationTables>; savepoints: number } {
  const counted = { db, savepoints: 0 };
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (RawNode.is(args.node) && /^\s*savepoint\b/i.test(args.node.sqlFragments.join(''))) counted.savepoints++;
      return args.node;
    },
    transformResult: (args) => Promise.resolve(args.result),
  };
  counted.db = db.withPlugin(plugin);
  return counted;
}
