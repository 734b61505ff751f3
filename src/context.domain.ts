import { generateKeyPairSync } from 'node:crypto';
import type { Config } from './config.js';
import type { Clock } from './shared/clock.js';
import { keyChangeHook, type KeyChangeAlert } from './modules/federation/federation.keychange.js';
import { notify, type NotifyDeps } from './modules/deadlines/deadlines.notify.js';
import { recordAudit } from './modules/audit/audit.service.js';
import { NODE_ACTOR } from './modules/audit/audit.types.js';
import type { MessageHook } from './modules/federation/federation.hooks.js';
import { tlpRedHook } from './modules/users/users.hook.js';
import { casesHook } from './modules/cases/cases.hook.js';
import { deadlinesHook } from './modules/deadlines/deadlines.hook.js';
import { lawHook } from './modules/law/law.hook.js';
import { directoryHook } from './modules/directory/directory.hook.js';
import { templatesHook } from './modules/templates/templates.hook.js';
import { auditHook } from './modules/audit/audit.hook.js';
import { SessionRepository } from './modules/users/users.sessions.js';
import { eventsHook } from './modules/messaging/messaging.events.js';
import type { EventBus } from './shared/events.js';
import { CollectionRepository } from './modules/taxii/taxii.collections.js';
import { CursorCodec } from './modules/taxii/taxii.cursor.js';
import { TaxiiService } from './modules/taxii/taxii.service.js';
import { StixStore } from './modules/taxii/taxii.store.js';
import type { Jurisdictions } from './modules/feeds/feeds.route.js';
import type { NodeBase, NodeContext } from './context.js';

/**
 * What a node does beyond reading its store (context.ts): the hooks of every module that run when
 * a message is stored, TAXII, sessions, jurisdictions. Imported by `openContext` only, so a
 * read-only CLI verb (`openNodeBase`: `hotline inbox`) loads none of these modules.
 */

/** The modules that take part in storing messages, in the order their hooks run. */
function messageHooks(stix: { store: StixStore; collections: CollectionRepository; clock: Clock }, keyAlert: KeyChangeAlert, events: EventBus): MessageHook[] {
  // The indicators hook brings the STIX validator: loaded when the first message is stored, not
  // when a one-shot CLI verb (e.g. `hotline send`) opens the node.
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
  let loaded: MessageHook | undefined;
  const get = (): Promise<MessageHook> => (hook ??= load().then((h) => (loaded = h)));
  return {
    name,
    check: async (trx, env, direction) => (await get()).check?.(trx, env, direction),
    apply: async (trx, m) => (await get()).apply?.(trx, m),
    flush: async (trx) => (await get()).flush?.(trx),
    discard: (trx) => loaded?.discard?.(trx),
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

/** The rest of a node's context, over an open base (its store, keys, clock). */
export async function domainOf(base: NodeBase): Promise<Omit<NodeContext, keyof NodeBase | 'log'>> {
  const { config, db, clock, keys, events } = base;
  const store = await StixStore.open(db, clock);
  const collections = new CollectionRepository({ db, clock });
  const taxii = new TaxiiService({
    // TAXII cursors are keyed from the private key; a CLI verb without the passphrase of an encrypted key makes none it must read back.
    db, store, collections, clock, cursors: new CursorCodec(keys.unlocked ? keys.privateKey : generateKeyPairSync('ed25519').privateKey),
    limits: { maxPage: config.taxii.maxPage, defaultPage: config.taxii.defaultPage },
  });
  return {
    taxii,
    jurisdictions: lazyJurisdictions({ db, clock }),
    sessions: new SessionRepository({ db, clock, options: config.console, party: config.party }),
    hooks: messageHooks({ store, collections, clock }, keyChangeAlert(config, clock), events),
  };
}
