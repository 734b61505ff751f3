/**
 * Issue 9, the wire: what a real node does with values that JSON can carry but JCS cannot write
 * (1e400, deep nesting), text that is not Unicode (a raw 0xFF byte, a lone surrogate), and member
 * names that JavaScript treats specially (toJSON, __proto__, constructor). A real node `ru` runs on
 * loopback and is sent raw bytes over HTTP; `us` is only a key. Carriage files go through the
 * built CLI (`hotline import`); the REST API and TAXII through HTTP.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { isoTime } from '../src/shared/clock.js';
import { sha256Hex } from '../src/shared/canonical.js';
import { uuidv7 } from '../src/shared/ids.js';
import { loadKeys, signText } from '../src/modules/identity/identity.keys.js';
import { envelopeHash, signEnvelope } from '../src/modules/federation/federation.envelope.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import { GENESIS_HASH, type Envelope, type EnvelopeResult, type UnsignedEnvelope } from '../src/modules/federation/federation.types.js';
import type { RunningNode } from '../src/main.js';
import { ensureBuilt, hl } from './helpers/cli.js';
import { makePair, tempDir, type TestHome } from './helpers/nodes.js';
import { envelope as taxiiEnvelope, indicator, TAXII, taxiiFixture, type TaxiiFixture } from './helpers/taxii.js';

const PATH = '/federation/v1/envelopes';

type Refusal = Extract<EnvelopeResult, { ok: false }>;
type Accepted = Extract<EnvelopeResult, { ok: true }>;

interface Posted { status: number; json: Record<string, unknown> }

async function postRaw(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Posted> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: JSON.parse(await res.text()) as Record<string, unknown> };
}

/** A key-change envelope (a kind with no template, so its body may hold any member) from us to ru, chained at `seq` after `prev`. */
function forge(key: KeyObject, at: { seq: number; prev: string }, body: Record<string, unknown>): Envelope {
  const id = uuidv7();
  const unsigned: UnsignedEnvelope = {
    v: 1, id, from: 'us', to: 'ru', seq: at.seq, prev: at.prev, sent_at: isoTime(Date.now()), kind: 'key-change', channel: 'crisis',
    case: id, in_reply_to: null, priority: 'routine', tlp: 'amber', body,
  };
  return signEnvelope(unsigned, key);
}

const after = (e: Envelope): { seq: number; prev: string } => ({ seq: e.seq + 1, prev: envelopeHash(e) });
const batch = (...texts: string[]): string => `{"envelopes":[${texts.join(',')}]}`;
const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

