import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { loadKeys, publicKeyFromB64 } from '../src/modules/identity/identity.keys.js';
import { verifyEnvelope } from '../src/modules/federation/federation.envelope.js';
import { verifyStore } from '../src/modules/federation/federation.verify.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { buildTranscript, transcriptText } from '../src/modules/transcripts/transcripts.service.js';
import { verifyTranscriptBytes } from '../src/modules/transcripts/transcripts.verify.js';
import type { Envelope } from '../src/modules/federation/federation.types.js';
import { forge, post } from './helpers/cases.js';
import { hl } from './helpers/cli.js';
import { eventually, makeHome, peerAll, tempDir, type TestHome } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

interface Rotated { fingerprint: string; previous: string; overlap_until: string; public_key: string }

async function three(): Promise<{ us: TestHome; ru: TestHome; fr: TestHome; a: RunningNode; b: RunningNode; c: RunningNode }> {
  const dir = tempDir();
  const us = await makeHome('us', {}, dir);
  const ru = await makeHome('ru', {}, dir);
  const fr = await makeHome('fr', {}, dir);
  await peerAll(us, ru, fr);
  const [a, b, c] = [await us.start(), await ru.start(), await fr.start()];
  running.push(a, b, c);
  return { us, ru, fr, a, b, c };
}

/** Waits until every message `from` queued to `to` is receipted, and returns the link's last seq. */
async function drained(from: RunningNode, to: RunningNode): Promise<number> {
  return eventually(async () => {
    from.delivery.wake();
    const l = await from.ctx.db.selectFrom('links').selectAll().where('from_party', '=', from.ctx.self.party).where('to_party', '=', to.ctx.self.party).executeTakeFirst();
    return l !== undefined && Number(l.acked_seq) === Number(l.last_seq) ? Number(l.last_seq) : undefined;
  });
}

async function stream(a: RunningNode, from: number, to: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < to; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, to - i) }, (_, j) => send(a.ctx, {
      to: (i + j) % 2 === 0 ? 'ru' : 'fr', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: `stream ${i + j}`,
    })));
    ids.push(...batch.map((e) => e.id));
    a.delivery.wake();
  }
  return ids;
}

