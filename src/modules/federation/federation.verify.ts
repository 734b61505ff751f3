import type { Kysely } from 'kysely';
import { canonicalJson, sha256Hex } from '../../shared/canonical.js';
import { parseIsoTime } from '../../shared/clock.js';
import type { NodeKeys } from '../identity/identity.keys.js';
import { receiptProblem, verifyEnvelope, verifyReceipt } from './federation.envelope.js';
import { allKeyHistory, judgeHistoric, keyObject, LATER_REVOKED, type KeyVerdict, type PinnedKey } from './federation.keys.js';
import { epochGenesis, normaliseLink } from './federation.links.js';
import type { FederationTables, LinksTable, MessagesTable } from './federation.tables.js';
import { GENESIS_HASH, type Envelope, type Receipt, type Self } from './federation.types.js';
import { verifyAudit } from '../audit/audit.service.js';
import type { AuditProblem } from '../audit/audit.types.js';
import type { AuditTables } from '../audit/audit.tables.js';

/** Stable codes of what {@link verifyStore} can find wrong. */
export type VerifyProblemCode =
  | 'bad_signature' | 'hash_mismatch' | 'not_canonical' | 'field_mismatch' | 'seq_gap'
  | 'prev_mismatch' | 'bad_receipt' | 'link_head_mismatch' | 'unknown_peer'
  | 'key_expired' | 'key_revoked' | 'key_not_yet_valid'
  | AuditProblem['code'];

/** One thing wrong, and where: e.g. `link us→ru seq 5 (id 0190…)` or `link us→ru`. */
export interface VerifyProblem {
  where: string;
  code: VerifyProblemCode;
  message: string;
}

/** What the stored messages say about one link direction. */
export interface VerifiedLink {
  from: string;
  to: string;
  messages: number;
  last_seq: number;
  head_hash: string;
}

/** The outcome of {@link verifyStore}: `ok` when no problem was found. */
export interface VerifyReport {
  ok: boolean;
  links: VerifiedLink[];
  problems: VerifyProblem[];
  /** Problems found beyond `maxProblems`, counted but not listed. */
  omitted: number;
  /** What verifies but was signed by a key later declared compromised (before the compromise): marked, not wrong. */
  later_revoked: { where: string; message: string }[];
  /** The audit trail (modules/audit): how many records, the last one's hash; its first bad record is in `problems`. */
  audit: { records: number; head_hash: string };
}

/** What {@link verifyStore} reads: the store, this node's identity and keys, and paging knobs. */
export interface VerifyDeps {
  db: Kysely<FederationTables>;
  self: Self;
  keys: NodeKeys;
  /** Rows read per query (keyset pages); default 1000. */
  pageSize?: number;
  /** Problems listed at most; the rest are counted in `omitted`. Default 1000. */
  maxProblems?: number;
}

type Row = Omit<MessagesTable, 'stored_at' | 'receipted_at'>;

/** State carried along one link while its messages stream past in seq order. */
interface LinkRun {
  from: string;
  to: string;
  messages: number;
  lastSeq: number;
  /** SHA-256 of the last envelope's stored text (what the next `prev` must be). */
  head: string;
}

/**
 * Checks everything the store holds, streaming the messages in keyset pages so memory stays flat:
 * each envelope's text is canonical, hashed as recorded, matches its row and verifies; each link
 * is a gap-free hash chain from seq 1; receipts verify; each `links` row matches its chain's head.
 *
 * @example
 * const report = await verifyStore({ db, self, keys });
 * for (const p of report.problems) console.log(`${p.where}: ${p.code}: ${p.message}`);
 */
