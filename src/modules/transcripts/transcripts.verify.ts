import { canonicalJson, MAX_CANONICAL_DEPTH } from '../../shared/canonical.js';
import { parseIsoTime } from '../../shared/clock.js';
import { fail, HotlineError } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { envelopeHash, parseEnvelope, receiptProblem, verifyEnvelope, verifyReceipt } from '../federation/federation.envelope.js';
import { judgeHistoric, keyObject, parseKeyChangeBody, type KeyVerdict, type PinnedKey } from '../federation/federation.keys.js';
import { DEFAULT_LIMITS, GENESIS_HASH, PARTY_ID, type Envelope, type Limits, type Receipt } from '../federation/federation.types.js';
import { fingerprint, publicKeyFromB64, verifyText } from '../identity/identity.keys.js';
import {
  TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION,
  type CheckedKey, type TimelineEntry, type TranscriptProblem, type TranscriptProblemCode, type TranscriptReport, type Withheld,
} from './transcripts.types.js';

/** What a person brings to the check: the fingerprints they know, out of band, per party. */
export interface VerifyTranscriptOptions {
  /** Party → fingerprints. Every key the file lists for such a party must have one of them. */
  expect?: ReadonlyMap<string, readonly string[]>;
}

const TOP_V1 = 'case,exported_at,exported_by,exported_for,exporter_key,format,keys,messages,sig,v,withheld';
const TOP_V2 = 'case,exported_at,exported_by,exported_for,exporter_key,format,key_changes,keys,messages,sig,v,withheld';
const KEY_V1 = 'fingerprint,party,public_key,valid_until';
const KEY_V2 = 'fingerprint,party,public_key,revoked_since,valid_from,valid_until';
const WITHHELD = 'channel,from,hash,id,kind,priority,reason,sent_at,seq,tlp,to';
const SNIPPET = 60;
/** A transcript carries envelopes as they were accepted; the receiving node's size limits do not apply here. */
const NO_LIMITS: Limits = { ...DEFAULT_LIMITS, maxEnvelopeBytes: Number.MAX_SAFE_INTEGER, maxBodyBytes: Number.MAX_SAFE_INTEGER, maxAttachments: Number.MAX_SAFE_INTEGER };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const members = (o: Record<string, unknown>): string => Object.keys(o).sort().join(',');
const digits = (s: string): string => s.replace(/\s+/g, '');

/**
 * Parses `--expect-fingerprint PARTY=DIGITS` values (repeatable; a party may be named more than
 * once, e.g. across a key rotation). Refuses anything else with `invalid_argument`.
 */
export function parseExpectations(values: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const m = /^([^=]+)=([\d\s]+)$/.exec(v);
    const party = m?.[1]?.trim() ?? '';
    if (m === null || !PARTY_ID.test(party) || digits(m[2]!).length !== 40) {
      fail('invalid_argument', `--expect-fingerprint takes PARTY=DIGITS, the party id and its 40-digit fingerprint (spaces allowed), e.g. us="10565 22880 …"; got "${v}"`);
    }
    out.set(party, [...(out.get(party) ?? []), digits(m[2]!)]);
  }
  return out;
}

/**
 * Reads a transcript file's bytes: strict UTF-8, then JSON. A file that is neither, that nests
 * deeper than {@link MAX_CANONICAL_DEPTH} (no transcript does: an envelope nests at most 64 levels,
 * and the file adds 4), or that is not a `hotline-transcript` object, is refused with
 * `transcript_invalid`, saying why. What JCS cannot write inside it (1e400, a lone surrogate) is
 * left to {@link verifyTranscript}, which reports it where it is.
 */
export function readTranscript(bytes: Uint8Array, name = 'the file'): { value: Record<string, unknown>; text: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('transcript_invalid', `${name} is not valid UTF-8: it was damaged, or it is not a transcript`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail('transcript_invalid', `${name} is not valid JSON (${(e as Error).message}): it was damaged, or it is not a transcript`);
  }
  if (nestedDeeperThan(value, MAX_CANONICAL_DEPTH)) {
    fail('transcript_invalid', `${name} nests arrays and objects deeper than ${MAX_CANONICAL_DEPTH} levels: it is not a transcript`);
  }
  if (!isRecord(value) || value.format !== TRANSCRIPT_FORMAT) {
    fail('transcript_invalid', `${name} is not a case transcript (its "format" is not "${TRANSCRIPT_FORMAT}"); "hotline transcript" writes them`);
  }
  return { value, text };
}

