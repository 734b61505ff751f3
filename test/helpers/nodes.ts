import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigFile } from '../../src/config.js';
import { withNode } from '../../src/adapters/cli/home.js';
import { freePort } from '../../src/adapters/cli/commands/demo.js';
import { initHome } from '../../src/adapters/cli/commands/init.js';
import { startNode, type RunningNode, type StartOptions } from '../../src/main.js';
import { makeDescriptor, parseDescriptor, type Descriptor } from '../../src/modules/federation/federation.peers.js';
import { silentLogger } from '../../src/shared/logger.js';

/** A node home made for a test: real config, key and SQLite file in a fresh temp directory. */
export interface TestHome {
  party: string;
  home: string;
  url: string;
  port: number;
  token: string;
  fingerprint: string;
  descriptor: Descriptor;
  start(opts?: StartOptions): Promise<RunningNode>;
}

export function tempDir(prefix = 'hotline-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Creates a node home on a free loopback port. `extra` overrides config sections (limits, delivery).
 * With HOTLINE_TEST_STORE=postgres (and no `store` in `extra`) its store is a fresh PostgreSQL schema
 * of the test file's database (test/helpers/pg-homes.ts): any real-node test runs on PostgreSQL.
 */
export async function makeHome(party: string, extra: Partial<ConfigFile> = {}, dir = tempDir()): Promise<TestHome> {
  const port = await freePort();
  if (process.env.HOTLINE_TEST_STORE === 'postgres' && extra.store === undefined) extra = { ...extra, ...(await (await import('./pg-homes.js')).pgStoreConfig()) };
  const home = join(dir, party);
  const r = await initHome({ home, party, name: `${party.toUpperCase()} test node`, listen: `127.0.0.1:${port}`, extra });
  const descriptor = await withNode(home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
  return {
    party, home, url: r.url, port, token: r.token, fingerprint: r.fingerprint, descriptor,
    start: (opts = {}) => startNode(loadConfig(home), { log: silentLogger, ...opts }),
  };
}

/** Pins each home's descriptor on every other one (as `hotline peer add` would). */
export async function peerAll(...homes: TestHome[]): Promise<void> {
  for (const a of homes) {
    for (const b of homes) {
      if (a === b) continue;
      await withNode(a.home, (ctx) => ctx.peers.add(parseDescriptor(b.descriptor), { expectFingerprint: b.fingerprint }));
    }
  }
}

/** Two peered homes, `us` and `ru`. */
export async function makePair(extra: Partial<ConfigFile> = {}): Promise<[TestHome, TestHome]> {
  const dir = tempDir();
  const us = await makeHome('us', extra, dir);
  const ru = await makeHome('ru', extra, dir);
  await peerAll(us, ru);
  return [us, ru];
}

/** Polls `check` until it returns a value other than undefined (bounded by `tries`, not by a clock limit on the test). */
export async function eventually<T>(check: () => Promise<T | undefined>, tries = 2400, everyMs = 50): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met after ${tries} tries`);
}