export async function verifyStore(deps: VerifyDeps): Promise<VerifyReport> {
  const linkRows = new Map<string, LinksTable>();
  for (const r of await deps.db.selectFrom('links').selectAll().execute()) {
    const l = normaliseLink(r);
    linkRows.set(linkKey(l.from_party, l.to_party), l);
  }
  const v = new Verifier(deps, await loadKeys(deps), linkRows);
  const pageSize = deps.pageSize ?? 1000;
  let after: [string, string, number] | undefined;
  for (;;) {
    let q = deps.db.selectFrom('messages')
      .select(['id', 'direction', 'from_party', 'to_party', 'seq', 'hash', 'kind', 'channel', 'case_id', 'in_reply_to', 'priority', 'tlp', 'sent_at', 'envelope', 'receipt'])
      .orderBy('from_party').orderBy('to_party').orderBy('seq').limit(pageSize);
    if (after !== undefined) {
      const [f, t, s] = after;
      q = q.where(({ eb, refTuple, tuple }) => eb(refTuple('from_party', 'to_party', 'seq'), '>', tuple(f, t, s)));
    }
    const page = await q.execute();
    for (const raw of page) v.row({ ...raw, seq: Number(raw.seq) });
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) break;
    after = [last.from_party, last.to_party, Number(last.seq)];
  }
  v.endLink();
  for (const l of linkRows.values()) v.emptyLink(l);
  // The audit trail: whole and unchanged (the first changed, removed or reordered record is named).
  // A node's store holds the audit tables too (Kysely's table types are invariant, hence the cast).
  const audit = await verifyAudit(deps.db as unknown as Kysely<AuditTables>, pageSize);
  const report = v.report();
  if (audit.problem === null) return { ...report, audit: { records: audit.records, head_hash: audit.head_hash } };
  const p = audit.problem;
  return {
    ...report, ok: false, audit: { records: audit.records, head_hash: audit.head_hash },
    problems: [...report.problems, { where: `audit record #${p.seq}${p.id === null ? '' : ` (id ${p.id})`}`, code: p.code, message: p.message }],
  };
}

const linkKey = (from: string, to: string): string => `${from}\u0000${to}`;

/**
 * Every key each party (this node included) ever had, with its validity (key_history): each
 * signature is checked against the key valid when it was made. A store from before the key
 * history knows this node's key only from its key file: valid since always.
 */
async function loadKeys(deps: VerifyDeps): Promise<Map<string, PinnedKey[]>> {
  const out = await allKeyHistory(deps.db);
  const valid = (k: PinnedKey): boolean => {
    try {
      keyObject(k.key);
      return true;
    } catch {
      return false; // an unreadable key pins nothing; signatures it would have verified are reported
    }
  };
  for (const [party, keys] of out) out.set(party, keys.filter(valid));
  if (!out.has(deps.self.party)) {
    out.set(deps.self.party, [{ key: deps.keys.publicKeyB64, fingerprint: '', added_at: 0, valid_from: null, valid_until: null, revoked_since: null, origin: 'init', statement_id: null }]);
  }
  return out;
}

class Verifier {
  private readonly problems: VerifyProblem[] = [];
  private readonly laterRevoked: { where: string; message: string }[] = [];
  private readonly links: VerifiedLink[] = [];
  private omitted = 0;
  private run: LinkRun | undefined;
  private readonly max: number;

  /** `links` rows not yet matched with a stream of messages; {@link endLink} consumes them. */
  constructor(
    private readonly deps: VerifyDeps,
    private readonly peerKeys: Map<string, PinnedKey[]>,
    private readonly linkRows: Map<string, LinksTable>,
  ) {
    this.max = deps.maxProblems ?? 1000;
  }

  private add(where: string, code: VerifyProblemCode, message: string): void {
    if (this.problems.length < this.max) this.problems.push({ where, code, message });
    else this.omitted++;
  }

  row(r: Row): void {
    if (this.run !== undefined && (this.run.from !== r.from_party || this.run.to !== r.to_party)) this.endLink();
    const first = this.run === undefined;
    const run: LinkRun = this.run ?? { from: r.from_party, to: r.to_party, messages: 0, lastSeq: 0, head: GENESIS_HASH };
    this.run = run;
    const where = `link ${r.from_party}→${r.to_party} seq ${r.seq} (id ${r.id})`;
    if (first) this.checkPeer(r);
    const hash = sha256Hex(r.envelope);
    if (r.hash !== hash) this.add(where, 'hash_mismatch', `the hash column is ${r.hash.slice(0, 16)}…, the envelope text hashes to ${hash.slice(0, 16)}…`);
    if (r.seq < 1) {
      this.add(where, 'seq_gap', `seq ${r.seq} is not a position on a link (links start at seq 1)`);
    } else if (r.seq !== run.lastSeq + 1 && !(r.seq > run.lastSeq && startsEpoch(r))) {
      const gap = r.seq - 1 === run.lastSeq + 1 ? `seq ${run.lastSeq + 1}` : `seq ${run.lastSeq + 1}–${r.seq - 1}`;
      const jump = run.lastSeq === 0 ? `the link starts at seq ${r.seq}` : `the link jumps from seq ${run.lastSeq} to ${r.seq}`;
      this.add(`link ${r.from_party}→${r.to_party} ${gap}`, 'seq_gap', `${gap} missing: ${jump} (id ${r.id})`);
    }
    const env = this.parse(r, where);
    if (env !== undefined) {
      this.checkFields(r, env, where);
      this.checkSignature(r, env, where);
      const expectedPrev = r.seq === 1 ? GENESIS_HASH : r.seq === run.lastSeq + 1 ? run.head : undefined;
      // A new link epoch (protocol section 4.1) begins with its own genesis instead of the previous hash.
      const epoch = r.seq > 1 && r.seq > run.lastSeq && env.prev === epochGenesis(r.from_party, r.to_party, r.seq);
      if (expectedPrev !== undefined && env.prev !== expectedPrev && !epoch) {
        this.add(where, 'prev_mismatch', `prev is ${String(env.prev).slice(0, 16)}…, the ${r.seq === 1 ? 'genesis hash' : 'previous envelope hashes to'} ${expectedPrev.slice(0, 16)}…`);
      }
    }
    this.checkReceipt(r, hash, where);
    run.messages++;
    run.lastSeq = r.seq;
    run.head = hash;
  }

