/**
 * Latency: messages POSTed at a fixed rate; per message, send→receipt = A's receipted_at − the
 * client's clock just before the POST, split into its steps by the stored_at times on A and B.
 */
import { sleep, type JsonPoster } from '../load.js';
import type { BenchNode } from './nodes.js';
import type { Options } from './options.js';
import { dist, type Dist } from './stats.js';
import type { StoreReader } from './store.js';
import { postMessage, waitReceipted } from './traffic.js';

export interface Latency {
  total: Dist;
  /** Client's t0 → A stored the message (HTTP in, validation, sign; A's clock). */
  toStoredA: Dist;
  /** A stored → B stored (delivery wake-up, batch read, HTTP, B's verify, B's clock). */
  aToB: Dist;
  /** B stored → A receipted (B's commit, answer, A's receipt checks). */
  bToReceipt: Dist;
  /** Client-side POST round trip. */
  post: Dist;
  /** How far behind schedule the worst POST was sent (ms). */
  maxScheduleLagMs: number;
  seconds: number;
}

export async function latency(o: Options, a: BenchNode, b: BenchNode, storeA: StoreReader, storeB: StoreReader, poster: JsonPoster): Promise<Latency> {
  const base = (await storeA.linkState(a.party, b.party)).last_seq;
  const t0BySeq = new Map<number, number>();
  const postMs: number[] = [];
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / o.rate;
  const start = performance.now() + 50;
  let maxLag = 0;
  let failure: unknown;
  for (let i = 0; i < o.latencyMessages && failure === undefined; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    maxLag = Math.max(maxLag, performance.now() - due);
    const t0 = Date.now();
    const p0 = performance.now();
    inFlight.push(postMessage(poster, b.party, i).then((seq) => {
      postMs.push(performance.now() - p0);
      t0BySeq.set(seq, t0);
    }, (e: unknown) => {
      failure ??= e;
    }));
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  const seconds = (performance.now() - start) / 1000;
  const last = base + o.latencyMessages;
  await waitReceipted(storeA, a, b, last, 60_000);
  const outRows = await storeA.outbound(a.party, b.party, base, last);
  const inRows = new Map((await storeB.received(a.party, b.party, base, last)).map((r) => [Number(r.seq), Number(r.stored_at)]));
  const total: number[] = [];
  const toStoredA: number[] = [];
  const aToB: number[] = [];
  const bToReceipt: number[] = [];
  for (const r of outRows) {
    const t0 = t0BySeq.get(Number(r.seq));
    const storedB = inRows.get(Number(r.seq));
    if (t0 === undefined || r.receipted_at === null || storedB === undefined) throw new Error(`seq ${r.seq}: missing send time, receipt or B's copy`);
    total.push(Number(r.receipted_at) - t0);
    toStoredA.push(Number(r.stored_at) - t0);
    aToB.push(storedB - Number(r.stored_at));
    bToReceipt.push(Number(r.receipted_at) - storedB);
  }
  if (total.length !== o.latencyMessages) throw new Error(`expected ${o.latencyMessages} receipted messages, found ${total.length}`);
  return {
    total: dist(total), toStoredA: dist(toStoredA), aToB: dist(aToB), bToReceipt: dist(bToReceipt), post: dist(postMs),
    maxScheduleLagMs: maxLag, seconds,
  };
}