/** {@link readTranscript} then {@link verifyTranscript}, checking the file's layout too. */
export function verifyTranscriptBytes(bytes: Uint8Array, opts: VerifyTranscriptOptions = {}, name?: string): TranscriptReport {
  const { value, text } = readTranscript(bytes, name);
  return verifyTranscript(value, opts, text);
}

/**
 * Verifies a transcript using only what it carries (pure: no store, no network): its shape; that
 * `text`, if given, is exactly the layout the exporter writes; each key's fingerprint (and the
 * expected ones); the exporter's signature over the whole; each envelope's signature with its
 * sender's keys, its case and link; each receipt's signature with the receiver's keys and that it
 * names the envelope's id, seq and hash; the link chain where consecutive envelopes are present.
 * Keys carried in the file prove integrity and consistency; who the keys belong to is proven only
 * by comparing fingerprints out of band (`opts.expect`).
 */
export function verifyTranscript(t: Record<string, unknown>, opts: VerifyTranscriptOptions = {}, text?: string): TranscriptReport {
  return new Checker(t, opts).run(text);
}

interface Position { hash: string; prev: string | undefined; where: string }

class Checker {
  private readonly problems: TranscriptProblem[] = [];
  private readonly keys: CheckedKey[] = [];
  private readonly keysOf = new Map<string, PinnedKey[]>();
  private readonly v1: boolean;
  private readonly timeline: TimelineEntry[] = [];
  private readonly withheld: Withheld[] = [];
  private readonly ids = new Set<string>();
  /** `from>to` → seq → what is known at that position of the link. */
  private readonly links = new Map<string, Map<number, Position>>();
  private readonly exporter: string;

  constructor(private readonly t: Record<string, unknown>, private readonly opts: VerifyTranscriptOptions) {
    this.exporter = typeof t.exported_by === 'string' ? t.exported_by : '';
    this.v1 = t.v === 1;
  }

  private add(where: string, code: TranscriptProblemCode, message: string): void {
    this.problems.push({ where, code, message });
  }

  run(text: string | undefined): TranscriptReport {
    const t = this.t;
    if (text !== undefined && text !== `${JSON.stringify(t, null, 2)}\n`) {
      this.add('file', 'layout_changed', 'the file is not laid out as "hotline transcript" writes it (2-space JSON, final newline): it was changed after export');
    }
    this.header();
    this.checkKeys(Array.isArray(t.keys) ? t.keys : []);
    this.checkSignature();
    if (!this.v1) (Array.isArray(t.key_changes) ? t.key_changes : []).forEach((e, i) => this.keyChange(e, i));
    (Array.isArray(t.messages) ? t.messages : []).forEach((m, i) => this.message(m, i));
    (Array.isArray(t.withheld) ? t.withheld : []).forEach((w, i) => this.withheldEntry(w, i));
    this.checkChains();
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    const exporterKey = str(t.exporter_key);
    return {
      ok: this.problems.length === 0, case: str(t.case), exported_by: str(t.exported_by), exported_for: str(t.exported_for),
      exported_at: str(t.exported_at), exporter_fingerprint: exporterKey === null ? null : safeFingerprint(exporterKey),
      keys: this.keys, timeline: this.timeline, withheld: this.withheld, problems: this.problems,
    };
  }

  private header(): void {
    const t = this.t;
    const wrong: string[] = [];
    const top = this.v1 ? TOP_V1 : TOP_V2;
    if (members(t) !== top) wrong.push(`it must have exactly the members ${top}`);
    if (t.v !== TRANSCRIPT_VERSION && t.v !== 1) wrong.push(`"v" is ${JSON.stringify(t.v)}; this verifier reads versions 1 and ${TRANSCRIPT_VERSION}`);
    if (!isUuid(t.case)) wrong.push('"case" must be a lower-case UUID');
    if (!PARTY_ID.test(this.exporter)) wrong.push('"exported_by" must be a party id');
    if (typeof t.exported_for !== 'string') wrong.push('"exported_for" must be a user name');
    if (typeof t.exported_at !== 'string' || Number.isNaN(parseIsoTime(t.exported_at))) wrong.push('"exported_at" must be an RFC 3339 UTC time');
    for (const k of this.v1 ? ['keys', 'messages', 'withheld'] : ['keys', 'key_changes', 'messages', 'withheld']) if (!Array.isArray(t[k])) wrong.push(`"${k}" must be an array`);
    if (wrong.length > 0) this.add('transcript', 'invalid_transcript', wrong.join('; '));
  }

