import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openContext, type NodeContext } from '../src/context.js';
import { appendAll } from '../src/modules/federation/federation.outbox.js';
import { verifyStore } from '../src/modules/federation/federation.verify.js';
import { silentLogger } from '../src/shared/logger.js';
import { eventually, makeHome, makePair, peerAll, tempDir, type TestHome, type TestStore } from './helpers/nodes.js';
import { describePg } from './helpers/pg.js';
import { countIn, queryStore, sleep, startProcesses, type NodeProcess } from './helpers/processes.js';
import { TcpProxy, type Cut, type Decision } from './helpers/proxy.js';

const TOTAL = 10_000;
/** Small batches and a short backoff: a segment of 2,000 takes 20 deliveries, and a restarted peer is retried soon. */
const DELIVERY = { delivery: { batchSize: 100, backoffMaxMs: 2_000 } };
const procs: NodeProcess[] = [];
const contexts: NodeContext[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill9()));
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

interface Row { id: string; seq: number; hash: string }

// Each read goes to the home's store, SQLite or PostgreSQL (queryStore), from outside the node's process.
function linkRows(home: string, direction: 'in' | 'out'): Promise<Row[]> {
  return queryStore<Row>(home, "select id, seq, hash from messages where direction = ? and from_party = 'us' and to_party = 'ru' order by seq", direction);
}

function receiptedCount(home: string): Promise<number> {
  return countIn(home, "select count(*) as n from messages where direction = 'out' and receipt is not null");
}

function unreceiptedCount(home: string): Promise<number> {
  return countIn(home, "select count(*) as n from messages where direction = 'out' and receipt is null");
}

function inboundCount(home: string): Promise<number> {
  return countIn(home, "select count(*) as n from messages where direction = 'in'");
}

/** Waits (bounded by tries, not by a clock limit on the test) until every outbound message of `home` is receipted. */
async function allReceipted(home: string, total: number): Promise<void> {
  for (let i = 0; i < 6000 && (await receiptedCount(home)) < total; i++) await sleep(50);
}

/** Waits until every connection the killed server held has closed, so `cut.live` says all the dead server ever sent. */
async function drained(proxy: TcpProxy): Promise<void> {
  await eventually(async () => (proxy.openServerSockets() === 0 ? true : undefined), 2000);
}

