import { readdirSync, readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from './shared/errors.js';
import { pidAlive } from './shared/pids.js';

/**
 * Whether a node runs on a home: `<home>/hotline.pid`, created (exclusively) by `start` before it
 * opens anything and removed when it stops, holds the node's pid and, once it listens, its address.
 * A file alone proves nothing (kill -9 leaves it behind, and the pid may since belong to another
 * program): a node runs only when its pid is alive AND its address answers /healthz with this
 * home's party. While the node is starting (no address yet) a live pid is enough, for at most
 * ten minutes.
 *
 * On a PostgreSQL store several processes of one node may run (issue 13, item 3: `hotline start
 * --listen ADDR` behind a load balancer): each claims its listen address instead of the home, in
 * `<home>/hotline-<host>_<port>.pid`, so a second start on the same address is still refused. An
 * SQLite home keeps the one `hotline.pid`, whatever the address: one process per SQLite store.
 */
export const PID_FILE = 'hotline.pid';

/** Where a process's record is: the home's for SQLite, its listen address's for one of several processes on PostgreSQL. */
export interface ClaimScope {
  listen?: { host: string; port: number };
}

export interface RunRecord {
  pid: number;
  party: string;
  /** e.g. http://127.0.0.1:7001; null while the node is starting. */
  address: string | null;
  started_at: string;
}

/** How long a node may take from claiming its home to listening before its record counts as stale. */
const STARTING_MS = 10 * 60_000;

/** `hotline.pid`, or `hotline-127.0.0.1_7001.pid` for a process claiming its address (port 0: each start its own file). */
export function pidFileName(scope: ClaimScope = {}): string {
  if (scope.listen === undefined) return PID_FILE;
  const host = scope.listen.host.replace(/[^A-Za-z0-9.-]/g, '_');
  return `hotline-${host}_${scope.listen.port === 0 ? `0-${process.pid}` : scope.listen.port}.pid`;
}

function pidPath(home: string, scope: ClaimScope = {}): string {
  return join(home, pidFileName(scope));
}

/** Every record file of a home: hotline.pid and the per-address ones. */
function recordFiles(home: string): string[] {
  try {
    return readdirSync(home).filter((f) => f === PID_FILE || /^hotline-.+\.pid$/.test(f)).sort();
  } catch {
    return [];
  }
}

function readRecord(home: string, file: string = PID_FILE): RunRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(home, file), 'utf8')) as Partial<RunRecord>;
    if (typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid <= 0 || typeof r.party !== 'string') return undefined;
    return { pid: r.pid, party: r.party, address: typeof r.address === 'string' ? r.address : null, started_at: String(r.started_at ?? '') };
  } catch {
    return undefined;
  }
}

