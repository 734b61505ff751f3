import { randomBytes, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical.js';
import { fail } from '../../shared/errors.js';
import { publicKeyFromB64, signText, verifyText, type NodeKeys } from '../identity/identity.keys.js';
import { keysHeldNow, type Peer } from './federation.peers.js';
import { PARTY_ID, PROTOCOL_VERSION } from './federation.types.js';

/**
 * Key proof (docs/protocol.md section 9.4): before a link sends envelopes after a start, a failed
 * attempt or a key change, the sender sends the peer's endpoint a fresh challenge, and the answer
 * must be signed by the key pinned for the peer. An impostor at the peer's address is sent the
 * challenge and nothing else.
 */

/** What the challenger sends: `from` challenges `to` with a fresh nonce. */
export interface KeyChallenge {
  v: typeof PROTOCOL_VERSION;
  type: 'hotline-key-challenge';
  from: string;
  to: string;
  /** 32 random bytes, base64url without padding (43 characters). */
  nonce: string;
}

/** What the prover answers: `from` (the challenged node) to `to` (the challenger), the same nonce, signed. */
export interface KeyProof {
  v: typeof PROTOCOL_VERSION;
  type: 'hotline-key-proof';
  from: string;
  to: string;
  nonce: string;
  sig: string;
}

/**
 * The prefix of the signed text of a key proof (domain separation): a proof's signature is over
 * these bytes followed by the JCS form of the proof without `sig`. Every other signed object of
 * the protocol (envelope, receipt, descriptor) is signed over its JCS form alone, which begins
 * with `{`; this text begins with `h`, so no proof signature is ever valid as another object's
 * signature, nor the other way round.
 */
export const KEY_PROOF_DOMAIN = 'hotline-key-proof-v1\n';

const NONCE = /^[A-Za-z0-9_-]{43}$/;

export function newChallenge(from: string, to: string): KeyChallenge {
  return { v: PROTOCOL_VERSION, type: 'hotline-key-challenge', from, to, nonce: randomBytes(32).toString('base64url') };
}

/** The exact text a key proof's signature covers. */
export function proofSigningText(p: Omit<KeyProof, 'sig'>): string {
  return KEY_PROOF_DOMAIN + canonicalJson({ v: p.v, type: p.type, from: p.from, to: p.to, nonce: p.nonce });
}

/**
 * The prover's side: checks a challenge is well formed and addressed to this node, and signs the
 * proof. Refused with `invalid_challenge` otherwise. Any challenger is answered: the proof only
 * says "this endpoint holds the key of `self`", which anyone may ask.
 */
export function answerChallenge(value: unknown, self: string, keys: NodeKeys): KeyProof {
  const bad = (m: string): never => fail('invalid_challenge', `Not a key challenge this node answers: ${m}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('expected a JSON object');
  const c = value as Record<string, unknown>;
  if (Object.keys(c).sort().join(',') !== 'from,nonce,to,type,v') bad('expected exactly the members from, nonce, to, type, v');
  if (c.v !== PROTOCOL_VERSION || c.type !== 'hotline-key-challenge') bad('not a v1 hotline-key-challenge');
  if (typeof c.from !== 'string' || !PARTY_ID.test(c.from)) bad('"from" must be a party id');
  if (c.to !== self) bad(`it is addressed to ${JSON.stringify(c.to)}; this node is "${self}"`);
  if (typeof c.nonce !== 'string' || !NONCE.test(c.nonce)) bad('"nonce" must be 32 bytes in base64url without padding (43 characters)');
  const unsigned = { v: PROTOCOL_VERSION, type: 'hotline-key-proof' as const, from: self, to: c.from as string, nonce: c.nonce as string };
  return { ...unsigned, sig: signText(keys.privateKey, proofSigningText(unsigned)) };
}

/**
 * The challenger's side: what is wrong with `answer` as the proof for `challenge` by `peer`, or
 * undefined when it is right (its members match the challenge and its signature verifies with a
 * key the peer holds now).
 */
export function proofProblem(answer: unknown, challenge: KeyChallenge, peer: Peer, now: number): string | undefined {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return 'the answer is not a JSON object';
  const p = answer as Record<string, unknown>;
  if (Object.keys(p).sort().join(',') !== 'from,nonce,sig,to,type,v') return 'the answer does not have exactly the members of a key proof';
  if (p.v !== PROTOCOL_VERSION || p.type !== 'hotline-key-proof') return 'the answer is not a v1 hotline-key-proof';
  if (p.from !== challenge.to || p.to !== challenge.from || p.nonce !== challenge.nonce) return 'the proof answers another challenge (from, to or nonce differ)';
  const text = proofSigningText(p as unknown as KeyProof);
  const keys: KeyObject[] = keysHeldNow(peer, now).map((k) => publicKeyFromB64(k.key));
  if (!keys.some((k) => verifyText(k, text, String(p.sig)))) return 'its signature does not verify with the pinned key';
  return undefined;
}