  private checkKeys(list: readonly unknown[]): void {
    const seen = new Set<string>();
    const KEY = this.v1 ? KEY_V1 : KEY_V2;
    const timeOrNull = (v: unknown): boolean => v === null || (typeof v === 'string' && !Number.isNaN(parseIsoTime(v)));
    list.forEach((k, i) => {
      const where = `keys[${i}]`;
      if (!isRecord(k) || members(k) !== KEY || typeof k.party !== 'string' || !PARTY_ID.test(k.party) || typeof k.fingerprint !== 'string'
        || !timeOrNull(k.valid_until) || (!this.v1 && (!timeOrNull(k.valid_from) || !timeOrNull(k.revoked_since)))) {
        this.add(where, 'invalid_transcript', `a key must have exactly ${KEY}: a party id, a key, its fingerprint, and null or an RFC 3339 time for each time`);
        return;
      }
      try {
        publicKeyFromB64(String(k.public_key));
      } catch (e) {
        this.add(`${where} (${k.party})`, 'invalid_transcript', (e as Error).message);
        return;
      }
      const fp = fingerprint(String(k.public_key));
      if (digits(k.fingerprint) !== digits(fp)) this.add(`${where} (${k.party})`, 'fingerprint_mismatch', `the file says fingerprint ${k.fingerprint}, but the key's fingerprint is ${fp}`);
      if (seen.has(`${k.party} ${String(k.public_key)}`)) this.add(`${where} (${k.party})`, 'duplicate', 'this key is listed twice for the party');
      seen.add(`${k.party} ${String(k.public_key)}`);
      const expected = this.opts.expect?.get(k.party);
      const matches = expected?.includes(digits(fp));
      if (expected !== undefined && matches !== true) {
        this.add(`${where} (${k.party})`, 'fingerprint_mismatch', `the key for "${k.party}" has fingerprint ${fp}, which is not the one you expected (${expected.join(' or ')}): do not trust what it signed`);
      }
      const time = (v: unknown): string | null => (typeof v === 'string' ? v : null);
      const ms = (v: unknown): number | null => (typeof v === 'string' ? parseIsoTime(v) : null);
      this.keys.push({
        party: k.party, public_key: String(k.public_key), fingerprint: fp, valid_from: time(k.valid_from), valid_until: time(k.valid_until),
        revoked_since: time(k.revoked_since), expected: expected === undefined ? 'unchecked' : matches === true ? 'matches' : 'differs',
      });
      // Version 1 files say nothing of when a key began: any key of the party may have signed at any time before it ended.
      this.keysOf.set(k.party, [...(this.keysOf.get(k.party) ?? []), {
        key: String(k.public_key), fingerprint: fp, added_at: 0, valid_from: ms(k.valid_from), valid_until: this.v1 ? null : ms(k.valid_until),
        revoked_since: ms(k.revoked_since), origin: 'transcript', statement_id: null,
      }]);
    });
    for (const [party, fps] of this.opts.expect ?? []) {
      if (!this.keysOf.has(party)) this.add('keys', 'unknown_key', `the file lists no key for "${party}", for which you expected fingerprint ${fps.join(' or ')}`);
    }
  }

  private checkSignature(): void {
    const { sig, ...rest } = this.t;
    const key = this.t.exporter_key;
    if (!this.keys.some((k) => k.party === this.exporter && k.public_key === key)) {
      this.add('transcript', 'unknown_key', `"exporter_key" is not listed in "keys" for the exporter "${this.exporter}"`);
    }
    let ok = false;
    try {
      ok = typeof sig === 'string' && verifyText(publicKeyFromB64(String(key)), canonicalJson(rest), sig);
    } catch {
      ok = false;
    }
    if (!ok) this.add('transcript', 'bad_signature', `the exporter's signature over the transcript does not verify with "exporter_key": the file was changed after "${this.exporter}" signed it`);
  }

