/**
 * The failover drill (issue 13, "a standby that takes over"; docs/standby.md). Node `us` keeps its
 * store on a PostgreSQL primary with a synchronous streaming standby; node `ru` is on SQLite. Both
 * send a stream to each other. While a delivery from ru is on its way into us, the primary is
 * killed with -9 (the postmaster and every backend at once, as when its machine is lost), then us
 * too. The standby is promoted, us's hotline.json is pointed at it, us is started again, and the
 * streams are finished: every message ru holds a receipt for is on the promoted standby, nothing
 * arrives twice on either side, `hotline verify` passes on both and the link hashes are equal.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, hl } from './helpers/cli.js';
import { makeHome, peerAll, tempDir, type TestHome } from './helpers/nodes.js';
import { readStore, sleep, startProcesses, type NodeProcess } from './helpers/processes.js';
import { TcpProxy, type Exchange } from './helpers/proxy.js';
import { describeStandby, makePgHome, pointStoreAt, StandbyDrill, STANDBY_NAME } from './helpers/standby.js';

/** Messages each way. */
const TOTAL = 1500;
/** Concurrent POSTs to each node per wave. */
const WAVE = 50;
/** The kill is armed once us has receipted this many of ru's messages and ru holds this many of us's. */
const ARM_AT = 300;
const DELIVERY = { delivery: { batchSize: 50, backoffMaxMs: 2_000 } };

interface Row { id: string; seq: number; hash: string }
interface VerifyReport { ok: boolean; problems: unknown[]; links: { from: string; to: string; messages: number; last_seq: number; head_hash: string }[] }