/** The address to reach a listener on: a wildcard host becomes loopback. */
function reachable(address: string): string {
  return address.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/** The party a node at `address` names on /healthz, or undefined when nothing (or not a node) answers. */
export async function partyAt(address: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const r = await fetch(`${reachable(address)}/healthz`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (!r.ok) return undefined;
    const body = (await r.json()) as { party?: unknown };
    return typeof body.party === 'string' ? body.party : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The node running on this home, or undefined: the pid file's pid is alive and (once it listens)
 * its address answers with the file's party, or, answering nothing within 2 s (a node busy or
 * stuck), that pid holds the address's listening socket. A file left by kill -9 (dead pid, or a
 * live pid that does not hold the address) is not a running node.
 */
export async function runningNode(home: string, now: number = Date.now()): Promise<RunRecord | undefined> {
  for (const f of recordFiles(home)) {
    const r = await runningAt(home, f, now);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Every process of the node running on this home (several on PostgreSQL, each on its own address), oldest record first. */
export async function runningProcesses(home: string, now: number = Date.now()): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for (const f of recordFiles(home)) {
    const r = await runningAt(home, f, now);
    if (r !== undefined) out.push(r);
  }
  return out.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

async function runningAt(home: string, file: string, now: number): Promise<RunRecord | undefined> {
  const r = readRecord(home, file);
  if (r === undefined || !pidAlive(r.pid)) return undefined;
  // Still starting: believed for a while only (a start killed before it listened, its pid since reused, must not block the home for ever).
  if (r.address === null) return now - Date.parse(r.started_at) < STARTING_MS ? r : undefined;
  const party = await partyAt(r.address);
  if (party !== undefined) return party === r.party ? r : undefined;
  // No answer in time: a node busy or stuck is still running (a CLI must not run beside it, migrate
  // must not copy under it), and it is the one holding its address's socket.
  return pidListeningOn(portOf(r.address)) === r.pid ? r : undefined;
}

/** The TCP port of a recorded address (http://host:port). */
function portOf(address: string): number {
  try {
    return Number(new URL(address).port);
  } catch {
    return Number.NaN;
  }
}

/** "already running (pid 4242) on http://127.0.0.1:7001" */
function alreadyRunning(r: RunRecord, home: string, scope: ClaimScope): never {
  const more = scope.listen === undefined ? '' : ', or start this process on another address (hotline start --listen HOST:PORT): several processes may share a PostgreSQL store';
  return fail('already_running', `The node is already running (pid ${r.pid}) on ${r.address ?? '(starting, no address yet)'}; home ${home}. Stop it first (SIGTERM to pid ${r.pid})${more}.`,
    { pid: r.pid, address: r.address });
}

/** The claim `start` holds on a home while the node runs. */
export interface HomeClaim {
  /** Records the address the node now listens on. */
  listening(address: string): void;
  /** Removes the pid file (only if it is still ours). */
  release(): void;
}

/**
 * Claims a home for a starting node: creates the pid file exclusively, replacing one a dead node
 * left behind. Refused with `already_running` "(pid N) on ADDRESS" when a node runs on this home.
 */
export async function claimHome(home: string, party: string, scope: ClaimScope = {}, now: () => Date = () => new Date()): Promise<HomeClaim> {
  const file = pidFileName(scope);
  const path = pidPath(home, scope);
  const mine: RunRecord = { pid: process.pid, party, address: null, started_at: now().toISOString() };
  const write = (r: RunRecord, flag: 'wx' | 'w'): void => writeFileSync(path, `${JSON.stringify(r)}\n`, { flag, mode: 0o600 });
  for (let attempt = 0; ; attempt++) {
    try {
      write(mine, 'wx');
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
    }
    const other = await runningAt(home, file, now().getTime());
    if (other !== undefined) alreadyRunning(other, home, scope);
    try {
      unlinkSync(path); // left by a node that is gone (kill -9, a crash)
    } catch {
      // another start removed it first; try again
    }
  }
  const stillMine = (): boolean => {
    const r = readRecord(home, file);
    return r !== undefined && r.pid === mine.pid && r.started_at === mine.started_at;
  };
  return {
    listening(address) {
      mine.address = address;
      if (stillMine()) write(mine, 'w');
    },
    release() {
      try {
        if (stillMine()) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * The process listening on a TCP port on this host, from /proc (Linux; processes this user may
 * inspect), or undefined: who holds an address a node could not listen on, or whether a node that
 * does not answer in time still holds its own.
 */
export function pidListeningOn(port: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(cols[1]!.split(':').at(-1) ?? '', 16) === port) inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let procs: string[];
  try {
    procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of procs) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m !== null && inodes.has(m[1]!)) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/**
 * What to say when the node could not listen on host:port because something holds it:
 * `already_running` "(pid N) on ADDRESS" naming the holder (and its party if it is a node).
 */
export async function addressInUse(host: string, port: number): Promise<never> {
  const h = host.includes(':') ? `[${host}]` : host;
  const address = `http://${h}:${port}`;
  const [pid, party] = [pidListeningOn(port), await partyAt(address)];
  const who = party === undefined ? '' : ` (node "${party}")`;
  if (pid !== undefined) {
    return fail('already_running', `Cannot listen on ${address}: already running (pid ${pid}) on ${address}${who}. Stop it, or give this node another "listen" port in hotline.json (or hotline start --listen HOST:PORT).`, { pid, address });
  }
  return fail('already_running', `Cannot listen on ${address}: another process${who} already listens there. Stop it, or give this node another "listen" port in hotline.json.`, { address });
}
