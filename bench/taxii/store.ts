/**
 * bench:taxii on PostgreSQL (`--store postgres`): a database of its own, made with the code-point
 * collation Hotline needs (C.UTF-8), the node's home made with `hotline init --database <its URL>`,
 * and the database dropped at the end (unless `--keep`). The server is HOTLINE_BENCH_PG_URL's
 * (default postgres://postgres@127.0.0.1:5432/test: a database the user may create databases from).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { initHome } from '../../src/adapters/cli/commands/init.js';
import { freePort } from '../../src/adapters/cli/commands/demo.js';
import { withNode } from '../../src/adapters/cli/home.js';
import { makeDescriptor } from '../../src/modules/federation/federation.peers.js';
import type { BenchNode } from '../federation/nodes.js';

const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');

export const BENCH_PG_URL = process.env.HOTLINE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  url: string;
  name: string;
  /** Bytes the database takes on disk (pg_database_size). */
  size(): Promise<number>;
  drop(): Promise<void>;
}

async function admin<T>(f: (c: InstanceType<typeof Client>) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: BENCH_PG_URL });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** The server's version and the settings that decide bulk loading (shared_buffers, WAL and checkpoints), as printed in the report. */
export async function serverSettings(): Promise<string> {
  return admin(async (c) => {
    const names = ['server_version', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_compression', 'max_pred_locks_per_transaction'];
    const r = await c.query<{ name: string; setting: string }>('select name, current_setting(name) as setting from unnest($1::text[]) as name', [names]);
    const v = new Map(r.rows.map((x) => [x.name, x.setting]));
    return `PostgreSQL ${v.get('server_version')!.split(' ')[0]} (${names.slice(1).map((n) => `${n}=${v.get(n)!}`).join(', ')})`;
  });
}

/** A new database for the bench (UTF-8, C.UTF-8 collation). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `hotline_bench_taxii_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}" template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`));
  const u = new URL(BENCH_PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(), name,
    size: () => admin(async (c) => Number((await c.query<{ n: string }>('select pg_database_size($1) as n', [name])).rows[0]!.n)),
    drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/** As bench/federation/nodes.ts makeNode, with the store in PostgreSQL. */
export async function makePostgresNode(dir: string, party: string, database: string): Promise<BenchNode> {
  const port = await freePort();
  const home = join(dir, party);
  const r = await initHome({ home, party, name: `Bench node ${party.toUpperCase()}`, listen: `127.0.0.1:${port}`, database });
  const descriptor = await withNode(home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
  return { party, home, url: r.url, token: r.token, fingerprint: r.fingerprint, descriptor, log: join(dir, `${party}.log`), children: [], processes: 1, addresses: [r.url], database };
}
