/**
 * A minimal second Hotline node, written from docs/protocol.md alone (no project imports):
 * its own key and descriptor (sections 2-3), envelopes (5-8), link state (4), a receiver
 * (9-11) that answers signed receipts, a sender (12) that checks receipts (10.3) and resends
 * on seq_gap, and carriage files (14, in carriage.ts).
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { canonicalBytes, canonicalize } from './jcs.js';
import {
  GENESIS, HEX64_RE, PARTY_RE, UUID_RE, fingerprint, fromB64url, hashOf, isTimestamp, keyFromSeed, publicKeyFrom,
  receiptShapeProblem, signObject, uuidv7, verifyObject, withoutSig, type KeyPair, type Receipt,
} from './wire.js';

export const KINDS = ['notification', 'inquiry', 'assistance', 'response', 'crisis-alert', 'preservation-request', 'preservation-response', 'ping', 'pong', 'ack', 'indicators', 'directory-update', 'key-change', 'case-close'];
export const CHANNELS = ['crisis', 'cert', 'law'];
export const PRIORITIES = ['flash', 'immediate', 'priority', 'routine'];
export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'];
const ENVELOPE_MEMBERS = ['v', 'id', 'from', 'to', 'seq', 'prev', 'sent_at', 'kind', 'channel', 'case', 'in_reply_to', 'priority', 'tlp', 'body', 'attachments', 'sig'];
const DESCRIPTOR_MEMBERS = ['v', 'type', 'party', 'name', 'url', 'public_key', 'fingerprint', 'channels', 'sig'];

export interface Attachment { name: string; media_type: string; size: number; sha256: string; content: string }
export interface Envelope {
  v: 1; id: string; from: string; to: string; seq: number; prev: string; sent_at: string; kind: string; channel: string;
  case: string; in_reply_to: string | null; priority: string; tlp: string; body: Record<string, unknown>;
  attachments?: Attachment[]; sig: string;
}
export interface Descriptor { v: 1; type: 'hotline-descriptor'; party: string; name: string; url: string; public_key: string; fingerprint: string; channels: string[]; sig: string }
export interface EnvelopeError { code: string; message: string; expected_seq?: number }
export type Result = { id: string | null; ok: true; receipt: Receipt } | { id: string | null; ok: false; error: EnvelopeError };
export interface Pinned { party: string; url: string; keys: KeyObject[]; channels: string[] }

/** One direction of a link as this node holds it (section 4, 12.2). */
export interface Link { lastSeq: number; headHash: string; bySeq: Map<number, { envelope: Envelope; hash: string; receipt?: Receipt }>; sendFromSeq: number; ackedSeq: number }
const newLink = (): Link => ({ lastSeq: 0, headHash: GENESIS, bySeq: new Map(), sendFromSeq: 1, ackedSeq: 0 });

export interface QueueOptions {
  kind?: string; channel?: string; priority?: string; tlp?: string; body: Record<string, unknown>;
  attachments?: { name: string; media_type: string; bytes: Buffer }[]; case?: string; inReplyTo?: string | null; sentAt?: Date;
}

/** An attachment entry of section 5.5 for some bytes. */
export function attachment(name: string, mediaType: string, bytes: Buffer): Attachment {
  return { name, media_type: mediaType, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), content: bytes.toString('base64') };
}

const fail = (code: string, message: string, expected_seq?: number): EnvelopeError => (expected_seq === undefined ? { code, message } : { code, message, expected_seq });

/** Section 5.5 checks of one attachments array; null when valid. */
function attachmentsProblem(a: unknown, max: number): string | null {
  if (!Array.isArray(a) || a.length > max) return 'attachments must be an array of at most ' + max;
  for (const e of a as unknown[]) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'attachment not an object';
    const o = e as Record<string, unknown>;
    const names = Object.keys(o).sort();
    if (names.join() !== 'content,media_type,name,sha256,size') return 'attachment members';
    if (typeof o.name !== 'string' || o.name.length < 1 || o.name.length > 255) return 'attachment name';
    if (typeof o.media_type !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(o.media_type)) return 'attachment media_type';
    if (typeof o.content !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(o.content)) return 'attachment content';
    const bytes = Buffer.from(o.content, 'base64');
    if (o.size !== bytes.length) return 'attachment size';
    if (o.sha256 !== createHash('sha256').update(bytes).digest('hex')) return 'attachment sha256';
  }
  return null;
}

