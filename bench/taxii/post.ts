/**
 * Loading a collection over TAXII: envelopes of generated objects POSTed with a few requests in
 * flight; every answer must be a complete status in which every object sent is a success.
 */
import { closedLoop } from '../load.js';
import { dist, type Dist } from '../federation/stats.js';
import { collectionPath, type TaxiiClient } from './client.js';
import { assertValid, type StixGenerator, type StixJson } from './generate.js';
import { measure, type Usage } from './proc.js';

export interface PostResult {
  objects: number;
  envelopes: number;
  envelopeSize: number;
  concurrency: number;
  bytes: number;
  seconds: number;
  objectsPerS: number;
  /** objects/s over each tenth of the load, in order of completion: does ingest slow as the collection grows? */
  tenths: number[];
  post: Dist;
  usage: Usage;
  /** Objects the bench checked with the node's own validator before sending. */
  validated: number;
  /** A few indicator ids from the middle of the load (match[id] probes). */
  sampleIds: string[];
  /** Ids of malware families (objects with many versions). */
  familyIds: string[];
}

interface Status {
  status?: string;
  total_count?: number;
  success_count?: number;
  failure_count?: number;
  pending_count?: number;
  successes?: { id: string; message?: string }[];
  failures?: { id: string; message?: string }[];
}

/** Checks a POST's answer: 202, a complete status, and every object a success stored for the first time. */
function checkStatus(status: number, text: string, sent: readonly StixJson[]): void {
  if (status !== 202) throw new Error(`POST answered ${status}: ${text.slice(0, 1000)}`);
  const s = JSON.parse(text) as Status;
  const n = sent.length;
  const problems: string[] = [];
  if (s.status !== 'complete') problems.push(`status is ${s.status}`);
  if (s.total_count !== n) problems.push(`total_count ${s.total_count}, sent ${n}`);
  if (s.success_count !== n) problems.push(`success_count ${s.success_count}, sent ${n}`);
  if (s.failure_count !== 0 || s.pending_count !== 0) problems.push(`failure_count ${s.failure_count}, pending_count ${s.pending_count}`);
  if ((s.successes?.length ?? 0) !== n) problems.push(`${s.successes?.length ?? 0} successes listed`);
  const again = s.successes?.filter((x) => x.message !== undefined) ?? [];
  if (again.length > 0) problems.push(`${again.length} objects were "${again[0]!.message}" (the generator repeated an object?)`);
  if (problems.length > 0) {
    throw new Error(`POST status does not match what was sent: ${problems.join('; ')}; first failures: ${JSON.stringify(s.failures?.slice(0, 3))}`);
  }
}

/**
 * POSTs `total` objects from `gen` to a collection in envelopes of `envelopeSize`, `concurrency`
 * in flight. Objects are generated just before each envelope is sent (the client does not hold a
 * million objects); the first envelope and 1 object in 100 after it are checked with the node's
 * validator first.
 */
export async function postAll(
  client: TaxiiClient, collectionId: string, gen: StixGenerator, total: number,
  o: { envelopeSize: number; concurrency: number; nodePid: number | undefined; progress?: (done: number) => void },
): Promise<PostResult> {
  const path = collectionPath(collectionId, 'objects');
  const envelopes = Math.ceil(total / o.envelopeSize);
  const times: number[] = [];
  const done: { at: number; n: number }[] = [];
  const sampleIds: string[] = [];
  const familyIds = new Set<string>();
  let sent = 0;
  let bytes = 0;
  let validated = 0;
  let acked = 0;
  let lastReport = 0;
  const usage = measure(o.nodePid);
  const t0 = performance.now();
  await closedLoop(o.concurrency, (i) => i < envelopes, async (i) => {
    const objects = gen.next(Math.min(o.envelopeSize, total - sent));
    sent += objects.length;
    const sample = i === 0 ? objects : objects.filter((_x, k) => k % 100 === 0);
    assertValid(sample);
    validated += sample.length;
    if (i === Math.floor(envelopes / 2)) {
      for (const x of objects) if (x.type === 'indicator' && sampleIds.length < 5) sampleIds.push(x.id as string);
    }
    for (const x of objects) if (x.type === 'malware' && familyIds.size < 5) familyIds.add(x.id as string);
    const body = JSON.stringify({ objects });
    bytes += Buffer.byteLength(body);
    const a = await client.post(path, body);
    checkStatus(a.status, a.text, objects);
    times.push(a.ms);
    done.push({ at: performance.now(), n: objects.length });
    acked += objects.length;
    if (o.progress !== undefined && acked - lastReport >= total / 20) {
      lastReport = acked;
      o.progress(acked);
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    objects: sent, envelopes, envelopeSize: o.envelopeSize, concurrency: o.concurrency, bytes, seconds, objectsPerS: sent / seconds,
    tenths: tenths(t0, done, sent), post: dist(times),
    usage: usage(), validated, sampleIds, familyIds: [...familyIds],
  };
}

/** objects/s over each tenth of the objects acknowledged (in completion order). */
function tenths(t0: number, done: readonly { at: number; n: number }[], total: number): number[] {
  const sorted = [...done].sort((a, b) => a.at - b.at);
  const out: number[] = [];
  let acc = 0;
  let prevAt = t0;
  let prevAcc = 0;
  for (const d of sorted) {
    acc += d.n;
    if (acc >= ((out.length + 1) * total) / 10 || acc === total) {
      out.push(((acc - prevAcc) * 1000) / (d.at - prevAt));
      prevAt = d.at;
      prevAcc = acc;
    }
  }
  return out;
}
