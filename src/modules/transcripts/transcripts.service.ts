import type { Kysely } from 'kysely';
import { canonicalJson } from '../../shared/canonical.js';
import { isoTime, parseIsoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { resolveCaseId } from '../cases/cases.ids.js';
import type { CasesTables } from '../cases/cases.tables.js';
import type { PeerRepository } from '../federation/federation.peers.js';
import type { FederationTables, MessagesTable } from '../federation/federation.tables.js';
import type { Envelope, Receipt, Self } from '../federation/federation.types.js';
import { fingerprint, signText, type NodeKeys } from '../identity/identity.keys.js';
import { allKeyHistory } from '../federation/federation.keys.js';
import { keyChangesAmong, messagesOfCase } from '../federation/federation.messages.js';
import { canRead, markedOf } from '../messaging/messaging.visibility.js';
import { holdsChannel } from '../users/users.access.js';
import { NODE_ADMIN, type Principal } from '../users/users.types.js';
import {
  TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION,
  type Transcript, type TranscriptKey, type TranscriptMessage, type Withheld,
} from './transcripts.types.js';

/** What building a transcript reads: the store, this node's identity and keys, the clock. */
export interface TranscriptDeps {
  db: Kysely<FederationTables>;
  keys: NodeKeys;
  self: Self;
  clock: Clock;
  peers: PeerRepository;
}

/** Who the transcript is for, and whether TLP:RED messages may go in it. */
export interface TranscriptOptions {
  /** The user it is made for (`--as USER`, or the REST token's user); the node administrator by default. */
  viewer?: Principal;
  /**
   * Put in the file the TLP:RED envelopes the viewer may read (messaging.visibility `canRead`: on
   * the receiving node a named recipient, on the sending node its writer; no role is an
   * exception, the administrator included). Every other red envelope, and all of them without
   * this, is withheld and listed in `withheld`.
   */
  includeRed?: boolean;
}

type Decision = 'include' | 'withhold' | 'hide';

/**
 * The TLP rule for transcripts. A message on a channel the viewer does not hold is left out
 * without a trace (the channel wall: its existence does not leak). A TLP:RED message is withheld,
 * and listed as withheld, unless `includeRed` is asked for by a user who may read it
 * (messaging.visibility `canRead`, the one rule for every view).
 */
function decide(viewer: Principal, includeRed: boolean, row: MessagesTable, env: Envelope): Decision {
  if (!holdsChannel(viewer, row.channel)) return 'hide';
  if (row.tlp !== 'red') return 'include';
  return includeRed && canRead(viewer, markedOf(row, env.body)) ? 'include' : 'withhold';
}

function byTime(a: MessagesTable, b: MessagesTable): number {
  const t = parseIsoTime(a.sent_at) - parseIsoTime(b.sent_at);
  if (t !== 0 && !Number.isNaN(t)) return t;
  if (a.from_party !== b.from_party) return a.from_party < b.from_party ? -1 : 1;
  return Number(a.seq) - Number(b.seq);
}

/**
 * Builds the signed transcript of one case: every envelope of the case this node holds, in both
 * directions, each with its receipt; the public keys (with fingerprints) of every party that
 * signed anything in it, including keys that have expired; the envelopes withheld for TLP:RED;
 * and this node's signature over the JCS form of all of it (docs/protocol.md section 13.1).
 * Refuses an id that is not a UUID (`invalid_argument`) and a case with nothing the viewer may
 * see (`not_found`).
 */
export async function buildTranscript(deps: TranscriptDeps, input: string, opts: TranscriptOptions = {}): Promise<Transcript> {
  const viewer = opts.viewer ?? NODE_ADMIN;
  const caseId = await resolveCaseId(deps.db as unknown as Kysely<CasesTables>, input, viewer.channels);
  const rows = (await messagesOfCase(deps.db, caseId)).sort(byTime);
  const messages: TranscriptMessage[] = [];
  const withheld: Withheld[] = [];
  const signers = new Set<string>();
  for (const row of rows) {
    const env = JSON.parse(row.envelope) as Envelope;
    const decision = decide(viewer, opts.includeRed === true, row, env);
    if (decision === 'hide') continue;
    if (decision === 'withhold') {
      withheld.push({
        id: row.id, from: row.from_party, to: row.to_party, seq: Number(row.seq), sent_at: row.sent_at, kind: row.kind,
        channel: row.channel, priority: row.priority, tlp: row.tlp, hash: row.hash, reason: 'tlp-red',
      });
      continue;
    }
    messages.push({ envelope: env, receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as Receipt) });
    signers.add(row.from_party).add(row.to_party);
  }
  if (messages.length === 0 && withheld.length === 0) fail('not_found', `No case ${caseId} on this node (no message of it on a channel you hold)`);
  const unsigned: Omit<Transcript, 'sig'> = {
    format: TRANSCRIPT_FORMAT,
    v: TRANSCRIPT_VERSION,
    case: caseId,
    exported_by: deps.self.party,
    exported_for: viewer.user,
    exported_at: isoTime(deps.clock.now()),
    exporter_key: deps.keys.publicKeyB64,
    keys: await keysOf(deps, signers),
    key_changes: await keyChangesOf(deps, signers),
    messages,
    withheld,
  };
  return { ...unsigned, sig: signText(deps.keys.privateKey, canonicalJson(unsigned)) };
}

/** This node's keys first (every one it had), then every key ever pinned for each other signer, by party, with their validity. */
async function keysOf(deps: TranscriptDeps, signers: ReadonlySet<string>): Promise<TranscriptKey[]> {
  const history = await allKeyHistory(deps.db);
  const t = (v: number | null): string | null => (v === null ? null : isoTime(v));
  const own = deps.keys.publicKeyB64;
  const ownKeys = history.get(deps.self.party) ?? [];
  const keys: TranscriptKey[] = ownKeys.some((k) => k.key === own) ? [] : [{ party: deps.self.party, public_key: own, fingerprint: fingerprint(own), valid_from: null, valid_until: null, revoked_since: null }];
  for (const party of [deps.self.party, ...[...signers].filter((p) => p !== deps.self.party).sort()]) {
    // A signer with no key history gets no key: the verifier then reports its signatures as unverifiable.
    for (const k of history.get(party) ?? []) {
      keys.push({ party, public_key: k.key, fingerprint: fingerprint(k.key), valid_from: t(k.valid_from), valid_until: t(k.valid_until), revoked_since: t(k.revoked_since) });
    }
  }
  return keys;
}

/** The key-change envelopes between the parties of the transcript (each party's announcement once), oldest first. */
async function keyChangesOf(deps: TranscriptDeps, signers: ReadonlySet<string>): Promise<Envelope[]> {
  const parties = [...new Set([deps.self.party, ...signers])];
  const rows = await keyChangesAmong(deps.db, parties);
  const seen = new Set<string>();
  const out: Envelope[] = [];
  for (const r of rows) {
    const env = JSON.parse(r.envelope) as Envelope;
    if (!Object.prototype.hasOwnProperty.call(env.body, 'change')) continue; // the version-1 form changes no key
    const announced = `${env.from} ${String(env.body.public_key)}`;
    if (seen.has(announced)) continue;
    seen.add(announced);
    out.push(env);
  }
  return out;
}

/**
 * The file's exact text: 2-space JSON with the members in the order built, and a final newline.
 * `hotline verify FILE` refuses any other layout, so that a change to any byte of the file is
 * detected, not only a change to the signed content.
 */
export function transcriptText(t: Transcript): string {
  return `${JSON.stringify(t, null, 2)}\n`;
}
