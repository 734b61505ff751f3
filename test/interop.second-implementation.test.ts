/**
 * A second, independent implementation of the federation protocol (test/interop/), written from
 * docs/protocol.md alone, talks to a real reference node run through its CLI. Both directions,
 * gaps, replays, tampering and carriage files. Waits are bounded by tries, never by the clock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEnvelopes, importEnvelopesFile, importReceiptsFile, writeCarriage } from './interop/carriage.js';
import { canonicalize } from './interop/jcs.js';
import { InteropPeer, type Descriptor, type Envelope, type Result } from './interop/peer.js';
import { cli, cliJson, freePort, startNode, until } from './interop/refnode.js';
import { hashOf, keyFromSeed, signObject, uuidv7, verifyObject, type Receipt } from './interop/wire.js';

const LONG = 900_000; // a hang guard for a busy machine, not a timing assertion

describe('second implementation <-> reference node (CLI and HTTP only)', () => {
  let dir = '';
  let home = '';
  let node: Awaited<ReturnType<typeof startNode>> | null = null;
  const peer = new InteropPeer('second', 'Second implementation', randomBytes(32));
  const REF = 'ref';

  interface OutMessage { id: string; seq: number; to: string; state: string; receipt: Receipt | null; last_error?: string | null; attempts?: number }
  const outbox = async () => (await cliJson<{ messages: OutMessage[] }>(home, ['outbox', '--limit', '500'])).messages;
  const verifyLinks = async () => (await cliJson<{ ok: boolean; links: { from: string; to: string; last_seq: number; head_hash: string }[] }>(home, ['verify']));
  const send = async (args: string[]) => cliJson<{ id: string; seq: number }>(home, ['send', '--to', 'second', ...args]);
  const delivered = (id: string) => until(`${id} delivered`, async () => (await outbox()).find((m) => m.id === id && m.state === 'delivered'));

  beforeAll(async () => {
    if (!existsSync(resolve(import.meta.dirname, '../dist/src'))) throw new Error('run "npm run build" first: the CLI runs from dist/');
    dir = mkdtempSync(join(tmpdir(), 'interop-'));
    home = join(dir, 'ref');
    const port = await freePort();
    const init = await cli(home, ['init', '--party', REF, '--name', 'Reference node', '--listen', `127.0.0.1:${port}`]);
    expect(init.code, init.stderr).toBe(0);
    await peer.listen('/hotline'); // a path in the URL: section 21 says the node keeps it
    const descriptorFile = join(dir, 'second.json');
    writeFileSync(descriptorFile, JSON.stringify(peer.descriptor(), null, 2));
    // refused: a fingerprint that is not the one read aloud, and a descriptor whose signature was tampered with
    const wrongDigits = await cli(home, ['peer', 'add', '--descriptor', descriptorFile, '--fingerprint', '00000 00000 00000 00000 00000 00000 00000 00000']);
    expect([wrongDigits.code, wrongDigits.stderr]).toEqual([2, expect.stringContaining('invalid_argument')]);
    const forged = { ...peer.descriptor(), name: 'Someone else' };
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
    const forgedAdd = await cli(home, ['peer', 'add', '--descriptor', join(dir, 'forged.json'), '--fingerprint', forged.fingerprint]);
    expect([forgedAdd.code, forgedAdd.stderr]).toEqual([2, expect.stringContaining('invalid_argument')]);
    // refused although signed: what sections 3.1 and 9.1 rule out, each named in the message
    const signedAs = (change: Partial<Descriptor>): Descriptor => { const d = { ...peer.descriptor(), ...change }; d.sig = signObject(d, peer.key.privateKey); return d; };
    const badOnes: [Partial<Descriptor>, string][] = [
      [{ url: `${peer.descriptor().url}?a=1` }, 'must not carry a query'],
      [{ url: peer.descriptor().url.replace('http://', 'http://u:p@') }, 'must not carry a user name or password'],
      [{ url: `${peer.descriptor().url}#f` }, 'must not carry a fragment'],
      [{ channels: ['crisis', 'crisis'] }, '"channels" lists "crisis" more than once'],
      [{ name: 'Second implementation ' }, '"name" must not begin or end with whitespace'],
    ];
    for (const [change, message] of badOnes) {
      const bad = signedAs(change);
      writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
      const r = await cli(home, ['peer', 'add', '--descriptor', join(dir, 'bad.json'), '--fingerprint', bad.fingerprint]);
      expect([r.code, r.stderr.includes('invalid_argument'), r.stderr.includes(message)], `${JSON.stringify(change)}: ${r.stderr}`).toEqual([2, true, true]);
    }
    // the node agrees crisis and cert with us, not law (section 3.2: each side decides its own agreed channels)
    const add = await cli(home, ['peer', 'add', '--descriptor', descriptorFile, '--fingerprint', peer.descriptor().fingerprint, '--channels', 'crisis,cert']);
    expect(add.code, add.stderr).toBe(0);
    const theirs = JSON.parse((await cli(home, ['descriptor'])).stdout) as Descriptor;
    const readAloud = (await cliJson<{ fingerprint: string }>(home, ['fingerprint'])).fingerprint;
    expect(() => peer.pin({ ...theirs, name: 'Forged' }, readAloud)).toThrow(/sig/);
    peer.pin(theirs, readAloud);
    expect(peer.peers.get(REF)!.channels).toEqual(['crisis', 'cert', 'law']); // our side agrees all three
    node = await startNode(home, port);
  }, LONG);

  afterAll(async () => {
    await node?.stop();
    await peer.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, LONG);

  it('peer -> node: envelopes with an attachment, non-ASCII text, odd numbers and UTF-16-sorted names are receipted', async () => {
    const sent = [
      peer.queue(REF, { kind: 'notification', channel: 'crisis', priority: 'flash', tlp: 'amber',
        body: { template: 'notification@1', text: 'Сканирование из ваших сетей — 受信確認を 😀', lang: 'ru' },
        attachments: [{ name: 'hôtes ☃.txt', media_type: 'text/plain', bytes: Buffer.from('192.0.2.10\n192.0.2.77\n') }] }),
      // key-change has no template and v1 gives it no body (section 18): any object is carried
      peer.queue(REF, { kind: 'key-change', channel: 'cert', tlp: 'green',
        body: { '\u20ac': 1, '\r': 2, '1': 3, a: 4, 'é': 5, '\ud83d\ude00': 6, '\ufb33': 7, n: [1e21, 0.1, -0, 5e-324, 1e-7, 2 ** 53 - 1, -1.5e-300], s: 'tab\t nul\u0000 \u2028 "q" \\' } }),
      peer.queue(REF, { kind: 'notification', channel: 'cert', body: { text: 'لا شيء' }, attachments: [{ name: 'empty.bin', media_type: 'application/octet-stream', bytes: Buffer.alloc(0) }] }),
    ];
    const { rounds, error } = await peer.deliver(REF);
    expect(error).toBeNull();
    expect(rounds.flatMap((r) => r.codes)).toEqual(['ok', 'ok', 'ok']);
    const link = peer.outLink(REF);
    for (const e of sent) {
      const slot = link.bySeq.get(e.seq)!;
      expect(slot.receipt, `receipt for seq ${e.seq}`).toBeDefined();
      expect(verifyObject(slot.receipt!, peer.peers.get(REF)!.keys)).toBe(true);
      expect(slot.receipt!.link_hash).toBe(hashOf(e));
    }
    // the node's own record of the link: same last seq, same head hash
    const v = await verifyLinks();
    expect(v.ok).toBe(true);
    expect(v.links.find((l) => l.from === 'second' && l.to === REF)).toMatchObject({ last_seq: link.lastSeq, head_hash: link.headHash });
    // and it stored exactly the values we signed
    const shown = await cliJson<{ envelope: unknown }>(home, ['show', sent[1]!.id]);
    expect(canonicalize(shown.envelope)).toBe(canonicalize(sent[1]));
  }, LONG);

  it('the node canonicalises what it parsed, not the bytes: non-canonical wire text gets the same hash (section 6)', async () => {
    const e = peer.queue(REF, { kind: 'key-change', channel: 'crisis', body: { x: 'PLACEHOLDER', 'é€': 'ünï', n: 4.5 } });
    let raw = JSON.stringify({ envelopes: [Object.fromEntries(Object.entries(e).reverse())] }, null, 3);
    raw = raw.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'));
    raw = raw.replace('"PLACEHOLDER"', '"PLACE\\u0048OLDER"').replace('"n": 4.5', '"n": 4.50e0').replace(`"seq": ${e.seq}`, `"seq": ${e.seq}.0`);
    expect(raw).toContain('\\u00E9\\u20AC');
    const res = await peer.post(REF, [], raw);
    const [r] = (res.json as { results: Result[] }).results;
    expect(r!.ok).toBe(true);
    if (r!.ok) {
      expect(peer.receiptProblem(e, r!.receipt)).toBeNull();
      peer.outLink(REF).bySeq.get(e.seq)!.receipt = r!.receipt;
      peer.outLink(REF).sendFromSeq = e.seq + 1;
    }
  }, LONG);

  it('a replay gets the original receipt, unchanged (section 10.2)', async () => {
    const first = peer.outLink(REF).bySeq.get(1)!;
    const res = await peer.post(REF, [first.envelope]);
    expect(res.status).toBe(200);
    expect((res.json as { results: Result[] }).results).toEqual([{ id: first.envelope.id, ok: true, receipt: first.receipt }]);
  }, LONG);

  it('seq n+1 before n gets seq_gap with expected_seq n; the sender resends from there at once (section 12.2)', async () => {
    const a = peer.queue(REF, { body: { text: 'gap: the one that goes missing' } });
    const b = peer.queue(REF, { body: { text: 'gap: the one that arrives first' } });
    const direct = await peer.post(REF, [b]);
    const [r] = (direct.json as { results: Result[] }).results;
    expect(r).toMatchObject({ id: b.id, ok: false, error: { code: 'seq_gap', expected_seq: a.seq } });
    peer.outLink(REF).sendFromSeq = b.seq; // as if the sender believed seq a had arrived
    const { rounds, error } = await peer.deliver(REF);
    expect(error).toBeNull();
    expect(rounds).toEqual([{ seqs: [b.seq], codes: ['seq_gap'] }, { seqs: [a.seq, b.seq], codes: ['ok', 'ok'] }]);
  }, LONG);

  it('a tampered signature gets bad_signature and changes nothing; so does a non-canonical sig encoding', async () => {
    const e = peer.queue(REF, { body: { text: 'signed, then tampered' } });
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const lastChar = e.sig[85]!; // canonical: one of A Q g w; the next letter is the same bytes, non-canonically
    const nonCanonical = e.sig.slice(0, 85) + String.fromCharCode(lastChar.charCodeAt(0) + 1);
    const tampered = [{ ...e, sig: flip(e.sig, 10) }, { ...e, body: { text: 'signed, then changed' } }, { ...e, sig: nonCanonical }];
    for (const t of tampered) {
      const res = await peer.post(REF, [t]);
      expect((res.json as { results: Result[] }).results[0]).toMatchObject({ id: e.id, ok: false, error: { code: 'bad_signature' } });
    }
    // nothing was stored: the genuine envelope still takes that seq
    const { rounds, error } = await peer.deliver(REF);
    expect(error).toBeNull();
    expect(rounds.at(-1)!.codes.at(-1)).toBe('ok');
  }, LONG);

  it('other per-envelope refusals carry the codes of section 16.2', async () => {
    const link = peer.outLink(REF);
    const first = link.bySeq.get(1)!.envelope;
    // replays are detected across all links (section 11 step 8): queue one of the node's own first
    const nodeOwnId = (await send(['--channel', 'cert', '--text', 'the node\'s own id'])).id;
    const make = (change: (e: Record<string, unknown>) => void): Record<string, unknown> => {
      const id = uuidv7();
      const e: Record<string, unknown> = { v: 1, id, from: 'second', to: REF, seq: link.lastSeq + 1, prev: link.headHash, sent_at: new Date().toISOString(),
        kind: 'notification', channel: 'crisis', case: id, in_reply_to: null, priority: 'routine', tlp: 'amber', body: { text: 'refused' } };
      change(e);
      e.sig = signObject(e, peer.key.privateKey);
      return e;
    };
    const cases: [string, Record<string, unknown>, string, number?][] = [
      ['same id, other content', make((e) => { e.id = first.id; }), 'replay_mismatch'],
      ['position taken', make((e) => { e.seq = 1; e.prev = link.bySeq.get(1)!.envelope.prev; }), 'seq_rewind', link.lastSeq + 1],
      ['other history', make((e) => { e.prev = 'a'.repeat(64); }), 'prev_mismatch', link.lastSeq + 1],
      ['addressed elsewhere', make((e) => { e.to = 'someone'; }), 'wrong_recipient'],
      ['from the future', make((e) => { e.sent_at = new Date(Date.now() + 3_600_000).toISOString(); }), 'clock_skew'],
      ['too old', make((e) => { e.sent_at = new Date(Date.now() - 40 * 86_400_000).toISOString(); }), 'stale_envelope'],
      ['upper-case prev', make((e) => { e.prev = String(e.prev).toUpperCase(); }), 'invalid_envelope'],
      ['sha256 mismatch', make((e) => { e.attachments = [{ name: 'a', media_type: 'text/plain', size: 1, sha256: '0'.repeat(64), content: 'YQ==' }]; }), 'invalid_envelope'],
      ['unknown kind', make((e) => { e.kind = 'telegram'; }), 'unknown_kind'],
      ['channel the node did not agree', make((e) => { e.channel = 'law'; }), 'channel_not_agreed'],
      ['an id the node used for its own message', make((e) => { e.id = nodeOwnId; e.case = nodeOwnId; }), 'replay_mismatch'],
    ];
    const res = await peer.post(REF, cases.map((c) => c[1]));
    const results = (res.json as { results: Result[] }).results;
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(cases.map((c) => c[2]));
    cases.forEach(([label, , , expected], i) => {
      const r = results[i]!;
      if (expected !== undefined && !r.ok) expect(r.error.expected_seq, label).toBe(expected);
      if (expected === undefined && !r.ok) expect(r.error.expected_seq, label).toBeUndefined();
    });
    const odd = await peer.post(REF, [{ id: 7 }, 'text']);
    expect((odd.json as { results: Result[] }).results.map((r) => [r.id, r.ok ? 'ok' : r.error.code])).toEqual([[null, 'invalid_envelope'], [null, 'invalid_envelope']]);
    const wrongType = await peer.post(REF, [], '{"envelopes":[]}', 'text/plain');
    expect([wrongType.status, (wrongType.json as { code: string }).code]).toEqual([415, 'unsupported_media_type']);
    const empty = await peer.post(REF, [], '{"envelopes":[]}'); // 9.3: an empty batch is answered, with no results
    expect([empty.status, empty.json]).toEqual([200, { results: [] }]);
    const notBatch = await peer.post(REF, [], '{"envelopes":{}}');
    expect([notBatch.status, (notBatch.json as { code: string }).code]).toEqual([400, 'invalid_batch']);
    const tooMany = await peer.post(REF, Array.from({ length: 501 }, () => ({})));
    expect([tooMany.status, (tooMany.json as { code: string }).code]).toEqual([413, 'batch_too_large']);
    const lawOut = await cli(home, ['send', '--to', 'second', '--channel', 'law', '--text', 'not agreed']);
    expect([lawOut.code === 0, lawOut.stderr]).toEqual([false, expect.stringContaining('channel_not_agreed')]);
    expect((await verifyLinks()).links.find((l) => l.from === 'second')).toMatchObject({ last_seq: link.lastSeq, head_hash: link.headHash });
  }, LONG);

  it('the size limits of section 15 are "at most", in UTF-8 bytes of the JCS form', async () => {
    const link = peer.outLink(REF);
    const ahead = (body: Record<string, unknown>, bytes?: Buffer) => { // seq far ahead: passing the size checks shows as seq_gap
      const id = uuidv7();
      const e: Record<string, unknown> = { v: 1, id, from: 'second', to: REF, seq: link.lastSeq + 10, prev: link.headHash, sent_at: new Date().toISOString(),
        kind: 'key-change', channel: 'crisis', case: id, in_reply_to: null, priority: 'routine', tlp: 'amber', body };
      if (bytes) e.attachments = [{ name: 'blob', media_type: 'application/octet-stream', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), content: bytes.toString('base64') }];
      e.sig = signObject(e, peer.key.privateKey);
      return e;
    };
    const codes = async (envs: unknown[]) => ((await peer.post(REF, envs)).json as { results: Result[] }).results.map((r) => (r.ok ? 'ok' : r.error.code));
    // {"t":"…"} is 8 bytes around the text; é is 2 bytes of UTF-8
    expect(await codes([ahead({ t: 'é'.repeat(32_764) }), ahead({ t: 'x'.repeat(65_529) })])).toEqual(['seq_gap', 'body_too_large']);
    const blob = randomBytes(780_000); // leaves room for a body under its own limit
    const fill = 1_048_576 - Buffer.byteLength(canonicalize(ahead({ t: '' }, blob)));
    expect(await codes([ahead({ t: 'x'.repeat(fill) }, blob), ahead({ t: 'x'.repeat(fill + 1) }, blob)])).toEqual(['seq_gap', 'envelope_too_large']);
  }, LONG);

  it('node -> peer: hotline send is verified and receipted by the peer, and the node shows it delivered', async () => {
    const a = await send(['--channel', 'crisis', '--priority', 'flash', '--text', 'Принято — 了解 ☃ 😀']);
    const b = await send(['--channel', 'cert', '--tlp', 'green', '--text', 'second one']);
    for (const m of [a, b]) {
      const out = await delivered(m.id);
      const mine = peer.inLink(REF).bySeq.get(m.seq)!;
      expect(mine.envelope.id).toBe(m.id);
      expect(out.receipt).toEqual(mine.receipt);
      const shown = await cliJson<{ message: { state: string; receipt: Receipt } }>(home, ['show', m.id]);
      expect(shown.message.state).toBe('delivered');
      expect(shown.message.receipt).toEqual(mine.receipt);
    }
    expect(peer.inLink(REF).bySeq.get(a.seq)!.envelope.body.text).toBe('Принято — 了解 ☃ 😀');
    const req = peer.requests.find((r) => r.body.includes(a.id))!;
    expect(req.path).toBe('/hotline/federation/v1/envelopes');
    expect(req.contentType).toMatch(/^application\/json/);
    const batch = (JSON.parse(req.body) as { envelopes: Envelope[] }).envelopes;
    expect(req.body).toBe('{"envelopes":[' + batch.map((e) => canonicalize(e)).join(',') + ']}'); // stored canonical texts, joined (9.2)
    for (const e of batch) expect(parseInt(e.id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse(e.sent_at)); // UUIDv7 of sent_at
    const ours = peer.outLink(REF).bySeq.get(1)!.receipt!;
    expect(ours.received_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/); // 10.1: milliseconds, Z
    const v = await verifyLinks();
    expect(v.links.find((l) => l.from === REF && l.to === 'second')).toMatchObject({ last_seq: peer.inLink(REF).lastSeq, head_hash: peer.inLink(REF).headHash });
  }, LONG);

  it('node as sender: a receipt that fails section 10.3 is not accepted; the node retries and keeps the good one', async () => {
    const badSig = (rs: Result[]) => rs.map((r) => (r.ok ? { ...r, receipt: { ...r.receipt, sig: signObject(r.receipt, keyFromSeed(randomBytes(32)).privateKey) } } : r));
    peer.rewriteResults = badSig;
    const m = await send(['--channel', 'crisis', '--text', 'receipt forged by the network']);
    const refused = await until('a refused receipt', async () => (await outbox()).find((o) => o.id === m.id && o.state !== 'delivered' && o.last_error));
    expect(refused.receipt).toBeNull();
    peer.rewriteResults = null;
    const out = await delivered(m.id);
    expect(out.receipt).toEqual(peer.inLink(REF).bySeq.get(m.seq)!.receipt);
  }, LONG);

  it('node as sender: the peer answers seq_gap (it lost its last envelope) and the node resends from expected_seq', async () => {
    const k = peer.inLink(REF).lastSeq;
    const kept = (await outbox()).find((o) => o.seq === k)!.receipt;
    peer.forgetInbound(REF, k); // restored from a backup one envelope old
    const before = peer.requests.length;
    const m = await send(['--channel', 'crisis', '--text', 'after the restore']);
    await delivered(m.id);
    const batches = peer.requests.slice(before).map((r) => (JSON.parse(r.body) as { envelopes: Envelope[] }).envelopes.map((e) => e.seq));
    expect(batches).toContainEqual([k + 1]);
    expect(batches).toContainEqual([k, k + 1]);
    expect(peer.inLink(REF).lastSeq).toBe(k + 1);
    // the node kept the receipt it had for seq k (section 12.2 step 4: a replay keeps the old one)
    expect((await outbox()).find((o) => o.seq === k)!.receipt).toEqual(kept);
  }, LONG);

  it('the peer answers in the node\'s cases from the spec alone: ack, response, pong, case-close, directory-update (5.7-5.9)', async () => {
    const inquiry = await send(['--channel', 'crisis', '--kind', 'inquiry', '--priority', 'immediate', '--field', 'incident_category=ddos', '--text', 'What is this traffic?']);
    const ping = await cliJson<{ id: string }>(home, ['ping', '--to', 'second', '--channel', 'cert']);
    const inq = (await until('the inquiry', () => [...peer.inLink(REF).bySeq.values()].find((s) => s.envelope.id === inquiry.id)))!.envelope;
    const png = (await until('the ping', () => [...peer.inLink(REF).bySeq.values()].find((s) => s.envelope.id === ping.id)))!.envelope;
    const inCase = (e: Envelope) => ({ channel: e.channel, case: e.case, inReplyTo: e.id });
    peer.queue(REF, { kind: 'ack', ...inCase(inq), priority: inq.priority, tlp: 'green', body: { template: 'ack@1', fields: { acknowledges: inq.id, officer: 'Officer Zed' } } });
    peer.queue(REF, { kind: 'response', ...inCase(inq), body: { template: 'response@1', fields: { finding: 'under-investigation', actions_taken: ['investigating'], confidence: 'low' }, text: 'Looking into it.', lang: 'en', sender: 'zed' } });
    peer.queue(REF, { kind: 'pong', ...inCase(png), body: { template: 'pong@1', fields: { officer: 'Officer Zed' } } });
    peer.queue(REF, { kind: 'case-close', channel: inq.channel, case: inq.case, body: { template: 'case-close@1', fields: { reason: 'answered' } } });
    const contact = uuidv7();
    peer.queue(REF, { kind: 'directory-update', channel: 'crisis', body: { party: 'second', version: 1, rota: { crisis: { primary: contact, backup: null, supervisor: null } },
      contacts: [{ id: contact, channel: 'crisis', function: 'Duty desk', name: 'Zed', languages: ['en'], hours: '24/7', phone: '+1 202 555 0100', email: 'duty@second.example' }] } });
    const { rounds, error } = await peer.deliver(REF);
    expect(error).toBeNull();
    expect(rounds.flatMap((r) => r.codes)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    const shown = await cliJson<{ message: { acknowledged: unknown } }>(home, ['show', inquiry.id]);
    expect(shown.message.acknowledged).not.toBeNull();
    const reach = await cliJson<{ reachability: { peer: string; channel: string; answered: number; last_officer: string | null }[] }>(home, ['reachability']);
    expect(reach.reachability.find((r) => r.peer === 'second' && r.channel === 'cert')).toMatchObject({ answered: 1, last_officer: 'Officer Zed' });
    const dirs = await cliJson<{ parties: { party: string; version: number }[] }>(home, ['directory', '--party', 'second']);
    expect(dirs.parties[0]).toMatchObject({ party: 'second', version: 1 });
    // the case is closed on the node: a message into it now is refused, and blocks nothing once withdrawn
    const late = peer.queue(REF, { channel: inq.channel, case: inq.case, body: { text: 'too late' } });
    const refused = await peer.post(REF, [late]);
    expect((refused.json as { results: Result[] }).results[0]).toMatchObject({ ok: false, error: { code: 'case_closed' } });
    const link = peer.outLink(REF); // v1 cannot skip a seq: withdraw it before anything else is queued
    link.bySeq.delete(late.seq);
    link.lastSeq = late.seq - 1;
    link.headHash = link.bySeq.get(link.lastSeq)!.hash;
  }, LONG);

  it('carriage node -> peer: hotline export, imported by the peer; its receipts file imported back by hotline import', async () => {
    peer.available = false;
    const sent = [await send(['--channel', 'crisis', '--text', 'carried ☃']), await send(['--channel', 'cert', '--text', 'carried too'])];
    const file = join(dir, 'to-second.json');
    await cliJson(home, ['export', '--to', 'second', '--out', file]);
    const text = readFileSync(file, 'utf8');
    const parsed = JSON.parse(text) as { envelopes: Envelope[] } & Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['format', 'v', 'type', 'from', 'to', 'exported_at', 'envelopes']);
    expect(parsed).toMatchObject({ format: 'hotline-carriage', v: 1, type: 'envelopes', from: REF, to: 'second' });
    expect(parsed.envelopes.map((e) => e.id)).toEqual(sent.map((s) => s.id));
    for (const e of parsed.envelopes) expect(JSON.stringify(e)).toBe(canonicalize(e)); // members in JCS order
    const imported = importEnvelopesFile(peer, file);
    expect(imported.results.map((r) => r.ok)).toEqual([true, true]);
    expect(importEnvelopesFile(peer, file).receipts.receipts).toEqual(imported.receipts.receipts); // twice: same receipts
    const back = join(dir, 'to-ref.json');
    writeCarriage(back, imported.receipts);
    const result = await cliJson<{ results: { id: string; ok: boolean }[] }>(home, ['import', back]);
    expect(result.results).toEqual(sent.map((s) => ({ id: s.id, ok: true })));
    for (const s of sent) expect((await outbox()).find((o) => o.id === s.id)).toMatchObject({ state: 'delivered', receipt: peer.inLink(REF).bySeq.get(s.seq)!.receipt });
    const again = await cliJson<{ results: { id: string; ok: boolean }[] }>(home, ['import', back]);
    expect(again.results.every((r) => r.ok)).toBe(true);
    // receipts the node must refuse (14.3): unknown id, a wrong hash, an unpinned signer, a malformed one
    const good = imported.receipts.receipts[0]!;
    const resign = (r: Record<string, unknown>) => ({ ...r, sig: signObject(r, peer.key.privateKey) });
    const bad = [
      resign({ ...good, id: uuidv7() }),
      resign({ ...good, envelope_hash: 'b'.repeat(64), link_hash: 'b'.repeat(64) }),
      resign({ ...good, from: 'stranger' }),
      { ...good, sig: signObject(good, keyFromSeed(randomBytes(32)).privateKey) },
      { v: 1 },
    ];
    const badFile = join(dir, 'bad-receipts.json');
    writeFileSync(badFile, JSON.stringify({ ...imported.receipts, receipts: bad }));
    const refused = await cli(home, ['import', badFile, '--json']);
    const codes = (JSON.parse(refused.stdout) as { results: { ok: boolean; error?: { code: string } }[] }).results.map((r) => r.error?.code);
    expect(codes).toEqual(['not_found', 'bad_receipt', 'unknown_peer', 'bad_receipt', 'bad_receipt']);
    peer.available = true;
  }, LONG);

  it('carriage peer -> node: the peer\'s envelopes file through hotline import, its receipts checked by the peer', async () => {
    const e = peer.queue(REF, { channel: 'cert', body: { text: 'par la valise — by hand' }, attachments: [{ name: 'ioc.csv', media_type: 'text/csv', bytes: Buffer.from('ip\n198.51.100.7\n') }] });
    const file = join(dir, 'second-to-ref.json');
    writeCarriage(file, exportEnvelopes(peer, REF));
    const receiptsFile = join(dir, 'receipts-for-second.json');
    const out = await cliJson<{ results: Result[] }>(home, ['import', file, '--receipts-out', receiptsFile]);
    expect(out.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok']);
    const results = importReceiptsFile(peer, receiptsFile);
    expect(results).toEqual([{ id: e.id, ok: true }]);
    const link = peer.outLink(REF);
    expect([link.ackedSeq, link.sendFromSeq]).toEqual([e.seq, e.seq + 1]);
    expect(link.bySeq.get(e.seq)!.receipt!.link_hash).toBe(hashOf(e));
    expect((await verifyLinks()).links.find((l) => l.from === 'second')).toMatchObject({ last_seq: e.seq, head_hash: link.headHash });
    // an envelope whose from is not the file's is refused, so that its receipt cannot go astray (14.3)
    const next = peer.queue(REF, { body: { text: 'in the wrong file' } });
    const wrongFile = join(dir, 'wrong-from.json');
    writeCarriage(wrongFile, { ...exportEnvelopes(peer, REF, next.seq), from: 'someone' });
    const wrong = await cli(home, ['import', wrongFile, '--json']);
    expect((JSON.parse(wrong.stdout) as { results: Result[] }).results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['invalid_envelope']);
    expect((await peer.deliver(REF)).error).toBeNull(); // and nothing was stored: it still goes through by HTTP
  }, LONG);
});
