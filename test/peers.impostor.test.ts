/**
 * Issue 12, item 5: never talk to an impostor (protocol section 9.4). A new node with a new key
 * takes over ru's address: us sends it the key challenge and nothing else (every request it
 * receives is counted), the link shows key_mismatch in `peer list --json`, a webhook sink gets the
 * alert; when the real ru is back, delivery resumes in order. Also: the section's worked example,
 * domain separation, and the proof cached on the hot path (one challenge, then batches only).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { signText, verifyText } from '../src/modules/identity/identity.keys.js';
import { answerChallenge, newChallenge, proofProblem, proofSigningText } from '../src/modules/federation/federation.proof.js';
import { canonicalJson } from '../src/shared/canonical.js';
import { send, type SendInput } from '../src/modules/messaging/messaging.service.js';
import { FakeClock } from '../src/shared/clock.js';
import { delivered } from './helpers/cases.js';
import { json } from './helpers/cli.js';
import { makeHome, makePair, tempDir } from './helpers/nodes.js';
import { withNode } from '../src/adapters/cli/home.js';
import { parseDescriptor } from '../src/modules/federation/federation.peers.js';
import { keysFromSeed, RECEIVER_SEED } from './helpers/protocol-example.js';
import { webhookReceiver, type WebhookReceiver } from './helpers/webhook.js';

const running: RunningNode[] = [];
const receivers: WebhookReceiver[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  })));
});

const OPTS = { runPings: false, runReminders: false, runDeadlines: false, runDelivery: false };
const note = (text: string): SendInput => ({ to: 'ru', channel: 'cert', kind: 'notification', priority: 'flash', tlp: 'amber', text });

interface Seen { path: string; bytes: number; body: string }

/** A raw HTTP server on `port` that records every request (path, body bytes) and forwards it to `target`. */
async function countingFront(port: number, target: string): Promise<{ seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ path: req.url ?? '', bytes: body.length, body: body.toString('utf8') });
      void fetch(`${target}${req.url ?? ''}`, { method: req.method ?? 'POST', headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { seen };
}

async function receivedTexts(b: RunningNode): Promise<[number, string][]> {
  const rows = await b.ctx.db.selectFrom('messages').select(['seq', 'envelope']).where('from_party', '=', 'us').where('to_party', '=', 'ru').orderBy('seq').execute();
  return rows.map((r) => [Number(r.seq), String((JSON.parse(r.envelope) as { body: { text?: string } }).body.text)]);
}

describe('the impostor drill', () => {
  it('a new node at ru\'s address gets only the challenge; key_mismatch in peer list; the sink alerts; the real ru back → delivery resumes in order', async () => {
    const hook = await webhookReceiver();
    receivers.push(hook);
    const clock = new FakeClock(Date.now());
    const [us, ru] = await makePair({ notify: { webhook: { url: `${hook.url}/us` } } });
    const a = await us.start({ ...OPTS, clock });
    running.push(a);
    let b = await ru.start({ ...OPTS, clock });
    running.push(b);
    const first = await send(a.ctx, note('before'));
    await a.delivery.runOnce();
    await delivered(a, first.id);

    // ru goes away; us queues FLASH messages meanwhile and fails to reach it.
    await b.stop();
    running.splice(running.indexOf(b), 1);
    const queued = [await send(a.ctx, note('secret one')), await send(a.ctx, note('secret two'))];
    clock.advance(60_000);
    await a.delivery.runOnce();

    // A new node, with its own new key, takes over ru's address (it even pins us, to accept anything).
    const impostorHome = await makeHome('ru', {}, tempDir());
    await withNode(impostorHome.home, (ctx) => ctx.peers.add(parseDescriptor(us.descriptor), { expectFingerprint: us.fingerprint }));
    const impostor = await impostorHome.start({ ...OPTS, clock });
    running.push(impostor);
    const front = await countingFront(ru.port, impostor.address);
    for (let i = 0; i < 3; i++) {
      clock.advance(120_000);
      await a.delivery.runOnce();
    }
    // It received three challenges and nothing else: no envelope, not a byte of the FLASH texts.
    expect(front.seen.map((s) => s.path)).toEqual(['/federation/v1/key-proof', '/federation/v1/key-proof', '/federation/v1/key-proof']);
    for (const s of front.seen) {
      expect(Object.keys(JSON.parse(s.body) as object).sort()).toEqual(['from', 'nonce', 'to', 'type', 'v']);
      expect(s.bytes).toBeLessThan(200);
      expect(s.body).not.toContain('secret');
    }
    expect(await impostor.ctx.db.selectFrom('messages').select('id').execute()).toEqual([]);

    const peers = await json<{ peers: { party: string; state: string; fingerprint: string; delivery: { last_error: string; pending: number } }[] }>(us.home, 'peer', 'list');
    expect(peers.peers[0]).toMatchObject({ party: 'ru', state: 'key_mismatch', fingerprint: ru.fingerprint, delivery: { pending: 2 } });
    expect(peers.peers[0]!.delivery.last_error).toMatch(/did not prove it holds its pinned key .*nothing was sent/);
    await a.deadlines.runOnce();
    const alerts = hook.ok().filter((h) => h.body.type === 'key-mismatch');
    expect(alerts).toHaveLength(1); // once per incident, not per retry
    expect(alerts[0]!.body).toMatchObject({ type: 'key-mismatch', peer: 'ru', pinned_fingerprints: [ru.fingerprint] });

    // The real ru comes back at its address: the proof passes, delivery resumes in order, exactly once.
    await impostor.stop();
    running.splice(running.indexOf(impostor), 1);
    await new Promise<void>((r) => {
      servers[0]!.closeAllConnections();
      servers[0]!.close(() => r());
    });
    servers.splice(0, 1);
    b = await ru.start({ ...OPTS, clock });
    running.push(b);
    clock.advance(300_000);
    await a.delivery.runOnce();
    for (const m of queued) await delivered(a, m.id);
    expect(await receivedTexts(b)).toEqual([[1, 'before'], [2, 'secret one'], [3, 'secret two']]);
    expect((await json<{ peers: { state: string }[] }>(us.home, 'peer', 'list')).peers[0]!.state).toBe('ok');
    expect(await json<{ ok: boolean }>(us.home, 'verify')).toMatchObject({ ok: true });
  });

  it('the proof is cached: one challenge after a start, then batches only (no extra request per batch)', async () => {
    const [us, ru] = await makePair({ delivery: { batchSize: 2 } });
    const clock = new FakeClock(Date.now());
    const a = await us.start({ ...OPTS, clock });
    const b = await ru.start({ ...OPTS, clock });
    running.push(a, b);
    const requests: string[] = [];
    // Watch what us sends to ru through a counting front on a fresh port, pinned by an update.
    const front = await countingFront(0, b.address);
    void front;
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await send(a.ctx, note(`m${i}`))).id);
    const port = (servers.at(-1)!.address() as { port: number }).port;
    await a.ctx.db.updateTable('peers').set({ url: `http://127.0.0.1:${port}` }).where('party', '=', 'ru').execute();
    await a.delivery.runOnce();
    for (const id of ids) await delivered(a, id);
    requests.push(...front.seen.map((s) => s.path));
    expect(requests).toEqual(['/federation/v1/key-proof', '/federation/v1/envelopes', '/federation/v1/envelopes', '/federation/v1/envelopes']);
  });
});

