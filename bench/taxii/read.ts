/**
 * Reading a collection over TAXII: walking every page by `next`, and the latency of first pages
 * with and without each filter.
 */
import { dist, type Dist } from '../federation/stats.js';
import { collectionPath, type TaxiiClient } from './client.js';
import { measure, type Usage } from './proc.js';

interface Envelope {
  more?: boolean;
  next?: string;
  objects?: { id: string; type: string }[];
}

export interface Walk {
  label: string;
  objects: number;
  pages: number;
  seconds: number;
  objectsPerS: number;
  page: Dist;
  usage: Usage;
  /** X-TAXII-Date-Added-Last of the page in the middle of the walk (an added_after probe). */
  middleDateAdded: string | undefined;
}

/**
 * Walks every page of `query` with `limit`, following `next` until `more` is false; checks that
 * the count is `expected`, that pages never overlap or go back (X-TAXII-Date-Added-First of a page
 * is after -Last of the one before), and that `next` comes exactly with `more`.
 */
export async function walk(
  client: TaxiiClient, collectionId: string, label: string, query: Record<string, string>, limit: number, expected: number, nodePid: number | undefined,
): Promise<Walk> {
  const times: number[] = [];
  const lasts: string[] = [];
  let objects = 0;
  let next: string | undefined;
  let prevLast = '';
  const usage = measure(nodePid);
  const t0 = performance.now();
  do {
    const path = collectionPath(collectionId, 'objects', next === undefined ? { ...query, limit: String(limit) } : { limit: String(limit), next });
    const { body, answer } = await client.getJson<Envelope>(path);
    times.push(answer.ms);
    const n = body.objects?.length ?? 0;
    if (n > limit) throw new Error(`${label}: a page of ${n} objects for limit=${limit}`);
    if (body.more === true && body.next === undefined) throw new Error(`${label}: "more" without "next" after ${objects} objects`);
    if (n > 0) {
      const first = String(answer.headers['x-taxii-date-added-first']);
      const last = String(answer.headers['x-taxii-date-added-last']);
      if (first <= prevLast) throw new Error(`${label}: page after ${objects} objects starts at ${first}, not after the previous page's last ${prevLast}`);
      prevLast = last;
      lasts.push(last);
    }
    objects += n;
    next = body.more === true ? body.next : undefined;
  } while (next !== undefined);
  const seconds = (performance.now() - t0) / 1000;
  if (objects !== expected) throw new Error(`${label}: walking every page returned ${objects} objects, expected ${expected}`);
  return {
    label, objects, pages: times.length, seconds, objectsPerS: objects / seconds, page: dist(times),
    usage: usage(),
    middleDateAdded: lasts[Math.floor(lasts.length / 2)],
  };
}

export interface Probe {
  label: string;
  /** The request's path and query (client.ts collectionPath). */
  path: string;
}

export interface ProbeResult extends Probe {
  /** Objects (or manifest records, or versions) on the first page. */
  items: number;
  more: boolean;
  ms: Dist & { mean: number };
  /** Bytes of the answer's body. */
  bytes: number;
}

/**
 * The first page of `p`, `n` times one after the other (after `warm` unmeasured requests): the
 * client's time from writing the request to reading the answer's last byte, over loopback.
 */
export async function firstPage(client: TaxiiClient, p: Probe, n: number, warm = 5): Promise<ProbeResult> {
  const times: number[] = [];
  let items = 0;
  let more = false;
  let bytes = 0;
  for (let i = 0; i < warm + n; i++) {
    const { body, answer } = await client.getJson<Envelope & { versions?: string[] }>(p.path);
    if (i < warm) continue;
    times.push(answer.ms);
    items = body.objects?.length ?? body.versions?.length ?? 0;
    more = body.more === true;
    bytes = Buffer.byteLength(answer.text);
  }
  if (items === 0) throw new Error(`first page of "${p.label}" is empty`);
  return { ...p, items, more, bytes, ms: { ...dist(times), mean: times.reduce((a, b) => a + b, 0) / times.length } };
}