  private message(m: unknown, i: number): void {
    if (!isRecord(m) || members(m) !== 'envelope,receipt') {
      this.add(`messages[${i}]`, 'invalid_transcript', 'a message must have exactly "envelope" and "receipt"');
      return;
    }
    let env: Envelope;
    try {
      env = parseEnvelope(m.envelope, NO_LIMITS);
    } catch (e) {
      this.add(`messages[${i}]`, 'invalid_envelope', e instanceof HotlineError ? e.message : String(e));
      return;
    }
    const where = `messages[${i}] (${env.from}→${env.to} seq ${env.seq}, id ${env.id})`;
    const problemsBefore = this.problems.length;
    if (env.case !== this.t.case) this.add(where, 'wrong_case', `the envelope belongs to case ${env.case}, not to the transcript's case ${String(this.t.case)}`);
    this.position(where, env.id, env.from, env.to, env.seq, envelopeHash(env), env.prev);
    const senderKeys = this.keysOf.get(env.from);
    let laterRevoked = false;
    if (senderKeys === undefined) this.add(where, 'unknown_key', `the file lists no key for the sender "${env.from}"`);
    else laterRevoked = this.verdict(judgeHistoric(senderKeys, (k) => verifyEnvelope(env, [k]), parseIsoTime(env.sent_at), env.from), where, 'envelope');
    const receivedAt = this.receipt(m.receipt, env, where);
    this.timeline.push({
      id: env.id, sent_at: env.sent_at, from: env.from, to: env.to, seq: env.seq, kind: env.kind, channel: env.channel,
      priority: env.priority, tlp: env.tlp, in_reply_to: env.in_reply_to, received_at: receivedAt, text: snippet(env.body),
      verified: this.problems.length === problemsBefore, later_revoked: laterRevoked,
    });
  }

  /** Adds the problem of a verdict on a signature in the file; true when it verifies but its key was revoked later. */
  private verdict(v: KeyVerdict, where: string, what: 'envelope' | 'receipt'): boolean {
    if (v.ok) return v.laterRevoked;
    if (v.code === 'bad_signature') {
      this.add(where, what === 'envelope' ? 'bad_signature' : 'bad_receipt', `the ${what}'s signature does not verify with the key(s) in the file`);
    } else {
      this.add(where, v.code, `the ${what} was ${v.message}`);
    }
    return false;
  }

  /** A key-change in the file: a valid one, vouched for by both keys, that agrees with the keys listed. */
  private keyChange(value: unknown, i: number): void {
    let env: Envelope;
    try {
      env = parseEnvelope(value, NO_LIMITS);
    } catch (e) {
      this.add(`key_changes[${i}]`, 'invalid_envelope', e instanceof HotlineError ? e.message : String(e));
      return;
    }
    const where = `key_changes[${i}] (${env.from}, id ${env.id})`;
    if (env.kind !== 'key-change') {
      this.add(where, 'key_change_invalid', `the envelope is a "${env.kind}", not a key-change`);
      return;
    }
    let b;
    try {
      b = parseKeyChangeBody(env.body, env.from);
    } catch (e) {
      this.add(where, 'key_change_invalid', e instanceof HotlineError ? e.message : String(e));
      return;
    }
    const keys = this.keysOf.get(env.from) ?? [];
    const signer = b.change === 'rotation' ? b.previous_key : b.public_key;
    if (!verifyEnvelope(env, [keyObject(signer)])) this.add(where, 'key_change_invalid', `the key-change is not signed by the ${b.change === 'rotation' ? 'previous' : 'new'} key it names`);
    const fresh = keys.find((k) => k.key === b.public_key);
    const prev = keys.find((k) => k.key === b.previous_key);
    if (fresh === undefined || prev === undefined) {
      this.add(where, 'key_change_invalid', `"keys" does not list both keys of this key-change for "${env.from}"`);
      return;
    }
    if (b.change === 'rotation' && prev.valid_until !== parseIsoTime(b.overlap_until!)) {
      this.add(where, 'key_change_invalid', `"keys" says the previous key of "${env.from}" ended at another time than the key-change's overlap_until ${b.overlap_until!}`);
    }
    if (b.change === 'revocation' && (prev.revoked_since === null || prev.revoked_since > parseIsoTime(b.revoked_since!))) {
      this.add(where, 'key_change_invalid', `"keys" does not show the previous key of "${env.from}" revoked since ${b.revoked_since!}, as the key-change says`);
    }
  }