describe('protocol section 9.4', () => {
  it('the worked example: the challenge, the signed text and the proof in docs/protocol.md are what the code makes', () => {
    const doc = readFileSync(fileURLToPath(new URL('../docs/protocol.md', import.meta.url)), 'utf8');
    const section = doc.slice(doc.indexOf('### 9.4 Key proof'), doc.indexOf('## 10. Receipts'));
    const blocks = [...section.matchAll(/```(?:json|text)\n(.*)\n```/g)].map((m) => m[1]!);
    const nonce = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64url');
    const challenge = { v: 1, type: 'hotline-key-challenge', from: 'us', to: 'ru', nonce };
    const proof = answerChallenge(challenge, 'ru', keysFromSeed(RECEIVER_SEED));
    expect(blocks).toEqual([JSON.stringify(challenge), JSON.stringify(proofSigningText(proof)), JSON.stringify(proof)]);
  });

  it('domain separation: a proof signature never verifies as a signature over the JCS form, nor the other way round', () => {
    const keys = keysFromSeed(RECEIVER_SEED);
    const challenge = newChallenge('us', 'ru');
    const proof = answerChallenge(challenge, 'ru', keys);
    const { sig, ...unsigned } = proof;
    expect(verifyText(keys.publicKey, proofSigningText(proof), sig)).toBe(true);
    expect(verifyText(keys.publicKey, canonicalJson(unsigned), sig)).toBe(false);
    // A signature over the JCS form (how envelopes, receipts, descriptors are signed) is not a proof.
    const forged = { ...unsigned, sig: signText(keys.privateKey, canonicalJson(unsigned)) };
    const peer = { party: 'ru', name: 'RU', url: 'https://x', keys: [{ key: keys.publicKeyB64, fingerprint: '', added_at: 0, valid_from: null, valid_until: null, revoked_since: null, origin: 'pinned', statement_id: null }], channels: [], deadlines: { flash: 1, immediate: 1, priority: 1, routine: 1 }, added_at: 0, updated_at: 0, lifecycle: 'active' as const, lifecycle_changed_at: null };
    expect(proofProblem(proof, challenge, peer, Date.now())).toBeUndefined();
    expect(proofProblem(forged, challenge, peer, Date.now())).toMatch(/does not verify/);
    expect(proofProblem({ ...proof, nonce: newChallenge('us', 'ru').nonce }, challenge, peer, Date.now())).toMatch(/another challenge/);
    expect(() => answerChallenge({ ...challenge, to: 'fr' }, 'ru', keys)).toThrow(/addressed to "fr"/);
    expect(() => answerChallenge({ ...challenge, nonce: 'short' }, 'ru', keys)).toThrow(/nonce/);
  });
});
