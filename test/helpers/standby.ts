/**
 * A PostgreSQL primary with a synchronous streaming standby, made for one test file with Debian's
 * cluster tools (issue 13, "a standby that takes over"; docs/standby.md is the same setup by hand).
 *
 * The machine's own cluster (15/main on 5432) is never touched: the drill makes two clusters of its
 * own, named `hotline_drill_<pid>_<random>_p` and `..._s`, on free ports (the standby on 5433 and
 * the primary on 5434 when those are free), and drops them at the end. Clusters left by a run that
 * crashed (its pid is gone) are dropped before new ones are made.
 *
 * Needs root (pg_createcluster, runuser) and PostgreSQL 15's binaries; without them the drill is
 * skipped with the reason printed, or fails when HOTLINE_REQUIRE_POSTGRES=1.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe } from 'vitest';
import type { ConfigFile } from '../../src/config.js';

const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');

const VERSION = '15';
const BIN_DIR = `/usr/lib/postgresql/${VERSION}/bin`;
const PREFIX = 'hotline_drill_';
/** The walreceiver's application_name, as synchronous_standby_names on the primary names it. */
export const STANDBY_NAME = 'hotline_standby';
const REQUIRED = process.env.HOTLINE_REQUIRE_POSTGRES === '1';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'the drill makes its own PostgreSQL clusters with pg_createcluster and must run as root';
  for (const f of ['postgres', 'pg_basebackup', 'pg_ctl']) if (!existsSync(join(BIN_DIR, f))) return `${join(BIN_DIR, f)} is missing (apt-get install postgresql-${VERSION})`;
  for (const cmd of ['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster', 'pg_lsclusters', 'runuser']) if (!which(cmd)) return `${cmd} is not on the PATH (postgresql-common, util-linux)`;
  return null;
}

/** Why the standby drill cannot run here, or null when it can. */
export const STANDBY_MISSING: string | null = missing();

/** `describe`, or a skipped one with the reason printed (a failing one when HOTLINE_REQUIRE_POSTGRES=1). */
export function describeStandby(name: string, body: () => void): void {
  if (STANDBY_MISSING === null) { describe(name, body); return; }
  if (REQUIRED) {
    describe(name, () => { throw new Error(`The standby drill is required (HOTLINE_REQUIRE_POSTGRES=1) but ${STANDBY_MISSING}`); });
    return;
  }
  console.warn(`[hotline] standby drill SKIPPED: ${STANDBY_MISSING}`);
  describe.skip(name, body);
}