describeStandby('a standby that takes over: kill -9 of the primary mid-stream, promote, point the node at it', () => {
  let drill: StandbyDrill | undefined;
  let proxy: TcpProxy | undefined;
  let onB: Database.Database | undefined;
  const procs: NodeProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    drill = await StandbyDrill.create();
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill9()));
    onB?.close();
    await proxy?.close();
    drill?.drop();
  });

  it('loses nothing that was receipted, delivers nothing twice, and verifies on both sides', async () => {
    const d = drill!;
    // The drill's premise: the primary waits for the standby at each commit.
    expect(await d.query<{ sync_state: string }>(d.primary, `select sync_state from pg_stat_replication where application_name = '${STANDBY_NAME}'`)).toEqual([{ sync_state: 'sync' }]);

    proxy = await TcpProxy.start();
    const dir = tempDir();
    // us is pinned by ru at the proxy's URL: every delivery from ru to us passes through it.
    const us = await makePgHome('us', d.url(d.primary), { ...DELIVERY, url: proxy.url }, dir);
    const ru = await makeHome('ru', DELIVERY, dir);
    await peerAll(us, ru);
    proxy.target = us.port;
    const direct = (h: TestHome): { home: string; url: string } => ({ home: h.home, url: `http://127.0.0.1:${h.port}` });
    const [a, b] = (await startProcesses([direct(us), direct(ru)])) as [NodeProcess, NodeProcess];
    procs.push(a, b);

    // ru's store, read synchronously from the proxy's callback (a read-only connection kept open).
    onB = new Database(join(ru.home, 'hotline.db'), { readonly: true, fileMustExist: true });
    const count = (q: string): () => number => {
      const st = onB!.prepare(q);
      return () => (st.get() as { n: number }).n;
    };
    const receiptedOnB = count("select count(*) as n from messages where direction = 'out' and to_party = 'us' and receipt is not null");
    const queuedOnB = count("select count(*) as n from messages where direction = 'out' and to_party = 'us'");
    const heldByB = count("select count(*) as n from messages where direction = 'in' and from_party = 'us'");

    // Armed from the start: the primary dies as the first chunk of a request from ru to us has
    // just been forwarded, once both streams are well under way and ru has messages us has not
    // receipted. us stays up a moment without its store (it must answer with an error, never a
    // receipt), then it is killed too.
    let fired: { exchange: Exchange; pids: number[]; receipted: number; queued: number; held: number } | undefined;
    proxy.decide = (phase, x) => {
      if (phase !== 'request' || fired !== undefined) return 'forward';
      const receipted = receiptedOnB();
      const queued = queuedOnB();
      const held = heldByB();
      if (receipted < ARM_AT || held < ARM_AT || queued <= receipted) return 'forward';
      fired = { exchange: x, pids: d.crashPrimary(), receipted, queued, held };
      return 'forward';
    };

    const sendBody = (to: string, i: number): string => JSON.stringify({ to, channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: `${to === 'us' ? 'ru' : 'us'} message ${i}` });
    const post = async (h: TestHome, to: string, i: number): Promise<string | null> => {
      try {
        const res = await fetch(`http://127.0.0.1:${h.port}/api/v1/messages`, {
          method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, body: sendBody(to, i),
        });
        return res.status === 202 ? ((await res.json()) as { id: string }).id : null;
      } catch {
        return null; // the node died under this request: never acknowledged
      }
    };
    const ackedByA: string[] = [];
    const ackedByB: string[] = [];
    let postsToA = 0;
    let postsToB = 0;
    const wave = async (): Promise<void> => {
      const toB = Math.min(WAVE, TOTAL - ackedByB.length);
      const toA = Math.min(WAVE, TOTAL - ackedByA.length);
      const [fromB, fromA] = await Promise.all([
        Promise.all(Array.from({ length: toB }, () => post(ru, 'us', ++postsToB))),
        Promise.all(Array.from({ length: toA }, () => post(us, 'ru', ++postsToA))),
      ]);
      for (const id of fromB) if (id !== null) ackedByB.push(id);
      for (const id of fromA) if (id !== null) ackedByA.push(id);
    };

    // 1. Both streams until the primary dies.
    while (fired === undefined && (ackedByA.length < TOTAL || ackedByB.length < TOTAL)) await wave();
    for (let i = 0; i < 2400 && fired === undefined; i++) await sleep(50);
    expect(fired, 'the primary was killed mid-stream').toBeDefined();
    const kill = fired!;
    // us outlives its store: it answers the request in flight (with an error: its commit failed)
    // and does not end on the broken connections.
    for (let i = 0; i < 1200 && !kill.exchange.responded; i++) await sleep(50);
    expect(kill.exchange.responded).toBe(true);
    expect(a.child?.exitCode).toBeNull();
    expect(a.child?.signalCode).toBeNull();
    const ackedByABeforeKill = [...ackedByA];
    await a.kill9();

    // What ru holds now is all us ever signed: us is dead and its primary with it.
    const receiptedAtKill = readStore(ru.home, (db) => db.prepare("select id from messages where direction = 'out' and to_party = 'us' and receipt is not null").all() as { id: string }[]).map((r) => r.id);
    const heldAtKill = heldByB();
    const queuedAtKill = queuedOnB();
    expect(kill.pids.length).toBeGreaterThan(1); // the postmaster and its backends
    await expect(d.query(d.primary, 'select 1')).rejects.toThrow();

    // 2. Failover: promote the standby; before us runs again, the standby already holds every
    // message ru has a receipt for and every message us acknowledged to a client.
    await d.promote();
    const onStandby = new Set((await d.query<{ id: string }>(d.standby, "select id from messages where direction = 'in' and from_party = 'ru'")).map((r) => r.id));
    expect(receiptedAtKill.filter((id) => !onStandby.has(id))).toEqual([]);
    const outOnStandby = new Set((await d.query<{ id: string }>(d.standby, "select id from messages where direction = 'out' and to_party = 'ru'")).map((r) => r.id));
    expect(ackedByABeforeKill.filter((id) => !outOnStandby.has(id))).toEqual([]);
    const unreceiptedOnAAtKill = (await d.query<{ n: number }>(d.standby, "select count(*)::int as n from messages where direction = 'out' and receipt is null"))[0]!.n;

    pointStoreAt(us.home, d.url(d.standby));
    await a.start();

    // 3. Both streams to the end, on the promoted standby.
    while (ackedByA.length < TOTAL || ackedByB.length < TOTAL) await wave();
    for (let i = 0; i < 6000 && receiptedOnB() < TOTAL; i++) await sleep(50);
    const unreceiptedOnA = async (): Promise<number> => (await d.query<{ n: number }>(d.standby, "select count(*)::int as n from messages where direction = 'out' and receipt is null"))[0]!.n;
    for (let i = 0; i < 6000 && (await unreceiptedOnA()) > 0; i++) await sleep(50);
    await a.stop();
    await b.stop();

    console.log(`[standby drill] killed ${kill.pids.length} processes of the primary with ru at ${kill.receipted}/${kill.queued} receipted, ${kill.held} of us's held; `
      + `after us died: ${receiptedAtKill.length} receipted of ${queuedAtKill} queued on ru, ${heldAtKill} of us's held by ru, ${unreceiptedOnAAtKill} of us's unreceipted on the standby; `
      + `${postsToA - ackedByA.length} POSTs to us failed around the kill`);

    // Mid-stream: receipts before the kill and more after it, both ways.
    expect(kill.receipted).toBeGreaterThan(0);
    expect(queuedAtKill).toBeGreaterThan(receiptedAtKill.length);
    expect(heldAtKill).toBeGreaterThan(0);
    expect(heldAtKill).toBeLessThan(TOTAL);

    // Exactly once, in order, both ways; the same rows on both sides.
    const pgRows = async (direction: string, from: string): Promise<Row[]> => d.query<Row>(d.standby, 'select id, seq::int as seq, hash from messages where direction = $1 and from_party = $2 order by seq', [direction, from]);
    const sqliteRows = (direction: string, from: string): Row[] => readStore(ru.home, (db) => db.prepare('select id, seq, hash from messages where direction = ? and from_party = ? order by seq').all(direction, from) as Row[]);
    const ruToUs = { sent: sqliteRows('out', 'ru'), got: await pgRows('in', 'ru') };
    const usToRu = { sent: await pgRows('out', 'us'), got: sqliteRows('in', 'us') };
    expect(ruToUs.sent).toHaveLength(TOTAL);
    expect(ruToUs.got).toEqual(ruToUs.sent);
    expect(new Set(ruToUs.got.map((r) => r.id)).size).toBe(TOTAL);
    expect(receiptedOnB()).toBe(TOTAL);
    expect(usToRu.sent.length).toBeGreaterThanOrEqual(TOTAL);
    expect(usToRu.got).toEqual(usToRu.sent);
    expect(usToRu.got.map((r) => r.seq)).toEqual(Array.from({ length: usToRu.sent.length }, (_, i) => i + 1));
    expect(new Set(usToRu.got.map((r) => r.id)).size).toBe(usToRu.got.length);
    const delivered = new Set(usToRu.got.map((r) => r.id));
    expect(ackedByA.filter((id) => !delivered.has(id))).toEqual([]);

    // hotline verify on both; the same link heads.
    const reports: VerifyReport[] = [];
    for (const h of [us, ru]) {
      const r = await hl(h.home, 'verify', '--json');
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as VerifyReport;
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      reports.push(report);
    }
    const heads = (rep: VerifyReport): string[] => rep.links.map((l) => `${l.from}→${l.to} ${l.last_seq} ${l.head_hash}`).sort();
    expect(heads(reports[0]!)).toEqual(heads(reports[1]!));
    expect(heads(reports[0]!)).toHaveLength(2);
  });
});
