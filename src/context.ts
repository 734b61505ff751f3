import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import { openSqlite } from './adapters/storage/sqlite.js';
import type { Database } from './adapters/storage/schema.js';
import { systemClock, type Clock } from './shared/clock.js';
import { fail } from './shared/errors.js';
import { createLogger, type Logger } from './shared/logger.js';
import { loadKeys, type NodeKeys } from './modules/identity/identity.keys.js';
import { PeerRepository } from './modules/federation/federation.peers.js';
import type { MessageHook } from './modules/federation/federation.hooks.js';
import type { Limits, Self } from './modules/federation/federation.types.js';

/** The modules that take part in storing messages, in the order their hooks run. */
function messageHooks(): MessageHook[] {
  return [];
}

/** Everything the domain needs from one node's home: its store, keys, identity, clock, logger. */
export interface NodeContext {
  config: Config;
  db: Kysely<Database>;
  keys: NodeKeys;
  self: Self;
  clock: Clock;
  limits: Limits;
  log: Logger;
  peers: PeerRepository;
  /** What other modules do when a message is stored, in the same transaction (federation.hooks.ts). */
  hooks: readonly MessageHook[];
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: Clock;
  log?: Logger;
}

/** Opens a node's store (applying migrations) and keys. Used by `start` and by every CLI verb. */
export async function openContext(config: Config, opts: ContextOptions = {}): Promise<NodeContext> {
  let pem: string;
  try {
    pem = readFileSync(config.keyFile, 'utf8');
  } catch {
    return fail('config_invalid', `Cannot read the node key ${config.keyFile}`);
  }
  const keys = loadKeys(pem);
  const db = await openSqlite(config.store.path);
  const clock = opts.clock ?? systemClock;
  const self: Self = { party: config.party, name: config.name, url: config.url, channels: config.channels };
  const log = opts.log ?? createLogger({ level: config.logLevel, party: config.party });
  return {
    config, db, keys, self, clock, log, limits: config.limits,
    peers: new PeerRepository({ db, clock, self }),
    hooks: messageHooks(),
    close: () => db.destroy(),
  };
}
