import type { Transaction } from 'kysely';
import { fail } from '../../shared/errors.js';
import { verifyEnvelope } from './federation.envelope.js';
import type { MessageHook } from './federation.hooks.js';
import { applyKeyChange, keyHistory, keyObject, parseKeyChangeBody, type KeyChangeBody } from './federation.keys.js';
import type { FederationTables } from './federation.tables.js';

/** What a peer's key-change tells this node's administrators (an alert through the sinks), in the storing transaction. */
export type KeyChangeAlert = (trx: Transaction<FederationTables>, change: KeyChangeBody & { message_id: string; previous_fingerprint: string | null }) => Promise<void>;

/**
 * The key-change kind (docs/protocol.md section 18.2) as it is stored, inbound: the body must be
 * well formed, vouched for by the new key (`key_sig`), and the envelope signed by the key the
 * change is about: a rotation by the previous key (still valid here), a revocation by the new key
 * (only verifiable once an administrator has re-pinned it out of band, `hotline peer repin`).
 * Then the peer's key history records it and the administrators are told. Outbound key-changes
 * are written only by `hotline key rotate|revoke`, which records this node's own history.
 */
export function keyChangeHook(alert?: KeyChangeAlert): MessageHook {
  return {
    name: 'key-change',
    async check(trx, env, direction) {
      if (env.kind !== 'key-change' || direction !== 'in' || !isKeyChangeStatement(env.body)) return;
      if (env.case !== env.id || env.in_reply_to !== null) fail('key_change_invalid', 'A key-change opens its own case and answers nothing');
      const b = parseKeyChangeBody(env.body, env.from);
      const history = await keyHistory(trx, env.from);
      const signer = b.change === 'rotation' ? b.previous_key : b.public_key;
      if (!history.some((k) => k.key === signer) || !verifyEnvelope(env, [keyObject(signer)])) {
        fail('key_change_invalid', b.change === 'rotation'
          ? `A rotation must be signed by the key it replaces, one pinned for "${env.from}"`
          : `A revocation must be signed by the new key, re-pinned for "${env.from}" out of band (hotline peer repin)`);
      }
    },
    async apply(trx, m) {
      if (m.env.kind !== 'key-change' || m.direction !== 'in' || !isKeyChangeStatement(m.env.body)) return;
      const b = parseKeyChangeBody(m.env.body, m.env.from);
      const previous = (await keyHistory(trx, m.env.from)).find((k) => k.key === b.previous_key);
      await applyKeyChange(trx, b, m.env.id, m.storedAt);
      await alert?.(trx, { ...b, message_id: m.env.id, previous_fingerprint: previous?.fingerprint ?? null });
    },
  };
}

/**
 * Whether a key-change body states a change (has `change`): only then is it checked and applied.
 * A body without it is the version-1 form (docs/protocol.md section 18.2): stored as a notice,
 * it changes no key.
 */
export function isKeyChangeStatement(body: Record<string, unknown>): boolean {
  return Object.prototype.hasOwnProperty.call(body, 'change');
}
