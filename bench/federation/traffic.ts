/** Sending benchmark messages through A's REST API, and waiting for B's receipts to reach A. */
import { sleep, type JsonPoster } from '../load.js';
import { exited, logTail, POLL_MS, type BenchNode } from './nodes.js';
import type { StoreReader } from './store.js';

/** The text of benchmark message `i` (also the body of the single-process measures' sample envelope). */
export function messageText(i: number): string {
  return `Benchmark message ${i}: routine notification on the cert channel.`;
}

/** POSTs message `i` to `to`; resolves with the seq A gave it. */
export async function postMessage(poster: JsonPoster, to: string, i: number): Promise<number> {
  const body = JSON.stringify({ to, channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: messageText(i) });
  const r = await poster.post('/api/v1/messages', body);
  if (r.status !== 202) throw new Error(`POST /api/v1/messages answered ${r.status}: ${r.text.slice(0, 300)}`);
  return (JSON.parse(r.text) as { seq: number }).seq;
}

/** Polls A's link until `acked_seq` reaches `seq`; bounded by `maxMs`. */
export async function waitReceipted(store: StoreReader, a: BenchNode, b: BenchNode, seq: number, maxMs: number): Promise<void> {
  const tries = Math.ceil(maxMs / POLL_MS);
  for (let i = 0; i < tries; i++) {
    if ((await store.linkState(a.party, b.party)).acked_seq >= seq) return;
    for (const n of [a, b]) if (exited(n)) throw new Error(`node ${n.party} exited:\n${logTail(n)}`);
    await sleep(POLL_MS);
  }
  const s = await store.linkState(a.party, b.party);
  throw new Error(`messages not receipted within ${maxMs / 1000} s (acked ${s.acked_seq} of ${seq}); A's log:\n${logTail(a)}`);
}
