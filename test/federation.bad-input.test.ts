/**
 * Issue 2, federation side: every kind of bad input to POST /federation/v1/envelopes is refused
 * with a stable code and a message that names the problem, and leaves the receiver's store as it
 * was. A real receiving node `ru` runs on loopback; envelopes are forged as `us` would sign them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { isoTime } from '../src/shared/clock.js';
import { sha256Hex } from '../src/shared/canonical.js';
import { uuidv7 } from '../src/shared/ids.js';
import { generateKeys, loadKeys } from '../src/modules/identity/identity.keys.js';
import { envelopeHash, signEnvelope } from '../src/modules/federation/federation.envelope.js';
import { parseDescriptor } from '../src/modules/federation/federation.peers.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import { GENESIS_HASH, type Envelope, type EnvelopeResult, type Receipt, type UnsignedEnvelope } from '../src/modules/federation/federation.types.js';
import { withNode } from '../src/adapters/cli/home.js';
import type { ConfigFile } from '../src/config.js';
import type { RunningNode } from '../src/main.js';
import { makeHome, makePair, tempDir, type TestHome } from './helpers/nodes.js';

const PATH = '/federation/v1/envelopes';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

type Refusal = Extract<EnvelopeResult, { ok: false }>;
type Accepted = Extract<EnvelopeResult, { ok: true }>;

/** Overrides for one forged envelope: any wire field (even an invalid value), plus how to chain and sign it. */
type Overrides = Partial<Record<keyof UnsignedEnvelope, unknown>> & {
  /** Chain after this envelope (not yet sent) instead of after what ru holds. */
  after?: Envelope;
  /** Sign with this key instead of us's. */
  signWith?: KeyObject;
};

/**
 * A receiving node `ru` with `us` pinned (and `ru` pinned on us), plus the tools to forge what
 * `us` would send it. Only ru runs; us is just a key and a home.
 */
class Harness {
  us!: TestHome;
  ru!: TestHome;
  node!: RunningNode;
  usKey!: KeyObject;

  async setUp(pair: Promise<[TestHome, TestHome]>): Promise<void> {
    [this.us, this.ru] = await pair;
    this.usKey = loadKeys(readFileSync(join(this.us.home, 'node.key'), 'utf8')).privateKey;
    this.node = await this.ru.start({ runDelivery: false });
  }

  async tearDown(): Promise<void> {
    await this.node?.stop();
  }

  /** What ru holds of the us→ru link: the next seq it expects and the prev that must come with it. */
  async head(): Promise<{ seq: number; prev: string }> {
    const link = await getLink(this.node.ctx.db, 'us', 'ru');
    return link === undefined ? { seq: 1, prev: GENESIS_HASH } : { seq: link.last_seq + 1, prev: link.head_hash };
  }

  /**
   * A valid envelope from us to ru, correctly chained on what ru holds (or after `o.after`),
   * signed with us's key, with any field overridden before signing.
   */
  async forge(o: Overrides = {}): Promise<Envelope> {
    const { after, signWith, ...fields } = o;
    const link = after === undefined ? await this.head() : { seq: after.seq + 1, prev: envelopeHash(after) };
    const id = uuidv7();
    const unsigned = {
      v: 1, id, from: 'us', to: 'ru', seq: link.seq, prev: link.prev, sent_at: isoTime(Date.now()),
      kind: 'notification', channel: 'crisis', case: id, in_reply_to: null, priority: 'routine', tlp: 'amber',
      body: { text: `forged at seq ${link.seq}` },
      ...fields,
    } as UnsignedEnvelope;
    return signEnvelope(unsigned, signWith ?? this.usKey);
  }

