/**
 * Issue 13 item 3, the check: three processes of one node on one PostgreSQL store, behind a
 * round-robin load balancer, receive and send a stream of messages to and from a peer (SQLite) while
 * one of them is killed with -9 every few seconds and started again. Afterwards: 0 lost and 0
 * duplicated (per message id on each receiver), link hashes equal on both sides, every received
 * message's first escalation step decided, and no notification step decided twice (per row and per
 * "decided" log line across every process's log).
 *
 * HOTLINE_MULTIPROC_MESSAGES sets how many messages go each way: 10,000 by default, the issue's
 * stream (about a minute on a quiet 2-core machine); fewer for a quicker run by hand.
 */
import { afterAll, afterEach, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openContext, type NodeContext } from '../src/context.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { silentLogger } from '../src/shared/logger.js';
import { ensureBuilt, hl } from './helpers/cli.js';
import { eventually, makeHome, peerAll, tempDir } from './helpers/nodes.js';
import { LoadBalancer, startProcessesOf, type NodeOnPort } from './helpers/multiproc.js';
import { makePgHome } from './helpers/pg-homes.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/pg.js';
import { NodeProcess, readStore, sleep } from './helpers/processes.js';

const N = Number(process.env.HOTLINE_MULTIPROC_MESSAGES ?? 10_000);
/** Messages in flight at once from each sender. */
const CONCURRENCY = 16;
/** Kills at least this many times before the stream may count as done. */
const MIN_KILLS = 3;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});
let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

/** Runs `task(i)` for i < n with `limit` at once. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await task(next++);
  }));
}

describePg('three processes of one node on PostgreSQL, one killed with -9 every few seconds', () => {
  it(`${N} messages each way: none lost, none duplicated, link hashes equal, no notification step decided twice`, async () => {
    ensureBuilt();
    database = await createTestDatabase();
    const dir = tempDir();
    let procs: NodeOnPort[] = [];
    const lb = new LoadBalancer(() => procs.map((p) => p.port));
    const lbPort = await lb.listen();
    cleanup.push(() => lb.close());
    const fast = { delivery: { backoffBaseMs: 50, backoffMaxMs: 1000 } } as const;
    const us = await makePgHome('us', database.url, { dir, url: `http://127.0.0.1:${lbPort}`, extra: fast });
    const ru = await makeHome('ru', fast, dir);
    await peerAll(us, ru);
    procs = await startProcessesOf(us.home, 3);
    cleanup.push(() => Promise.all(procs.map((p) => p.kill9())));
    const peer = new NodeProcess(ru.home, ru.url);
    cleanup.push(() => peer.kill9());
    await peer.start();
    // The test's own writer on us's store, as `hotline send` would be: the running processes hear of each message by NOTIFY.
    const ctx: NodeContext = await openContext(loadConfig(us.home), { log: silentLogger });
    cleanup.push(() => ctx.close());

    let kills = 0;
    let done = false;
    const chaos = (async () => {
      for (let i = 0; !done; i++) {
        await sleep(2000 + Math.floor(Math.random() * 1000));
        if (done) break;
        const victim = procs[i % procs.length]!;
        await victim.kill9();
        kills++;
        await victim.start();
      }
    })();

    const toRu: string[] = [];
    const toUs: string[] = [];
    const sending = Promise.all([
      pool(N, CONCURRENCY, async (i) => {
        const env = await send(ctx, { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: `us to ru ${i}` });
        toRu.push(env.id);
      }),
      pool(N, CONCURRENCY, async (i) => {
        const r = await fetch(`${ru.url}/api/v1/messages`, {
          method: 'POST', headers: { authorization: `Bearer ${ru.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: 'us', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: `ru to us ${i}` }),
        });
        if (r.status !== 202) throw new Error(`ru refused message ${i}: ${r.status} ${await r.text()}`);
        toUs.push(((await r.json()) as { id: string }).id);
      }),
    ]);
    try {
      await sending;
      // Done: both links receipted to their last seq, every message to us has its first escalation step decided, and the kills happened.
      await eventually(async () => {
        const out = await ctx.db.selectFrom('links').select(['last_seq', 'acked_seq']).where('from_party', '=', 'us').where('to_party', '=', 'ru').executeTakeFirst();
        const back = readStore(ru.home, (db) => db.prepare(`select last_seq, acked_seq from links where from_party = 'ru' and to_party = 'us'`).get() as { last_seq: number; acked_seq: number });
        const steps = await ctx.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('step', '=', '0').executeTakeFirstOrThrow();
        const ready = out !== undefined && out.last_seq === N && out.acked_seq === N && back.last_seq === N && back.acked_seq === N
          && Number(steps.n) >= N && kills >= MIN_KILLS;
        return ready ? true : undefined;
      }, 100_000, 100);
    } finally {
      done = true;
      await chaos;
    }

    // 0 lost, 0 duplicated, per message id on each receiver.
    const atRu = readStore(ru.home, (db) => db.prepare(`select id, count(*) as n from messages where direction = 'in' and from_party = 'us' group by id`).all() as { id: string; n: number }[]);
    expect(atRu.filter((r) => r.n !== 1)).toEqual([]);
    expect(atRu.map((r) => r.id).sort()).toEqual([...toRu].sort());
    const atUs = await ctx.db.selectFrom('messages').select(['id']).select((eb) => eb.fn.countAll<number>().as('n'))
      .where('direction', '=', 'in').where('from_party', '=', 'ru').groupBy('id').execute();
    expect(atUs.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(atUs.map((r) => r.id).sort()).toEqual([...toUs].sort());

    // Link hashes equal on both sides, both ways; and verify passes on both.
    const usLinks = await ctx.db.selectFrom('links').select(['from_party', 'to_party', 'last_seq', 'head_hash']).orderBy('from_party').execute();
    const ruLinks = readStore(ru.home, (db) => db.prepare('select from_party, to_party, last_seq, head_hash from links order by from_party').all() as typeof usLinks);
    expect(usLinks.map((l) => ({ ...l, last_seq: Number(l.last_seq) }))).toEqual(ruLinks);
    expect(usLinks).toHaveLength(2);

    // No notification step decided twice: one row per (message, step), and one "decided" line across every process's log.
    const twice = await ctx.db.selectFrom('notifications').select(['message_id', 'step']).select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy(['message_id', 'step']).having((eb) => eb.fn.countAll(), '>', 1).execute();
    expect(twice).toEqual([]);
    const firstSteps = await ctx.db.selectFrom('notifications').select('message_id').where('step', '=', '0').execute();
    expect(new Set(firstSteps.map((r) => r.message_id))).toEqual(new Set(toUs));
    const decided = new Map<string, number>();
    const deciders = new Set<number>();
    for (const p of procs) {
      for (const l of p.logLines()) {
        if (l.msg !== 'escalation step decided' && l.msg !== 'overdue alert decided') continue;
        const k = `${String(l.message)} ${String(l.step)}`;
        decided.set(k, (decided.get(k) ?? 0) + 1);
        deciders.add(p.port);
      }
    }
    expect([...decided].filter(([, n]) => n > 1)).toEqual([]);
    // The work was shared (more than one process decided steps) while processes were being killed.
    expect(deciders.size).toBeGreaterThan(1);
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);

    await Promise.all(procs.map((p) => p.stop()));
    await peer.stop();
    expect((await hl(us.home, 'verify')).code).toBe(0);
    expect((await hl(ru.home, 'verify')).code).toBe(0);
    process.stdout.write(`[multiproc] ${N} messages each way, ${kills} kills; requests per process through the balancer: ${JSON.stringify(Object.fromEntries(lb.served))}\n`);
  });
});
