/**
 * Runs keyed jobs independently: at most one job per key (a link, a notification target) and at
 * most `limit()` at once. A job that hangs holds only its own key and one slot; the others go on.
 * Used by the background processors (delivery, deadlines): their pass starts what is due and
 * returns at once; `onEnd` (e.g. the loop's wake) is told when a job ends and frees its slot.
 *
 * @example
 * const pool = new KeyedPool<string>({ limit: () => 8, onEnd: () => loop.wake(), onError: (e) => log.error(e) });
 * for (const to of due) if (pool.start(to, () => drain(to)) === undefined && pool.full) break;
 */
export class KeyedPool<K> {
  private readonly running = new Map<K, Promise<void>>();

  constructor(private readonly o: {
    limit: () => number;
    /** A job ended (whatever its outcome). */
    onEnd?: () => void;
    /** A job threw: it is reported here and counts as ended. */
    onError: (e: unknown, key: K) => void;
  }) {}

  /** Jobs running now. */
  get size(): number {
    return this.running.size;
  }

  /** Every slot is taken. */
  get full(): boolean {
    return this.running.size >= this.o.limit();
  }

  has(key: K): boolean {
    return this.running.has(key);
  }

  /** The keys with a job running. */
  keys(): K[] {
    return [...this.running.keys()];
  }

  /** Starts `job` for `key` unless one runs for it or every slot is taken; returns its end (never rejects) or undefined. */
  start(key: K, job: () => Promise<void>): Promise<void> | undefined {
    if (this.running.has(key) || this.full) return undefined;
    const run = (async () => {
      try {
        await job();
      } catch (e) {
        this.o.onError(e, key);
      } finally {
        this.running.delete(key);
        this.o.onEnd?.();
      }
    })();
    this.running.set(key, run);
    return run;
  }

  /**
   * Runs `job` for each key, at most `limit()` at once (jobs started elsewhere count), and waits
   * for the ones it started. A key whose job is already running elsewhere is skipped.
   */
  async runAll(keys: readonly K[], job: (key: K) => Promise<void>): Promise<void> {
    const queue = keys.filter((k) => !this.running.has(k));
    const mine = new Set<Promise<void>>();
    while (queue.length > 0 || mine.size > 0) {
      while (queue.length > 0 && !this.full) {
        const key = queue.shift()!;
        const run = this.start(key, () => job(key));
        if (run === undefined) continue; // started elsewhere meanwhile
        mine.add(run);
        void run.then(() => mine.delete(run));
      }
      const waitFor = mine.size > 0 ? [...mine] : [...this.running.values()];
      if (waitFor.length === 0) break;
      await Promise.race(waitFor);
      await Promise.resolve();
    }
  }

  /** Waits until every job running now has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }
}
