import type { Kysely } from 'kysely';
import type { FeedsTables } from './feeds.tables.js';
import type { FeedRecord } from './feeds.types.js';

/**
 * Deduplication: a record repeats another when it has the same ip, port, type and family and its
 * time is within the window of the one reported. Keys are 64-bit hashes (two independent 32-bit
 * FNV-1a variants) kept in an open-addressing table of typed arrays: 12 bytes per distinct key,
 * no object per key, so ten million keys cost ~160 MB at most and a check costs a hash and a probe.
 * The table is loaded from `feed_seen` at the start of a run and the keys a run reports are written
 * back in the transaction that queues their report (feeds.run.ts), so the memory across runs is
 * the store's, and a crash loses nothing.
 */
export class SeenKeys {
  private hi: Int32Array;
  private lo: Int32Array;
  /** Minutes since the epoch + 1 (0 = empty slot). */
  private at: Uint32Array;
  private size = 0;
  private mask: number;
  /** Slots written since the last {@link drainDirty}. */
  private dirty: Uint32Array = new Uint32Array(1024);
  private dirtyCount = 0;

  constructor(capacity = 1 << 16) {
    let cap = 1 << 10;
    while (cap < capacity * 2) cap <<= 1;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.at = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  get count(): number {
    return this.size;
  }

  /**
   * True when the key was reported within `windowMin` minutes of `min` (a duplicate: nothing
   * changes); otherwise records it as reported at `min`, marks it to be written, and returns false.
   */
  seen(hi: number, lo: number, min: number, windowMin: number): boolean {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const t = this.at[i]!;
      if (t === 0) break;
      if (this.hi[i] === hi && this.lo[i] === lo) {
        if (Math.abs(t - 1 - min) < windowMin) return true;
        this.at[i] = min + 1;
        this.markDirty(i);
        return false;
      }
      i = (i + 1) & this.mask;
    }
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.at[i] = min + 1;
    this.markDirty(i);
    if (++this.size * 2 > this.mask) this.grow();
    return false;
  }

  /** As a plain set (no time, nothing written back): adds the key, true when it was not there. */
  add(hi: number, lo: number): boolean {
    const before = this.size;
    this.load(hi, lo, 0);
    return this.size > before;
  }

  /** Loads a key without marking it to be written (from the store). */
  load(hi: number, lo: number, min: number): void {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (this.at[i] !== 0) {
      if (this.hi[i] === hi && this.lo[i] === lo) {
        this.at[i] = Math.max(this.at[i]!, min + 1);
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.at[i] = min + 1;
    if (++this.size * 2 > this.mask) this.grow();
  }

  /**
   * Takes the key marked last out of the keys to write (its record is not in the batch about to be
   * written), and returns what puts it back. Nothing may call {@link seen} in between.
   */
  holdLast(): () => void {
    const i = this.dirty[--this.dirtyCount]!;
    return () => this.markDirty(i);
  }

  /** The keys reported since the last call, as rows for `feed_seen`; clears the list. */
  drainDirty(storedAt: number): FeedsTables['feed_seen'][] {
    const out: FeedsTables['feed_seen'][] = [];
    const done = new Set<number>();
    for (let k = 0; k < this.dirtyCount; k++) {
      const i = this.dirty[k]!;
      if (done.has(i)) continue;
      done.add(i);
      out.push({ hi: this.hi[i]!, lo: this.lo[i]!, seen_min: this.at[i]! - 1, stored_at: storedAt });
    }
    this.dirtyCount = 0;
    return out;
  }

  private markDirty(i: number): void {
    if (this.dirtyCount === this.dirty.length) {
      const d = new Uint32Array(this.dirty.length * 2);
      d.set(this.dirty);
      this.dirty = d;
    }
    this.dirty[this.dirtyCount++] = i;
  }

  private grow(): void {
    // Dirty slots are re-found after the move by their keys.
    const pending = this.drainDirty(0);
    const { hi, lo, at } = this;
    const cap = (this.mask + 1) * 2;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.at = new Uint32Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < at.length; i++) if (at[i] !== 0) this.load(hi[i]!, lo[i]!, at[i]! - 1);
    for (const p of pending) this.markDirty(this.slotOf(p.hi, p.lo));
  }

  private slotOf(hi: number, lo: number): number {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (!(this.hi[i] === hi && this.lo[i] === lo)) i = (i + 1) & this.mask;
    return i;
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

/** Reads the keys reported at or after `sinceMs` (stored time) into a table, streaming. */
export async function loadSeen(db: Kysely<FeedsTables>, sinceMs: number): Promise<SeenKeys> {
  const n = await db.selectFrom('feed_seen').select((e) => e.fn.countAll<number>().as('n')).where('stored_at', '>=', sinceMs).executeTakeFirstOrThrow();
  const keys = new SeenKeys(Number(n.n) + (1 << 16));
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
