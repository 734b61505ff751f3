import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'hotline.js');

/** A node running as its own OS process (`hotline start`), which a test can SIGKILL. */
export class NodeProcess {
  child: ChildProcess | undefined;
  constructor(readonly home: string, readonly url: string) {}

  async start(): Promise<void> {
    const log = openSync(join(this.home, 'node.log'), 'a');
    this.child = spawn(process.execPath, [BIN, 'start', '--home', this.home], { stdio: ['ignore', log, log] });
    // Bounded by tries, generously: on a loaded machine a node can take a minute to load its modules.
    for (let i = 0; i < 6000; i++) {
      if (this.child.exitCode !== null) throw new Error(`node at ${this.home} exited with ${this.child.exitCode}; see node.log`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    await this.kill9(); // not left running behind a failed test
    throw new Error(`node at ${this.home} did not become ready`);
  }

  /** kill -9: no shutdown hooks, no flush; whatever was not committed is gone. */
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
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads a node's SQLite store from outside its process (WAL allows it while the node runs). */
export function readStore<T>(home: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(home, 'hotline.db'), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * Reads a node's store, whichever it is, from outside its process: `sql` with `?` placeholders
 * (written for both dialects), run on the home's SQLite file read-only or on its PostgreSQL
 * database through a connection of its own.
 */
export async function queryStore<T>(home: string, sql: string, ...params: unknown[]): Promise<T[]> {
  const store = loadConfig(home).store;
  if (store.driver === 'sqlite') return readStore(home, (db) => db.prepare(sql).all(...params) as T[]);
  const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');
  const c = new Client({ connectionString: store.url });
  // int8 as a number, as the node reads it (counts, seq numbers).
  c.setTypeParser(20, (v: string) => Number(v));
  await c.connect();
  try {
    let n = 0;
    return (await c.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** One number from a node's store (`select count(*) as n ...`). */
export async function countIn(home: string, sql: string, ...params: unknown[]): Promise<number> {
  const rows = await queryStore<{ n: number }>(home, sql, ...params);
  return Number(rows[0]?.n ?? 0);
}

/** Starts each home as its own `hotline start` process; the caller stops or kills them. */
export async function startProcesses(homes: readonly { home: string; url: string }[]): Promise<NodeProcess[]> {
  const out: NodeProcess[] = [];
  try {
    for (const h of homes) {
      const n = new NodeProcess(h.home, h.url);
      out.push(n);
      await n.start();
    }
  } catch (e) {
    await Promise.all(out.map((n) => n.kill9())); // none left running if one fails to start
    throw e;
  }
  return out;
}
