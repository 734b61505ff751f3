import type { Kysely } from 'kysely';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Actor } from '../audit/audit.types.js';
import { insertKey, keyHistory } from './federation.keys.js';
import { checkFingerprint, type Descriptor } from './federation.peers.js';
import type { FederationTables } from './federation.tables.js';

export interface RepinResult {
  party: string;
  fingerprint: string;
  /** The keys it replaces, now revoked since `revoked_since`. */
  revoked: string[];
  revoked_since: string;
}

/**
 * Re-pins a peer whose key was lost or compromised (`hotline peer repin`): its new key, from a
 * descriptor whose fingerprint was read out of band, as at first pinning. Every key of the peer
 * still in use is revoked since `since` (default: now) and ends now; what it signed before that
 * still verifies, marked. The peer's revocation statement, signed by the new key and readable only
 * from now on, may move `revoked_since` earlier (federation.keys.ts applyKeyChange). One audit record.
 */
export async function repinPeer(
  deps: { db: Kysely<FederationTables>; clock: Clock },
  d: Descriptor, o: { expectFingerprint: string; since?: number; actor: Actor },
): Promise<RepinResult> {
  const now = deps.clock.now();
  checkFingerprint(d, o.expectFingerprint);
  const since = o.since ?? now;
  if (Number.isNaN(since) || since > now) fail('invalid_argument', '--since must be a time in the past (RFC 3339): when the old key may first have been in other hands');
  return deps.db.transaction().execute(async (trx) => {
    const peer = await trx.selectFrom('peers').select('party').where('party', '=', d.party).executeTakeFirst();
    if (peer === undefined) fail('unknown_peer', `No peer "${d.party}" is pinned on this node; pin it with "hotline peer add"`);
    const history = await keyHistory(trx, d.party);
    if (history.some((k) => k.key === d.public_key)) {
      fail('invalid_argument', `The key ${d.fingerprint} is already pinned for "${d.party}"; nothing to re-pin`);
    }
    const replaced = history.filter((k) => k.revoked_since === null && (k.valid_until === null || k.valid_until > now));
    for (const k of replaced) {
      await trx.updateTable('key_history').set({ valid_until: now, revoked_since: since }).where('party', '=', d.party).where('public_key', '=', k.key).execute();
    }
    await insertKey(trx, d.party, { key: d.public_key, added_at: now, valid_from: null, valid_until: null, revoked_since: null, origin: 'repinned', statement_id: null });
    // Delivery to the peer resumes at once: its receipts are now signed by the re-pinned key.
    await trx.updateTable('links').set({ next_attempt_at: now, attempts: 0 }).where('from_party', '!=', d.party).where('to_party', '=', d.party).execute();
    const result: RepinResult = { party: d.party, fingerprint: d.fingerprint, revoked: replaced.map((k) => k.fingerprint), revoked_since: isoTime(since) };
    await recordAudit(trx, { actor: o.actor, action: 'peer.repin', subject: d.party, details: { fingerprint: d.fingerprint, revoked: result.revoked, revoked_since: result.revoked_since } }, now);
    return result;
  });
}
