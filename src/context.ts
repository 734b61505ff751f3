import { existsSync, readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import type { Config } from './config.js';
import { openStore } from './adapters/storage/store.js';
import type { Store } from './adapters/storage/schema.js';
import { systemClock, type Clock } from './shared/clock.js';
import { fail } from './shared/errors.js';
import { createLogger, type Logger } from './shared/logger.js';
import { KeyFile } from './modules/identity/identity.keys.js';
import { keyChangeHook, type KeyChangeAlert } from './modules/federation/federation.keychange.js';
import { recordOwnKey, settlePendingKey } from './modules/federation/federation.ownkeys.js';
import { notify, type NotifyDeps } from './modules/deadlines/deadlines.notify.js';
import { recordAudit } from './modules/audit/audit.service.js';
import { NODE_ACTOR } from './modules/audit/audit.types.js';
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
function messageHooks(stix: { store: StixStore; collections: CollectionRepository; clock: Clock }, keyAlert: KeyChangeAlert, events: EventBus): MessageHook[] {
  // The indicators hook brings the STIX validator: loaded when the first message is stored, not
  // when a one-shot CLI verb (e.g. `hotline inbox`) opens the node.
  return [templatesHook(), tlpRedHook, directoryHook, keyChangeHook(keyAlert), casesHook, lawHook, deadlinesHook,
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
  /** The node's signing key, reread when a rotation replaces the key file (identity.keys.ts). */
  keys: KeyFile;
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
  /** Opens an encrypted node key; else the systemd credential hotline-passphrase, when there is one. */
  passphrase?: string;
}

/** The passphrase of an encrypted node key: given, or the systemd credential ($CREDENTIALS_DIRECTORY/hotline-passphrase). */
function passphraseOf(opts: ContextOptions): string | undefined {
  if (opts.passphrase !== undefined) return opts.passphrase;
  const dir = process.env.CREDENTIALS_DIRECTORY;
  if (dir === undefined || dir === '') return undefined;
  const file = join(dir, 'hotline-passphrase');
  return existsSync(file) ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : undefined;
}

/** What a peer's key-change does besides the history: an alert through the sinks and an audit record, in the storing transaction. */
function keyChangeAlert(config: Config, clock: Clock): KeyChangeAlert {
  return async (trx, c) => {
    const what = c.change === 'rotation'
      ? `${c.party} rotated its key: new fingerprint ${c.fingerprint}; the previous key (${c.previous_fingerprint ?? '?'}) stays valid until ${c.overlap_until ?? '?'}`
      : `${c.party} revoked its key ${c.previous_fingerprint ?? '?'} as compromised since ${c.revoked_since ?? '?'}; the re-pinned key ${c.fingerprint} is in use`;
    await notify({ db: trx as unknown as NotifyDeps['db'], clock, notify: config.notify }, {
      message_id: c.message_id, step: 'key-change',
      payload: {
        type: 'key-change', peer: c.party, change: c.change, fingerprint: c.fingerprint, previous_fingerprint: c.previous_fingerprint,
        valid_from: c.valid_from, overlap_until: c.overlap_until, revoked_since: c.revoked_since, text: what,
        action: `Call ${c.party}'s administrator and confirm the new fingerprint ${c.fingerprint} (hotline peer list shows it).`,
      },
      subject: `Hotline: ${c.party} changed its key`,
    });
    await recordAudit(trx, {
      actor: NODE_ACTOR, action: 'peer.key_change', subject: c.party,
      details: { change: c.change, fingerprint: c.fingerprint, previous: c.previous_fingerprint, message_id: c.message_id },
    }, clock.now());
  };
}

/** Opens a node's store (applying migrations) and keys. Used by `start` and by every CLI verb. */
export async function openContext(config: Config, opts: ContextOptions = {}): Promise<NodeContext> {
  if (!existsSync(config.keyFile) && !existsSync(`${config.keyFile}.next`)) fail('config_invalid', `Cannot read the node key ${config.keyFile}`);
  // Loads and checks the message templates (a broken file stops the node here) and the node's language.
  checkNodeLanguage(config.language);
  const events = new EventBus();
  const db = await openStore(config.store, { committed: () => events.committed(), rolledBack: () => events.rolledBack() });
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
  const log = opts.log ?? createLogger({ level: config.logLevel, party: config.party });
  const store = await StixStore.open(db, clock);
  const collections = new CollectionRepository({ db, clock });
  const taxii = new TaxiiService({
    // TAXII cursors are keyed from the private key; a CLI verb without the passphrase of an encrypted key makes none it must read back.
    db, store, collections, clock, cursors: new CursorCodec(keys.unlocked ? keys.privateKey : generateKeyPairSync('ed25519').privateKey),
    limits: { maxPage: config.taxii.maxPage, defaultPage: config.taxii.defaultPage },
  });
  return {
    config, db, keys, self, clock, log, limits: config.limits, taxii,
    jurisdictions: lazyJurisdictions({ db, clock }),
    peers: new PeerRepository({ db, clock, self }),
    users: new UserRepository({ db, clock, adminTokenSha256: config.adminTokenSha256 }),
    sessions: new SessionRepository({ db, clock, options: config.console, party: config.party }),
    events,
    hooks: messageHooks({ store, collections, clock }, keyChangeAlert(config, clock), events),
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
