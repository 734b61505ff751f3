import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { PRIVATE_FILE } from '../../shared/files.js';
import { fingerprint, generateKeys, privateKeyPem, type KeyFile, type NodeKeys } from '../identity/identity.keys.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Actor } from '../audit/audit.types.js';
import { currentKey, insertKey, keyHistory, makeKeyChangeBody, type KeyChangeBody } from './federation.keys.js';
import { enqueueIn, peersOf, type Draft, type OutboxDeps } from './federation.outbox.js';
import type { FederationTables } from './federation.tables.js';

/**
 * This node's own keys across rotations and revocations. The key file (`node.key`) holds the one
 * private key in use; the key history (key_history, party = this node) every public key it had.
 * A rotation writes the new key to `node.key.next` (and its public key to `node.key.next.pub`),
 * then commits the history and the key-change messages in one transaction, then renames the file
 * over `node.key`. {@link settlePendingKey} finishes or undoes one a crash interrupted: whatever
 * the store says is the current key wins, so nothing half-written stays behind.
 */
export const nextPath = (keyFile: string): string => `${keyFile}.next`;

/** Finishes (store committed) or discards (store did not) a rotation interrupted between its steps. */
export async function settlePendingKey(db: Kysely<FederationTables>, party: string, keyFile: string): Promise<void> {
  const next = nextPath(keyFile);
  if (!existsSync(next)) return;
  let pub: string | undefined;
  try {
    pub = readFileSync(`${next}.pub`, 'utf8').trim();
  } catch {
    pub = undefined;
  }
  const current = currentKey(await keyHistory(db, party));
  if (pub !== undefined && current?.key === pub) {
    renameSync(`${next}.pub`, `${keyFile}.pub`);
    renameSync(next, keyFile);
  } else {
    rmSync(next, { force: true });
    rmSync(`${next}.pub`, { force: true });
  }
}

/** Records this node's key in its own history when it is not there yet (a store from before key history, a new home). */
export async function recordOwnKey(db: Kysely<FederationTables>, party: string, keys: NodeKeys, now: number): Promise<void> {
  const history = await keyHistory(db, party);
  if (history.some((k) => k.key === keys.publicKeyB64)) return;
  await insertKey(db, party, {
    key: keys.publicKeyB64, added_at: now, valid_from: history.length === 0 ? null : now, valid_until: null, revoked_since: null,
    origin: history.length === 0 ? 'init' : 'file', statement_id: null,
  });
}

export interface KeyChangeResult {
  fingerprint: string;
  public_key: string;
  previous: string;
  previous_key: string;
  valid_from: string;
  overlap_until: string | null;
  revoked_since: string | null;
  /** The peers a key-change was queued to. */
  peers: string[];
}

export interface ChangeOptions {
  change: 'rotation' | 'revocation';
  /** Rotation: how long the previous key stays valid for new envelopes (ms). */
  overlapMs?: number;
  /** Revocation: since when the previous key is compromised (ms). */
  since?: number;
  /** Encrypts the new key file with this passphrase (default: the one the current key was opened with). */
  passphrase?: string;
  actor: Actor;
}

/**
 * Rotates (or, on a compromise, replaces and revokes) this node's key: a new Ed25519 key, a
 * key-change to every peer, the own key history, an audit record, then the key file. A rotation's
 * key-change is signed by the previous key (the envelope) and the new one (`key_sig`); a
 * revocation's by the new key only, since the previous one is no longer trusted: peers re-pin it
 * out of band (`hotline peer repin`) before they can read it. Only this function writes key-changes.
 */
