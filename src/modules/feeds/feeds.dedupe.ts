import type { Kysely } from 'kysely';
import type { FeedsTables } from './feeds.tables.js';
import type { FeedRecord } from './feeds.types.js';

/**
 * Deduplication: a record repeats another when it has the same ip, port, type and family and its
 * time is within the window of the one reported. Keys are 64-bit hashes (two independent 32-bit
 * FNV-1a variants) kept in an open-addressing table of one typed array: 8 bytes per slot at up to
 * 90% load, no object per key, so ten million keys cost ~100 MB and a check costs a hash and a probe.
 * The table is loaded from `feed_seen` at the start of a run and the keys a run reports are written
 * back in the transaction that queues their report (feeds.run.ts), so the memory across runs is
 * the store's, and a crash loses nothing.
 */
export class SeenKeys {
  /**
   * Slots of two words: the key's high half, and the top 16 bits of its low half with the hour
   * it was reported (16 bits: hours since 2020 modulo 65,535, plus one; 0 = empty). A 48-bit
   * fingerprint compared only within a probe sequence is as good as the full key here (a false
   * match among ten million keys is a one-in-ten-million event), and 8 bytes a slot is what lets a
   * day's ten million keys fit in ~100 MB.
   */
  private t: Int32Array;
  private cap: number;
  private size = 0;

  /**
   * @param expected how many keys the table will likely hold (it is sized once for them at 85%
   *   load; it grows by half when 90% full, which briefly holds both tables).
   */
  constructor(expected = 0) {
    this.cap = Math.max(1024, Math.ceil(expected / 0.85));
    this.t = new Int32Array(this.cap * 2);
  }

  get count(): number {
    return this.size;
  }

  private home(hi: number, lo: number): number {
    // A multiplicative hash onto [0, cap) (the capacity is not a power of two).
    return Math.floor(((Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) * this.cap) / 4294967296);
  }

  /** The slot holding the key, or the empty slot where it belongs. */
  private find(hi: number, top: number): number {
    const t = this.t;
    let i = this.home(hi, top);
    for (;;) {
      const w = t[i * 2 + 1]!;
      if ((w & 0xffff) === 0 || (t[i * 2] === hi && (w & 0xffff0000) === top)) return i;
      if (++i === this.cap) i = 0;
    }
  }

  /**
   * True when the key was reported within `windowMin` minutes (to the hour) of `min` (a
   * duplicate: nothing changes); otherwise records it as reported at `min` and returns false (the
   * caller writes the key back with the report that carries its record: feeds.run.ts).
   */
  seen(hi: number, lo: number, min: number, windowMin: number): boolean {
    const top = lo & 0xffff0000;
    const i = this.find(hi, top);
    const was = this.t[i * 2 + 1]! & 0xffff;
    const hour = hourOf(min);
    if (was !== 0 && Math.abs(hoursBetween(was, hour)) < Math.ceil(windowMin / 60)) return true;
    this.t[i * 2] = hi;
    this.t[i * 2 + 1] = top | hour;
    if (was === 0 && ++this.size > this.cap * 0.9) this.grow();
    return false;
  }

  /** Loads a key without marking it to be written (from the store): the later of two report times counts. */
  load(hi: number, lo: number, min: number): void {
    const top = lo & 0xffff0000;
    const i = this.find(hi, top);
    const was = this.t[i * 2 + 1]! & 0xffff;
    const hour = hourOf(min);
    this.t[i * 2] = hi;
    this.t[i * 2 + 1] = top | (was !== 0 && hoursBetween(was, hour) < 0 ? was : hour);
    if (was === 0 && ++this.size > this.cap * 0.9) this.grow();
  }

  /** Moves every key to a table half as big again. */
  private grow(): void {
    const old = this.t;
    const oldCap = this.cap;
    this.cap = Math.ceil(this.cap * 1.5);
    this.t = new Int32Array(this.cap * 2);
    for (let i = 0; i < oldCap; i++) {
      const w = old[i * 2 + 1]!;
      if ((w & 0xffff) === 0) continue;
      const j = this.find(old[i * 2]!, w & 0xffff0000);
      this.t[j * 2] = old[i * 2]!;
      this.t[j * 2 + 1] = w;
    }
  }
}

