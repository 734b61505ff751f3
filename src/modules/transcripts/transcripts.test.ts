import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { carry, describeEachDialect, makeStorePair, send, type StoreNode, type StorePair } from '../../../test/helpers/stores.js';
import { canonicalJson } from '../../shared/canonical.js';
import { isoTime } from '../../shared/clock.js';
import { HotlineError } from '../../shared/errors.js';
import { envelopeHash, signEnvelope } from '../federation/federation.envelope.js';
import type { Envelope } from '../federation/federation.types.js';
import { fingerprint, signText } from '../identity/identity.keys.js';
import type { Principal } from '../users/users.types.js';
import { buildTranscript, transcriptText } from './transcripts.service.js';
import type { Transcript, TranscriptReport } from './transcripts.types.js';
import { parseExpectations, readTranscript, verifyTranscript, verifyTranscriptBytes } from './transcripts.verify.js';

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});


const CASE_TEXT = (i: number, from: string): string => `case message ${i} from ${from}`;

/**
 * east → west: 3 messages in one case (and 1 in another); west → east: 2 in the case. All carried
 * and receipted, then one more east → west in the case that west never got (no receipt).
 */
async function exchanged(): Promise<{ a: StoreNode; b: StoreNode; caseId: string }> {
  pair = await makeStorePair();
  const { a, b } = pair;
  const [first] = await send(a, b, 1, { body: { text: CASE_TEXT(0, 'east') } });
  const caseId = first!.case;
  for (let i = 1; i < 3; i++) await send(a, b, 1, { case: caseId, body: { text: CASE_TEXT(i, 'east') } });
  await send(a, b, 1, { body: { text: 'another case' } });
  for (let i = 0; i < 2; i++) await send(b, a, 1, { case: caseId, in_reply_to: caseId, body: { text: CASE_TEXT(i, 'west') } });
  await carry(a, b);
  await carry(b, a);
  await send(a, b, 1, { case: caseId, body: { text: 'not yet delivered' } });
  return { a, b, caseId };
}

const problems = (r: TranscriptReport): string[] => r.problems.map((p) => `${p.code} @ ${p.where}`);
const codes = (r: TranscriptReport): string[] => [...new Set(r.problems.map((p) => p.code))].sort();
const copy = (t: Transcript): Transcript => JSON.parse(JSON.stringify(t)) as Transcript;
const verifyText = (text: string, expect?: Map<string, string[]>): TranscriptReport => verifyTranscriptBytes(Buffer.from(text, 'utf8'), expect === undefined ? {} : { expect });

/** What a dishonest (or broken) exporter would do: change the content, then sign again with its own key. */
function resign(t: Transcript, n: StoreNode): Transcript {
  const { sig: _sig, ...rest } = t;
  return { ...rest, sig: signText(n.keys.privateKey, canonicalJson(rest)) } as Transcript;
}

/** An envelope signed by `n`, like `base` except for `change`. */
function forge(n: StoreNode, base: Envelope, change: Partial<Envelope>): Envelope {
  const { sig: _sig, ...rest } = base;
  return signEnvelope({ ...rest, ...change }, n.keys.privateKey);
}