  /** Closes the current link: compares its chain head with the `links` row, which is then consumed. */
  endLink(): void {
    const run = this.run;
    if (run === undefined) return;
    this.run = undefined;
    this.links.push({ from: run.from, to: run.to, messages: run.messages, last_seq: run.lastSeq, head_hash: run.head });
    const where = `link ${run.from}→${run.to}`;
    const row = this.linkRows.get(linkKey(run.from, run.to));
    this.linkRows.delete(linkKey(run.from, run.to));
    if (row === undefined) {
      this.add(where, 'link_head_mismatch', `the store holds ${run.messages} messages on this link but no links row`);
      return;
    }
    if (row.last_seq < run.lastSeq && run.from === this.deps.self.party) {
      this.add(where, 'link_head_mismatch', `messages are stored beyond the link's last_seq ${row.last_seq} (up to seq ${run.lastSeq})`);
    } else if (row.last_seq !== run.lastSeq) {
      this.add(where, 'link_head_mismatch', `the links row says last_seq ${row.last_seq}, the last stored message is seq ${run.lastSeq}`);
    }
    // A link whose new epoch has begun but holds no envelope yet: its head is the epoch's genesis.
    const epochBegun = row.last_seq === run.lastSeq && Number(row.epoch_start_seq) === run.lastSeq + 1
      && row.head_hash === epochGenesis(run.from, run.to, run.lastSeq + 1);
    if (row.head_hash !== run.head && !epochBegun) {
      this.add(where, 'link_head_mismatch', `the links row's head_hash ${row.head_hash.slice(0, 16)}… is not the last envelope's hash ${run.head.slice(0, 16)}…`);
    }
  }

  /** A `links` row with no messages must still be at genesis. */
  emptyLink(l: LinksTable): void {
    this.links.push({ from: l.from_party, to: l.to_party, messages: 0, last_seq: 0, head_hash: GENESIS_HASH });
    if (l.last_seq !== 0 || l.head_hash !== GENESIS_HASH) {
      this.add(`link ${l.from_party}→${l.to_party}`, 'link_head_mismatch', `the links row says last_seq ${l.last_seq} but no message is stored on this link`);
    }
  }

  report(): Omit<VerifyReport, 'audit'> {
    const key = (l: VerifiedLink): string => linkKey(l.from, l.to);
    const links = [...this.links].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return { ok: this.problems.length === 0 && this.omitted === 0, links, problems: this.problems, omitted: this.omitted, later_revoked: this.laterRevoked };
  }

  private checkPeer(r: Row): void {
    const peer = r.from_party === this.deps.self.party ? r.to_party : r.from_party;
    if (!this.peerKeys.has(peer)) this.add(`link ${r.from_party}→${r.to_party}`, 'unknown_peer', `"${peer}" is not a pinned peer; its signatures cannot be checked`);
  }