/** Hours since 2020 in 1..65535 (wrapping every ~7.5 years; comparisons are of nearby hours). */
const HOUR_BASE_MIN = Date.UTC(2020, 0, 1) / 60_000;
function hourOf(min: number): number {
  return ((((Math.floor((min - HOUR_BASE_MIN) / 60)) % 65535) + 65535) % 65535) + 1;
}

/** b − a in hours, for hour stamps less than ~3.7 years apart. */
function hoursBetween(a: number, b: number): number {
  const d = (((b - a) % 65535) + 65535) % 65535;
  return d > 32767 ? d - 65535 : d;
}

/** Keys waiting to be written with the report of their records: (hi, lo, minute) triples. */
export class PendingKeys {
  private t = new Int32Array(3 * 1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  push(hi: number, lo: number, min: number): void {
    if (this.n * 3 === this.t.length) {
      const t = new Int32Array(this.t.length * 2);
      t.set(this.t);
      this.t = t;
    }
    this.t.set([hi, lo, min], this.n * 3);
    this.n++;
  }

  /** The keys as rows for `feed_seen`; empties the list. */
  take(storedAt: number): FeedsTables['feed_seen'][] {
    const out: FeedsTables['feed_seen'][] = [];
    for (let i = 0; i < this.n; i++) out.push({ hi: this.t[i * 3]!, lo: this.t[i * 3 + 1]!, seen_min: this.t[i * 3 + 2]!, stored_at: storedAt });
    this.n = 0;
    return out;
  }
}

/**
 * A HyperLogLog (2^14 registers, 16 KB): how many distinct strings were added, exact for small
 * counts (linear counting) and within about 1% for millions, in constant memory.
 */
export class DistinctCounter {
  private readonly reg = new Uint8Array(1 << 14);
  /** Σ 2^-register and the count of empty registers, kept as registers change (estimate is O(1)). */
  private sum = 1 << 14;
  private zeros = 1 << 14;

  add(s: string): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const j = h >>> 18;
    const rank = Math.clz32((h << 14) | 0x2000) + 1;
    const was = this.reg[j]!;
    if (rank <= was) return;
    this.sum += 2 ** -rank - 2 ** -was;
    if (was === 0) this.zeros--;
    this.reg[j] = rank;
  }

  estimate(): number {
    const m = this.reg.length;
    const e = (0.7213 / (1 + 1.079 / m)) * m * m / this.sum;
    return Math.round(e <= 2.5 * m && this.zeros > 0 ? m * Math.log(m / this.zeros) : e);
  }
}

/** The two 32-bit halves of a record's key hash: (ip, port, type, family). Written into `out`. */
export function keyOf(r: FeedRecord, out: Int32Array): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  const mix = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
    h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
  };
  mix(r.ip);
  mix(r.port === null ? '' : String(r.port));
  mix(r.type);
  mix(r.family ?? '');
  out[0] = h1 ^ (h1 >>> 16);
  out[1] = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) ^ (h2 >>> 16);
}

/** Reads the keys reported at or after `sinceMs` (stored time) into a table sized for `expected` more, streaming. */
export async function loadSeen(db: Kysely<FeedsTables>, sinceMs: number, expected = 0): Promise<SeenKeys> {
  const n = await db.selectFrom('feed_seen').select((e) => e.fn.countAll<number>().as('n')).where('stored_at', '>=', sinceMs).executeTakeFirstOrThrow();
  const keys = new SeenKeys(Number(n.n) + expected);
  for await (const r of db.selectFrom('feed_seen').select(['hi', 'lo', 'seen_min']).where('stored_at', '>=', sinceMs).stream(10_000)) {
    keys.load(Number(r.hi), Number(r.lo), Number(r.seen_min));
  }
  return keys;
}

/** Writes reported keys (in the caller's transaction), replacing older report times. */
export async function saveSeen(trx: Kysely<FeedsTables>, rows: readonly FeedsTables['feed_seen'][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await trx.insertInto('feed_seen').values(rows.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['hi', 'lo']).doUpdateSet((eb) => ({ seen_min: eb.ref('excluded.seen_min'), stored_at: eb.ref('excluded.stored_at') }))).execute();
  }
}
