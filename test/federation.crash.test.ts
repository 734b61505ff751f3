import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openContext, type NodeContext } from '../src/context.js';
import { appendAll } from '../src/modules/federation/federation.outbox.js';
import { verifyStore } from '../src/modules/federation/federation.verify.js';
import { silentLogger } from '../src/shared/logger.js';
import { makePair, type TestHome } from './helpers/nodes.js';
import { readStore, sleep, startProcesses, type NodeProcess } from './helpers/processes.js';

const TOTAL = 10_000;
const procs: NodeProcess[] = [];
const contexts: NodeContext[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill9()));
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

interface Row { id: string; seq: number; hash: string }

function linkRows(home: string, direction: 'in' | 'out'): Row[] {
  return readStore(home, (db) => db.prepare(
    "select id, seq, hash from messages where direction = ? and from_party = 'us' and to_party = 'ru' order by seq",
  ).all(direction) as Row[]);
}

function receiptedCount(home: string): number {
  return readStore(home, (db) => (db.prepare("select count(*) as n from messages where direction = 'out' and receipt is not null").get() as { n: number }).n);
}

function inboundCount(home: string): number {
  return readStore(home, (db) => (db.prepare("select count(*) as n from messages where direction = 'in'").get() as { n: number }).n);
}

/** Waits (bounded by tries, not by a clock limit on the test) until every outbound message of `home` is receipted. */
async function allReceipted(home: string, total: number): Promise<void> {
  for (let i = 0; i < 2400 && receiptedCount(home) < total; i++) await sleep(50);
}

/** The invariant after any number of crashes: B holds A's link exactly, once each, in order. */
async function expectExactlyOnceInOrder(us: TestHome, ru: TestHome, total: number): Promise<void> {
  const sent = linkRows(us.home, 'out');
  const got = linkRows(ru.home, 'in');
  expect(sent).toHaveLength(total);
  expect(got).toHaveLength(total);
  expect(got.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(new Set(got.map((r) => r.id)).size).toBe(total);
  expect(got).toEqual(sent);
  const heads = [us, ru].map((h) => readStore(h.home, (db) => db.prepare("select last_seq, head_hash from links where from_party = 'us' and to_party = 'ru'").get()));
  expect(heads[1]).toEqual(heads[0]);
  for (const h of [us, ru]) {
    const ctx = await openContext(loadConfig(h.home), { log: silentLogger });
    contexts.push(ctx);
    const report = await verifyStore(ctx);
    expect(report.problems).toEqual([]);
  }
}

/** A peered pair, each node running as its own OS process. */
async function startPair(): Promise<{ us: TestHome; ru: TestHome; a: NodeProcess; b: NodeProcess }> {
  const [us, ru] = await makePair();
  const [a, b] = (await startProcesses([us, ru])) as [NodeProcess, NodeProcess];
  procs.push(a, b);
  return { us, ru, a, b };
}

describe('crash safety: kill -9 during a stream of 10,000 messages', () => {
  it('loses and duplicates nothing when the receiver is killed again and again', async () => {
    const { us, ru, b } = await startPair();
    const ctx = await openContext(loadConfig(us.home), { log: silentLogger });
    contexts.push(ctx);
    const draft = { to: 'ru', kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'green' } as const;
    let queued = 0;
    let kills = 0;
    while (queued < TOTAL) {
      const n = Math.min(500, TOTAL - queued);
      const res = await appendAll(ctx, Array.from({ length: n }, (_, i) => ({ ...draft, body: { text: `message ${queued + i + 1}` } })));
      expect(res.every((r) => !(r instanceof Error))).toBe(true);
      queued += n;
      if (queued % 2000 === 0) {
        // Let B take some of the stream, then kill it mid-flight and bring it back.
        const before = inboundCount(ru.home);
        for (let i = 0; i < 100 && inboundCount(ru.home) === before; i++) await sleep(20);
        await b.kill9();
        kills++;
        await sleep(100);
        await b.start();
      }
    }
    expect(kills).toBeGreaterThanOrEqual(4);
    await allReceipted(us.home, TOTAL);
    expect(receiptedCount(us.home)).toBe(TOTAL);
    await expectExactlyOnceInOrder(us, ru, TOTAL);
  });

  it('loses and duplicates nothing when the sender is killed while it accepts and delivers', async () => {
    const { us, ru, a } = await startPair();
    const acknowledged: string[] = [];
    let failedPosts = 0;
    let kills = 0;
    const post = async (i: number): Promise<void> => {
      try {
        const res = await fetch(`${us.url}/api/v1/messages`, {
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
    let i = 0;
    while (acknowledged.length < TOTAL) {
      const wave = Math.min(250, TOTAL - acknowledged.length);
      await Promise.all(Array.from({ length: wave }, () => post(++i)));
      if (i % 2500 < 250 && kills < 4 && i > 250) {
        await a.kill9(); // in the middle of delivering what it just accepted
        kills++;
        await a.start();
      }
    }
    expect(kills).toBe(4);
    await allReceipted(us.home, linkRows(us.home, 'out').length);
    const sent = linkRows(us.home, 'out');
    const got = new Set(linkRows(ru.home, 'in').map((r) => r.id));
    // Everything A acknowledged reached B; anything A stored but could not acknowledge was delivered too.
    for (const id of acknowledged) expect(got.has(id)).toBe(true);
    expect(failedPosts + acknowledged.length).toBeGreaterThanOrEqual(sent.length);
    await expectExactlyOnceInOrder(us, ru, sent.length);
  });
});
