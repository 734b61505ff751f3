import { fail } from '../../shared/errors.js';
import { bigIntToV6, formatCidr, isV4Mapped, parseCidrOrReason, parseIPv4, parseIPv6Into, v6ToBigInt, type Cidr, type IPv6Words } from '../../shared/ip.js';

/**
 * Sorted, non-overlapping inclusive ranges over typed arrays, each with a uint32 value, and the
 * builders that make them from rows that may nest or overlap. Both the IP database and the
 * routing prefix table use them.
 */

/** IPv4 ranges: `starts[i]..ends[i]` carries `values[i]`; a 64K-entry index on the top 16 bits narrows each search to a few entries. */
export class RangesV4 {
  private readonly index: Uint32Array;

  constructor(
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly values: Uint32Array,
  ) {
    this.index = bucketIndex(starts, 1);
  }

  get size(): number {
    return this.starts.length;
  }

  /** The last range whose start is ≤ n (it holds n if `ends[i] >= n`), or -1. */
  floor(n: number): number {
    const k = n >>> 16;
    let lo = this.index[k] ?? 0;
    let hi = (this.index[k + 1] ?? 0) - 1;
    // answer is in [lo - 1, hi]; find the last i in [lo, hi] with starts[i] <= n
    const starts = this.starts;
    let ans = lo - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] ?? 0) <= n) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The range holding n, or -1. */
  find(n: number): number {
    const i = this.floor(n);
    return i >= 0 && (this.ends[i] ?? 0) >= n ? i : -1;
  }
}

/** IPv6 ranges: entry i's start is `starts[4i..4i+3]`, its end `ends[4i..4i+3]`; indexed on the top 16 bits. */
export class RangesV6 {
  private readonly index: Uint32Array;

  constructor(
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    readonly values: Uint32Array,
  ) {
    this.index = bucketIndex(starts, 4);
  }

  get size(): number {
    return this.values.length;
  }

  /** The last range whose start is ≤ the address `w[off..off+3]`, or -1. */
  floor(w: ArrayLike<number>, off = 0): number {
    const w0 = w[off] ?? 0;
    const w1 = w[off + 1] ?? 0;
    const w2 = w[off + 2] ?? 0;
    const w3 = w[off + 3] ?? 0;
    const k = w0 >>> 16;
    let lo = this.index[k] ?? 0;
    let hi = (this.index[k + 1] ?? 0) - 1;
    const s = this.starts;
    let ans = lo - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const b = mid * 4;
      const s0 = s[b] ?? 0;
      let le: boolean;
      if (s0 !== w0) le = s0 < w0;
      else {
        const s1 = s[b + 1] ?? 0;
        if (s1 !== w1) le = s1 < w1;
        else {
          const s2 = s[b + 2] ?? 0;
          le = s2 !== w2 ? s2 < w2 : (s[b + 3] ?? 0) <= w3;
        }
      }
      if (le) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** True if range i's end is ≥ the address. */
  endsAtOrAfter(i: number, w: ArrayLike<number>, off = 0): boolean {
    const e = this.ends;
    const b = i * 4;
    for (let k = 0; k < 4; k++) {
      const x = e[b + k] ?? 0;
      const y = w[off + k] ?? 0;
      if (x !== y) return x > y;
    }
    return true;
  }

  /** The range holding the address, or -1. */
  find(w: ArrayLike<number>, off = 0): number {
    const i = this.floor(w, off);
    return i >= 0 && this.endsAtOrAfter(i, w, off) ? i : -1;
  }
}

/** index[k] = first entry whose top 16 bits are ≥ k, for k in 0..65536. */
function bucketIndex(starts: Uint32Array, stride: number): Uint32Array {
  const index = new Uint32Array(65537);
  const n = starts.length / stride;
  let i = 0;
  for (let k = 0; k <= 65536; k++) {
    while (i < n && (starts[i * stride] ?? 0) >>> 16 < k) i++;
    index[k] = i;
  }
  return index;
}

/**
 * Turns rows sorted by start (ties allowed) into non-overlapping ranges, where a later row wins
 * over the part of an earlier one it covers (the painter's rule). For nested rows, which is what
 * both IP data sets and prefix lists hold, that is "the most specific wins"; for the rare partial
 * overlap it is "the later row wins". O(n) amortised: a stack of the rows still open.
 */
class Flattener<K extends number | bigint> {
  private readonly open: { end: K; value: number }[] = [];
  private cursor: K | null = null;

  constructor(
    private readonly inc: (k: K) => K,
    private readonly dec: (k: K) => K,
    private readonly emit: (start: K, end: K, value: number) => void,
  ) {}

  /** Adds a row; `start` must be ≥ every earlier row's start. */
  add(start: K, end: K, value: number): void {
    this.flush(start);
    this.cursor = start;
    this.open.push({ end, value });
  }

  /** Emits what is still open. */
  finish(): void {
    this.flush(null);
  }

  /** Emits the open rows' parts below `until` (all of them if null). */
  private flush(until: K | null): void {
    const open = this.open;
    while (open.length > 0) {
      const top = open[open.length - 1];
      const cursor = this.cursor;
      if (top === undefined || cursor === null) break;
      if (until !== null && cursor >= until) return;
      if (top.end < cursor) {
        open.pop();
        continue;
      }
      const before = until === null ? null : this.dec(until);
      const last = before !== null && before < top.end ? before : top.end;
      this.emit(cursor, last, top.value);
      this.cursor = this.inc(last);
      if (last === top.end) open.pop();
    }
  }
}

/** Builds {@link RangesV4} from rows sorted by start; overlaps resolve by the painter's rule. */
export class RangesV4Builder {
  private readonly s: number[] = [];
  private readonly e: number[] = [];
  private readonly v: number[] = [];
  private readonly flat = new Flattener<number>((k) => k + 1, (k) => k - 1, (a, b, x) => {
    this.s.push(a);
    this.e.push(b);
    this.v.push(x);
  });

