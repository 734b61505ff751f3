import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import { openSqlite } from './adapters/storage/sqlite.js';
import type { Store } from './adapters/storage/schema.js';
import { systemClock, type Clock } from './shared/clock.js';
import { fail } from './shared/errors.js';
import { createLogger, type Logger } from './shared/logger.js';
import { loadKeys, type NodeKeys } from './modules/identity/identity.keys.js';
import { PeerRepository } from './modules/federation/federation.peers.js';
import type { MessageHook } from './modules/federation/federation.hooks.js';
import type { Limits, Self } from './modules/federation/federation.types.js';
import { tlpRedHook } from './modules/users/users.hook.js';
import { casesHook } from './modules/cases/cases.hook.js';
import { deadlinesHook } from './modules/deadlines/deadlines.hook.js';
import { lawHook } from './modules/law/law.hook.js';
import { directoryHook } from './modules/directory/directory.hook.js';
import { templatesHook } from './modules/templates/templates.hook.js';
import { auditHook } from './modules/audit/audit.hook.js';
import { checkNodeLanguage } from './modules/templates/templates.service.js';
import { UserRepository } from './modules/users/users.service.js';
import { SessionRepository } from './modules/users/users.sessions.js';
import { eventsHook } from './modules/messaging/messaging.events.js';
import { EventBus } from './shared/events.js';
import { CollectionRepository } from './modules/taxii/taxii.collections.js';
import { CursorCodec } from './modules/taxii/taxii.cursor.js';
import { TaxiiService } from './modules/taxii/taxii.service.js';
import { StixStore } from './modules/taxii/taxii.store.js';
import type { Jurisdictions } from './modules/feeds/feeds.route.js';
import type { FeedRunDeps } from './modules/feeds/feeds.run.js';
import { join } from 'node:path';

/** The modules that take part in storing messages, in the order their hooks run. */
function messageHooks(stix: { store: StixStore; collections: CollectionRepository; clock: Clock }, events: EventBus): MessageHook[] {
  // The indicators hook brings the STIX validator: loaded when the first message is stored, not
  // when a one-shot CLI verb (e.g. `hotline inbox`) opens the node.
  return [templatesHook(), tlpRedHook, directoryHook, casesHook, lawHook, deadlinesHook,
    lazyHook('indicators', async () => (await import('./modules/taxii/taxii.hook.js')).indicatorsHook(stix)),
    // Last: a message is recorded only once every other hook has accepted it (outbound, by a person).
    auditHook,
    // After every hook: the live events of what is being stored (published at the commit).
    eventsHook(events)];
}

/** A hook whose module is imported on its first use (then kept). */
function lazyHook(name: string, load: () => Promise<MessageHook>): MessageHook {
  let hook: Promise<MessageHook> | undefined;
  const get = (): Promise<MessageHook> => (hook ??= load());
  return {
    name,
    check: async (trx, env, direction) => (await get()).check?.(trx, env, direction),
    apply: async (trx, m) => (await get()).apply?.(trx, m),
  };
}

/** Who is responsible for which addresses; the feeds module is imported on first use. */
export type JurisdictionStore = Pick<Jurisdictions, 'set' | 'list'>;

function lazyJurisdictions(deps: ConstructorParameters<typeof Jurisdictions>[0]): JurisdictionStore {
  let j: Promise<Jurisdictions> | undefined;
  const get = (): Promise<Jurisdictions> => (j ??= import('./modules/feeds/feeds.route.js').then((m) => new m.Jurisdictions(deps)));
  return {
    set: async (x, known) => (await get()).set(x, known),
    list: async () => (await get()).list(),
  };
}

/** Everything the domain needs from one node's home: its store, keys, identity, clock, logger. */
export interface NodeContext {
  config: Config;
  /** The whole database, usable where a module asks for Kysely<ItsTables> (schema.ts). */
  db: Store;
  keys: NodeKeys;
  self: Self;
  clock: Clock;
  limits: Limits;
  log: Logger;
  peers: PeerRepository;
  /** Users and API tokens; turns a bearer token or a `--as` name into a principal. */
  users: UserRepository;
  /** What other modules do when a message is stored, in the same transaction (federation.hooks.ts). */
  hooks: readonly MessageHook[];
  /** The STIX object store and the TAXII 2.1 operations on its collections. */
  taxii: TaxiiService;
  /** Who is responsible for which addresses (feed routing). */
  jurisdictions: JurisdictionStore;
  /** The console's sign-in and sessions (`console` in the config). */
  sessions: SessionRepository;
  /** Live events of what the store commits (messages, acks, deliveries): GET /api/v1/events. */
  events: EventBus;
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
  // Loads and checks the message templates (a broken file stops the node here) and the node's language.
  checkNodeLanguage(config.language);
  const events = new EventBus();
  const db = await openSqlite(config.store.path, { committed: () => events.committed(), rolledBack: () => events.rolledBack() });
  const clock = opts.clock ?? systemClock;
  const self: Self = { party: config.party, name: config.name, url: config.url, channels: config.channels };
  const log = opts.log ?? createLogger({ level: config.logLevel, party: config.party });
  const store = await StixStore.open(db, clock);
  const collections = new CollectionRepository({ db, clock });
  const taxii = new TaxiiService({
    db, store, collections, clock, cursors: new CursorCodec(keys.privateKey),
    limits: { maxPage: config.taxii.maxPage, defaultPage: config.taxii.defaultPage },
  });
  return {
    config, db, keys, self, clock, log, limits: config.limits, taxii,
    jurisdictions: lazyJurisdictions({ db, clock }),
    peers: new PeerRepository({ db, clock, self }),
    users: new UserRepository({ db, clock, adminTokenSha256: config.adminTokenSha256 }),
    sessions: new SessionRepository({ db, clock, options: config.console, party: config.party }),
    events,
    hooks: messageHooks({ store, collections, clock }, events),
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