function run(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Listed { name: string; port: number; status: string; dataDir: string }

function clusters(): Listed[] {
  return run('pg_lsclusters', ['-h']).split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === VERSION).map((f) => ({ name: f[1]!, port: Number(f[2]), status: f[3]!, dataDir: f[5]! }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops (by kill, if it must) and drops a cluster; never throws (cleanup). */
function dropCluster(name: string): void {
  if (spawnSync('pg_dropcluster', ['--stop', VERSION, name], { encoding: 'utf8' }).status === 0) return;
  // A killed cluster's stale postmaster.pid can make --stop fail: kill what is left, then drop.
  const listed = clusters().find((c) => c.name === name);
  if (listed !== undefined) killTree(postmasterPid(listed.dataDir));
  spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', '-m', 'immediate', VERSION, name, 'stop'], { encoding: 'utf8' });
  spawnSync('pg_dropcluster', [VERSION, name], { encoding: 'utf8' });
}

/** Drops drill clusters whose test process is gone (a crashed run); returns their names. */
export function dropStaleDrillClusters(): string[] {
  const stale = clusters().filter((c) => {
    const m = new RegExp(`^${PREFIX}(\\d+)_`).exec(c.name);
    return m !== null && !alive(Number(m[1]));
  });
  for (const c of stale) dropCluster(c.name);
  return stale.map((c) => c.name);
}

async function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function pickPort(preferred: number, taken: Set<number>): Promise<number> {
  for (const p of [preferred, ...Array.from({ length: 100 }, (_, i) => 5435 + i)]) {
    if (taken.has(p) || !(await bindable(p))) continue;
    taken.add(p);
    return p;
  }
  throw new Error('no free port for a drill cluster in 5433..5534');
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * kill -9 of a postmaster and every process it started, as if the machine were lost: the
 * postmaster is stopped first (it forks nothing more, and its children stay its children while
 * they are listed), then all of them are killed. Synchronous. Returns the pids killed.
 */
function killTree(pid: number | null): number[] {
  if (pid === null || !alive(pid)) return [];
  process.kill(pid, 'SIGSTOP');
  const all = [...childrenOf(pid), pid];
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return all;
}

export interface Cluster {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  readonly confDir: string;
}

const HBA = [
  '# written by the Hotline standby drill: trust on loopback, replication included',
  'local all all trust',
  'host all all 127.0.0.1/32 trust',
  'local replication all trust',
  'host replication all 127.0.0.1/32 trust',
  '',
].join('\n');

const CONF = [
  "listen_addresses = '127.0.0.1'",
  'wal_level = replica',
  'max_wal_senders = 5',
  'max_connections = 60',
  'shared_buffers = 32MB',
  'ssl = off',
  'fsync = on',
  'synchronous_commit = on',
  '',
].join('\n');

function createCluster(name: string, port: number): Cluster {
  run('pg_createcluster', [VERSION, name, '-p', String(port), '--locale=C.UTF-8']);
  const confDir = `/etc/postgresql/${VERSION}/${name}`;
  const dataDir = clusters().find((c) => c.name === name)?.dataDir;
  if (dataDir === undefined) throw new Error(`pg_createcluster made no cluster ${name}`);
  writeFileSync(join(confDir, 'pg_hba.conf'), HBA);
  writeFileSync(join(confDir, 'conf.d', 'hotline-drill.conf'), CONF);
  return { name, port, dataDir, confDir };
}

function start(c: Cluster): void {
  run('pg_ctlcluster', ['--skip-systemctl-redirect', VERSION, c.name, 'start']);
}

/**
 * The network between the standby and the primary: a TCP forwarder the standby's walreceiver
 * connects through, which the test can freeze (nothing more passes either way, new connections
 * are refused), as a partition would. When the primary's side closes, the standby's does too.
 */
export class ReplicationLink {
  private frozen = false;
  private readonly pairs = new Set<{ down: Socket; up: Socket }>();
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(target: number): Promise<ReplicationLink> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the replication link has no port');
    const link = new ReplicationLink(server, address.port);
    server.on('connection', (down) => link.accept(down, target));
    return link;
  }

  private accept(down: Socket, target: number): void {
    if (this.frozen) { down.destroy(); return; }
    const up = connect(target, '127.0.0.1');
    const pair = { down, up };
    this.pairs.add(pair);
    for (const s of [down, up]) s.on('error', () => undefined);
    down.on('data', (c: Buffer) => up.write(c));
    up.on('data', (c: Buffer) => down.write(c));
    const end = (): void => {
      down.destroy();
      up.destroy();
      this.pairs.delete(pair);
    };
    down.on('close', end);
    up.on('close', end);
  }

  /** From now on nothing passes: the standby receives no more WAL and the primary no more confirmations. */
  freeze(): void {
    this.frozen = true;
    for (const p of this.pairs) {
      p.up.pause();
      p.down.pause();
    }
  }

  async close(): Promise<void> {
    this.frozen = true;
    for (const p of this.pairs) {
      p.down.destroy();
      p.up.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A primary and a synchronous streaming standby on this machine, with a database for a node. */
export class StandbyDrill {
  private dropped = false;
  private constructor(readonly primary: Cluster, readonly standby: Cluster, readonly database: string, readonly link: ReplicationLink) {}

  /**
   * Makes the primary (wal_level replica, trust on loopback for connections and replication), a
   * database with the C.UTF-8 collation, the standby by `pg_basebackup -R` from it, and only then
   * names the standby in the primary's synchronous_standby_names (a commit returns once the
   * standby has flushed it; `synchronous: false` leaves replication asynchronous, for a control).
   * Drops both clusters if any step fails.
   */
  static async create(o: { database?: string; synchronous?: boolean } = {}): Promise<StandbyDrill> {
    const database = o.database ?? 'hotline';
    dropStaleDrillClusters();
    const taken = new Set(clusters().map((c) => c.port));
    const standbyPort = await pickPort(5433, taken);
    const primaryPort = await pickPort(5434, taken);
    const base = `${PREFIX}${process.pid}_${randomBytes(3).toString('hex')}`;
    const made: string[] = [];
    let link: ReplicationLink | undefined;
    try {
      made.push(`${base}_p`);
      const primary = createCluster(`${base}_p`, primaryPort);
      start(primary);
      const admin = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
      await sql(admin, `create database ${database} template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`);

      made.push(`${base}_s`);
      const standby = createCluster(`${base}_s`, standbyPort);
      // The standby's data directory is replaced by a base backup of the primary (-R: standby.signal and primary_conninfo).
      run('sh', ['-c', `find '${standby.dataDir}' -mindepth 1 -delete`]);
      run('runuser', ['-u', 'postgres', '--', join(BIN_DIR, 'pg_basebackup'), '-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres',
        '-D', standby.dataDir, '-R', '-X', 'stream', '-c', 'fast']);
      // The standby streams through the link (so the test can partition them); it is named for synchronous_standby_names.
      link = await ReplicationLink.start(primaryPort);
      writeFileSync(join(standby.dataDir, 'postgresql.auto.conf'),
        `${readFileSync(join(standby.dataDir, 'postgresql.auto.conf'), 'utf8')}primary_conninfo = 'host=127.0.0.1 port=${link.port} user=postgres application_name=${STANDBY_NAME}'\n`);
      start(standby);

      const drill = new StandbyDrill(primary, standby, database, link);
      await drill.waitFor(primary, `select 1 from pg_stat_replication where application_name = '${STANDBY_NAME}' and state = 'streaming'`);
      if (o.synchronous === false) return drill;
      // Only now, with the standby streaming: set before, the primary's commits would wait for it
      // (and the base backup would carry the setting to the standby).
      await sql(admin, `alter system set synchronous_standby_names = '${STANDBY_NAME}'`);
      await sql(admin, 'select pg_reload_conf()');
      await drill.waitFor(primary, `select 1 from pg_stat_replication where application_name = '${STANDBY_NAME}' and sync_state = 'sync'`);
      return drill;
    } catch (e) {
      for (const n of made.reverse()) dropCluster(n);
      await link?.close();
      throw e;
    }
  }

  /** postgres://postgres@127.0.0.1:PORT/DATABASE of a cluster. */
  url(c: Cluster, database = this.database): string {
    return `postgres://postgres@127.0.0.1:${c.port}/${database}`;
  }

  query<T>(c: Cluster, text: string, params: readonly unknown[] = []): Promise<T[]> {
    return sql<T>(this.url(c), text, params);
  }

  /** Polls (bounded by tries) until `text` returns a row. */
  async waitFor(c: Cluster, text: string, tries = 1200): Promise<void> {
    for (let i = 0; i < tries; i++) {
      try {
        if ((await sql(this.url(c, 'postgres'), text)).length > 0) return;
      } catch {
        // not accepting connections yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${c.name}: no row from "${text}" after ${tries} tries`);
  }

  /** kill -9 of the primary's postmaster and all its processes at once (synchronous). Returns the pids killed. */
  crashPrimary(): number[] {
    return killTree(postmasterPid(this.primary.dataDir));
  }

  /** Promotes the standby (`pg_ctlcluster ... promote`) and waits until it takes writes. */
  async promote(): Promise<void> {
    run('pg_ctlcluster', ['--skip-systemctl-redirect', VERSION, this.standby.name, 'promote']);
    await this.waitFor(this.standby, 'select 1 where not pg_is_in_recovery()');
  }

  /** How far the standby is behind: commits waiting for it on the primary, and the WAL bytes it has not flushed. */
  async lag(): Promise<{ waiting: number; bytes: number }> {
    const [row] = await sql<{ waiting: number; bytes: string }>(this.url(this.primary, 'postgres'),
      `select (select count(*)::int from pg_stat_activity where wait_event = 'SyncRep') as waiting,
              coalesce((select pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) from pg_stat_replication where application_name = '${STANDBY_NAME}'), -1)::text as bytes`);
    return { waiting: row!.waiting, bytes: Number(row!.bytes) };
  }

  /** Drops both clusters (stopping, or killing, what still runs) and closes the link. Safe to call twice. */
  async drop(): Promise<void> {
    if (this.dropped) return;
    this.dropped = true;
    await this.link.close();
    dropCluster(this.standby.name);
    dropCluster(this.primary.name);
  }
}

async function sql<T>(url: string, text: string, params: readonly unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  try {
    return (await c.query(text, params as unknown[])).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** What the operator does after a promotion: the home's store URL now names the promoted standby. */
export function pointStoreAt(home: string, url: string): void {
  const file = join(home, 'hotline.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as ConfigFile;
  if (config.store?.driver !== 'postgres') throw new Error(`${home} does not keep its store in PostgreSQL`);
  config.store = { ...config.store, url };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