describe('key rotation across three real nodes', () => {
  it('us rotates during a stream of 2,000 messages to ru and fr (the first 1,000 still being delivered while it rotates): nothing lost or duplicated, links continue, everything verifies, a transcript spans it', async () => {
    const { us, a, b, c } = await three();
    const opened = await send(a.ctx, { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'before the rotation' });
    const first = await stream(a, 0, 1000);

    const r = await hl(us.home, 'key', 'rotate', '--overlap', '7d', '--json');
    expect(r.code).toBe(0);
    const rotated = JSON.parse(r.stdout) as Rotated;
    expect(Object.keys(rotated)).toEqual(expect.arrayContaining(['fingerprint', 'previous', 'overlap_until']));
    expect(rotated.previous).toBe(us.fingerprint);
    expect(rotated.fingerprint).not.toBe(us.fingerprint);
    // The running node signs with the new key from now on.
    expect(a.ctx.keys.publicKeyB64).toBe(rotated.public_key);

    const second = await stream(a, 1000, 2000);
    const followUp = await send(a.ctx, { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'after the rotation', case: opened.id });
    // ru and fr talk back: us's receipts, now signed by the new key, verify on both.
    const back = await Promise.all([b, c].map((n) => send(n.ctx, { to: 'us', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: `back from ${n.ctx.self.party}` })));

    for (const [from, to] of [[a, b], [a, c], [b, a], [c, a]] as const) await drained(from, to);
    const sent = [...first, ...second, opened.id, followUp.id];
    for (const n of [b, c]) {
      const party = n.ctx.self.party;
      const inbound = await n.ctx.db.selectFrom('messages').select(['id', 'seq', 'kind']).where('from_party', '=', 'us').where('direction', '=', 'in').orderBy('seq').execute();
      const outbound = await a.ctx.db.selectFrom('messages').select(['id', 'seq']).where('to_party', '=', party).where('direction', '=', 'out').orderBy('seq').execute();
      // Nothing lost, nothing duplicated: the same ids in the same seq order on both ends, one link from seq 1.
      expect(inbound.map((m) => m.id)).toEqual(outbound.map((m) => m.id));
      expect(new Set(inbound.map((m) => m.id)).size).toBe(inbound.length);
      expect(inbound.map((m) => Number(m.seq))).toEqual(inbound.map((_, i) => i + 1));
      expect(inbound.filter((m) => m.kind === 'key-change')).toHaveLength(1);
      expect(inbound.filter((m) => sent.includes(m.id))).toHaveLength(inbound.length - 1);
      // The peer list shows the new fingerprint, when it changed, and the history.
      const list = JSON.parse((await hl(n.ctx.config.home, 'peer', 'list', '--json')).stdout) as { peers: { party: string; fingerprint: string; key_changed_at: string | null; keys: { fingerprint: string; valid_until: string | null }[] }[] };
      const peerUs = list.peers.find((p) => p.party === 'us')!;
      expect(peerUs.fingerprint).toBe(rotated.fingerprint);
      expect(peerUs.key_changed_at).not.toBeNull();
      expect(peerUs.keys.map((k) => [k.fingerprint, k.valid_until])).toEqual([[rotated.previous, rotated.overlap_until], [rotated.fingerprint, null]]);
      // Its administrators are told: an alert queued for the sinks, and an audit record.
      const alert = await n.ctx.db.selectFrom('notifications').select('payload').where('step', '=', 'key-change').execute();
      expect(alert.map((x) => (JSON.parse(x.payload) as { type: string; peer: string }).peer)).toEqual(['us']);
      expect((await n.ctx.db.selectFrom('audit').select('action').where('action', '=', 'peer.key_change').execute())).toHaveLength(1);
    }
    // The last envelope on each link is signed by the new key, the first by the old one.
    const last = await a.ctx.db.selectFrom('messages').select('envelope').where('id', '=', followUp.id).executeTakeFirstOrThrow();
    expect(verifyEnvelope(JSON.parse(last.envelope) as Envelope, [publicKeyFromB64(rotated.public_key)])).toBe(true);
    expect(back).toHaveLength(2);
    expect((await a.ctx.db.selectFrom('audit').select('action').where('action', '=', 'key.rotate').execute())).toHaveLength(1);
    for (const n of [a, b, c]) {
      const report = await verifyStore(n.ctx);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    }

    // A case transcript spanning the rotation verifies with nothing but the file, carrying both keys and the key-change.
    const t = await buildTranscript(b.ctx, opened.id);
    expect(t.key_changes).toHaveLength(1);
    expect(t.keys.filter((k) => k.party === 'us').map((k) => k.fingerprint)).toEqual([rotated.previous, rotated.fingerprint]);
    const text = transcriptText(t);
    const report = verifyTranscriptBytes(Buffer.from(text));
    expect(report.problems).toEqual([]);
    expect(report.timeline.map((e) => e.text)).toEqual(['before the rotation', 'after the rotation']);
    // One byte changed in the key history or the key-change is detected.
    for (const [from, to] of [[rotated.overlap_until, rotated.overlap_until.replace(/\d(?=\.\d{3}Z$)/, (d) => String((Number(d) + 1) % 10))], [`"change": "rotation"`, `"change": "rotatiom"`]] as const) {
      expect(text.includes(from)).toBe(true);
      expect(verifyTranscriptBytes(Buffer.from(text.replace(from, to))).ok).toBe(false);
    }
  });

  it('after the overlap, an envelope signed by the old key is refused key_expired; during it, both keys verify', async () => {
    const { us, a, b } = await three();
    const oldKey = loadKeys(readFileSync(join(us.home, 'node.key'), 'utf8')).privateKey;
    const r = await hl(us.home, 'key', 'rotate', '--overlap', '2s', '--json');
    const rotated = JSON.parse(r.stdout) as Rotated;
    await drained(a, b);
    // During the overlap: the old key still signs validly.
    const during = await post(b, await forge(b, 'us', oldKey, { channel: 'cert', body: { text: 'old key, in the overlap' } }));
    expect(during.ok).toBe(true);
    await eventually(async () => (Date.now() > Date.parse(rotated.overlap_until) ? true : undefined));
    const after = await post(b, await forge(b, 'us', oldKey, { channel: 'cert', body: { text: 'old key, after the overlap' } }));
    expect(after).toMatchObject({ ok: false, error: { code: 'key_expired' } });
    // The new key goes on.
    const fresh = await post(b, await forge(b, 'us', loadKeys(readFileSync(join(us.home, 'node.key'), 'utf8')).privateKey, { channel: 'cert', body: { text: 'new key' } }));
    expect(fresh.ok).toBe(true);
  });

  it('refuses key-change from the generic send, with a code naming the command', async () => {
    const { a } = await three();
    await expect(send(a.ctx, { to: 'ru', channel: 'cert', kind: 'key-change', priority: 'routine', tlp: 'green', text: 'x' })).rejects.toMatchObject({ code: 'reserved_kind' });
  });
});
