import type { KeyObject } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { canonicalJson } from '../../shared/canonical.js';
import { isoTime, parseIsoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { fingerprint, publicKeyFromB64, signText, verifyText } from '../identity/identity.keys.js';
import type { FederationTables, KeyHistoryTable } from './federation.tables.js';

/**
 * One key a party had, with its validity (docs/protocol.md section 18). Times in ms since the
 * epoch. A key signs validly at `t` when `valid_from` ≤ t (null: since always), t < `valid_until`
 * (null: still valid), and t < `revoked_since` (null: never compromised).
 */
export interface PinnedKey {
  key: string;
  fingerprint: string;
  added_at: number;
  valid_from: number | null;
  /** Set when a newer key replaces this one: valid until then (the rotation overlap), or the re-pin. */
  valid_until: number | null;
  /** Declared compromised from this instant: what it signed from then on is refused (`key_revoked`). */
  revoked_since: number | null;
  /** How it came: pinned, repinned, key-change, init, rotate, revoke. */
  origin: string;
  statement_id: string | null;
}

export function toPinnedKey(r: KeyHistoryTable): PinnedKey {
  const n = (v: number | bigint | null): number | null => (v === null ? null : Number(v));
  return {
    key: r.public_key, fingerprint: r.fingerprint, added_at: Number(r.added_at), valid_from: n(r.valid_from),
    valid_until: n(r.valid_until), revoked_since: n(r.revoked_since), origin: r.origin, statement_id: r.statement_id,
  };
}

/** Every key of one party, oldest first. */
export async function keyHistory(db: Kysely<FederationTables>, party: string): Promise<PinnedKey[]> {
  const rows = await db.selectFrom('key_history').selectAll().where('party', '=', party).orderBy('added_at').orderBy('public_key').execute();
  return rows.map(toPinnedKey);
}

/** Every key of every party, oldest first, by party. */
export async function allKeyHistory(db: Kysely<FederationTables>): Promise<Map<string, PinnedKey[]>> {
  const rows = await db.selectFrom('key_history').selectAll().orderBy('party').orderBy('added_at').orderBy('public_key').execute();
  const out = new Map<string, PinnedKey[]>();
  for (const r of rows) {
    const list = out.get(r.party) ?? [];
    list.push(toPinnedKey(r));
    out.set(r.party, list);
  }
  return out;
}

export async function insertKey(db: Kysely<FederationTables>, party: string, k: Omit<PinnedKey, 'fingerprint'>): Promise<void> {
  await db.insertInto('key_history').values({
    party, public_key: k.key, fingerprint: fingerprint(k.key), valid_from: k.valid_from, valid_until: k.valid_until,
    revoked_since: k.revoked_since, added_at: k.added_at, origin: k.origin, statement_id: k.statement_id,
  }).onConflict((oc) => oc.columns(['party', 'public_key']).doNothing()).execute();
}

/** The key a party signs with now: the newest one not revoked, else the newest. */
export function currentKey(keys: readonly PinnedKey[]): PinnedKey | undefined {
  const live = keys.filter((k) => k.revoked_since === null && k.valid_until === null);
  return live.at(-1) ?? keys.filter((k) => k.revoked_since === null).at(-1) ?? keys.at(-1);
}

const keyObjects = new Map<string, KeyObject>();

/** The KeyObject of a base64url public key, parsed once per process. */
export function keyObject(b64: string): KeyObject {
  let k = keyObjects.get(b64);
  if (k === undefined) {
    k = publicKeyFromB64(b64);
    keyObjects.set(b64, k);
  }
  return k;
}

/** The public keys that verify new signatures at `now`: not past their overlap, not revoked. */
export function keysValidAt(keys: readonly PinnedKey[], now: number): KeyObject[] {
  return keys.filter((k) => (k.valid_until === null || k.valid_until > now) && (k.revoked_since === null || k.revoked_since > now)).map((k) => keyObject(k.key));
}

/** Which key signed (newest first), by a verification callback. */
export function signerOf(keys: readonly PinnedKey[], verifies: (k: KeyObject) => boolean): PinnedKey | undefined {
  for (let i = keys.length - 1; i >= 0; i--) if (verifies(keyObject(keys[i]!.key))) return keys[i];
  return undefined;
}

export type KeyVerdict =
  | { ok: true; key: PinnedKey; laterRevoked: boolean }
  | { ok: false; code: 'bad_signature' | 'key_expired' | 'key_revoked' | 'key_not_yet_valid'; message: string; key?: PinnedKey };

const at = (t: number): string => isoTime(t);

/**
 * A new signature (an envelope being received, a receipt coming back), made at `signedAt` by the
 * signer's clock and judged at `now` by ours: refused `key_revoked` when the key was declared
 * compromised at or before `signedAt`, `key_expired` when its overlap ended before `now`.
 * What a revoked key signed before the compromise is accepted and marked.
 */
export function judgeFresh(keys: readonly PinnedKey[], verifies: (k: KeyObject) => boolean, signedAt: number, now: number, who: string): KeyVerdict {
  const key = signerOf(keys, verifies);
  if (key === undefined) return { ok: false, code: 'bad_signature', message: `The signature does not verify against any key pinned for "${who}"` };
  if (key.revoked_since !== null) {
    if (signedAt >= key.revoked_since) {
      return { ok: false, code: 'key_revoked', key, message: `Signed at ${at(signedAt)} by "${who}"'s key ${key.fingerprint}, declared compromised since ${at(key.revoked_since)}` };
    }
    return { ok: true, key, laterRevoked: true };
  }
  if (key.valid_until !== null && now >= key.valid_until) {
    return { ok: false, code: 'key_expired', key, message: `Signed by "${who}"'s key ${key.fingerprint}, replaced by a newer key; its overlap ended at ${at(key.valid_until)}` };
  }
  return { ok: true, key, laterRevoked: false };
}

/**
 * A stored signature, judged against the key valid when it was made (`signedAt`, the signer's
 * own signed clock: an envelope's `sent_at`, a receipt's `received_at`).
 */
export function judgeHistoric(keys: readonly PinnedKey[], verifies: (k: KeyObject) => boolean, signedAt: number, who: string): KeyVerdict {
  const key = signerOf(keys, verifies);
  if (key === undefined) return { ok: false, code: 'bad_signature', message: `the signature does not verify with any key of "${who}"` };
  if (key.revoked_since !== null && signedAt >= key.revoked_since) {
    return { ok: false, code: 'key_revoked', key, message: `signed at ${at(signedAt)} by key ${key.fingerprint}, compromised since ${at(key.revoked_since)}` };
  }
  if (key.valid_from !== null && signedAt < key.valid_from) {
    return { ok: false, code: 'key_not_yet_valid', key, message: `signed at ${at(signedAt)} by key ${key.fingerprint}, valid only from ${at(key.valid_from)}` };
  }
  if (key.valid_until !== null && signedAt >= key.valid_until) {
    return { ok: false, code: 'key_expired', key, message: `signed at ${at(signedAt)} by key ${key.fingerprint}, valid only until ${at(key.valid_until)}` };
  }
  return { ok: true, key, laterRevoked: key.revoked_since !== null };
}

/** The words shown beside something signed by a key that was later declared compromised. */
export const LATER_REVOKED = 'signed by a key later revoked';

// ---------------------------------------------------------------------------------------------
// The key-change body (docs/protocol.md section 18.2)

export interface KeyChangeBody {
  change: 'rotation' | 'revocation';
  party: string;
  public_key: string;
  fingerprint: string;
  previous_key: string;
  valid_from: string;
  /** Rotation: until when the previous key stays valid; revocation: null. */
  overlap_until: string | null;
  /** Revocation: since when the previous key is compromised; rotation: null. */
  revoked_since: string | null;
  /** Ed25519 by `public_key` over the JCS form of this body without `key_sig`. */
  key_sig: string;
}

const BODY_MEMBERS = 'change,fingerprint,key_sig,overlap_until,party,previous_key,public_key,revoked_since,valid_from';

export function makeKeyChangeBody(b: Omit<KeyChangeBody, 'key_sig' | 'fingerprint'>, newPrivateKey: KeyObject): KeyChangeBody {
  const unsigned = { ...b, fingerprint: fingerprint(b.public_key) };
  return { ...unsigned, key_sig: signText(newPrivateKey, canonicalJson(unsigned)) };
}

/**
 * Checks a key-change body on its own: the members and forms, the fingerprint, and the new key's
 * signature over the body; `key_change_invalid` naming what is wrong. The envelope's signature
 * (by the previous key for a rotation, by the new one for a revocation) is checked by the caller.
 */
export function parseKeyChangeBody(body: Record<string, unknown>, from: string): KeyChangeBody {
  const bad = (m: string): never => fail('key_change_invalid', `Not a valid key-change body: ${m}`);
  if (Object.keys(body).sort().join(',') !== BODY_MEMBERS) bad(`expected exactly the members ${BODY_MEMBERS}`);
  const b = body as unknown as KeyChangeBody;
  if (b.change !== 'rotation' && b.change !== 'revocation') bad('"change" must be "rotation" or "revocation"');
  if (b.party !== from) bad(`"party" is "${String(b.party)}", not the sender "${from}"`);
  for (const m of ['public_key', 'previous_key'] as const) {
    try {
      publicKeyFromB64(String(b[m]));
    } catch {
      bad(`"${m}" is not a public key`);
    }
  }
  if (b.public_key === b.previous_key) bad('"public_key" and "previous_key" are the same key');
  if (b.fingerprint !== fingerprint(b.public_key)) bad('"fingerprint" does not belong to "public_key"');
  const time = (m: 'valid_from' | 'overlap_until' | 'revoked_since', nullable: boolean): void => {
    const v = b[m];
    if (v === null && nullable) return;
    if (Number.isNaN(parseIsoTime(String(v)))) bad(`"${m}" must be an RFC 3339 UTC time`);
  };
  time('valid_from', false);
  time('overlap_until', b.change === 'revocation');
  time('revoked_since', b.change === 'rotation');
  if (b.change === 'rotation' && b.revoked_since !== null) bad('a rotation has "revoked_since": null');
  if (b.change === 'revocation' && b.overlap_until !== null) bad('a revocation has "overlap_until": null');
  if (b.change === 'rotation' && parseIsoTime(b.overlap_until!) < parseIsoTime(b.valid_from)) bad('"overlap_until" is before "valid_from"');
  const { key_sig: sig, ...rest } = b;
  if (!verifyText(keyObject(b.public_key), canonicalJson(rest), String(sig))) bad('"key_sig" does not verify with "public_key": the new key does not vouch for this change');
  return b;
}

/**
 * Records a peer's key-change in its key history, inside the storing transaction: a rotation pins
 * the new key from `valid_from` and ends the previous one at `overlap_until`; a revocation (only
 * ever accepted signed by a key already re-pinned) marks the previous key compromised since
 * `revoked_since` (the earlier of what is recorded and what it says).
 */
export async function applyKeyChange(trx: Transaction<FederationTables>, b: KeyChangeBody, statementId: string, now: number): Promise<void> {
  const validFrom = parseIsoTime(b.valid_from);
  if (b.change === 'rotation') {
    await insertKey(trx, b.party, {
      key: b.public_key, added_at: now, valid_from: validFrom, valid_until: null, revoked_since: null, origin: 'key-change', statement_id: statementId,
    });
    await trx.updateTable('key_history').set({ valid_until: parseIsoTime(b.overlap_until!) })
      .where('party', '=', b.party).where('public_key', '=', b.previous_key).execute();
    return;
  }
  const since = parseIsoTime(b.revoked_since!);
  const prev = await trx.selectFrom('key_history').select(['revoked_since', 'valid_until']).where('party', '=', b.party).where('public_key', '=', b.previous_key).executeTakeFirst();
  if (prev === undefined) fail('key_change_invalid', `The revocation names a key "${b.party}" never had here`);
  const recorded = prev.revoked_since === null ? Infinity : Number(prev.revoked_since);
  await trx.updateTable('key_history').set({
    revoked_since: Math.min(recorded, since), valid_until: prev.valid_until === null ? now : Number(prev.valid_until),
  }).where('party', '=', b.party).where('public_key', '=', b.previous_key).execute();
  await trx.updateTable('key_history').set({ valid_from: validFrom, statement_id: statementId })
    .where('party', '=', b.party).where('public_key', '=', b.public_key).where('valid_from', 'is', null).execute();
}

/** What `peer list --json` and transcripts show of a key: times as RFC 3339. */
export function keyView(k: PinnedKey): { public_key: string; fingerprint: string; valid_from: string | null; valid_until: string | null; revoked_since: string | null; added_at: string; origin: string } {
  const t = (v: number | null): string | null => (v === null ? null : isoTime(v));
  return {
    public_key: k.key, fingerprint: k.fingerprint, valid_from: t(k.valid_from), valid_until: t(k.valid_until),
    revoked_since: t(k.revoked_since), added_at: isoTime(k.added_at), origin: k.origin,
  };
}

/**
 * A peer as `peer list --json`, `peer show --json` and GET /api/v1/peers show it: the key it signs
 * with now (`fingerprint`) and when that changed (`key_changed_at`, null if it never did), its
 * `state` (federation.peers peerState: ok, key_mismatch, suspended, removed; given when the link is
 * known), and its key history in `keys` with times as RFC 3339.
 */
export function peerView<P extends { keys: readonly PinnedKey[] }>(p: P, state?: string): Omit<P, 'keys'> & { fingerprint: string; key_changed_at: string | null; keys: ReturnType<typeof keyView>[]; state?: string } {
  const live = currentKey(p.keys);
  const since = live === undefined ? null : isoTime(live.valid_from ?? live.added_at);
  return { ...p, fingerprint: live?.fingerprint ?? '', key_changed_at: p.keys.length > 1 ? since : null, keys: p.keys.map(keyView), ...(state === undefined ? {} : { state }) };
}