export class InteropPeer {
  readonly key: KeyPair;
  readonly peers = new Map<string, Pinned>();
  readonly outbound = new Map<string, Link>();
  readonly inbound = new Map<string, Link>();
  /** Every stored envelope by id, both directions (the replay check of section 11 step 8 spans all links). */
  readonly byId = new Map<string, { hash: string; direction: 'in' | 'out'; receipt?: Receipt }>();
  /** Requests this node's endpoint got: path, content type and raw body, for the tests to inspect. */
  readonly requests: { path: string; contentType: string; body: string }[] = [];
  /** Key challenges answered (section 9.4), apart from the envelope batches in `requests`. */
  readonly challenges: { from: string; nonce: string }[] = [];
  /** When false, the endpoint answers 503 to every batch (a node that is down, for carriage tests). */
  available = true;
  limits = { maxEnvelopeBytes: 1_048_576, maxBodyBytes: 65_536, maxAttachments: 16, maxBatchEnvelopes: 500, maxClockSkewMs: 300_000, maxEnvelopeAgeMs: 2_592_000_000 };
  url = '';
  /** Test hook: rewrites the results this node's endpoint answers (to feed a sender bad receipts). */
  rewriteResults: ((results: Result[]) => unknown[]) | null = null;
  private server: Server | null = null;

  constructor(readonly party: string, readonly name: string, seed: Buffer, readonly channels: string[] = CHANNELS) {
    this.key = keyFromSeed(seed);
  }

  /** Section 3.1: this node's signed descriptor. */
  descriptor(): Descriptor {
    const d = { v: 1 as const, type: 'hotline-descriptor' as const, party: this.party, name: this.name, url: this.url, public_key: this.key.publicKey, fingerprint: fingerprint(this.key.publicRaw), channels: this.channels, sig: '' };
    d.sig = signObject(d, this.key.privateKey);
    return d;
  }