/** The invariant after any number of crashes: B holds A's link exactly, once each, in order. */
async function expectExactlyOnceInOrder(us: TestHome, ru: TestHome, total: number): Promise<void> {
  const sent = await linkRows(us.home, 'out');
  const got = await linkRows(ru.home, 'in');
  expect(sent).toHaveLength(total);
  expect(got).toHaveLength(total);
  expect(got.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(new Set(got.map((r) => r.id)).size).toBe(total);
  expect(got).toEqual(sent);
  const heads = await Promise.all([us, ru].map((h) => queryStore(h.home, "select last_seq, head_hash from links where from_party = 'us' and to_party = 'ru'")));
  expect(heads[0]).toHaveLength(1);
  expect(heads[1]).toEqual(heads[0]);
  for (const h of [us, ru]) {
    const ctx = await openContext(loadConfig(h.home), { log: silentLogger });
    contexts.push(ctx);
    const report = await verifyStore(ctx);
    expect(report.problems).toEqual([]);
  }
}

/**
 * A peered pair, each node its own OS process. With `proxyReceiver`, ru's pinned URL is a
 * TcpProxy in front of ru, so every delivery from us to ru passes through it.
 */
async function startPair(proxyReceiver: boolean, store: TestStore): Promise<{ us: TestHome; ru: TestHome; a: NodeProcess; b: NodeProcess; proxy: TcpProxy }> {
  let us: TestHome;
  let ru: TestHome;
  const proxy = await TcpProxy.start();
  proxies.push(proxy);
  if (proxyReceiver) {
    const dir = tempDir();
    us = await makeHome('us', DELIVERY, dir, { store });
    ru = await makeHome('ru', { ...DELIVERY, url: proxy.url }, dir, { store });
    await peerAll(us, ru);
    proxy.target = ru.port;
  } else {
    [us, ru] = await makePair(DELIVERY, { store });
    proxy.target = us.port;
  }
  const direct = (h: TestHome): { home: string; url: string } => ({ home: h.home, url: `http://127.0.0.1:${h.port}` });
  const [a, b] = (await startProcesses([direct(us), direct(ru)])) as [NodeProcess, NodeProcess];
  procs.push(a, b);
  return { us, ru, a, b, proxy };
}

/** What a kill found, read once the killed process is gone (its store no longer changes). */
interface Kill {
  mode: 'request' | 'response';
  cut: Cut;
  /** In-flight exchanges the dead server never sent a byte of answer to. */
  neverAnswered: number;
  /** In-flight exchanges the server answered but whose answer the proxy withheld from the client. */
  withheld: number;
}

async function evidence(proxy: TcpProxy, mode: Kill['mode']): Promise<Kill> {
  await drained(proxy);
  const cut = proxy.cuts.at(-1)!;
  return {
    mode, cut,
    neverAnswered: cut.live.filter((x) => !x.responded).length,
    withheld: cut.live.filter((x) => x.responded && !x.forwarded).length,
  };
}

/** The same drills on each store: SQLite files, and (describePg) each node on its own PostgreSQL database. */
function crashDrills(store: TestStore): void {
  it('loses and duplicates nothing when the receiver is killed again and again mid-stream', async () => {
    const { us, ru, b, proxy } = await startPair(true, store);
    const ctx = await openContext(loadConfig(us.home), { log: silentLogger });
    contexts.push(ctx);
    const draft = { to: 'ru', kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'green' } as const;
    let queued = 0;
    // How many us had queued when the kill landed, read synchronously as the proxy decides. On
    // SQLite: us's link head, read (well under a millisecond) from a connection kept open. On
    // PostgreSQL, which cannot be read synchronously: what this test's appendAll calls have
    // returned so far, each after its commit, so never more than us held.
    let queuedOnA = (): number => queued;
    if (store === 'sqlite') {
      const onA = new Database(join(us.home, 'hotline.db'), { readonly: true, fileMustExist: true });
      const lastSeq = onA.prepare("select last_seq as n from links where from_party = 'us' and to_party = 'ru'");
      queuedOnA = (): number => (lastSeq.get() as { n: number } | undefined)?.n ?? 0;
      onTestFinished(() => {
        onA.close();
      });
    }
    const kills: (Kill & { queuedAtKill: number; heldByB: number; unreceiptedOnA: number })[] = [];
    // Each round arms the proxy, then queues 2,000 more. Once ru has answered a delivery since
    // arming, the kill lands on the next delivery: with its request just forwarded to ru
    // ('request'), or with ru's answer just received and withheld from us ('response': ru has
    // stored the batch, us never learns it and must send it again).
    while (queued < TOTAL) {
      const mode: Kill['mode'] = kills.length % 2 === 0 ? 'request' : 'response';
      let answered = 0;
      let queuedAtKill = -1;
      let exited: Promise<void> | undefined;
      const fire = (d: Decision): Decision => {
        queuedAtKill = queuedOnA(); // read before the kill: us had at least these when it landed
        exited = b.kill9(); // SIGKILL is sent before this returns
        proxy.decide = () => 'forward';
        return d;
      };
      // Each round's first exchange is us's key challenge (protocol section 9.4: after a start or a
      // failed attempt the endpoint proves its key before any batch), so deliveries answered are
      // counted from the second exchange on.
      proxy.decide = (phase) => {
        if (phase === 'response') {
          answered++;
          return mode === 'response' && answered >= 3 ? fire('cut') : 'forward';
        }
        return mode === 'request' && answered >= 2 ? fire('forward-then-cut') : 'forward';
      };
      for (let k = 0; k < 4; k++) {
        const res = await appendAll(ctx, Array.from({ length: 500 }, (_, i) => ({ ...draft, body: { text: `message ${queued + i + 1}` } })));
        expect(res.every((r) => !(r instanceof Error))).toBe(true);
        queued += 500;
      }
      await eventually(async () => (exited === undefined ? undefined : true), 2400);
      await exited;
      const kill = await evidence(proxy, mode);
      kills.push({ ...kill, queuedAtKill, heldByB: await inboundCount(ru.home), unreceiptedOnA: await unreceiptedCount(us.home) });
      await b.start();
    }
    expect(kills).toHaveLength(5);
    for (const k of kills) {
      // Mid-stream: ru held some of the stream but not all that us had queued, us had messages
      // without a receipt, and a delivery was in flight through the proxy when the kill landed.
      expect(k.heldByB).toBeGreaterThan(0);
      expect(k.heldByB).toBeLessThan(k.queuedAtKill);
      expect(k.unreceiptedOnA).toBeGreaterThan(0);
      expect(k.cut.inFlight).toBeGreaterThanOrEqual(1);
      if (k.mode === 'response') expect(k.withheld).toBeGreaterThanOrEqual(1);
    }
    // At least one kill provably landed before ru answered a delivery it had been sent.
    expect(kills.filter((k) => k.mode === 'request').reduce((n, k) => n + k.neverAnswered, 0)).toBeGreaterThanOrEqual(1);
    await allReceipted(us.home, TOTAL);
    expect(await receiptedCount(us.home)).toBe(TOTAL);
    await expectExactlyOnceInOrder(us, ru, TOTAL);
  });

  it('loses and duplicates nothing when the sender is killed while it accepts and delivers', async () => {
    const { us, ru, a, proxy } = await startPair(false, store);
    const acknowledged: string[] = [];
    let failedPosts = 0;
    // The test's POSTs go through the proxy in front of us; us delivers to ru directly.
    const post = async (i: number): Promise<void> => {
      try {
        const res = await fetch(`${proxy.url}/api/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${us.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: 'ru', channel: 'crisis', kind: 'notification', priority: 'immediate', tlp: 'amber', text: `message ${i}` }),
        });
        if (res.status === 202) acknowledged.push(((await res.json()) as { id: string }).id);
        else failedPosts++;
      } catch {
        failedPosts++; // the node died under us: this one was never acknowledged
      }
    };
    const kills: (Kill & { acceptedInWave: number; unreceiptedOnA: number })[] = [];
    const good = (): number => kills.filter((k) => k.acceptedInWave > 0 && k.unreceiptedOnA > 0 && k.cut.inFlight > 0 && (k.mode === 'request' ? k.neverAnswered : k.withheld) > 0).length;
    let i = 0;
    // Waves of 250 concurrent POSTs. In an armed wave the kill lands as us answers its 5th POST
    // of the wave, the others still in flight: that answer is passed on ('request') or withheld
    // ('response': us stored the message, the client never hears so). A kill counts once it is
    // proven, from us's store after death and from the proxy, to have landed mid-acceptance with
    // deliveries pending; waves go on until four have, and until 10,000 were acknowledged.
    for (let wave = 1; (acknowledged.length < TOTAL || good() < 4) && wave < 400; wave++) {
      const armed = good() < 4 && (wave % 10 === 2 || kills.length > good());
      const mode: Kill['mode'] = kills.length % 2 === 0 ? 'request' : 'response';
      let answered = 0;
      let exited: Promise<void> | undefined;
      const ackedBefore = acknowledged.length;
      proxy.decide = (phase) => {
        if (!armed || phase !== 'response' || ++answered < 5) return 'forward';
        exited = a.kill9(); // SIGKILL is sent before this returns
        proxy.decide = () => 'forward';
        return mode === 'request' ? 'forward-then-cut' : 'cut';
      };
      await Promise.all(Array.from({ length: 250 }, () => post(++i)));
      if (exited === undefined) continue;
      await exited;
      const kill = await evidence(proxy, mode);
      kills.push({ ...kill, acceptedInWave: acknowledged.length - ackedBefore, unreceiptedOnA: await unreceiptedCount(us.home) });
      await a.start();
    }
    expect(good()).toBeGreaterThanOrEqual(4);
    await allReceipted(us.home, (await linkRows(us.home, 'out')).length);
    const sent = await linkRows(us.home, 'out');
    const got = new Set((await linkRows(ru.home, 'in')).map((r) => r.id));
    // Everything A acknowledged reached B; anything A stored but could not acknowledge was delivered too.
    for (const id of acknowledged) expect(got.has(id)).toBe(true);
    expect(failedPosts + acknowledged.length).toBeGreaterThanOrEqual(sent.length);
    await expectExactlyOnceInOrder(us, ru, sent.length);
  });
}

describe('crash safety: kill -9 during a stream of 10,000 messages', () => crashDrills('sqlite'));
describePg('crash safety on PostgreSQL: kill -9 during a stream of 10,000 messages', () => crashDrills('postgres'));
