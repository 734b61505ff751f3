import { createRequire } from 'node:module';
import type { Kysely, Transaction } from 'kysely';
import { afterEach, expect, it, vi } from 'vitest';
import type { Store } from '../../adapters/storage/schema.js';
import { notificationSinks } from '../../adapters/sinks/sinks.js';
import { FakeClock, isoTime } from '../../shared/clock.js';
import { uuidv7 } from '../../shared/ids.js';
import { silentLogger } from '../../shared/logger.js';
import { addContact, setRota } from '../directory/directory.service.js';
import { messageNeighbours, shortMessageIdEach, shortMessageIds } from '../federation/federation.ids.js';
import { shortIds } from '../../shared/shortid.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { Envelope, Self } from '../federation/federation.types.js';
import { deadlinesHook } from './deadlines.hook.js';
import { notify, notifyMany } from './deadlines.notify.js';
import { DeadlineProcessor } from './deadlines.processor.js';
import { openTestStore } from '../../../test/helpers/pg.js';
import { describeEachDialect, storeDialect } from '../../../test/helpers/stores.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** Called as each alert is rendered (deadlines.alerts.ts alertOf, wrapped below). */
const rendering = vi.hoisted(() => ({ onAlert: (): void => {} }));
vi.mock('./deadlines.alerts.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('./deadlines.alerts.js')>();
  return { ...m, alertOf: (...args: Parameters<typeof m.alertOf>) => (rendering.onAlert(), m.alertOf(...args)) };
});

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
});

const SENT = Date.UTC(2026, 0, 1, 12);
let seq = 0;

/** Stores `n` received FLASH inquiries on crisis (the message and its deadline, step 0 due at once); their ids. */
async function received(db: Store, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = uuidv7();
    seq++;
    const env = {
      v: 1, id, from: 'us', to: 'ru', seq, prev: '0'.repeat(64), sent_at: isoTime(SENT), kind: 'inquiry', channel: 'crisis', case: id,
      in_reply_to: null, priority: 'flash', tlp: 'amber', body: { text: `inquiry ${i}` }, sig: '',
    } as Envelope;
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('messages').values({
        id, direction: 'in', from_party: 'us', to_party: 'ru', seq, hash: `h${id}`, kind: env.kind, channel: env.channel, case_id: id,
        in_reply_to: null, priority: env.priority, tlp: env.tlp, sent_at: env.sent_at, envelope: JSON.stringify(env), stored_at: SENT, receipt: null, receipted_at: null,
      }).execute();
      await deadlinesHook.apply!(trx as unknown as Transaction<FederationTables>, { env, direction: 'in', hash: '', storedAt: SENT });
      await deadlinesHook.flush!(trx as unknown as Transaction<FederationTables>);
    });
    ids.push(id);
  }
  return ids;
}

describeEachDialect('deadlines: a round of due steps', () => {
  it('costs the same handful of statements for 2 due steps as for 20, and decides each once with its alert and deliveries', async () => {
    const db = await openTestStore(storeDialect());
    stores.push(db);
    const clock = new FakeClock(SENT);
    const self: Self = { party: 'ru', name: 'RU', url: 'http://127.0.0.1:1', channels: ['crisis'] };
    const alice = await addContact({ db, self, clock }, { channel: 'crisis', function: 'Duty officer', name: 'Alice', email: 'alice@ru.example' });
    await setRota({ db, self, clock }, { channel: 'crisis', primary: alice.id, notify: { primary: { webhook: 'https://hooks.ru.example/duty' } } });
    // Every statement the processor runs, counted as its result comes back (compiled statements included).
    let statements = 0;
    const counted = (db as unknown as Kysely<never>).withPlugin({
      transformQuery: (a) => a.node,
      transformResult: (a) => {
        statements++;
        return Promise.resolve(a.result);
      },
    }) as unknown as Store;
    const p = new DeadlineProcessor({ db: counted, clock, party: 'ru', notify: { webhook: { url: 'https://ops.ru.example/hook' } }, sinks: notificationSinks({}), log: silentLogger });
    // Deciding only (runOnce would go on to deliver, a statement or two per delivery).
    const decide = (): Promise<number> => (p as unknown as { decideDue(): Promise<number> }).decideDue();

    const counts: number[] = [];
    for (const n of [2, 20]) {
      const ids = await received(db, n);
      statements = 0;
      expect(await decide()).toBe(n);
      counts.push(statements);
      const notes = await db.selectFrom('notifications').select(['id', 'message_id', 'step', 'payload']).where('message_id', 'in', ids).execute();
      expect(notes.map((x) => [x.message_id, x.step]).sort()).toEqual(ids.map((id) => [id, '0']).sort());
      const short = await shortMessageIds(db, ids);
      for (const x of notes) {
        const body = JSON.parse(x.payload) as Record<string, unknown>;
        expect(body).toMatchObject({ id: x.id, type: 'hotline.escalation', message_id: x.message_id, step: 0, position: 'primary', contact: { name: 'Alice' }, tlp: 'amber' });
        // Shown alone in its alert, an id needs no more characters than in a listing of the round's ids.
        expect((body.short_id as string).length).toBeLessThanOrEqual(short.get(x.message_id)!.length);
      }
      const deliveries = await db.selectFrom('notification_deliveries').select(['target']).where('notification_id', 'in', notes.map((x) => x.id)).execute();
      expect(deliveries.map((d) => d.target).sort()).toEqual(notes.flatMap(() => ['https://hooks.ru.example/duty', 'https://ops.ru.example/hook']).sort());
      expect(new Set((await db.selectFrom('deadlines').select('next_step').where('message_id', 'in', ids).execute()).map((r) => r.next_step))).toEqual(new Set(['1']));
      // Decided once: nothing more is due now.
      expect(await decide()).toBe(0);
    }
    // One round: claim, move forward, messages, short ids, rota (3), notifications, sinks, deliveries.
    expect(counts[1]).toBe(counts[0]);
    expect(counts[1]).toBeLessThanOrEqual(10);
  });
});