  /** Sections 3.1-3.2: checks a descriptor and pins it if its fingerprint is the one read out of band. */
  pin(d: unknown, expectedFingerprint: string): Pinned {
    if (typeof d !== 'object' || d === null) throw new Error('descriptor is not an object');
    const o = d as Record<string, unknown>;
    const names = Object.keys(o);
    if (names.length !== 9 || !DESCRIPTOR_MEMBERS.every((m) => names.includes(m))) throw new Error('descriptor members: ' + names.join());
    if (o.v !== 1 || o.type !== 'hotline-descriptor') throw new Error('descriptor v/type');
    if (typeof o.party !== 'string' || !PARTY_RE.test(o.party) || o.party === this.party) throw new Error('descriptor party');
    // 3.1: 1-200 code points, no surrounding whitespace (what String.prototype.trim removes)
    if (typeof o.name !== 'string' || o.name === '' || o.name.trim() !== o.name || [...o.name].length > 200) throw new Error('descriptor name');
    if (typeof o.url !== 'string' || !/^(https:\/\/|http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost)[:/])/.test(o.url)) throw new Error('descriptor url');
    // 9.1: no userinfo, query or fragment, not even an empty one
    if (/^[^:/?#]+:\/\/[^/?#]*@/.test(o.url) || /[?#]/.test(o.url)) throw new Error('descriptor url: userinfo, query or fragment');
    if (!Array.isArray(o.channels) || !o.channels.every((c) => CHANNELS.includes(c as string))) throw new Error('descriptor channels');
    if (new Set(o.channels).size !== o.channels.length) throw new Error('descriptor channels: repeated');
    const pk = typeof o.public_key === 'string' ? publicKeyFrom(o.public_key) : null;
    if (pk === null) throw new Error('descriptor public_key');
    if (o.fingerprint !== fingerprint(fromB64url(o.public_key as string)!)) throw new Error('descriptor fingerprint');
    if (!verifyObject(o, [pk])) throw new Error('descriptor sig');
    const strip = (s: string) => s.replace(/\s+/g, '');
    if (strip(expectedFingerprint) !== strip(o.fingerprint as string)) throw new Error('fingerprint read out of band differs');
    if (this.peers.has(o.party)) throw new Error('peer_exists');
    const agreed = (o.channels as string[]).filter((c) => this.channels.includes(c));
    if (agreed.length === 0) throw new Error('no channel in common');
    const p: Pinned = { party: o.party, url: o.url, keys: [pk], channels: agreed };
    this.peers.set(p.party, p);
    return p;
  }

  private link(map: Map<string, Link>, party: string): Link {
    let l = map.get(party);
    if (!l) map.set(party, (l = newLink()));
    return l;
  }

  outLink(to: string): Link { return this.link(this.outbound, to); }
  inLink(from: string): Link { return this.link(this.inbound, from); }

  /** Test hook: this node loses what it stored on `from`→self from `seq` on (a restore from an older backup). */
  forgetInbound(from: string, seq: number): void {
    const link = this.inLink(from);
    for (const [s, slot] of link.bySeq) if (s >= seq) { link.bySeq.delete(s); this.byId.delete(slot.envelope.id); }
    link.lastSeq = seq - 1;
    link.headHash = seq === 1 ? GENESIS : link.bySeq.get(seq - 1)!.hash;
  }

  /** Section 12.1: builds, signs and stores the next envelope on the link self→to. */
  queue(to: string, o: QueueOptions): Envelope {
    const peer = this.peers.get(to);
    if (!peer) throw new Error('unknown_peer');
    const channel = o.channel ?? 'crisis';
    if (!peer.channels.includes(channel)) throw new Error('channel_not_agreed');
    const link = this.outLink(to);
    const sentAt = o.sentAt ?? new Date();
    const id = uuidv7(sentAt.getTime());
    const e: Envelope = {
      v: 1, id, from: this.party, to, seq: link.lastSeq + 1, prev: link.headHash, sent_at: sentAt.toISOString(),
      kind: o.kind ?? 'notification', channel, case: o.case ?? id, in_reply_to: o.inReplyTo ?? null,
      priority: o.priority ?? 'routine', tlp: o.tlp ?? 'amber', body: o.body, sig: '',
    };
    if (o.attachments && o.attachments.length > 0) e.attachments = o.attachments.map((a) => attachment(a.name, a.media_type, a.bytes));
    e.sig = signObject(e, this.key.privateKey);
    const hash = hashOf(e);
    link.bySeq.set(e.seq, { envelope: e, hash });
    link.lastSeq = e.seq;
    link.headHash = hash;
    this.byId.set(e.id, { hash, direction: 'out' });
    return e;
  }

  /** Section 10.3: why a receipt for our envelope `e` to `peer` is not acceptable, or null. */
  receiptProblem(e: Envelope, r: unknown): string | null {
    const shape = receiptShapeProblem(r);
    if (shape) return 'shape: ' + shape;
    const rc = r as Receipt;
    if (rc.id !== e.id || rc.seq !== e.seq) return 'id/seq';
    if (rc.to !== this.party || rc.from !== e.to) return 'from/to';
    const h = hashOf(e);
    if (rc.envelope_hash !== h || rc.link_hash !== h) return `link diverged: ours ${h}, receipt ${rc.envelope_hash}/${rc.link_hash}`;
    const peer = this.peers.get(e.to);
    if (!peer || !verifyObject(rc, peer.keys)) return 'receipt signature';
    return null;
  }

  /** POSTs a batch (section 9.2) and returns status and parsed answer. `raw` replaces the body text. */
  async post(to: string, envelopes: unknown[], raw?: string, contentType = 'application/json'): Promise<{ status: number; contentType: string; json: unknown }> {
    const peer = this.peers.get(to);
    if (!peer) throw new Error('unknown_peer');
    const origin = new URL(peer.url);
    const body = raw ?? '{"envelopes":[' + envelopes.map((e) => canonicalize(e)).join(',') + ']}';
    return new Promise((resolve, reject) => {
      const req = request({ host: origin.hostname, port: origin.port, path: origin.pathname.replace(/\/$/, '') + '/federation/v1/envelopes', method: 'POST', headers: { 'content-type': contentType } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try { json = JSON.parse(text); } catch { json = text; }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), json });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Section 12.2: delivers the link self→to until it is empty or an error stops it.
   * Returns each round's envelope seqs and per-result codes, and the error that stopped it.
   */
  async deliver(to: string, maxRounds = 20): Promise<{ rounds: { seqs: number[]; codes: string[] }[]; error: string | null }> {
    const link = this.outLink(to);
    const rounds: { seqs: number[]; codes: string[] }[] = [];
    for (let round = 0; round < maxRounds && link.sendFromSeq <= link.lastSeq; round++) {
      const batch = [...link.bySeq.values()].filter((s) => s.envelope.seq >= link.sendFromSeq).sort((a, b) => a.envelope.seq - b.envelope.seq).slice(0, 256);
      const res = await this.post(to, batch.map((s) => s.envelope));
      const results = (res.json as { results?: unknown }).results;
      if (res.status !== 200 || !Array.isArray(results) || results.length !== batch.length) return { rounds, error: `batch failed: ${res.status} ${JSON.stringify(res.json)}` };
      const codes: string[] = [];
      rounds.push({ seqs: batch.map((s) => s.envelope.seq), codes });
      let next = link.sendFromSeq;
      const kept: [number, Receipt][] = [];
      let error: string | null = null;
      for (let i = 0; i < batch.length; i++) {
        const s = batch[i]!;
        const r = results[i] as Result;
        if (r.ok) {
          const problem = this.receiptProblem(s.envelope, r.receipt);
          if (problem) { error = `bad receipt for seq ${s.envelope.seq}: ${problem}`; break; }
          codes.push('ok');
          kept.push([s.envelope.seq, r.receipt]);
          next = s.envelope.seq + 1;
          continue;
        }
        codes.push(r.error.code);
        const exp = r.error.expected_seq;
        if (['seq_gap', 'seq_rewind', 'prev_mismatch'].includes(r.error.code) && Number.isInteger(exp)) {
          if (exp! < s.envelope.seq) { next = exp!; break; }
          error = `link diverged at seq ${s.envelope.seq}: ${r.error.code}`;
        } else error = `${r.error.code}: ${r.error.message}`;
        break;
      }
      for (const [seq, rc] of kept) {
        const s = link.bySeq.get(seq)!;
        s.receipt ??= rc;
        this.byId.get(s.envelope.id)!.receipt ??= s.receipt;
      }
      link.sendFromSeq = next;
      link.ackedSeq = Math.max(link.ackedSeq, next - 1);
      if (error) return { rounds, error };
    }
    return { rounds, error: null };
  }

  /** Section 11: the receiver's algorithm for one batch (HTTP or carriage). */
  receive(envelopes: unknown[], now = Date.now()): Result[] {
    const results: Result[] = [];
    for (const raw of envelopes) {
      const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
      const refuse = (error: EnvelopeError) => results.push({ id, ok: false, error });
      const shape = this.shapeProblem(raw);
      if (shape) { refuse(shape); continue; }
      const e = raw as Envelope;
      if (e.to !== this.party) { refuse(fail('wrong_recipient', `addressed to ${e.to}`)); continue; }
      const peer = this.peers.get(e.from);
      let fresh: EnvelopeError | null = null;
      if (!peer) fresh = fail('unknown_peer', `${e.from} is not pinned`);
      else if (!verifyObject(e, peer.keys)) fresh = fail('bad_signature', 'signature does not verify');
      else if (!peer.channels.includes(e.channel)) fresh = fail('channel_not_agreed', e.channel);
      else if (Date.parse(e.sent_at) > now + this.limits.maxClockSkewMs) fresh = fail('clock_skew', 'from the future');
      else if (Date.parse(e.sent_at) < now - this.limits.maxEnvelopeAgeMs) fresh = fail('stale_envelope', 'too old');
      const hash = hashOf(e);
      const stored = this.byId.get(e.id);
      if (stored) {
        if (stored.direction === 'in' && stored.hash === hash && stored.receipt) results.push({ id, ok: true, receipt: stored.receipt });
        else refuse(fresh ?? fail('replay_mismatch', 'same id, different content'));
        continue;
      }
      if (fresh) { refuse(fresh); continue; }
      const link = this.inLink(e.from);
      if (e.seq <= link.lastSeq) { refuse(fail('seq_rewind', 'position taken', link.lastSeq + 1)); continue; }
      if (e.seq > link.lastSeq + 1) { refuse(fail('seq_gap', `expects ${link.lastSeq + 1}`, link.lastSeq + 1)); continue; }
      if (e.prev !== link.headHash) { refuse(fail('prev_mismatch', 'histories differ', link.lastSeq + 1)); continue; }
      const receipt: Receipt = { v: 1, type: 'receipt', id: e.id, seq: e.seq, from: this.party, to: e.from, envelope_hash: hash, link_hash: hash, received_at: new Date(now).toISOString(), sig: '' };
      receipt.sig = signObject(receipt, this.key.privateKey);
      link.bySeq.set(e.seq, { envelope: e, hash, receipt });
      link.lastSeq = e.seq;
      link.headHash = hash;
      this.byId.set(e.id, { hash, direction: 'in', receipt });
      results.push({ id, ok: true, receipt });
    }
    return results;
  }

  /** Section 11 step 1: shape and limits. */
  private shapeProblem(raw: unknown): EnvelopeError | null {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('invalid_envelope', 'not an object');
    const o = raw as Record<string, unknown>;
    let text: string;
    try { text = canonicalize(o); } catch (err) { return fail('invalid_envelope', String(err)); }
    if (Buffer.byteLength(text) > this.limits.maxEnvelopeBytes) return fail('envelope_too_large', 'too large');
    if (Object.keys(o).some((k) => !ENVELOPE_MEMBERS.includes(k))) return fail('invalid_envelope', 'unknown member');
    if (o.v !== 1 || typeof o.id !== 'string' || !UUID_RE.test(o.id) || typeof o.from !== 'string' || !PARTY_RE.test(o.from)
      || typeof o.to !== 'string' || !PARTY_RE.test(o.to) || !Number.isSafeInteger(o.seq) || (o.seq as number) < 1
      || typeof o.prev !== 'string' || !HEX64_RE.test(o.prev) || !isTimestamp(o.sent_at)) return fail('invalid_envelope', 'v, id, from, to, seq, prev or sent_at');
    if (!KINDS.includes(o.kind as string)) return fail('unknown_kind', String(o.kind));
    if (!CHANNELS.includes(o.channel as string)) return fail('unknown_channel', String(o.channel));
    if (!PRIORITIES.includes(o.priority as string)) return fail('unknown_priority', String(o.priority));
    if (!TLPS.includes(o.tlp as string)) return fail('unknown_tlp', String(o.tlp));
    if (typeof o.case !== 'string' || !UUID_RE.test(o.case) || !(o.in_reply_to === null || (typeof o.in_reply_to === 'string' && UUID_RE.test(o.in_reply_to)))
      || typeof o.body !== 'object' || o.body === null || Array.isArray(o.body)) return fail('invalid_envelope', 'case, in_reply_to or body');
    if (Buffer.byteLength(canonicalize(o.body)) > this.limits.maxBodyBytes) return fail('body_too_large', 'body too large');
    if ('attachments' in o) { const p = attachmentsProblem(o.attachments, this.limits.maxAttachments); if (p) return fail('invalid_envelope', p); }
    if (typeof o.sig !== 'string' || o.sig.length !== 86) return fail('invalid_envelope', 'sig');
    return null;
  }

  /** Sections 9.1-9.3: serves POST …/federation/v1/envelopes on loopback; resolves to the base URL. */
  async listen(path = ''): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req).then(({ status, type, body }) => { res.writeHead(status, { 'content-type': type }); res.end(body); }));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (typeof addr !== 'object' || addr === null) throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}${path}`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s) await new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); });
  }

  /**
   * Section 9.4: answers a key challenge addressed to this node with a proof signed over
   * "hotline-key-proof-v1\n" followed by the JCS form of the proof without `sig`.
   */
  private prove(text: string, problem: (status: number, code: string, detail: string) => { status: number; type: string; body: string }): { status: number; type: string; body: string } {
    let c: Record<string, unknown>;
    try { c = JSON.parse(text) as Record<string, unknown>; } catch { return problem(400, 'invalid_challenge', 'not JSON'); }
    if (typeof c !== 'object' || c === null || Array.isArray(c) || Object.keys(c).sort().join() !== 'from,nonce,to,type,v'
      || c.v !== 1 || c.type !== 'hotline-key-challenge' || typeof c.from !== 'string' || !PARTY_RE.test(c.from)
      || c.to !== this.party || typeof c.nonce !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(c.nonce)) {
      return problem(400, 'invalid_challenge', 'not a key challenge for this node');
    }
    this.challenges.push({ from: c.from, nonce: c.nonce });
    const proof = { v: 1, type: 'hotline-key-proof', from: this.party, to: c.from, nonce: c.nonce, sig: '' };
    const signed = Buffer.concat([Buffer.from('hotline-key-proof-v1\n', 'utf8'), canonicalBytes(withoutSig(proof))]);
    proof.sig = sign(null, signed, this.key.privateKey).toString('base64url');
    return { status: 200, type: 'application/json', body: JSON.stringify(proof) };
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; type: string; body: string }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = String(req.headers['content-type'] ?? '');
    const problem = (status: number, code: string, detail: string) => ({ status, type: 'application/problem+json', body: JSON.stringify({ type: `urn:hotline:problem:${code}`, title: code.replace(/_/g, ' '), status, detail, code }) });
    if (req.method === 'POST' && (req.url ?? '').endsWith('/federation/v1/key-proof')) return this.prove(text, problem);
    this.requests.push({ path: req.url ?? '', contentType, body: text });
    if (req.method !== 'POST' || !(req.url ?? '').endsWith('/federation/v1/envelopes')) return problem(404, 'not_found', 'no such endpoint');
    if (!this.available) return problem(503, 'storage_error', 'this node is down for the test');
    if (!/^application\/json\s*(;\s*charset=utf-8\s*)?$/i.test(contentType)) return problem(415, 'unsupported_media_type', contentType);
    let json: unknown;
    try { json = JSON.parse(text); } catch { return problem(400, 'malformed_json', 'not JSON'); }
    if (typeof json !== 'object' || json === null || Object.keys(json).join() !== 'envelopes' || !Array.isArray((json as { envelopes: unknown }).envelopes)) return problem(400, 'invalid_batch', 'not {"envelopes":[...]}');
    const envelopes = (json as { envelopes: unknown[] }).envelopes;
    if (envelopes.length > this.limits.maxBatchEnvelopes) return problem(413, 'batch_too_large', 'too many envelopes');
    const results = this.receive(envelopes);
    return { status: 200, type: 'application/json', body: JSON.stringify({ results: this.rewriteResults ? this.rewriteResults(results) : results }) };
  }
}
