import { existsSync, readFileSync } from 'node:fs';
import { CONFIG_FILE, type Config } from './config.js';
import { openStore } from './adapters/storage/store.js';
import type { Store } from './adapters/storage/schema.js';
import type { GateTurn, WriterGate } from './adapters/storage/gate.js';
import { systemClock, type Clock } from './shared/clock.js';
import { fail } from './shared/errors.js';
import { closeHome } from './shared/files.js';
import type { Logger } from './shared/logger.js';
import { KeyFile } from './modules/identity/identity.keys.js';
import { recordOwnKey, settlePendingKey } from './modules/federation/federation.ownkeys.js';
import { PeerRepository } from './modules/federation/federation.peers.js';
import type { MessageHook } from './modules/federation/federation.hooks.js';
import type { Limits, Self } from './modules/federation/federation.types.js';
import { checkNodeLanguage } from './modules/templates/templates.service.js';
import { UserRepository } from './modules/users/users.service.js';
import type { SessionRepository } from './modules/users/users.sessions.js';
import { EventBus } from './shared/events.js';
import type { TaxiiService } from './modules/taxii/taxii.service.js';
import type { FeedRunDeps } from './modules/feeds/feeds.run.js';
import type { JurisdictionStore } from './context.domain.js';
import { join } from 'node:path';

export type { JurisdictionStore };

/**
 * What every verb gets from one node's home: its store, keys, identity, clock, users. A read-only
 * CLI verb opens only this (`openNodeBase`, cli/home.ts `withNodeBase`): none of the modules'
 * hooks, TAXII or sessions are imported, which is most of a one-shot verb's start (bench:cli).
 */
export interface NodeBase {
  config: Config;
  /** The whole database, usable where a module asks for Kysely<ItsTables> (schema.ts). */
  db: Store;
  /** The node's signing key, reread when a rotation replaces the key file (identity.keys.ts). */
  keys: KeyFile;
  self: Self;
  clock: Clock;
  limits: Limits;
  peers: PeerRepository;
  /** Users and API tokens; turns a bearer token or a `--as` name into a principal. */
  users: UserRepository;
  /** Live events of what the store commits (messages, acks, deliveries): GET /api/v1/events. */
  events: EventBus;
  /** A running node on SQLite: the gate its feed workers give way at (adapters/storage/gate.ts). */
  writerGate?: WriterGate;
  close(): Promise<void>;
}

/** Everything the domain needs from one node's home: the base, a logger, and what storing a message involves (context.domain.ts). */
export interface NodeContext extends NodeBase {
  log: Logger;
  /** What other modules do when a message is stored, in the same transaction (federation.hooks.ts). */
  hooks: readonly MessageHook[];
  /** The STIX object store and the TAXII 2.1 operations on its collections. */
  taxii: TaxiiService;
  /** Who is responsible for which addresses (feed routing). */
  jurisdictions: JurisdictionStore;
  /** The console's sign-in and sessions (`console` in the config). */
  sessions: SessionRepository;
}

export interface ContextOptions {
  clock?: Clock;
  log?: Logger;
  /** Opens an encrypted node key; else the systemd credential hotline-passphrase, when there is one. */
  passphrase?: string;
  /** SQLite: this connection's place at the write lock beside the node's feed worker (adapters/storage/gate.ts). */
  writerTurn?: GateTurn;
}

/** The passphrase of an encrypted node key: given, or the systemd credential ($CREDENTIALS_DIRECTORY/hotline-passphrase). */
function passphraseOf(opts: ContextOptions): string | undefined {
  if (opts.passphrase !== undefined) return opts.passphrase;
  const dir = process.env.CREDENTIALS_DIRECTORY;
  if (dir === undefined || dir === '') return undefined;
  const file = join(dir, 'hotline-passphrase');
  return existsSync(file) ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : undefined;
}

/** Opens a node's store (applying migrations) and keys. Used by `start` and by every CLI verb that writes. */
export async function openContext(config: Config, opts: ContextOptions = {}): Promise<NodeContext> {
  const base = await openNodeBase(config, opts);
  try {
    const [{ domainOf }, log] = await Promise.all([
      import('./context.domain.js'),
      opts.log ?? import('./shared/logger.js').then((m) => m.createLogger({ level: config.logLevel, party: config.party })),
    ]);
    return { ...base, log, ...await domainOf(base) };
  } catch (e) {
    await base.close();
    throw e;
  }
}

/** Opens a node's store (applying migrations) and keys, and no more: what a read-only verb needs. */
export async function openNodeBase(config: Config, opts: ContextOptions = {}): Promise<NodeBase> {
  if (!existsSync(config.keyFile) && !existsSync(`${config.keyFile}.next`)) fail('config_invalid', `Cannot read the node key ${config.keyFile}`);
  closeHome(config.home, [config.keyFile, `${config.keyFile}.next`, join(config.home, 'admin.token'), join(config.home, CONFIG_FILE)]);
  // Loads and checks the message templates (a broken file stops the node here) and the node's language.
  checkNodeLanguage(config.language);
  const events = new EventBus();
  const db = await openStore(config.store, { committed: () => events.committed(), rolledBack: () => events.rolledBack() }, opts.writerTurn);
  const clock = opts.clock ?? systemClock;
  if (config.store.driver === 'postgres') {
    // Several processes may share this store (issue 13): events and wake-ups travel as notices to all of them.
    const { noticeChannel, sendNotices } = await import('./adapters/storage/postgres.js');
    const channel = noticeChannel(config.store);
    events.share((notices) => sendNotices(db, channel, notices));
  }
  let keys: KeyFile;
  try {
    // A rotation a crash interrupted is finished or undone first (federation.ownkeys.ts).
    await settlePendingKey(db, config.party, config.keyFile);
    keys = new KeyFile(config.keyFile, passphraseOf(opts));
    await recordOwnKey(db, config.party, keys, clock.now());
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const self: Self = { party: config.party, name: config.name, url: config.url, channels: config.channels };
  return {
    config, db, keys, self, clock, limits: config.limits, events, ...(opts.writerTurn?.first === true ? { writerGate: opts.writerTurn.gate } : {}),
    peers: new PeerRepository({ db, clock, self }),
    users: new UserRepository({ db, clock, adminTokenSha256: config.adminTokenSha256 }),
    close: () => db.destroy(),
  };
}

/** Where a node keeps its IP database cache and imported sources. */
export function ipdbDir(config: Config): string {
  return join(config.home, 'ipdb');
}

/** What a feed run needs from a node (feeds.run.ts; its parse worker opens the IP database: fast once its cache is built). */
export async function feedRunDeps(ctx: NodeContext): Promise<FeedRunDeps> {
  return {
    db: ctx.db, store: ctx.taxii.store, collections: ctx.taxii.collections, clock: ctx.clock, self: { party: ctx.self.party, name: ctx.self.name },
    outbox: { db: ctx.db, keys: ctx.keys, self: ctx.self, clock: ctx.clock, limits: ctx.limits, peers: ctx.peers, hooks: ctx.hooks },
    ipdbDir: ipdbDir(ctx.config),
    jurisdictions: await ctx.jurisdictions.list(),
  };
}