export async function changeOwnKey(deps: OutboxDeps & { keys: KeyFile }, o: ChangeOptions): Promise<KeyChangeResult> {
  const { db, self, clock } = deps;
  const keyFile = deps.keys.path;
  const old = deps.keys;
  const previousKey = old.publicKeyB64;
  const oldPrivate = old.privateKey; // refused here (key_locked) when the key is encrypted and not opened
  const now = clock.now();
  if (o.change === 'revocation' && (o.since === undefined || Number.isNaN(o.since) || o.since > now)) {
    fail('invalid_argument', '--since must be a time in the past (RFC 3339, e.g. 2026-01-15T08:00:00Z): when the key may first have been in other hands');
  }
  const { keys: fresh } = generateKeys();
  const passphrase = o.passphrase ?? old.secret;
  const next = nextPath(keyFile);
  writeFileSync(next, privateKeyPem(fresh.privateKey, passphrase), { mode: PRIVATE_FILE });
  writeFileSync(`${next}.pub`, `${fresh.publicKeyB64}\n`);
  const overlapUntil = o.change === 'rotation' ? now + (o.overlapMs ?? 7 * 86_400_000) : null;
  const body: KeyChangeBody = makeKeyChangeBody({
    change: o.change, party: self.party, public_key: fresh.publicKeyB64, previous_key: previousKey, valid_from: isoTime(now),
    overlap_until: overlapUntil === null ? null : isoTime(overlapUntil), revoked_since: o.change === 'revocation' ? isoTime(o.since!) : null,
  }, fresh.privateKey);
  const peers = await deps.peers.list();
  const drafts: Draft[] = peers.map((p) => ({
    to: p.party, kind: 'key-change', channel: p.channels[0]!, priority: 'immediate', tlp: 'green', body: { ...body },
  }));
  try {
    const peerMap = await peersOf(deps, drafts);
    await db.transaction().execute(async (trx) => {
      // A rotation's key-changes are signed by the previous key; a revocation's by the new one.
      const signer: NodeKeys = o.change === 'rotation' ? { privateKey: oldPrivate, publicKey: old.publicKey, publicKeyB64: previousKey } : fresh;
      await enqueueIn({ ...deps, keys: signer }, trx, drafts, peerMap);
      await recordOwnKeyIn(trx, self.party, previousKey, now);
      if (o.change === 'rotation') {
        await trx.updateTable('key_history').set({ valid_until: overlapUntil }).where('party', '=', self.party).where('public_key', '=', previousKey).execute();
      } else {
        await trx.updateTable('key_history').set({ valid_until: now, revoked_since: o.since! }).where('party', '=', self.party).where('public_key', '=', previousKey).execute();
      }
      await insertKey(trx, self.party, {
        key: fresh.publicKeyB64, added_at: now, valid_from: now, valid_until: null, revoked_since: null, origin: o.change === 'rotation' ? 'rotate' : 'revoke', statement_id: null,
      });
      await recordAudit(trx, {
        actor: o.actor, action: o.change === 'rotation' ? 'key.rotate' : 'key.revoke', subject: self.party,
        details: {
          fingerprint: fingerprint(fresh.publicKeyB64), previous: fingerprint(previousKey), peers: drafts.map((d) => d.to),
          ...(overlapUntil === null ? {} : { overlap_until: isoTime(overlapUntil) }), ...(o.since === undefined ? {} : { revoked_since: isoTime(o.since) }),
        },
      }, now);
    });
  } catch (e) {
    rmSync(next, { force: true });
    rmSync(`${next}.pub`, { force: true });
    throw e;
  }
  renameSync(`${next}.pub`, `${keyFile}.pub`);
  renameSync(next, keyFile);
  return {
    fingerprint: fingerprint(fresh.publicKeyB64), public_key: fresh.publicKeyB64, previous: fingerprint(previousKey), previous_key: previousKey,
    valid_from: isoTime(now), overlap_until: overlapUntil === null ? null : isoTime(overlapUntil), revoked_since: o.since === undefined ? null : isoTime(o.since),
    peers: drafts.map((d) => d.to),
  };
}

async function recordOwnKeyIn(db: Kysely<FederationTables>, party: string, key: string, now: number): Promise<void> {
  const history = await keyHistory(db, party);
  if (history.some((k) => k.key === key)) return;
  await insertKey(db, party, { key, added_at: now, valid_from: null, valid_until: null, revoked_since: null, origin: 'init', statement_id: null });
}
