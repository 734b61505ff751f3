/** The two nodes under test: each its own `hotline start` process with its own home, store and key. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initHome } from '../../src/adapters/cli/commands/init.js';
import { freePort } from '../../src/adapters/cli/commands/demo.js';
import { withNode } from '../../src/adapters/cli/home.js';
import { makeDescriptor, parseDescriptor, type Descriptor } from '../../src/modules/federation/federation.peers.js';
import { sleep } from '../load.js';
import { running, stopChild, track } from './processes.js';

const BIN = fileURLToPath(new URL('../../../bin/hotline.js', import.meta.url));
/** How often the bench polls a node (health, receipts). */
export const POLL_MS = 50;

export interface BenchNode {
  party: string;
  home: string;
  url: string;
  token: string;
  fingerprint: string;
  descriptor: Descriptor;
  log: string;
  /** The first process (the one on the home's own address). */
  child?: ChildProcess;
  /** Every process of the node (several on PostgreSQL: `hotline start --listen`). */
  children: ChildProcess[];
  /** How many processes to start. */
  processes: number;
  /** Where each process answers (the first is `url`). */
  addresses: string[];
  /** The PostgreSQL store's URL, when the node is on PostgreSQL. */
  database?: string;
}

/** Initialises a node's home under `dir` on a free loopback port (not started yet). */
export async function makeNode(dir: string, party: string, o: { database?: string; processes?: number } = {}): Promise<BenchNode> {
  const port = await freePort();
  const home = join(dir, party);
  const r = await initHome({ home, party, name: `Bench node ${party.toUpperCase()}`, listen: `127.0.0.1:${port}`, ...(o.database === undefined ? {} : { database: o.database }) });
  const descriptor = await withNode(home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
  const addresses = [r.url];
  for (let i = 1; i < (o.processes ?? 1); i++) addresses.push(`http://127.0.0.1:${await freePort()}`);
  return {
    party, home, url: r.url, token: r.token, fingerprint: r.fingerprint, descriptor, log: join(dir, `${party}.log`),
    children: [], processes: o.processes ?? 1, addresses, ...(o.database === undefined ? {} : { database: o.database }),
  };
}

/** Adds each node to the other's peers, pinning the other's key fingerprint. */
export async function peer(a: BenchNode, b: BenchNode): Promise<void> {
  for (const [x, y] of [[a, b], [b, a]] as const) {
    await withNode(x.home, (ctx) => ctx.peers.add(parseDescriptor(y.descriptor), { expectFingerprint: y.fingerprint }));
  }
}

/** Starts the nodes (with --cpu-prof when `cpuProfDir` is set) and waits until each answers /healthz. */
export async function startNodes(nodes: readonly BenchNode[], cpuProfDir: string | undefined): Promise<void> {
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
  for (const n of nodes) startNode(n, cpuProfDir);
  await Promise.all(nodes.flatMap((n) => n.addresses.map((a) => waitHealthy(n, a))));
}

export async function stopNodes(nodes: readonly BenchNode[]): Promise<void> {
  await Promise.all(nodes.flatMap((n) => n.children.map((c) => stopChild(c))));
}

function startNode(n: BenchNode, cpuProfDir: string | undefined): void {
  const fd = openSync(n.log, 'a');
  const prof = (i: number): string[] => cpuProfDir === undefined ? []
    : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `node-${n.party}${i === 0 ? '' : `-${i + 1}`}.cpuprofile`];
  try {
    // The first process on the home's address; more (PostgreSQL) each on its own (hotline start --listen).
    n.children = n.addresses.map((a, i) => track(spawn(process.execPath,
      [...prof(i), BIN, 'start', '--home', n.home, ...(i === 0 ? [] : ['--listen', new URL(a).host])], { stdio: ['ignore', fd, fd] })));
    n.child = n.children[0];
  } finally {
    closeSync(fd);
  }
}

async function waitHealthy(n: BenchNode, address: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (exited(n)) throw new Error(`node ${n.party} exited during start-up:\n${logTail(n)}`);
    try {
      const res = await fetch(`${address}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(POLL_MS);
  }
  throw new Error(`node ${n.party} did not become ready in ${(200 * POLL_MS) / 1000} s:\n${logTail(n)}`);
}

/** True once a started node's process has gone. */
export function exited(n: BenchNode): boolean {
  return n.children.some((c) => !running(c));
}

/** The last lines of a node's log. */
export function logTail(n: BenchNode, lines = 20): string {
  try {
    return readFileSync(n.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
