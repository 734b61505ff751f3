import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import type { MessageHook } from '../federation/federation.hooks.js';
import { recipientsOf } from '../messaging/messaging.visibility.js';
import { validateBundle } from '../stix/stix.validate.js';
import type { CollectionRepository } from './taxii.collections.js';
import { bundleOf } from './taxii.indicators.js';
import { prepare } from './taxii.prepare.js';
import { statuses } from './taxii.status.js';
import type { StixStore } from './taxii.store.js';
import type { TaxiiTables } from './taxii.tables.js';

/**
 * `indicators` messages, both ways: they travel on `cert` and carry one STIX bundle (checked
 * here; a message that does not is refused with `channel_mismatch` / `bundle_invalid`). On
 * arrival, in the transaction that stores the envelope, the bundle's valid objects go to the
 * collection `inbound-<party>` (made on first use) and a TAXII status records what was stored
 * and what was not and why: an invalid object does not refuse the signed message it came in.
 */
export function indicatorsHook(deps: { store: StixStore; collections: CollectionRepository; clock: Clock }): MessageHook {
  // The bundle check parses up to ~750 KB of JSON; apply (same envelope, same transaction) reuses it.
  const checked = new WeakMap<object, unknown[]>();
  return {
    name: 'indicators',
    check(_trx, env) {
      if (env.kind !== 'indicators') return Promise.resolve();
      if (env.channel !== 'cert') fail('channel_mismatch', `indicators messages travel on the cert channel, not "${env.channel}"`);
      const b = validateBundle(bundleOf(env));
      if (!b.ok) fail('bundle_invalid', `The indicators message's bundle is not a STIX 2.1 bundle: ${b.problems.map((p) => p.message).join('; ')}`);
      checked.set(env, b.objects);
      return Promise.resolve();
    },
    async apply(trx, m) {
      if (m.env.kind !== 'indicators' || m.direction !== 'in') return;
      const env = m.env;
      // The storing transaction holds every table; Kysely's invariance needs the cast (as directory.hook.ts).
      const db = trx as unknown as Kysely<TaxiiTables>;
      let objects = checked.get(env);
      if (objects === undefined) {
        const b = validateBundle(bundleOf(env));
        objects = b.ok ? b.objects : [];
      }
      const collection = await deps.collections.inbound(db, env.from);
      const { valid, failures } = prepare(objects, env.tlp, env.tlp);
      const r = await deps.store.add(db, collection.id, valid, {
        source: env.from, added_by: `peer:${env.from}`, recipients: env.tlp === 'red' ? recipientsOf(env.body) : null, message_id: env.id,
      });
      await statuses.create(db, {
        collectionId: collection.id, principal: `peer:${env.from}`, total: objects.length, requestedAt: m.storedAt * 1000, messageId: env.id,
      }, { result: { successes: r.successes, failures: [...failures, ...r.failures] }, last: true });
    },
  };
}