describeEachDialect('case transcripts: build and verify', () => {
  it('holds every envelope of the case both ways, in time order, with receipts and both keys; verifies', async () => {
    const { a, b, caseId } = await exchanged();
    const t = await buildTranscript(a, caseId);
    expect(t).toMatchObject({ format: 'hotline-transcript', v: 2, case: caseId, exported_by: 'east', exported_for: 'admin', exporter_key: a.keys.publicKeyB64 });
    expect(Object.keys(t)).toEqual(['format', 'v', 'case', 'exported_by', 'exported_for', 'exported_at', 'exporter_key', 'keys', 'key_changes', 'messages', 'withheld', 'sig']);
    expect(t.messages.map((m) => m.envelope.body.text)).toEqual([
      CASE_TEXT(0, 'east'), CASE_TEXT(1, 'east'), CASE_TEXT(2, 'east'), CASE_TEXT(0, 'west'), CASE_TEXT(1, 'west'), 'not yet delivered',
    ]);
    expect(t.messages.map((m) => m.receipt?.from ?? null)).toEqual(['west', 'west', 'west', 'east', 'east', null]);
    expect(t.keys).toEqual([
      { party: 'east', public_key: a.keys.publicKeyB64, fingerprint: fingerprint(a.keys.publicKeyB64), valid_from: null, valid_until: null, revoked_since: null },
      { party: 'west', public_key: b.keys.publicKeyB64, fingerprint: fingerprint(b.keys.publicKeyB64), valid_from: null, valid_until: null, revoked_since: null },
    ]);
    expect(t.withheld).toEqual([]);
    // Each envelope is exactly the stored canonical text, parsed back.
    const stored = await a.db.selectFrom('messages').select(['id', 'envelope']).where('case_id', '=', caseId).execute();
    for (const m of t.messages) expect(canonicalJson(m.envelope)).toBe(stored.find((s) => s.id === m.envelope.id)!.envelope);

    const r = verifyText(transcriptText(t));
    expect(problems(r)).toEqual([]);
    expect(r).toMatchObject({ ok: true, case: caseId, exported_by: 'east', exporter_fingerprint: fingerprint(a.keys.publicKeyB64) });
    expect(r.timeline.map((e) => [e.from, e.to, e.seq, e.text, e.received_at === null, e.verified])).toEqual([
      ['east', 'west', 1, CASE_TEXT(0, 'east'), false, true], ['east', 'west', 2, CASE_TEXT(1, 'east'), false, true],
      ['east', 'west', 3, CASE_TEXT(2, 'east'), false, true], ['west', 'east', 1, CASE_TEXT(0, 'west'), false, true],
      ['west', 'east', 2, CASE_TEXT(1, 'west'), false, true], ['east', 'west', 5, 'not yet delivered', true, true],
    ]);
    // The other side's transcript of the same case verifies too, and holds what it holds.
    const tb = await buildTranscript(b, caseId);
    expect(verifyText(transcriptText(tb)).ok).toBe(true);
    expect(tb.messages).toHaveLength(5);
  });

  it('--expect-fingerprint: the right ones match; a wrong one, or a party the file lacks, fails', async () => {
    const { a, b, caseId } = await exchanged();
    const text = transcriptText(await buildTranscript(a, caseId));
    const good = parseExpectations([`east=${fingerprint(a.keys.publicKeyB64)}`, `west=${fingerprint(b.keys.publicKeyB64).replace(/ /g, '')}`]);
    const r = verifyText(text, good);
    expect(r.ok).toBe(true);
    expect(r.keys.map((k) => k.expected)).toEqual(['matches', 'matches']);
    const wrong = verifyText(text, parseExpectations([`west=${fingerprint(a.keys.publicKeyB64)}`, 'north=1234567890 1234567890 1234567890 1234567890']));
    expect(wrong.ok).toBe(false);
    expect(problems(wrong)).toEqual(['fingerprint_mismatch @ keys[1] (west)', 'unknown_key @ keys']);
    expect(wrong.keys.map((k) => k.expected)).toEqual(['unchecked', 'differs']);
    for (const bad of ['east', 'east=123', '=1234567890123456789012345678901234567890', 'East=1234567890123456789012345678901234567890']) {
      expect(() => parseExpectations([bad]), bad).toThrow(expect.objectContaining({ code: 'invalid_argument' }) as Error);
    }
  });

  it('locates what a dishonest exporter changed even when it signs the file again', async () => {
    const { a, b, caseId } = await exchanged();
    const t = await buildTranscript(a, caseId);
    const check = (mutate: (t: Transcript) => void, resigned = true): string[] => {
      const m = copy(t);
      mutate(m);
      return problems(verifyText(transcriptText(resigned ? resign(m, a) : m)));
    };
    const at = (i: number): string => {
      const e = t.messages[i]!.envelope;
      return `messages[${i}] (${e.from}→${e.to} seq ${e.seq}, id ${e.id})`;
    };
    // Not re-signed: the exporter's signature fails; the changed envelope is named, and so are its
    // receipt (which names the old hash) and the next envelope on its link (whose prev is the old hash).
    const edited = [`bad_signature @ ${at(3)}`, `bad_receipt @ ${at(3)} receipt`, `prev_mismatch @ ${at(4)}`];
    expect(check((m) => { m.messages[3]!.envelope.body.text = 'I never said that'; }, false)).toEqual(['bad_signature @ transcript', ...edited]);
    expect(check((m) => { m.messages[3]!.envelope.body.text = 'I never said that'; })).toEqual(edited);
    expect(check((m) => { m.messages[0]!.receipt = m.messages[1]!.receipt; })).toEqual([`bad_receipt @ ${at(0)} receipt`]);
    expect(check((m) => { m.messages[3]!.receipt = null; })).toEqual([`missing_receipt @ ${at(3)}`]);
    expect(check((m) => { m.messages[0]!.receipt!.received_at = isoTime(0); })).toEqual([`bad_receipt @ ${at(0)} receipt`]);
    expect(check((m) => { m.keys.pop(); })).toEqual([
      ...[0, 1, 2].map((i) => `unknown_key @ ${at(i)} receipt`), `unknown_key @ ${at(3)}`, `unknown_key @ ${at(4)}`,
    ]);
    expect(check((m) => { m.keys[1]!.fingerprint = fingerprint(a.keys.publicKeyB64); })).toEqual(['fingerprint_mismatch @ keys[1] (west)']);
    expect(check((m) => { m.keys.push({ ...m.keys[1]! }); })).toEqual(['duplicate @ keys[2] (west)']);
    expect(check((m) => { m.messages.push(copy(t).messages[0]!); })).toEqual([
      `duplicate @ messages[6] (east→west seq 1, id ${t.messages[0]!.envelope.id})`, `duplicate @ messages[6] (east→west seq 1, id ${t.messages[0]!.envelope.id})`,
    ]);
    expect(check((m) => { m.exporter_key = b.keys.publicKeyB64; })).toEqual(['unknown_key @ transcript', 'bad_signature @ transcript']);
    expect(check((m) => { m.v = 3 as 2; })).toEqual(['invalid_transcript @ transcript']);
    expect(check((m) => { (m.withheld as unknown[]).push({ id: 'x' }); })).toEqual(['invalid_transcript @ withheld[0]']);
    expect(check((m) => { (m.messages[0]!.envelope as unknown as Record<string, unknown>).extra = 1; })).toEqual(['invalid_envelope @ messages[0]']);
    // Envelopes the sender really signed, put where they do not belong.
    const e5 = t.messages[5]!.envelope;
    const other = forge(a, e5, { case: '00000000-0000-7000-8000-000000000000' });
    expect(check((m) => { m.messages[5]!.envelope = other; })).toEqual([`wrong_case @ messages[5] (east→west seq 5, id ${e5.id})`]);
    const forked = forge(a, e5, { seq: 4, prev: t.messages[1]!.receipt!.envelope_hash });
    expect(check((m) => { m.messages[5]!.envelope = forked; })).toEqual([`prev_mismatch @ messages[5] (east→west seq 4, id ${e5.id})`]);
    const elsewhere = forge(b, t.messages[3]!.envelope, { to: 'north', id: '00000000-0000-7000-8000-000000000001' });
    expect(check((m) => { m.messages.push({ envelope: elsewhere, receipt: null }); })).toEqual([
      'not_exporters_link @ messages[6] (west→north seq 1, id 00000000-0000-7000-8000-000000000001)',
    ]);
  });

  it('refuses a file laid out otherwise, even with the signed content intact', async () => {
    const { a, caseId } = await exchanged();
    const t = await buildTranscript(a, caseId);
    expect(problems(verifyText(JSON.stringify(t)))).toEqual(['layout_changed @ file']);
    expect(problems(verifyText(transcriptText(t).replace(/\n$/, '\r\n')))).toEqual(['layout_changed @ file']);
    expect(verifyTranscript(JSON.parse(JSON.stringify(t)) as Record<string, unknown>).ok).toBe(true);
  });

  it('a file that is not UTF-8 JSON of a transcript is refused with transcript_invalid, saying why', () => {
    const cases: [Uint8Array, RegExp][] = [
      [Buffer.from([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
      [Buffer.from('{"format": "hotline-transcript",'), /not valid JSON/],
      [Buffer.from('\ufeff{}'), /not valid JSON/],
      [Buffer.from('{"format":"hotline-carriage","v":1}'), /not a case transcript/],
      [Buffer.from('[]'), /not a case transcript/],
    ];
    for (const [bytes, why] of cases) {
      let err: unknown;
      try {
        readTranscript(bytes, 'x.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HotlineError);
      expect((err as HotlineError).code).toBe('transcript_invalid');
      expect((err as HotlineError).message).toMatch(why);
    }
  });

  it('a crafted file holding 1e400, a lone surrogate or deep nesting is a failed report or transcript_invalid, never another error', async () => {
    const { a, caseId } = await exchanged();
    const text = transcriptText(await buildTranscript(a, caseId));
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const crafted: [string, string, string][] = [
      ['"format"', '"x": 1e400,\n  "format"', 'invalid_transcript @ transcript'],
      ['"format"', '"\\ud800": 1,\n  "format"', 'invalid_transcript @ transcript'],
      ['"exported_for": "', '"exported_for": "\\ud800', 'bad_signature @ transcript'],
      ['"text": "case message 0 from east"', '"text": "x", "n": -1e400', 'invalid_envelope @ messages[0]'],
      ['"text": "case message 0 from east"', '"text": "\\udc00"', 'invalid_envelope @ messages[0]'],
      ['"received_at"', '"x": 1e400, "received_at"', 'bad_receipt @ messages[0]'],
      ['"received_at": "', '"received_at": "\\ud800', 'bad_receipt @ messages[0]'],
      ['"keys": [', '"keys": [{"party": "\\ud800", "public_key": 1e400, "fingerprint": "1", "valid_until": null},', 'invalid_transcript @ keys[0]'],
      ['"withheld": [', '"withheld": [1e400, "\\ud800"', 'invalid_transcript @ withheld[0]'],
    ];
    for (const [from, to, problem] of crafted) {
      const changed = text.replace(from, to);
      expect(changed, to).not.toBe(text);
      const report = verifyText(changed);
      expect(report.ok, to).toBe(false);
      expect(problems(report).some((p) => p.startsWith(problem)), `${to}: ${problems(report).join('; ')}`).toBe(true);
    }
    for (const changed of [text.replace('"format"', `"x": ${deep},\n  "format"`), text.replace('"text": "case message 0 from east"', `"text": "x", "d": ${deep}`)]) {
      expect(() => verifyText(changed)).toThrow(expect.objectContaining({ code: 'transcript_invalid', message: expect.stringMatching(/nests arrays and objects deeper than 128 levels/) }));
    }
  });

  it('property: any one byte changed anywhere in the file is refused (invalid file, or verification fails)', async () => {
    const { a, caseId } = await exchanged();
    const bytes = Buffer.from(transcriptText(await buildTranscript(a, caseId)), 'utf8');
    fc.assert(fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, xor) => {
      const changed = Buffer.from(bytes);
      changed[pos] = changed[pos]! ^ xor;
      try {
        return !verifyTranscriptBytes(changed).ok;
      } catch (e) {
        return e instanceof HotlineError && e.code === 'transcript_invalid';
      }
    }), { numRuns: 500 });
  });
});

describeEachDialect('case transcripts: TLP and who it is for', () => {
  const officer = (user: string, channels: Principal['channels'] = ['cert']): Principal => ({ user, role: 'officer', channels });

  async function withRed(): Promise<{ a: StoreNode; b: StoreNode; caseId: string; redId: string }> {
    pair = await makeStorePair();
    const { a, b } = pair;
    const [first] = await send(a, b, 1, { body: { text: 'opening' } });
    const caseId = first!.case;
    const [red] = await send(a, b, 1, { case: caseId, tlp: 'red', body: { text: 'for alice only', recipients: ['alice'], sender: 'carol' } });
    await send(a, b, 1, { case: caseId, body: { text: 'after the red one' } });
    await carry(a, b);
    return { a, b, caseId, redId: red!.id };
  }

  it('withholds TLP:RED by default and lists it (id, seq, tlp, hash); the chain around the gap still checks', async () => {
    const { a, caseId, redId } = await withRed();
    const t = await buildTranscript(a, caseId);
    expect(t.messages.map((m) => m.envelope.body.text)).toEqual(['opening', 'after the red one']);
    expect(JSON.stringify(t)).not.toContain('for alice only');
    const row = await a.db.selectFrom('messages').selectAll().where('id', '=', redId).executeTakeFirstOrThrow();
    expect(t.withheld).toEqual([{
      id: redId, from: 'east', to: 'west', seq: 2, sent_at: row.sent_at, kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'red',
      hash: row.hash, reason: 'tlp-red',
    }]);
    const r = verifyText(transcriptText(t));
    expect(problems(r)).toEqual([]);
    expect(r.withheld.map((w) => w.id)).toEqual([redId]);
    // A withheld hash that is not the real one breaks the chain to the next envelope.
    const lie = copy(t);
    lie.withheld[0]!.hash = envelopeHash(t.messages[0]!.envelope);
    expect(codes(verifyText(transcriptText(resign(lie, a))))).toEqual(['prev_mismatch']);
  });

  it('--include-red: honoured for a named recipient (receiving side) and the sender (sending side); withheld for others, the administrator included', async () => {
    const { a, b, caseId, redId } = await withRed();
    const ids = async (n: StoreNode, viewer?: Principal): Promise<[number, string[]]> => {
      const t = await buildTranscript(n, caseId, { includeRed: true, ...(viewer === undefined ? {} : { viewer }) });
      expect(verifyText(transcriptText(t)).ok).toBe(true);
      return [t.messages.length, t.withheld.map((w) => w.id)];
    };
    expect(await ids(a)).toEqual([2, [redId]]);
    expect(await ids(b, officer('alice'))).toEqual([3, []]);
    expect(await ids(b, officer('bob'))).toEqual([2, [redId]]);
    expect(await ids(a, officer('carol'))).toEqual([3, []]);
    expect(await ids(a, officer('alice'))).toEqual([2, [redId]]);
    // Without --include-red even a recipient gets it withheld.
    expect((await buildTranscript(b, caseId, { viewer: officer('alice') })).withheld.map((w) => w.id)).toEqual([redId]);
    expect((await buildTranscript(b, caseId, { viewer: officer('alice') })).exported_for).toBe('alice');
  });

  it('a case on a channel the user does not hold is not_found, like a case that does not exist; a bad id is invalid_argument', async () => {
    const { a, caseId } = await withRed();
    const refused = async (p: Promise<unknown>, code: string): Promise<void> => {
      await expect(p).rejects.toMatchObject({ code });
    };
    await refused(buildTranscript(a, caseId, { viewer: officer('dave', ['law']) }), 'not_found');
    await refused(buildTranscript(a, '00000000-0000-7000-8000-00000000abcd'), 'not_found');
    await refused(buildTranscript(a, 'not-a-case'), 'invalid_argument');
  });
});