  add(start: number, end: number, value: number): void {
    this.flat.add(start, end, value);
  }

  build(): RangesV4 {
    this.flat.finish();
    return new RangesV4(Uint32Array.from(this.s), Uint32Array.from(this.e), Uint32Array.from(this.v));
  }
}

/** Builds {@link RangesV6} from rows (128-bit BigInts: this is the cold path) sorted by start. */
export class RangesV6Builder {
  private readonly s: bigint[] = [];
  private readonly e: bigint[] = [];
  private readonly v: number[] = [];
  private readonly flat = new Flattener<bigint>((k) => k + 1n, (k) => k - 1n, (a, b, x) => {
    this.s.push(a);
    this.e.push(b);
    this.v.push(x);
  });

  add(start: bigint, end: bigint, value: number): void {
    this.flat.add(start, end, value);
  }

  build(): RangesV6 {
    this.flat.finish();
    const n = this.v.length;
    const starts = new Uint32Array(4 * n);
    const ends = new Uint32Array(4 * n);
    for (let i = 0; i < n; i++) {
      bigIntToV6(this.s[i] ?? 0n, starts, 4 * i);
      bigIntToV6(this.e[i] ?? 0n, ends, 4 * i);
    }
    return new RangesV6(starts, ends, Uint32Array.from(this.v));
  }
}

const scratch = new Uint32Array(4);

/**
 * Prefixes to values, looked up most-specific-first in one binary search: the prefixes are
 * flattened into non-overlapping ranges when the table is built, so a lookup costs the same
 * whether the table holds ten prefixes or a million. Used by routing (a peer's jurisdiction).
 *
 * @example
 * const t = PrefixTable.build([['203.0.113.0/24', 'fr'], ['203.0.113.128/25', 'de'], ['2001:db8::/32', 'fr']]);
 * t.lookup('203.0.113.200') === 'de'; t.lookupV4(parseIPv4('203.0.113.1')) === 'fr'
 */
export class PrefixTable<T> {
  private constructor(
    /** The IPv4 prefixes flattened: non-overlapping ranges whose values index {@link PrefixTable.values}. */
    readonly v4: RangesV4,
    /** The same for IPv6. */
    readonly v6: RangesV6,
    /** The distinct values, in the order first given. */
    readonly values: readonly T[],
    /** The prefixes, canonical, in the order given. */
    readonly prefixes: readonly Cidr[],
  ) {}

  /**
   * Builds the table. Fails with `invalid_argument` on a malformed prefix or one listed twice
   * with different values (two parties claiming the same prefix is a configuration error).
   */
  static build<T>(entries: Iterable<readonly [prefix: string | Cidr, value: T]>): PrefixTable<T> {
    const rows: { c: Cidr; value: number }[] = [];
    const values: T[] = [];
    const seen = new Map<string, number>();
    for (const [p, value] of entries) {
      const c = typeof p === 'string' ? parseCidrOrReason(p) : p;
      if (typeof c === 'string') fail('invalid_argument', `prefix: ${c}`, { value: p });
      const key = formatCidr(c);
      const before = seen.get(key);
      if (before !== undefined) {
        if (values[before] === value) continue;
        fail('invalid_argument', `prefix ${key} is listed twice with different values`, { prefix: key });
      }
      seen.set(key, values.length);
      rows.push({ c, value: values.length });
      values.push(value);
    }
    const four: { c: Cidr & { version: 4 }; value: number }[] = [];
    const six: { s: bigint; e: bigint; prefix: number; value: number }[] = [];
    for (const { c, value } of rows) {
      if (c.version === 4) four.push({ c, value });
      else six.push({ s: v6ToBigInt(c.start), e: v6ToBigInt(c.end), prefix: c.prefix, value });
    }
    // by start, wider first: the painter's rule then lets the more specific prefix win
    four.sort((a, b) => a.c.start - b.c.start || a.c.prefix - b.c.prefix);
    six.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.prefix - b.prefix));
    const v4 = new RangesV4Builder();
    const v6 = new RangesV6Builder();
    for (const r of four) v4.add(r.c.start, r.c.end, r.value);
    for (const r of six) v6.add(r.s, r.e, r.value);
    return new PrefixTable(v4.build(), v6.build(), values, rows.map((r) => r.c));
  }

  /** The value of the most specific prefix holding the IPv4 address, or undefined. */
  lookupV4(n: number): T | undefined {
    const i = this.v4.find(n);
    return i < 0 ? undefined : this.values[this.v4.values[i] ?? 0];
  }

  /** The value of the most specific prefix holding the IPv6 address `w[off..off+3]`, or undefined. */
  lookupV6(w: IPv6Words, off = 0): T | undefined {
    const i = this.v6.find(w, off);
    return i < 0 ? undefined : this.values[this.v6.values[i] ?? 0];
  }

  /** Looks up address text (IPv4-mapped IPv6 as IPv4); undefined if none holds it or the text is not an address. */
  lookup(ip: string): T | undefined {
    if (ip.indexOf(':') < 0) {
      const n = parseIPv4(ip);
      return n < 0 ? undefined : this.lookupV4(n);
    }
    if (!parseIPv6Into(ip, scratch)) return undefined;
    return isV4Mapped(scratch) ? this.lookupV4(scratch[3] ?? 0) : this.lookupV6(scratch);
  }
}
