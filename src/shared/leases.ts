import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import { pidAlive } from './pids.js';

/**
 * Leases on background work (issue 13, item 3: several processes of one node on one PostgreSQL
 * store). A lease names a piece of work that must be done by one process at a time, in order (the
 * delivery of one link: `link:<party>`; the notifications to one sink target: `sink:<sink> <target>`;
 * the ping schedule), the process holding it and when it lapses. The holder renews what it holds
 * while it works ({@link Leases.start}: every third of the lease's length, in one statement); a
 * process killed with -9 stops renewing, its leases lapse and another process takes the work over.
 *
 * A lease is a hint of ownership, not a proof: a process paused past its lease (a long GC, a
 * stopped VM) may still finish what it began. So the work under a lease also guards its own writes
 * (delivery: the link's cursor is compare-and-set) and the store's serializable transactions order
 * the rest. On SQLite one process runs per home (pidfile.ts) and nobody takes leases.
 */
export type LeasesTable = {
  name: string;
  holder: string;
  expires_at: number;
};

export type LeasesTables = {
  leases: LeasesTable;
};

/** How long a lease lasts unless renewed (ms): a killed process's work waits at most this long. */
export const DEFAULT_LEASE_MS = 10_000;

/** This process, as a lease holder: host, pid and a random part (a restarted process with the same pid is another holder). */
export function processHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class Leases {
  /** The leases this process believes it holds, with when each lapses (ms). */
  private readonly held = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: {
    db: Kysely<LeasesTables>;
    clock: Clock;
    /** Who this process is ({@link processHolder}). */
    holder: string;
    ttlMs?: number;
    onError?: (e: unknown) => void;
  }) {}

  get holder(): string {
    return this.deps.holder;
  }

  private get ttl(): number {
    return this.deps.ttlMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Takes the lease `name` when nobody holds it, its holder let it lapse, or this process holds it
   * already (then it is renewed); false when another process holds it. One statement, atomic on
   * both dialects (insert ... on conflict do update ... where), run again on a serialization failure.
   */
  async acquire(name: string): Promise<boolean> {
    const now = this.deps.clock.now();
    const expires = now + this.ttl;
    const holder = this.deps.holder;
    const got = await this.deps.db.transaction().execute(async (trx) => trx.insertInto('leases')
      .values({ name, holder, expires_at: expires })
      .onConflict((oc) => oc.column('name').doUpdateSet({ holder, expires_at: expires })
        .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', now)])))
      .returning('holder')
      .executeTakeFirst());
    if (got?.holder !== holder) return false;
    this.held.set(name, expires);
    return true;
  }

  /** Whether this process still holds `name`: taken, and renewed in time (a renewal that failed or came late counts as lost). */
  holds(name: string): boolean {
    const until = this.held.get(name);
    return until !== undefined && until > this.deps.clock.now();
  }

  /** The names starting with `prefix` whose lease another process holds live at `now` (work to leave to it), with when each expires. */
  async heldByOthers(prefix: string, now: number): Promise<Map<string, number>> {
    const rows = await this.deps.db.selectFrom('leases').select(['name', 'expires_at']).where('name', 'like', `${prefix}%`)
      .where('holder', '<>', this.deps.holder).where('expires_at', '>=', now).execute();
    return new Map(rows.map((r) => [r.name, Number(r.expires_at)]));
  }

  /** Gives `name` up (the work is done for now): another process may take it at once. */
  async release(name: string): Promise<void> {
    this.held.delete(name);
    await this.deps.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', this.deps.holder).execute();
  }

  /** Renews every lease held, every third of the lease's length, until {@link stop}. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.renewing = this.renewing.then(() => this.renew()).catch((e: unknown) => this.deps.onError?.(e));
    }, Math.max(50, Math.floor(this.ttl / 3)));
    this.timer.unref();
  }

  /** Stops renewing and gives up every lease held (a clean stop: the others take the work at once). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    const names = [...this.held.keys()];
    this.held.clear();
    if (names.length > 0) await this.deps.db.deleteFrom('leases').where('name', 'in', names).where('holder', '=', this.deps.holder).execute();
  }

  /** Pushes the expiry of every lease still ours; one that another process took over (ours lapsed) is forgotten. */
  async renew(): Promise<void> {
    const names = [...this.held.keys()];
    if (names.length === 0) return;
    const expires = this.deps.clock.now() + this.ttl;
    const kept = await this.deps.db.transaction().execute(async (trx) => trx.updateTable('leases').set({ expires_at: expires })
      .where('name', 'in', names).where('holder', '=', this.deps.holder).returning('name').execute());
    const still = new Set(kept.map((r) => r.name));
    for (const n of names) {
      if (!this.held.has(n)) continue; // released meanwhile
      if (still.has(n)) this.held.set(n, expires);
      else this.held.delete(n);
    }
  }
}

/**
 * Runs `job` under the lease `name`: taken first, given up when the job ends. Answers `busy`
 * without running it when another process holds the lease. Without leases (an SQLite store: one
 * process per home) the job just runs.
 */
export async function underLease<T>(leases: Leases | undefined, name: string, job: () => Promise<T>, busy: T): Promise<T> {
  if (leases === undefined) return job();
  if (!await leases.acquire(name)) return busy;
  try {
    return await job();
  } finally {
    await leases.release(name);
  }
}

/** The lease that says a process of the node runs (listed by `hotline status`): `process:<holder> <address>`. */
export function processLease(holder: string, address: string): string {
  return `process:${holder} ${address}`;
}

/** A running process of the node, from its live `process:` lease. */
export interface NodeProcess {
  pid: number;
  host: string;
  address: string;
}

/** The node's processes whose `process:` lease is live at `now` (other than `except`'s), by name. */
export async function liveProcesses(db: Kysely<LeasesTables>, now: number, except?: string): Promise<NodeProcess[]> {
  let q = db.selectFrom('leases').select('name').where('name', 'like', 'process:%').where('expires_at', '>=', now);
  if (except !== undefined) q = q.where('holder', '<>', except);
  const rows = await q.orderBy('name').execute();
  return rows.flatMap((r) => {
    const m = /^process:(.*):(\d+):[0-9a-f]+ (\S+)$/.exec(r.name);
    return m === null ? [] : [{ pid: Number(m[2]), address: m[3]!, host: m[1]! }];
  });
}

/**
 * Whether a process named by a live lease has ended on this machine: a process killed with -9 keeps
 * its leases live until they lapse (up to {@link DEFAULT_LEASE_MS}), but its pid is gone at once.
 * Judged by host name and pid, so only for what a person is shown or what the CLI chooses to do
 * (`hotline status`, `feed ingest`'s hand-over), never for taking work over: two machines may share
 * a host name. A process of another host never counts as ended here; a pid reused since still
 * counts as running (its lease then lapses as before).
 */
export function endedHere(p: Pick<NodeProcess, 'host' | 'pid'>): boolean {
  return p.host === hostname() && !pidAlive(p.pid);
}

/** The holders ({@link processHolder}) of the node's processes whose `process:` lease is live at `now`. */
export async function liveHolders(db: Kysely<LeasesTables>, now: number): Promise<Set<string>> {
  const rows = await db.selectFrom('leases').select('name').where('name', 'like', 'process:%').where('expires_at', '>=', now).execute();
  return new Set(rows.flatMap((r) => {
    const m = /^process:(\S+) /.exec(r.name);
    return m === null ? [] : [m[1]!];
  }));
}