  async post(body: string, contentType = 'application/json'): Promise<{ status: number; json: unknown; contentType: string | null }> {
    const res = await fetch(`${this.node.address}${PATH}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, contentType: res.headers.get('content-type') };
  }

  /** POSTs a batch and returns the per-envelope results (the answer must be 200). */
  async send(envelopes: readonly unknown[]): Promise<EnvelopeResult[]> {
    const r = await this.post(JSON.stringify({ envelopes }));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const results = (r.json as { results: EnvelopeResult[] }).results;
    expect(results).toHaveLength(envelopes.length);
    return results;
  }

  /** Sends one envelope and expects it refused; returns the refusal. */
  async refused(env: unknown): Promise<Refusal['error']> {
    const [r] = await this.send([env]);
    expect(r!.ok, JSON.stringify(r)).toBe(false);
    return (r as Refusal).error;
  }

  /** Sends one envelope and expects a receipt. */
  async accepted(env: Envelope): Promise<Receipt> {
    const [r] = await this.send([env]);
    expect(r, JSON.stringify(r)).toMatchObject({ id: env.id, ok: true });
    return (r as Accepted).receipt;
  }

  /** Everything ru stores about federation, in a stable order. */
  async snapshot(): Promise<Record<string, unknown[]>> {
    const db = this.node.ctx.db;
    return {
      messages: await db.selectFrom('messages').selectAll().orderBy('id').execute(),
      links: await db.selectFrom('links').selectAll().orderBy('from_party').orderBy('to_party').execute(),
      peers: await db.selectFrom('peers').selectAll().orderBy('party').execute(),
    };
  }

  /** Runs `fn` and asserts ru's store is exactly as before. */
  async unchanged<T>(fn: () => Promise<T>): Promise<T> {
    const before = await this.snapshot();
    const out = await fn();
    expect(await this.snapshot()).toEqual(before);
    return out;
  }
}

function expectProblem(r: { status: number; json: unknown; contentType: string | null }, status: number, code: string, detail: RegExp): void {
  expect(r.status, JSON.stringify(r.json)).toBe(status);
  expect(r.contentType).toMatch(/^application\/problem\+json/);
  const p = r.json as Problem;
  expect(p).toMatchObject({ status, code, type: `urn:hotline:problem:${code}` });
  expect(typeof p.title).toBe('string');
  expect(p.detail).toMatch(detail);
}

describe('batch-level refusals (problem+json)', () => {
  const h = new Harness();
  beforeAll(() => h.setUp(makePair()));
  afterAll(() => h.tearDown());

  it('malformed JSON → 400 malformed_json', async () => {
    const env = await h.forge();
    const text = JSON.stringify({ envelopes: [env] });
    await h.unchanged(async () => {
      expectProblem(await h.post(text.slice(0, -3)), 400, 'malformed_json', /not valid JSON/);
      expectProblem(await h.post('{"envelopes": [}'), 400, 'malformed_json', /not valid JSON/);
    });
  });

  it('an empty body → 400 malformed_json', async () => {
    await h.unchanged(async () => {
      expectProblem(await h.post(''), 400, 'malformed_json', /JSON/);
    });
  });

  it('wrong content type (text/plain) → 415 unsupported_media_type, even when the text is a valid batch', async () => {
    const env = await h.forge();
    await h.unchanged(async () => {
      expectProblem(await h.post(JSON.stringify({ envelopes: [env] }), 'text/plain'), 415, 'unsupported_media_type', /application\/json/);
    });
  });

  it('another content type (application/xml) → 415 unsupported_media_type', async () => {
    await h.unchanged(async () => {
      expectProblem(await h.post('<envelopes/>', 'application/xml'), 415, 'unsupported_media_type', /application\/json/);
    });
  });

  it('a JSON body that is not {"envelopes": [...]} → 400 invalid_batch', async () => {
    const env = await h.forge();
    const bodies = [
      'null', '[]', '"envelopes"', '{}',
      JSON.stringify([env]),
      JSON.stringify({ envelope: [env] }),
      JSON.stringify({ envelopes: [env], extra: true }),
      JSON.stringify({ envelopes: env }),
    ];
    await h.unchanged(async () => {
      for (const body of bodies) {
        const r = await h.post(body);
        expect(r.status, `${body.slice(0, 60)} → ${JSON.stringify(r.json)}`).toBe(400);
        expectProblem(r, 400, 'invalid_batch', /"envelopes"/);
      }
    });
  });

  it('a scalar where the envelope list belongs ({"envelopes": "x"}, {"envelopes": 5}) → 400 invalid_batch, not coerced to a list', async () => {
    await h.unchanged(async () => {
      for (const body of ['{"envelopes":"x"}', '{"envelopes":5}', '{"envelopes":null}']) {
        const r = await h.post(body);
        expect(r.status, `${body} → ${JSON.stringify(r.json)}`).toBe(400);
        expectProblem(r, 400, 'invalid_batch', /"envelopes"/);
      }
    });
  });
});

describe('per-envelope refusals (default limits)', () => {
  const h = new Harness();
  beforeAll(() => h.setUp(makePair()));
  afterAll(() => h.tearDown());

  it('unknown sender: a party that is not pinned → unknown_peer', async () => {
    const cn = generateKeys().keys.privateKey;
    const env = await h.forge({ from: 'cn', signWith: cn });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('unknown_peer');
    expect(error.message).toMatch(/"cn" is not a pinned peer/);
  });

  it('bad signature: signed with a key that is not the one pinned for the sender → bad_signature', async () => {
    const other = generateKeys().keys.privateKey;
    const env = await h.forge({ signWith: other });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('bad_signature');
    expect(error.message).toMatch(/signature does not verify.*"us"/);
  });

  it('bad signature: one character of the body changed after signing → bad_signature', async () => {
    const env = await h.forge({ body: { text: 'evacuate sector 7' } });
    const tampered = { ...env, body: { text: 'evacuate sector 8' } };
    const error = await h.unchanged(() => h.refused(tampered));
    expect(error.code).toBe('bad_signature');
    expect(error.message).toMatch(/signature/);
    // The untampered one is fine: the refusal was about the change, not the envelope.
    await h.accepted(env);
  });

  it('bad signature: a signature that is not even the right shape → refused with a code, not a crash', async () => {
    const env = await h.forge();
    const error = await h.unchanged(() => h.refused({ ...env, sig: 'not-a-signature' }));
    expect(error.code).toBe('invalid_envelope');
    expect(error.message).toMatch(/"sig"/);
  });

  it('addressed to another node → wrong_recipient', async () => {
    const env = await h.forge({ to: 'cn' });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('wrong_recipient');
    expect(error.message).toMatch(/addressed to "cn"; this node is "ru"/);
  });

  it('replay with altered content under a known id → replay_mismatch; the original row is untouched', async () => {
    const original = await h.forge({ body: { text: 'original' } });
    await h.accepted(original);
    const { id, seq, prev, sent_at, case: caseId } = original;
    const altered = await h.forge({ id, seq, prev, sent_at, case: caseId, body: { text: 'altered' } });
    expect(altered.sig).not.toBe(original.sig);
    const error = await h.unchanged(() => h.refused(altered));
    expect(error.code).toBe('replay_mismatch');
    expect(error.message).toContain(id);
    expect(error.message).toMatch(/different content/);
    const row = await h.node.ctx.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.envelope)).toEqual(original);
  });

  it('exact replay of a stored envelope → the same receipt as the first time, nothing stored again', async () => {
    const env = await h.forge();
    const first = await h.accepted(env);
    const again = await h.unchanged(() => h.accepted(env));
    expect(again).toEqual(first);
    // Twice in one batch as well.
    const [a, b] = await h.unchanged(() => h.send([env, env]));
    expect(a).toEqual({ id: env.id, ok: true, receipt: first });
    expect(b).toEqual({ id: env.id, ok: true, receipt: first });
  });

  it('seq gap: seq N+2 when ru expects N+1 → seq_gap with expected_seq N+1', async () => {
    await h.accepted(await h.forge());
    const { seq } = await h.head();
    const env = await h.forge({ seq: seq + 1 });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('seq_gap');
    expect(error.expected_seq).toBe(seq);
    expect(error.message).toMatch(new RegExp(`seq ${seq + 1} .*expects ${seq}`));
  });

  it('seq rewind: a new id at an already-used seq → seq_rewind', async () => {
    const stored = await h.forge();
    await h.accepted(stored);
    const env = await h.forge({ seq: stored.seq, prev: stored.prev });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('seq_rewind');
    expect(error.expected_seq).toBe(stored.seq + 1);
    expect(error.message).toMatch(new RegExp(`seq ${stored.seq} .*already taken`));
  });

  it('prev that does not match the link → prev_mismatch', async () => {
    await h.accepted(await h.forge());
    const { seq } = await h.head();
    const env = await h.forge({ prev: sha256Hex('some other history') });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('prev_mismatch');
    expect(error.expected_seq).toBe(seq);
    expect(error.message).toMatch(/prev .* does not match/);
  });

  it('sent_at 10 minutes in the future (beyond the 5-minute skew) → clock_skew', async () => {
    const env = await h.forge({ sent_at: isoTime(Date.now() + 10 * MINUTE) });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('clock_skew');
    expect(error.message).toContain(env.sent_at);
    expect(error.message).toMatch(/clock/);
  });

  it('sent_at older than the maximum age (31 days) → stale_envelope', async () => {
    const env = await h.forge({ sent_at: isoTime(Date.now() - 31 * DAY) });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('stale_envelope');
    expect(error.message).toContain(env.sent_at);
    expect(error.message).toMatch(/30-day limit/);
  });

  it('an envelope over the default 1 MiB limit (a large attachment) → envelope_too_large', async () => {
    const bytes = Buffer.alloc(1024 * 1024, 7);
    const attachments = [{ name: 'dump.bin', media_type: 'application/octet-stream', size: bytes.length, sha256: sha256Hex(bytes), content: bytes.toString('base64') }];
    const env = await h.forge({ attachments });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('envelope_too_large');
    expect(error.message).toMatch(/the limit is 1048576/);
  });

  it('unknown kind → unknown_kind, naming the known kinds', async () => {
    const error = await h.unchanged(async () => h.refused(await h.forge({ kind: 'gossip' })));
    expect(error.code).toBe('unknown_kind');
    expect(error.message).toMatch(/"gossip".*notification/);
  });

  it('unknown channel → unknown_channel, naming the known channels', async () => {
    const error = await h.unchanged(async () => h.refused(await h.forge({ channel: 'press' })));
    expect(error.code).toBe('unknown_channel');
    expect(error.message).toMatch(/"press".*crisis, cert, law/);
  });

  it('unknown priority → unknown_priority, naming the known priorities', async () => {
    const error = await h.unchanged(async () => h.refused(await h.forge({ priority: 'urgent' })));
    expect(error.code).toBe('unknown_priority');
    expect(error.message).toMatch(/"urgent".*flash, immediate, priority, routine/);
  });

  it('unknown TLP → unknown_tlp, naming the known TLPs', async () => {
    const error = await h.unchanged(async () => h.refused(await h.forge({ tlp: 'white' })));
    expect(error.code).toBe('unknown_tlp');
    expect(error.message).toMatch(/"white".*clear, green, amber, amber\+strict, red/);
  });

  it('a body over its 64 KiB limit → body_too_large', async () => {
    const env = await h.forge({ body: { text: 'x'.repeat(65 * 1024) } });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('body_too_large');
    expect(error.message).toMatch(/the limit is 65536/);
  });

  it('an envelope that is not an object, or lacks fields → invalid_envelope with id null or its id', async () => {
    const env = await h.forge();
    const { case: _c, ...noCase } = env;
    const results = await h.unchanged(() => h.send([42, 'x', null, noCase, { ...env, v: 2 }, { ...env, extra: 1 }]));
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect((r as Refusal).error.code).toBe('invalid_envelope');
    }
    expect(results.map((r) => r.id)).toEqual([null, null, null, env.id, env.id, env.id]);
    expect((results[3] as Refusal).error.message).toMatch(/"case"/);
    expect((results[4] as Refusal).error.message).toMatch(/protocol version/);
    expect((results[5] as Refusal).error.message).toMatch(/"extra"/);
  });

  it('one bad envelope does not sink the batch: [valid N, bad signature, valid N+1] → receipts for both valid ones', async () => {
    const before = await h.snapshot();
    const first = await h.forge({ body: { text: 'first' } });
    const bad = await h.forge({ after: first, signWith: generateKeys().keys.privateKey, body: { text: 'forged' } });
    const second = await h.forge({ after: first, body: { text: 'second' } });
    expect(second.seq).toBe(first.seq + 1);
    const [r1, r2, r3] = await h.send([first, bad, second]);
    expect(r1).toMatchObject({ id: first.id, ok: true, receipt: { id: first.id, seq: first.seq, to: 'us', from: 'ru' } });
    expect(r2).toMatchObject({ id: bad.id, ok: false, error: { code: 'bad_signature' } });
    expect(r3).toMatchObject({ id: second.id, ok: true, receipt: { id: second.id, seq: second.seq, link_hash: envelopeHash(second) } });
    const after = await h.snapshot();
    const newIds = (after.messages as { id: string }[]).map((m) => m.id).filter((id) => !(before.messages as { id: string }[]).some((m) => m.id === id));
    expect(newIds.sort()).toEqual([first.id, second.id].sort());
    expect(await h.head()).toEqual({ seq: second.seq + 1, prev: envelopeHash(second) });
  });

  it('a batch of only refusals still answers 200 with one result per envelope, in order', async () => {
    const a = await h.forge({ kind: 'gossip' });
    const b = await h.forge({ to: 'cn' });
    const c = await h.forge({ signWith: generateKeys().keys.privateKey });
    const results = await h.unchanged(() => h.send([a, b, c]));
    expect(results.map((r) => [r.id, r.ok ? 'ok' : r.error.code])).toEqual([
      [a.id, 'unknown_kind'], [b.id, 'wrong_recipient'], [c.id, 'bad_signature'],
    ]);
  });
});

describe('per-envelope refusals on a link that has carried nothing yet (a fresh pair each)', () => {
  const fresh = async <T>(fn: (h: Harness) => Promise<T>): Promise<T> => {
    const h = new Harness();
    await h.setUp(makePair());
    try {
      return await fn(h);
    } finally {
      await h.tearDown();
    }
  };

  it('seq gap as the very first envelope (seq 2) → seq_gap with expected_seq 1, and no link row appears', () => fresh(async (h) => {
    expect(await getLink(h.node.ctx.db, 'us', 'ru')).toBeUndefined();
    const env = await h.forge({ seq: 2, prev: sha256Hex('x') });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('seq_gap');
    expect(error.expected_seq).toBe(1);
  }));

  it('prev of seq 1 that is not the genesis hash → prev_mismatch, and no link row appears', () => fresh(async (h) => {
    expect(await getLink(h.node.ctx.db, 'us', 'ru')).toBeUndefined();
    const env = await h.forge({ seq: 1, prev: sha256Hex('x') });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('prev_mismatch');
    expect(error.expected_seq).toBe(1);
  }));

  it('the first envelope after such a refusal is accepted at seq 1 with prev = GENESIS_HASH', () => fresh(async (h) => {
    await h.refused(await h.forge({ seq: 2, prev: sha256Hex('x') }));
    const env = await h.forge();
    expect(env.seq).toBe(1);
    expect(env.prev).toBe(GENESIS_HASH);
    const receipt = await h.accepted(env);
    expect(receipt.link_hash).toBe(envelopeHash(env));
  }));
});

describe('configured small limits', () => {
  const limits = { maxEnvelopeBytes: 4096, maxBodyBytes: 2048, maxBatchEnvelopes: 3, maxBatchBytes: 32 * 1024 };
  const h = new Harness();
  beforeAll(() => h.setUp(makePair({ limits } as Partial<ConfigFile>)));
  afterAll(() => h.tearDown());

  it('an envelope over maxEnvelopeBytes (4096) → envelope_too_large', async () => {
    const env = await h.forge({ body: { text: 'a'.repeat(1500), more: 'b'.repeat(1500), again: 'c'.repeat(1500) } });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('envelope_too_large');
    expect(error.message).toMatch(/the limit is 4096/);
  });

  it('a body over maxBodyBytes (2048) but an envelope within its limit → body_too_large', async () => {
    const env = await h.forge({ body: { text: 'a'.repeat(2100) } });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('body_too_large');
    expect(error.message).toMatch(/the limit is 2048/);
  });

  it('more envelopes than maxBatchEnvelopes (3) → 413 batch_too_large, none of them stored', async () => {
    const e1 = await h.forge();
    const e2 = await h.forge({ after: e1 });
    const e3 = await h.forge({ after: e2 });
    const e4 = await h.forge({ after: e3 });
    await h.unchanged(async () => {
      expectProblem(await h.post(JSON.stringify({ envelopes: [e1, e2, e3, e4] })), 413, 'batch_too_large', /4 envelopes; the limit is 3/);
    });
    // Three is fine.
    const results = await h.send([e1, e2, e3]);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('a request body larger than maxBatchBytes (32 KiB) → 413 batch_too_large, nothing stored', async () => {
    const envs = [await h.forge({ body: { text: 'y'.repeat(1500) } })];
    for (let i = 0; i < 2; i++) envs.push(await h.forge({ after: envs.at(-1)!, body: { text: 'y'.repeat(1500) } }));
    const body = JSON.stringify({ envelopes: envs }) + ' '.repeat(33 * 1024);
    expect(Buffer.byteLength(body)).toBeGreaterThan(limits.maxBatchBytes);
    await h.unchanged(async () => {
      expectProblem(await h.post(body), 413, 'batch_too_large', /larger than this node accepts/);
    });
  });
});

describe('a channel not agreed with the peer', () => {
  const h = new Harness();
  beforeAll(async () => {
    const dir = tempDir();
    const us = await makeHome('us', {}, dir);
    const ru = await makeHome('ru', {}, dir);
    // ru offers every channel, but agrees only "crisis" with us.
    await withNode(ru.home, (ctx) => ctx.peers.add(parseDescriptor(us.descriptor), { expectFingerprint: us.fingerprint, channels: ['crisis'] }));
    await withNode(us.home, (ctx) => ctx.peers.add(parseDescriptor(ru.descriptor), { expectFingerprint: ru.fingerprint }));
    await h.setUp(Promise.resolve([us, ru]));
  });
  afterAll(() => h.tearDown());

  it('an envelope on "law" from a peer agreed only on "crisis" → channel_not_agreed', async () => {
    const env = await h.forge({ channel: 'law' });
    const error = await h.unchanged(() => h.refused(env));
    expect(error.code).toBe('channel_not_agreed');
    expect(error.message).toMatch(/"law" is not agreed with "us" \(agreed: crisis\)/);
    // The agreed channel works.
    await h.accepted(await h.forge({ channel: 'crisis' }));
  });
});
