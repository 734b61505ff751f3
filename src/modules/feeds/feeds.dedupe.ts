import type { FeedsTables } from './feeds.tables.js';
import type { FeedRecord } from './feeds.types.js';

/**
 * Deduplication: a record repeats another when it has the same ip, port, type and family and its
 * time is within the window of the one reported. Keys are 64-bit hashes (two independent 32-bit
 * FNV-1a variants) kept in an open-addressing table of typed arrays: 8 bytes per slot at up to
 * 90% load, no object per key, so ten million keys cost ~100 MB and a check costs a hash and a probe.
 * The table is loaded from `feed_seen` at the start of a run; the keys a run reports are claimed
 * in the store in the transaction that writes their report (`claimSeen`), which is also where a
 * key another run reported meanwhile is found (runs that overlap see each other's duplicates).
 *
 * The table is 64 shards (by the top bits of the key's hash), each growing on its own: it starts
 * at a bounded estimate (`SEEN_START_MAX` keys at most, whatever the input's size) and a growth
 * holds one shard twice, briefly, not the whole table.
 */
export class SeenKeys {
  /**
   * Per shard, slots of two words: the key's high half, and the top 16 bits of its low half with
   * the hour it was reported (16 bits: hours since 2020 modulo 65,535, plus one; 0 = empty). A
   * 48-bit fingerprint compared only within a probe sequence is as good as the full key here (a
   * false match among ten million keys is a one-in-ten-million event), and 8 bytes a slot is what
   * lets a day's ten million keys fit in ~100 MB.
   */
  private t: Int32Array[] = [];
  private cap: Float64Array = new Float64Array(SHARDS);
  private used: Float64Array = new Float64Array(SHARDS);
  private size = 0;

  /**
   * @param expected how many keys the table will likely hold (sized for them at 85% load, up to
   *   `SEEN_START_MAX`; each shard grows by half when 90% full).
   */
  constructor(expected = 0) {
    const per = Math.max(64, Math.ceil(Math.min(expected, SEEN_START_MAX) / 0.85 / SHARDS));
    for (let s = 0; s < SHARDS; s++) {
      this.t.push(new Int32Array(per * 2));
      this.cap[s] = per;
    }
  }

  get count(): number {
    return this.size;
  }

  /** The table's arrays, to hand it to another thread (transfer `tables`' buffers; this one is then unusable). */
  export(): SeenExport {
    return { tables: this.t, cap: this.cap, used: this.used, size: this.size };
  }

  /** A table from {@link export}, on the thread it was handed to. */
  static from(x: SeenExport): SeenKeys {
    const k = new SeenKeys(0);
    k.t = x.tables;
    k.cap = x.cap;
    k.used = x.used;
    k.size = x.size;
    return k;
  }

  /** Slots allocated, over all shards (for tests and reports: 8 bytes each). */
  get slots(): number {
    let n = 0;
    for (let s = 0; s < SHARDS; s++) n += this.cap[s]!;
    return n;
  }

  /** The slot holding the key in shard `s`, or the empty slot where it belongs. */
  private find(t: Int32Array, cap: number, h: number, hi: number, top: number): number {
    // A multiplicative hash onto [0, cap) (the capacity is not a power of two), from the bits below the shard's.
    let i = Math.floor((((h << 6) >>> 0) * cap) / 4294967296);
    for (;;) {
      const w = t[i * 2 + 1]!;
      if ((w & 0xffff) === 0 || (t[i * 2] === hi && (w & 0xffff0000) === top)) return i;
      if (++i === cap) i = 0;
    }
  }

  /**
   * True when the key was reported within `windowMin` minutes (to the hour) of `min` (a
   * duplicate: nothing changes); otherwise records it as reported at `min` and returns false (the
   * caller claims the key in the store with the report that carries its record: feeds.run.ts).
   */
  seen(hi: number, lo: number, min: number, windowMin: number): boolean {
    const top = lo & 0xffff0000;
    const h = mix(hi, top);
    const s = h >>> 26;
    const t = this.t[s]!;
    const i = this.find(t, this.cap[s]!, h, hi, top);
    const was = t[i * 2 + 1]! & 0xffff;
    const hour = hourOf(min);
    if (was !== 0 && Math.abs(hoursBetween(was, hour)) < Math.ceil(windowMin / 60)) return true;
    t[i * 2] = hi;
    t[i * 2 + 1] = top | hour;
    if (was === 0) this.added(s);
    return false;
  }

  /** Loads a key without marking it to be written (from the store): the later of two report times counts. */
  load(hi: number, lo: number, min: number): void {
    const top = lo & 0xffff0000;
    const h = mix(hi, top);
    const s = h >>> 26;
    const t = this.t[s]!;
    const i = this.find(t, this.cap[s]!, h, hi, top);
    const was = t[i * 2 + 1]! & 0xffff;
    const hour = hourOf(min);
    t[i * 2] = hi;
    t[i * 2 + 1] = top | (was !== 0 && hoursBetween(was, hour) < 0 ? was : hour);
    if (was === 0) this.added(s);
  }

  private added(s: number): void {
    this.size++;
    if (++this.used[s]! > this.cap[s]! * 0.9) this.grow(s);
  }

  /** Moves shard `s` to a table half as big again. */
  private grow(s: number): void {
    const old = this.t[s]!;
    const oldCap = this.cap[s]!;
    const cap = Math.ceil(oldCap * 1.5);
    const t = new Int32Array(cap * 2);
    for (let i = 0; i < oldCap; i++) {
      const w = old[i * 2 + 1]!;
      if ((w & 0xffff) === 0) continue;
      const hi = old[i * 2]!;
      const j = this.find(t, cap, mix(hi, w & 0xffff0000), hi, w & 0xffff0000);
      t[j * 2] = hi;
      t[j * 2 + 1] = w;
    }
    this.t[s] = t;
    this.cap[s] = cap;
  }
}

/** A {@link SeenKeys} as arrays (structured-cloneable). */
export interface SeenExport {
  tables: Int32Array[];
  cap: Float64Array;
  used: Float64Array;
  size: number;
}

/** Shards of the deduplication table (the top 6 bits of a key's mixed hash). */
const SHARDS = 64;

/**
 * The most keys the deduplication table is sized for at the start (~38 MB); beyond it, it grows
 * shard by shard as keys arrive. An estimate from the input's size can be far off (a 2.5 GB
 * upload once meant 471 MB allocated before the first row).
 */
export const SEEN_START_MAX = 4_000_000;

/** The 32-bit hash a key's shard and home slot come from. */
function mix(hi: number, top: number): number {
  return Math.imul(top ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0;
}

/** Hours since 2020 in 1..65535 (wrapping every ~7.5 years; comparisons are of nearby hours). */
export const HOUR_BASE_MIN = Date.UTC(2020, 0, 1) / 60_000;
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

  /** Empties the list (a dry run writes nothing). */
  clear(): void {
    this.n = 0;
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
  keyOfParts(r.ip, r.port, r.type, r.family, out);
}

/** {@link keyOf} from the parts of the key (what a bundle's entry keeps). */
export function keyOfParts(ip: string, port: number | null, type: string, family: string | null, out: Int32Array): void {
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
  mix(ip);
  mix(port === null ? '' : String(port));
  mix(type);
  mix(family ?? '');
  out[0] = h1 ^ (h1 >>> 16);
  out[1] = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) ^ (h2 >>> 16);
}