describeEachDialect('deadlines: notifyMany', () => {
  it('queues each (message, step) once, as notify() does: one queued before, or twice in the batch, gets no new row and no deliveries', async () => {
    const db = await openTestStore(storeDialect());
    stores.push(db);
    const deps = { db, clock: new FakeClock(), notify: { webhook: { url: 'http://127.0.0.1:9/hook' } } };
    const before = await notify(deps, { message_id: 'm1', step: '0', payload: { type: 'first' } });
    const ids = await notifyMany(deps, [
      { message_id: 'm1', step: '0', payload: { type: 'again' }, targets: { webhook: 'http://127.0.0.1:9/m1' } },
      { message_id: 'm2', step: '0', payload: { type: 'new' }, subject: 'New', targets: { webhook: 'http://127.0.0.1:9/m2', email: 'a@b.example' } },
      { message_id: 'm2', step: '0', payload: { type: 'twice' }, targets: { webhook: 'http://127.0.0.1:9/twice' } },
      { message_id: 'm2', step: '1', payload: { type: 'next' } },
    ]);
    expect(ids).toEqual([undefined, expect.any(String), undefined, expect.any(String)]);
    expect(await notifyMany(deps, [{ message_id: 'm2', step: '1', payload: { type: 'later' } }])).toEqual([undefined]);
    expect(await notifyMany(deps, [])).toEqual([]);
    const rows = await db.selectFrom('notifications').select(['id', 'message_id', 'step', 'payload']).orderBy('message_id').orderBy('step').execute();
    expect(rows).toEqual([
      { id: before, message_id: 'm1', step: '0', payload: JSON.stringify({ type: 'first', id: before }) },
      { id: ids[1], message_id: 'm2', step: '0', payload: JSON.stringify({ type: 'new', id: ids[1], subject: 'New' }) },
      { id: ids[3], message_id: 'm2', step: '1', payload: JSON.stringify({ type: 'next', id: ids[3] }) },
    ]);
    // No SMTP: no e-mail; the configured webhook for each new notification, and its own extra one.
    const deliveries = await db.selectFrom('notification_deliveries').select(['notification_id', 'target', 'state']).orderBy('notification_id').orderBy('target').execute();
    expect(deliveries).toEqual([
      { notification_id: before, target: 'http://127.0.0.1:9/hook', state: 'pending' },
      { notification_id: ids[1], target: 'http://127.0.0.1:9/hook', state: 'pending' },
      { notification_id: ids[1], target: 'http://127.0.0.1:9/m2', state: 'pending' },
      { notification_id: ids[3], target: 'http://127.0.0.1:9/hook', state: 'pending' },
    ].sort((a, b) => (a.notification_id! < b.notification_id! ? -1 : a.notification_id! > b.notification_id! ? 1 : a.target < b.target ? -1 : 1)));
  });
});