  private parse(r: Row, where: string): Envelope | undefined {
    let value: unknown;
    try {
      value = JSON.parse(r.envelope);
    } catch {
      this.add(where, 'not_canonical', 'the stored envelope is not JSON');
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(where, 'not_canonical', 'the stored envelope is not a JSON object');
      return undefined;
    }
    let canonical: string;
    try {
      canonical = canonicalJson(value);
    } catch (e) {
      // A damaged row can hold what no envelope can (1e400, a lone surrogate): report it, do not stop.
      this.add(where, 'not_canonical', `the stored envelope has no canonical (JCS) form: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    if (canonical !== r.envelope) this.add(where, 'not_canonical', 'the stored envelope text is not in canonical (JCS) form');
    return value as Envelope;
  }

  private checkFields(r: Row, e: Envelope, where: string): void {
    const pairs: [string, unknown, unknown][] = [
      ['id', r.id, e.id], ['from_party', r.from_party, e.from], ['to_party', r.to_party, e.to], ['seq', r.seq, e.seq],
      ['kind', r.kind, e.kind], ['channel', r.channel, e.channel], ['case_id', r.case_id, e.case],
      ['in_reply_to', r.in_reply_to, e.in_reply_to], ['priority', r.priority, e.priority], ['tlp', r.tlp, e.tlp],
      ['sent_at', r.sent_at, e.sent_at],
    ];
    const wrong = pairs.filter(([, col, field]) => col !== field).map(([name, col, field]) => `${name} is ${JSON.stringify(col)} but the envelope says ${JSON.stringify(field)}`);
    const self = this.deps.self.party;
    if (r.direction === 'out' && r.from_party !== self) wrong.push(`an outbound message must be from "${self}"`);
    if (r.direction === 'in' && r.to_party !== self) wrong.push(`an inbound message must be to "${self}"`);
    if (r.direction !== 'in' && r.direction !== 'out') wrong.push(`direction is ${JSON.stringify(r.direction)}`);
    if (wrong.length > 0) this.add(where, 'field_mismatch', wrong.join('; '));
  }

  /** A verdict on a stored signature: a problem, or a mark when its key was compromised only later. */
  private verdict(v: KeyVerdict, where: string, what: string, whose: string): void {
    if (!v.ok) {
      this.add(where, v.code, `${what}: ${v.code === 'bad_signature' ? `the signature does not verify with any key ever pinned for "${whose}"` : v.message}`);
    } else if (v.laterRevoked && this.laterRevoked.length < this.max) {
      this.laterRevoked.push({ where, message: `${what} ${LATER_REVOKED} (${v.key.fingerprint}, compromised since ${new Date(v.key.revoked_since!).toISOString()})` });
    }
  }

  private checkSignature(r: Row, e: Envelope, where: string): void {
    const signer = r.direction === 'out' ? this.deps.self.party : r.from_party;
    const keys = this.peerKeys.get(signer);
    if (keys === undefined) return; // reported once per link as unknown_peer
    const v = judgeHistoric(keys, (k) => verifyEnvelope(e, [k]), parseIsoTime(String(e.sent_at)), signer);
    if (!v.ok && v.code === 'bad_signature' && r.direction === 'out') this.add(where, 'bad_signature', "the signature does not verify with any of this node's own keys");
    else this.verdict(v, where, 'the envelope', signer);
  }

  private checkReceipt(r: Row, hash: string, where: string): void {
    if (r.receipt === null) {
      if (r.direction === 'in') this.add(where, 'bad_receipt', 'an inbound message has no receipt');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(r.receipt);
    } catch {
      this.add(where, 'bad_receipt', 'the stored receipt is not JSON');
      return;
    }
    // Inbound: the receipt we gave, signed by us and addressed to the sender. Outbound: the peer's.
    const inbound = r.direction === 'in';
    const signer = inbound ? this.deps.self.party : r.to_party;
    const history = this.peerKeys.get(signer);
    if (history === undefined) return; // reported once per link as unknown_peer
    const addressee = inbound ? r.from_party : this.deps.self.party;
    const problem = receiptProblem(value, { self: addressee, peer: signer, id: r.id, seq: r.seq, hash }, history.map((k) => keyObject(k.key)));
    if (problem !== undefined) {
      this.add(where, 'bad_receipt', problem);
      return;
    }
    const receipt = value as Receipt;
    this.verdict(judgeHistoric(history, (k) => verifyReceipt(receipt, [k]), parseIsoTime(receipt.received_at), signer), where, 'the receipt', signer);
  }
}

/** Whether a stored envelope that follows a gap begins a new link epoch (protocol section 4.1). */
function startsEpoch(r: { from_party: string; to_party: string; seq: number; envelope: string }): boolean {
  try {
    const prev = (JSON.parse(r.envelope) as { prev?: unknown }).prev;
    return prev === epochGenesis(r.from_party, r.to_party, r.seq);
  } catch {
    return false;
  }
}