  /** Checks the receipt of `env`; returns its `received_at` when it is one. */
  private receipt(value: unknown, env: Envelope, where: string): string | null {
    if (value === null) {
      if (env.to === this.exporter) this.add(where, 'missing_receipt', `"${this.exporter}" received this envelope, so its receipt must be in the file`);
      return null;
    }
    const keys = this.keysOf.get(env.to);
    if (keys === undefined) {
      this.add(`${where} receipt`, 'unknown_key', `the file lists no key for the receiver "${env.to}", which signs the receipt`);
    } else {
      const problem = receiptProblem(value, { self: env.from, peer: env.to, id: env.id, seq: env.seq, hash: envelopeHash(env) }, keys.map((k) => keyObject(k.key)));
      if (problem !== undefined) this.add(`${where} receipt`, 'bad_receipt', problem);
      else {
        const r = value as Receipt;
        this.verdict(judgeHistoric(keys, (k) => verifyReceipt(r, [k]), parseIsoTime(r.received_at), env.to), `${where} receipt`, 'receipt');
      }
    }
    return isRecord(value) && typeof value.received_at === 'string' ? value.received_at : null;
  }

  private withheldEntry(w: unknown, i: number): void {
    const strings = ['channel', 'from', 'hash', 'id', 'kind', 'priority', 'sent_at', 'tlp', 'to'];
    if (!isRecord(w) || members(w) !== WITHHELD || strings.some((k) => typeof w[k] !== 'string') || !Number.isSafeInteger(w.seq)
      || w.reason !== 'tlp-red' || !isUuid(w.id) || !/^[0-9a-f]{64}$/.test(String(w.hash))) {
      this.add(`withheld[${i}]`, 'invalid_transcript', `a withheld entry must have exactly ${WITHHELD}, with a UUID id, a hash and reason "tlp-red"`);
      return;
    }
    const entry = w as unknown as Withheld;
    this.position(`withheld[${i}] (${entry.from}→${entry.to} seq ${entry.seq}, id ${entry.id})`, entry.id, entry.from, entry.to, entry.seq, entry.hash, undefined);
    this.withheld.push(entry);
  }

  /** Records a link position; refuses duplicates and links the exporter is not on. */
  private position(where: string, id: string, from: string, to: string, seq: number, hash: string, prev: string | undefined): void {
    if (from !== this.exporter && to !== this.exporter) this.add(where, 'not_exporters_link', `"${this.exporter}" is neither its sender nor its receiver, so it cannot have held it`);
    if (this.ids.has(id)) this.add(where, 'duplicate', `id ${id} appears twice in the file`);
    this.ids.add(id);
    const link = this.links.get(`${from}>${to}`) ?? new Map<number, Position>();
    this.links.set(`${from}>${to}`, link);
    if (link.has(seq)) this.add(where, 'duplicate', `seq ${seq} of the link ${from}→${to} appears twice in the file`);
    else link.set(seq, { hash, prev, where });
  }

  /** Where consecutive positions of a link are both in the file, the later one's prev must be the earlier's hash. */
  private checkChains(): void {
    for (const link of this.links.values()) {
      for (const [seq, p] of link) {
        const expected = seq === 1 ? GENESIS_HASH : link.get(seq - 1)?.hash;
        if (p.prev !== undefined && expected !== undefined && p.prev !== expected) {
          this.add(p.where, 'prev_mismatch', `prev is ${p.prev.slice(0, 16)}…, but ${seq === 1 ? 'seq 1 must start at the genesis hash' : `seq ${seq - 1} in the file hashes to ${expected.slice(0, 16)}…`}`);
        }
      }
    }
  }
}

/** True when `value` has arrays or objects nested more than `max` levels deep (the outermost is level 1). Iterative. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1]);
  }
  return false;
}

function safeFingerprint(key: string): string | null {
  try {
    publicKeyFromB64(key);
    return fingerprint(key);
  } catch {
    return null;
  }
}

/** A one-line snippet of a body: its text, else its template fields, else its JSON. */
function snippet(body: Record<string, unknown>): string {
  const fields = body.fields;
  const s = typeof body.text === 'string' ? body.text
    : isRecord(fields) ? Object.entries(fields).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')
      : canonicalJson(body);
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > SNIPPET ? `${line.slice(0, SNIPPET - 1)}…` : line;
}