describeEachDialect('deadlines: short ids of a round', () => {
  it('each id is named as if alone: by its stored neighbours, read for all ids at once', async () => {
    const db = await openTestStore(storeDialect());
    stores.push(db);
    await received(db, 5);
    const stored = (await db.selectFrom('messages').select('id').orderBy('id').execute()).map((r) => r.id);
    // Ids made in the same millisecond share all but their last characters.
    const absent = `${stored[2]!.slice(0, 30)}ffffff`;
    const around = await messageNeighbours(db, [stored[0]!, stored[2]!, stored[4]!, absent, stored[2]!]);
    expect(around).toEqual(new Map([
      [stored[0]!, [stored[1]!]], [stored[2]!, [stored[1]!, stored[3]!]], [stored[4]!, [stored[3]!]],
      [absent, [...stored.filter((id) => id < absent).slice(-1), ...stored.filter((id) => id > absent).slice(0, 1)]],
    ]));
    expect(await messageNeighbours(db, [])).toEqual(new Map());
    const each = await shortMessageIdEach(db, [stored[0]!, stored[2]!]);
    expect(each).toEqual(new Map([[stored[0]!, shortIds(stored.slice(0, 2)).get(stored[0]!)], [stored[2]!, shortIds(stored.slice(1, 4)).get(stored[2]!)]]));
    // A listing names its ids among each other too: the same as one read per id did.
    expect(await shortMessageIds(db, stored)).toEqual(shortIds(stored));
  });
});

describeEachDialect('deadlines: a backlog of due steps', () => {
  it('is claimed in rounds straight off the index, each step decided once; on PostgreSQL rounds of 200, rendered with the event loop let in', async () => {
    const db = await openTestStore(storeDialect());
    stores.push(db);
    const postgres = storeDialect() === 'postgres';
    const clock = new FakeClock(SENT);
    // A backlog, all due at the same moment (a node back after an outage, a burst of FLASH): ties on
    // next_at, which the claim's order breaks by message id.
    const ids = await received(db, 450);
    // Turns of the event loop, counted by a ticker that queues itself again on every turn.
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    // The most alerts rendered in one turn of the event loop: while they render, no request is served.
    let inTurn = 0;
    let turnAt = -1;
    let mostInTurn = 0;
    rendering.onAlert = () => {
      if (turnAt !== ticks) [turnAt, inTurn] = [ticks, 0];
      mostInTurn = Math.max(mostInTurn, ++inTurn);
    };
    // The claims: a SELECT from deadlines with a LIMIT.
    let claims = 0;
    const counted = (db as unknown as Kysely<never>).withPlugin({
      transformQuery: (a) => {
        const node = a.node as { kind: string; limit?: unknown; from?: { froms: { table?: { identifier?: { name?: string } } }[] } };
        if (node.kind === 'SelectQueryNode' && node.limit !== undefined && node.from?.froms[0]?.table?.identifier?.name === 'deadlines') claims++;
        return a.node;
      },
      transformResult: (a) => Promise.resolve(a.result),
    }) as unknown as Store;
    const p = new DeadlineProcessor({ db: counted, clock, party: 'ru', notify: {}, sinks: notificationSinks({}), log: silentLogger });
    try {
      expect(await (p as unknown as { decideDue(): Promise<number> }).decideDue()).toBe(450);
    } finally {
      ticking = false;
      rendering.onAlert = () => {};
    }
    const notes = await db.selectFrom('notifications').select(['message_id', 'step']).where('message_id', 'in', ids).execute();
    expect(notes.map((x) => [x.message_id, x.step]).sort()).toEqual(ids.map((id) => [id, '0']).sort());
    // Rounds of 200 (PostgreSQL: each statement is a round trip) or 25 (SQLite), until one is not
    // full: 200, 200, 50; or 18 full rounds of 25 and a 19th that finds nothing.
    expect(claims).toBe(postgres ? 3 : 19);
    // Never more than 25 alerts rendered without letting requests in: PostgreSQL renders its rounds of
    // 200 in slices; SQLite's rounds are 25 (it cannot yield inside a transaction: it holds the one writer).
    expect(mostInTurn).toBe(25);
  });
});

describeEachDialect('deadlines: the claim of due steps', () => {
  it('reads the due rows in claim order off an index, sorting none (a sort read every due row of a moment to return a round)', async () => {
    const db = await openTestStore(storeDialect());
    stores.push(db);
    const claim = sql`select * from deadlines where next_at <= ${SENT} order by next_at, message_id limit 25`;
    let plan: string;
    if (storeDialect() === 'postgres') {
      // The planner's choices made for a large table: a small one would be scanned and sorted anyway.
      plan = await db.transaction().execute(async (trx) => {
        for (const off of ['enable_seqscan', 'enable_sort', 'enable_incremental_sort']) await sql`select set_config(${off}, 'off', true)`.execute(trx);
        const rows = await sql<{ 'QUERY PLAN': string }>`explain ${claim} for update skip locked`.execute(trx);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan using deadlines_next_at/);
    } else {
      const rows = await sql<{ detail: string }>`explain query plan ${claim}`.execute(db);
      plan = rows.rows.map((r) => r.detail).join('\n');
      expect(plan).toMatch(/USING INDEX deadlines_next_at/);
    }
    expect(plan).not.toMatch(/sort|temp b-tree/i);
  });
});