describe('federation endpoint: one bad value refuses one envelope, the batch answers 200', () => {
  let us: TestHome;
  let ru: TestHome;
  let node: RunningNode;
  let key: KeyObject;

  beforeAll(async () => {
    [us, ru] = await makePair();
    key = loadKeys(readFileSync(join(us.home, 'node.key'), 'utf8')).privateKey;
    node = await ru.start({ runDelivery: false });
  });
  afterAll(() => node?.stop());

  const head = async (): Promise<{ seq: number; prev: string }> => {
    const link = await getLink(node.ctx.db, 'us', 'ru');
    return link === undefined ? { seq: 1, prev: GENESIS_HASH } : { seq: link.last_seq + 1, prev: link.head_hash };
  };
  const stored = async (id: string): Promise<boolean> =>
    (await node.ctx.db.selectFrom('messages').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  const send = async (text: string | Buffer, headers: Record<string, string> = {}): Promise<Posted> => postRaw(`${node.address}${PATH}`, text, headers);
  const results = async (text: string): Promise<EnvelopeResult[]> => {
    const r = await send(text);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json.results as EnvelopeResult[];
  };

  it('[good, a body holding 1e400, good] → 200 with two receipts and invalid_envelope; nothing stored for the bad one', async () => {
    const good1 = forge(key, await head(), { n: 1 });
    const bad = forge(key, after(good1), { n: 1 });
    const good2 = forge(key, after(good1), { n: 2 });
    const badText = JSON.stringify(bad).replace('"n":1', '"n":1e400');
    const r = await results(batch(JSON.stringify(good1), badText, JSON.stringify(good2)));
    expect(r.map((x) => x.ok)).toEqual([true, false, true]);
    expect((r[1] as Refusal)).toMatchObject({ id: bad.id, error: { code: 'invalid_envelope' } });
    expect((r[1] as Refusal).error.message).toMatch(/\$\.body\.n is a number that is not finite/);
    expect(await stored(bad.id)).toBe(false);
    expect(await stored(good2.id)).toBe(true);
  });

  it('"seq": 1e400, and 1e400 elsewhere (an attachment size) → invalid_envelope naming the member', async () => {
    const e = forge(key, await head(), { n: 1 });
    const r = await results(batch(JSON.stringify(e).replace(/"seq":\d+/, '"seq":1e400'), JSON.stringify(e).replace('"n":1', '"n":-1e999')));
    expect(r.map((x) => (x as Refusal).error?.code)).toEqual(['invalid_envelope', 'invalid_envelope']);
    expect((r[0] as Refusal).error.message).toMatch(/\$\.seq is a number that is not finite/);
    expect((r[1] as Refusal).error.message).toMatch(/-Infinity/);
    expect(await stored(e.id)).toBe(false);
  });

  it('nesting: 64 levels (the envelope is level 1) is accepted; 65, and 2,300, are invalid_envelope; the others of the batch are judged on their own', async () => {
    const ok = forge(key, await head(), { d: JSON.parse(nested(62)) as unknown });
    const tooDeep = forge(key, after(ok), { d: [] });
    const next = forge(key, after(ok), { d: 1 });
    const deeper = JSON.stringify(tooDeep).replace('"d":[]', `"d":${nested(63)}`);
    const deepest = JSON.stringify(tooDeep).replace('"d":[]', `"d":${nested(2300)}`);
    const r = await results(batch(JSON.stringify(ok), deeper, deepest, JSON.stringify(next)));
    expect(r.map((x) => x.ok)).toEqual([true, false, false, true]);
    for (const x of [r[1], r[2]] as Refusal[]) {
      expect(x.error.code).toBe('invalid_envelope');
      expect(x.error.message).toMatch(/nested deeper than 64 levels/);
    }
  });

  it('a raw 0xFF byte in a body → 400 invalid_unicode for the request (the bytes cannot be read), nothing stored', async () => {
    const e = forge(key, await head(), { text: 'abc' });
    const bytes = Buffer.from(batch(JSON.stringify(e)), 'utf8');
    const at = bytes.indexOf('abc');
    bytes[at + 1] = 0xff;
    const r = await send(bytes);
    expect(r.status, JSON.stringify(r.json)).toBe(400);
    expect(r.json).toMatchObject({ code: 'invalid_unicode', type: 'urn:hotline:problem:invalid_unicode' });
    expect(String(r.json.detail)).toMatch(new RegExp(`byte 0xFF at offset ${at + 1}`));
    // An encoded surrogate (CESU-8 ED A0 80) and a truncated sequence are not UTF-8 either.
    for (const insert of [[0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const b = Buffer.concat([bytes.subarray(0, at), Buffer.from(insert), bytes.subarray(at + 3)]);
      expect((await send(b)).json).toMatchObject({ code: 'invalid_unicode' });
    }
    expect(await stored(e.id)).toBe(false);
  });

  it('a lone surrogate ("\\ud800") in one envelope → invalid_unicode for it, the others receipted', async () => {
    const good1 = forge(key, await head(), { text: 'x' });
    const bad = forge(key, after(good1), { text: 'x' });
    const good2 = forge(key, after(good1), { text: 'y' });
    const r = await results(batch(JSON.stringify(good1), JSON.stringify(bad).replace('"text":"x"', '"text":"a\\ud800b"'), JSON.stringify(good2)));
    expect(r.map((x) => x.ok)).toEqual([true, false, true]);
    expect((r[1] as Refusal).error).toMatchObject({ code: 'invalid_unicode', message: expect.stringMatching(/\$\.body\.text holds a lone surrogate \(U\+D800\)/) as unknown });
    const swapped = forge(key, after(good2), { x: 1 });
    const [k] = await results(batch(JSON.stringify(swapped).replace('"x":1', '"\\udfff":1')));
    expect((k as Refusal).error.code).toBe('invalid_unicode');
    expect(await stored(bad.id)).toBe(false);
  });

  it('Content-Type charset: utf-8 (any case, quoted) is read; any other charset → 415 unsupported_media_type', async () => {
    const e = forge(key, await head(), { text: 'charset' });
    for (const ct of ['application/json; charset=latin1', 'application/json; charset=utf-16']) {
      const r = await send(batch(JSON.stringify(e)), { 'content-type': ct });
      expect(r.status, ct).toBe(415);
      expect(r.json.code).toBe('unsupported_media_type');
    }
    const r = await send(batch(JSON.stringify(e)), { 'content-type': 'application/json; charset="UTF-8"' });
    expect((r.json.results as EnvelopeResult[])[0]).toMatchObject({ id: e.id, ok: true });
  });

  it('members named toJSON, __proto__ and constructor, signed over true RFC 8785 text, are accepted and hash the same whatever their order on the wire', async () => {
    const wire = '{"toJSON":"x","b":1,"a":2,"__proto__":{"z":1,"y":2},"constructor":{"prototype":{"q":1,"p":2}}}';
    const jcsBody = '{"__proto__":{"y":2,"z":1},"a":2,"b":1,"constructor":{"prototype":{"p":2,"q":1}},"toJSON":"x"}';
    const body = JSON.parse(wire) as Record<string, unknown>;
    const e = forge(key, await head(), body);
    // The signing input, written by hand: members sorted, the body's as RFC 8785 sorts them.
    const { sig: _sig, ...unsigned } = e;
    const input = `{"body":${jcsBody},"case":"${e.case}","channel":"crisis","from":"us","id":"${e.id}","in_reply_to":null,"kind":"key-change","prev":"${e.prev}","priority":"routine","sent_at":"${e.sent_at}","seq":${e.seq},"tlp":"amber","to":"ru","v":1}`;
    expect(Object.keys(unsigned)).toHaveLength(14);
    const signed = { ...e, sig: signText(key, input) };
    expect(signed.sig).toBe(e.sig);
    const text = JSON.stringify(signed);
    const reordered = text.replace(wire, '{"constructor":{"prototype":{"p":2,"q":1}},"__proto__":{"y":2,"z":1},"a":2,"toJSON":"x","b":1}');
    expect(reordered).not.toBe(text);
    const [first] = await results(batch(text));
    expect(first, JSON.stringify(first)).toMatchObject({ id: e.id, ok: true });
    const receipt = (first as Accepted).receipt;
    const row = await node.ctx.db.selectFrom('messages').select(['envelope', 'hash']).where('id', '=', e.id).executeTakeFirstOrThrow();
    expect(row.envelope).toBe(input.replace(',"tlp":', `,"sig":"${e.sig}","tlp":`));
    expect(row.hash).toBe(sha256Hex(row.envelope));
    expect(receipt.envelope_hash).toBe(row.hash);
    // The same envelope with its body's members in another order is the same envelope: its original receipt, nothing new.
    const [again] = await results(batch(reordered));
    expect(again).toEqual(first);
  });

  it('numbers and strings are signed and hashed as the JCS of their parsed value: 1.0 as seq, 4.50e0, 1E21, -0, \\u0048 and member order all give one envelope', async () => {
    const at = await head();
    const e = forge(key, at, { n: 4.5, m: 1e21, z: 0, s: 'Hi' });
    const canonical = JSON.stringify(e).replace('"body":{"n":4.5,"m":1e+21,"z":0,"s":"Hi"}', '"body":{"m":1e+21,"n":4.5,"s":"Hi","z":0}');
    const respelled = JSON.stringify(e)
      .replace(`"seq":${at.seq},`, `"seq":${at.seq}.0,`)
      .replace('"body":{"n":4.5,"m":1e+21,"z":0,"s":"Hi"}', '"body":{"z":-0,"s":"\\u0048i","m":1E21,"n":4.50e0}');
    expect(respelled).toContain(`"seq":${at.seq}.0,`);
    expect(respelled).toContain('"z":-0');
    const [first] = await results(batch(respelled));
    expect(first, JSON.stringify(first)).toMatchObject({ id: e.id, ok: true });
    const row = await node.ctx.db.selectFrom('messages').select(['envelope', 'hash', 'seq']).where('id', '=', e.id).executeTakeFirstOrThrow();
    expect(row.envelope).toContain('"body":{"m":1e+21,"n":4.5,"s":"Hi","z":0}');
    expect(row.envelope).toContain(`"seq":${at.seq},`);
    expect(row.hash).toBe(envelopeHash(e));
    expect((first as Accepted).receipt.envelope_hash).toBe(envelopeHash(e));
    // Spelled the canonical way, it is the same envelope: a replay, with the original receipt.
    const [again] = await results(batch(canonical));
    expect(again).toEqual(first);
  });

  it('an empty batch is answered 200 with no results, and changes nothing (section 9.3)', async () => {
    const before = await head();
    const r = await send('{"envelopes":[]}');
    expect(r).toEqual({ status: 200, json: { results: [] } });
    expect(await head()).toEqual(before);
  });

  it('a batch with the member envelopes twice is judged on the last one only (section 21, item 1)', async () => {
    const at = await head();
    const first = forge(key, at, { n: 'first array' });
    const last = forge(key, at, { n: 'last array' });
    const r = await send(`{"envelopes":[${JSON.stringify(first)}],"envelopes":[${JSON.stringify(last)}]}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect((r.json.results as EnvelopeResult[]).map((x) => [x.id, x.ok])).toEqual([[last.id, true]]);
    expect(await stored(first.id)).toBe(false);
    expect(await stored(last.id)).toBe(true);
  });
});

describe('hotline import: one bad envelope of a carriage file is refused on its own', () => {
  it('[good, 1e400, good, lone surrogate, 2,300 levels] → the good ones imported; the report names each bad one by index, id and code', async () => {
    ensureBuilt();
    const [us, ru] = await makePair();
    const key = loadKeys(readFileSync(join(us.home, 'node.key'), 'utf8')).privateKey;
    const good1 = forge(key, { seq: 1, prev: GENESIS_HASH }, { n: 1 });
    const badNumber = forge(key, after(good1), { n: 1 });
    const good2 = forge(key, after(good1), { n: 2 });
    const badText = forge(key, after(good2), { n: 'x' });
    const badDeep = forge(key, after(good2), { n: [] });
    const envelopes = [
      JSON.stringify(good1), JSON.stringify(badNumber).replace('"n":1', '"n":1e400'), JSON.stringify(good2),
      JSON.stringify(badText).replace('"n":"x"', '"n":"\\udc00"'), JSON.stringify(badDeep).replace('"n":[]', `"n":${nested(2300)}`),
    ];
    const file = join(tempDir(), 'from-us.json');
    writeFileSync(file, `{"format":"hotline-carriage","v":1,"type":"envelopes","from":"us","to":"ru","exported_at":"${isoTime(Date.now())}","envelopes":[${envelopes.join(',')}]}`);
    const r = await hl(ru.home, 'import', file);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/2 accepted, 3 refused/);
    expect(r.stdout).toContain(`envelopes[1] ${badNumber.id}: invalid_envelope: `);
    expect(r.stdout).toContain(`envelopes[3] ${badText.id}: invalid_unicode: `);
    expect(r.stdout).toContain(`envelopes[4] ${badDeep.id}: invalid_envelope: `);
    expect(r.stdout).not.toContain(good1.id);
    const imported = JSON.parse((await hl(ru.home, 'import', file, '--json')).stdout) as { results: EnvelopeResult[] };
    expect(imported.results.map((x) => x.ok)).toEqual([true, false, true, false, false]);

    // A file whose bytes are not UTF-8 is refused whole, with its code, before anything is read.
    const latin1 = join(tempDir(), 'latin1.json');
    writeFileSync(latin1, Buffer.concat([Buffer.from(`{"format":"hotline-carriage","v":1,"type":"envelopes","from":"us","to":"ru","exported_at":"x","envelopes":[],"note":"`), Buffer.from([0xe9]), Buffer.from('"}')]));
    const bad = await hl(ru.home, 'import', latin1);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid_unicode/);
    expect(bad.stderr).toMatch(/byte 0xE9 at offset/);
  });
});

describe('REST API and TAXII refuse text that is not Unicode', () => {
  let f: TaxiiFixture;
  beforeAll(async () => {
    f = await taxiiFixture();
  });
  afterAll(() => f?.stop());

  const message = { to: 'ru', kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'green', text: 'hello' };

  it('REST: a raw 0xFF byte → 400 invalid_unicode; a lone surrogate anywhere → 400 invalid_unicode; charset=latin1 → 415; nothing queued', async () => {
    const url = `${f.node.address}/api/v1/messages`;
    const auth = { authorization: `Bearer ${f.tokens.admin}` };
    const count = async (): Promise<number> => (await f.node.ctx.db.selectFrom('messages').select('id').execute()).length;
    const before = await count();
    const bytes = Buffer.from(JSON.stringify(message));
    bytes[bytes.indexOf('hello')] = 0xff;
    expect(await postRaw(url, bytes, auth)).toMatchObject({ status: 400, json: { code: 'invalid_unicode' } });
    const lone = JSON.stringify(message).replace('hello', 'hel\\ud83dlo');
    const r = await postRaw(url, lone, auth);
    expect(r).toMatchObject({ status: 400, json: { code: 'invalid_unicode' } });
    expect(String(r.json.detail)).toMatch(/lone surrogate \(U\+D83D\)/);
    expect(await postRaw(url, JSON.stringify(message), { ...auth, 'content-type': 'application/json; charset=latin1' })).toMatchObject({ status: 415, json: { code: 'unsupported_media_type' } });
    // Prototype-shaped member names stay refused on the REST API, as before.
    expect(await postRaw(url, JSON.stringify(message).replace('"to"', '"__proto__":{},"to"'), auth)).toMatchObject({ status: 400, json: { code: 'malformed_json' } });
    expect(await count()).toBe(before);
    // The same message, well-formed, is queued (the refusals above were about the text alone).
    const queued = await postRaw(url, JSON.stringify(message), auth);
    expect(queued.status, JSON.stringify(queued.json)).toBe(202);
  });

  it('TAXII: a raw 0xFF byte or a lone surrogate in a POSTed envelope → 400 invalid_unicode (TAXII error resource); nothing stored', async () => {
    const url = `${f.node.address}/taxii2/api/collections/${f.c.intel.id}/objects/`;
    const headers = { authorization: `Bearer ${f.tokens.alice}`, accept: TAXII, 'content-type': TAXII };
    const before = await f.counts();
    const text = JSON.stringify(taxiiEnvelope([indicator({ name: 'bad bytes' })]));
    const bytes = Buffer.from(text);
    bytes[bytes.indexOf('bad bytes')] = 0xff;
    for (const body of [bytes, text.replace('bad bytes', 'bad \\udbff bytes')]) {
      const r = await postRaw(url, body, headers);
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json).toMatchObject({ error_code: 'invalid_unicode', http_status: '400' });
    }
    const latin1 = await postRaw(url, text, { ...headers, 'content-type': `${TAXII};charset=latin1` });
    expect(latin1).toMatchObject({ status: 415, json: { error_code: 'unsupported_media_type' } });
    expect(await f.counts()).toEqual(before);
    expect((await postRaw(url, text, headers)).status).toBe(202);
  });
});
