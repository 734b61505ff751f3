/**
 * Several processes of one node on one PostgreSQL store (issue 13, item 3): a PostgreSQL home,
 * `hotline start --listen` processes that a test kills with -9 and restarts, and a round-robin HTTP
 * load balancer in front of them (nothing sticky: each request goes to the next process that accepts
 * a connection).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/adapters/cli/commands/demo.js';
import type { ConfigFile } from '../../src/config.js';
import { makeHome, type TestHome } from './nodes.js';
import { makePgHome } from './pg-homes.js';
import { NodeProcess, sleep } from './processes.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'hotline.js');

/** One `hotline start --listen 127.0.0.1:PORT` process of a node; killed with -9 and started again by the test. */
export class NodeOnPort {
  child: ChildProcess | undefined;
  starts = 0;
  constructor(readonly home: string, readonly port: number) {}

  get address(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return join(this.home, `node-${this.port}.log`);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const log = openSync(this.log, 'a');
    this.starts++;
    this.child = spawn(process.execPath, [BIN, 'start', '--home', this.home, '--listen', `127.0.0.1:${this.port}`], { stdio: ['ignore', log, log] });
    for (let i = 0; i < 6000; i++) {
      if (this.child.exitCode !== null) throw new Error(`process on ${this.port} exited with ${this.child.exitCode}; see ${this.log}`);
      try {
        if ((await fetch(`${this.address}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    await this.kill9();
    throw new Error(`process on ${this.port} did not become ready`);
  }

  async kill9(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await exited;
  }

  /**
   * Throws if the process has ended (a wait on it would never end): with how it ended and the
   * last lines of its log, so that a failure says what happened to it.
   */
  assertRunning(): void {
    if (this.running) return;
    const c = this.child;
    let tail = '';
    try {
      tail = readFileSync(this.log, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      // no log
    }
    throw new Error(`process on ${this.port} ended (exit code ${String(c?.exitCode)}, signal ${String(c?.signalCode)}); the last lines of ${this.log}:\n${tail}`);
  }

  /** The process's JSON log lines. */
  logLines(): Record<string, unknown>[] {
    let text = '';
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

/** Starts `n` processes of a node on free loopback ports. */
export async function startProcessesOf(home: string, n: number): Promise<NodeOnPort[]> {
  const out: NodeOnPort[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const p = new NodeOnPort(home, await freePort());
      out.push(p);
      await p.start();
    }
  } catch (e) {
    await Promise.all(out.map((p) => p.kill9()));
    throw e;
  }
  return out;
}

/**
 * A round-robin HTTP load balancer: each request (its body read whole first) goes to the next
 * backend; a backend that refuses the connection is skipped (nothing was sent to it); one that fails
 * after the request went out answers 502, as a real balancer would. Responses are streamed (SSE too).
 */
export class LoadBalancer {
  private next = 0;
  private server: Server | undefined;
  /** Requests answered by each backend port. */
  readonly served = new Map<number, number>();

  constructor(private readonly backends: () => readonly number[]) {}

  async listen(port = 0): Promise<number> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server === undefined ? r() : this.server.close(() => r())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const ports = this.backends();
    for (let i = 0; i < ports.length; i++) {
      const port = ports[this.next++ % ports.length]!;
      const outcome = await this.forward(port, req, body, res);
      if (outcome !== 'refused') return;
    }
    res.writeHead(503, { 'content-type': 'text/plain' }).end('no backend accepted the connection');
  }

  private forward(port: number, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<'done' | 'refused'> {
    return new Promise((resolve) => {
      const headers = { ...req.headers, host: `127.0.0.1:${port}`, connection: 'close' };
      const out = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (back) => {
        this.served.set(port, (this.served.get(port) ?? 0) + 1);
        res.writeHead(back.statusCode ?? 502, back.headers);
        back.pipe(res);
        back.on('error', () => res.destroy());
        back.on('end', () => resolve('done'));
        res.on('close', () => { back.destroy(); resolve('done'); });
      });
      out.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') { resolve('refused'); return; }
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`backend ${port} failed: ${e.message}`);
        else res.destroy();
        resolve('done');
      });
      out.end(body);
    });
  }
}

/**
 * A node `us` on PostgreSQL as two `hotline start --listen` processes, and its SQLite peer `ru`, in
 * `dir`. Peers deliver to process 1 (the home's url). `setup` runs once both homes exist (peering,
 * and whatever else the test needs); then the three processes start, each added to `running` for
 * the test's cleanup.
 */
export async function twoProcessNode(databaseUrl: string, dir: string, o: {
  extra?: Partial<ConfigFile>; setup: (us: TestHome, ru: TestHome) => Promise<void>; running: { kill9(): Promise<void> }[];
}): Promise<{ us: TestHome; ru: TestHome; p1: NodeOnPort; p2: NodeOnPort; peer: NodeProcess }> {
  const [port1, port2] = [await freePort(), await freePort()];
  const us = await makePgHome('us', databaseUrl, { dir, url: `http://127.0.0.1:${port1}`, ...(o.extra === undefined ? {} : { extra: o.extra }) });
  const ru = await makeHome('ru', {}, dir);
  await o.setup(us, ru);
  const p1 = new NodeOnPort(us.home, port1);
  const p2 = new NodeOnPort(us.home, port2);
  const peer = new NodeProcess(ru.home, ru.url);
  o.running.push(p1, p2, peer);
  await p1.start();
  await p2.start();
  await peer.start();
  return { us, ru, p1, p2, peer };
}
