/**
 * Who goes first to an SQLite store's write lock, between a node's main thread and its feed
 * worker (src/adapters/http/feeds.worker.ts), two connections to one file in one process.
 *
 * SQLite's busy handler waits for a lock by sleeping in growing steps (up to 100 ms), on the
 * waiting thread. A feed worker commits a bundle and begins the next at once, so the main thread,
 * asleep when the lock was free for a moment, could wait through one bundle after another: its
 * event loop (the federation endpoint, the console, a FLASH) stood still for 2.5 s at a time during
 * a 300,000-row upload on a quiet 2-core machine (docs/benchmarks.md, feed runs). With the gate,
 * the main thread says it wants the lock (or holds it) before its `begin immediate`, and the
 * worker, before each of its own, waits until it no longer does: the main thread then waits for at
 * most the one bundle being written.
 */
export class WriterGate {
  /** What crosses to the worker (workerData): the one counter both threads see. */
  readonly shared: SharedArrayBuffer;
  private readonly wanting: Int32Array;

  constructor(shared: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.shared = shared;
    this.wanting = new Int32Array(shared, 0, 1);
  }

  /** The main thread is about to begin a write transaction (and may wait for the lock). */
  enter(): void {
    Atomics.add(this.wanting, 0, 1);
  }

  /** The main thread's write transaction ended (or never began). */
  leave(): void {
    Atomics.sub(this.wanting, 0, 1);
    Atomics.notify(this.wanting, 0);
  }

  /**
   * The worker, before it begins a write transaction: blocks its thread while the main thread
   * wants or holds the lock, at most `maxMs` (a main thread that writes without a pause does not
   * stop the run; SQLite's busy handler takes over then).
   */
  giveWay(maxMs: number): void {
    const until = Date.now() + maxMs;
    for (;;) {
      const n = Atomics.load(this.wanting, 0);
      const left = until - Date.now();
      if (n <= 0 || left <= 0) return;
      Atomics.wait(this.wanting, 0, n, left);
    }
  }
}

/** A store connection's place at the gate: the main thread's (first) or the worker's. */
export interface GateTurn {
  gate: WriterGate;
  first: boolean;
}
