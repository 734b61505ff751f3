/**
 * Indicators over the federation between two real nodes on loopback: a STIX bundle sent with
 * `hotline indicators send` (and POST /api/v1/indicators) travels as signed, receipted
 * `indicators` messages and lands in ru's collection `inbound-us`, which ru's cert users read
 * over TAXII and nobody else does. Sender-side refusals queue nothing; an invalid object inside
 * an arriving bundle is recorded as a failure without refusing the signed message.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { enqueue } from '../src/modules/federation/federation.outbox.js';
import { sha256Hex } from '../src/shared/canonical.js';
import { api, usersWithTokens } from './helpers/api.js';
import { ensureBuilt, hl, json } from './helpers/cli.js';
import { eventually, makePair, tempDir, type TestHome } from './helpers/nodes.js';
import { expectTaxiiError, indicator, ipv4, malware, taxiiClient } from './helpers/taxii.js';
import { TLP_MARKINGS } from '../src/modules/stix/stix.tlp.js';
import { publishRedRecipients } from './helpers/red.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let tokens: Record<string, string>;
const dir = tempDir('hotline-indicators-');

type Obj = Record<string, unknown>;

const bundle = (objects: unknown[]): Obj => ({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects });
const file = (name: string, content: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const messageCount = async (n: RunningNode): Promise<number> =>
  (await n.ctx.db.selectFrom('messages').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

/** Every object ru's user sees in inbound-us (latest versions), walking all pages. */
async function inbound(user: string, q = ''): Promise<Obj[]> {
  const t = taxiiClient(b.address, tokens[user]!);
  const c = await t('/taxii2/api/collections/inbound-us/');
  if (c.status !== 200) return [];
  const r = await t(`/taxii2/api/collections/${String(c.json!.id)}/objects/?limit=10000${q}`);
  return (r.json?.objects ?? []) as Obj[];
}

beforeAll(async () => {
  ensureBuilt();
  [us, ru] = await makePair();
  a = await us.start();
  b = await ru.start();
  tokens = await usersWithTokens(api(b.address), ru.token, { carla: ['cert'], mike: ['cert'], lena: ['law'] });
  Object.assign(tokens, await usersWithTokens(api(a.address), us.token, { ivan: ['cert'], olga: ['law'] }));
  await publishRedRecipients(b, a, 'cert', ['carla']);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

describe('hotline indicators send', () => {
  it('sends a bundle to a peer; it lands in inbound-us on ru, visible over TAXII to ru\'s cert users only, receipted on us', async () => {
    const mw = malware('qakbot');
    const ind = indicator();
    const ip = ipv4('198.51.100.23');
    const rel = {
      type: 'relationship', spec_version: '2.1', id: `relationship--${crypto.randomUUID()}`, created: '2026-11-30T10:00:00.000Z', modified: '2026-11-30T10:00:00.000Z',
      relationship_type: 'indicates', source_ref: ind.id, target_ref: mw.id,
    };
    const objects = [ind, ip, mw, rel];
    const out = await json<{ case: string; objects: number; messages: { id: string }[] }>(us.home, 'indicators', 'send', '--to', 'ru', '--file', file('b1.json', bundle(objects)), '--tlp', 'green', '--text', 'QakBot C2 seen in our sinkhole', '--json');
    expect(out.objects).toBe(4);
    expect(out.messages).toHaveLength(1);
    const got = await eventually(async () => {
      const o = await inbound('carla');
      return o.length === 4 ? o : undefined;
    });
    expect(got).toEqual(objects);
    // The collection: readable by ru's cert users, not writable, invisible to law.
    const carla = taxiiClient(b.address, tokens.carla!);
    const c = await carla('/taxii2/api/collections/inbound-us/');
    expect(c.json).toMatchObject({ alias: 'inbound-us', can_read: true, can_write: false });
    expect(await inbound('mike')).toHaveLength(4);
    expectTaxiiError(await taxiiClient(b.address, tokens.lena!)('/taxii2/api/collections/inbound-us/'), 404, 'not_found');
    expectTaxiiError(await carla(`/taxii2/api/collections/${String(c.json!.id)}/objects/`, { body: { objects: [indicator()] } }), 403, 'forbidden');
    // On us: the message went out and came back receipted.
    const shown = await eventually(async () => {
      const r = await api(a.address)(`/api/v1/messages/${out.messages[0]!.id}`, us.token);
      return (r.json.message as { state: string }).state === 'delivered' ? r.json : undefined;
    });
    expect(shown.message).toMatchObject({ kind: 'indicators', channel: 'cert', tlp: 'green', text: 'QakBot C2 seen in our sinkhole' });
    // On ru: the message is in the inbox with its bundle attached, and a TAXII status records it.
    const status = await b.ctx.db.selectFrom('taxii_status').selectAll().where('message_id', '=', out.messages[0]!.id).executeTakeFirstOrThrow();
    expect(status).toMatchObject({ status: 'complete', total_count: 4, success_count: 4, failure_count: 0, principal: 'peer:us' });
  });

  it('refuses, queueing nothing: an invalid object, an object marked above the message\'s TLP, a non-bundle, a non-JSON file, an unknown peer', async () => {
    const before = await messageCount(a);
    const red = indicator({ object_marking_refs: [TLP_MARKINGS.find((m) => (m as Obj).name === 'TLP:RED')!.id] });
    for (const [args, code, message] of [
      [['--file', file('bad.json', bundle([indicator(), { ...indicator(), valid_from: 'soon' }]))], 1, /stix_invalid.*valid_from/],
      [['--file', file('red.json', bundle([red])), '--tlp', 'amber'], 1, /TLP:RED, more restrictive than the message's TLP:AMBER/],
      [['--file', file('nb.json', { objects: [indicator()] })], 1, /bundle_invalid/],
      [['--file', file('nj.json', 'not json')], 1, /bundle_invalid.*not JSON/],
      [['--file', join(dir, 'missing.json')], 2, /Cannot read/],
      [['--to', 'xx', '--file', file('ok.json', bundle([indicator()]))], 1, /unknown_peer/],
    ] as const) {
      const r = await hl(us.home, 'indicators', 'send', ...(args.includes('--to') ? [] : ['--to', 'ru']), ...args);
      expect(r.code, r.stdout + r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
    }
    expect(await messageCount(a)).toBe(before);
  });

  it('splits a bundle larger than one envelope into several messages of one case; all of it arrives, once', async () => {
    const objects = Array.from({ length: 3000 }, () => indicator({ description: 'x'.repeat(200) }));
    const r = await api(a.address)('/api/v1/indicators', tokens.ivan!, { method: 'POST', body: { to: 'ru', bundle: bundle(objects), tlp: 'amber' } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    const messages = r.json.messages as { objects: number }[];
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.reduce((n, m) => n + m.objects, 0)).toBe(3000);
    const ids = new Set(objects.map((o) => o.id as string));
    const got = await eventually(async () => {
      const o = (await inbound('carla', '&match[type]=indicator')).filter((x) => ids.has(x.id as string));
      return o.length === 3000 ? o : undefined;
    });
    expect(got.map((o) => o.id)).toEqual(objects.map((o) => o.id));
    // The same bundle again changes nothing on ru: every object is recognised.
    const again = await api(a.address)('/api/v1/indicators', tokens.ivan!, { method: 'POST', body: { to: 'ru', bundle: bundle(objects) } });
    expect(again.status).toBe(202);
    const lastId = (again.json.messages as { id: string }[]).at(-1)!.id;
    const st = await eventually(async () => b.ctx.db.selectFrom('taxii_status').selectAll().where('message_id', '=', lastId).executeTakeFirst());
    expect(st.failure_count).toBe(0);
    const count = await b.ctx.db.selectFrom('stix_objects').select((e) => e.fn.countAll<number>().as('n')).where('object_id', 'in', [...ids]).executeTakeFirstOrThrow();
    expect(count.n).toBe(3000);
  });

  it('REST: a user without the cert channel may not send indicators (403), nothing queued', async () => {
    const before = await messageCount(a);
    const r = await api(a.address)('/api/v1/indicators', tokens.olga!, { method: 'POST', body: { to: 'ru', bundle: bundle([indicator()]) } });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('forbidden');
    expect(await messageCount(a)).toBe(before);
  });

  it('TLP:RED indicators reach only their named recipients at ru', async () => {
    const o = indicator();
    const r = await api(a.address)('/api/v1/indicators', tokens.ivan!, { method: 'POST', body: { to: 'ru', bundle: bundle([o]), tlp: 'red', recipients: ['carla'] } });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    const got = await eventually(async () => ((await inbound('carla')).some((x) => x.id === o.id) ? true : undefined));
    expect(got).toBe(true);
    expect((await inbound('mike')).some((x) => x.id === o.id)).toBe(false);
    // Not even the node administrator of ru reads it.
    const adm = taxiiClient(b.address, ru.token);
    const c = await adm('/taxii2/api/collections/inbound-us/');
    expect((await adm(`/taxii2/api/collections/${String(c.json!.id)}/objects/${String(o.id)}/`)).status).toBe(404);
  });
});

describe('what arrives', () => {
  it('an arriving bundle with an invalid object: the message is receipted, its valid objects stored, the failure recorded with its reason', async () => {
    const good = indicator();
    const text = JSON.stringify(bundle([good, { ...indicator(), pattern: '[broken' }]));
    const bytes = Buffer.from(text);
    const env = await enqueue(a.ctx, {
      to: 'ru', kind: 'indicators', channel: 'cert', priority: 'routine', tlp: 'green', body: { stix: { objects: 2 } },
      attachments: [{ name: 'bundle.json', media_type: 'application/stix+json', size: bytes.length, sha256: sha256Hex(bytes), content: bytes.toString('base64') }],
    });
    a.delivery.wake();
    const st = await eventually(async () => b.ctx.db.selectFrom('taxii_status').selectAll().where('message_id', '=', env.id).executeTakeFirst());
    expect(st).toMatchObject({ total_count: 2, success_count: 1, failure_count: 1 });
    const part = await b.ctx.db.selectFrom('taxii_status_parts').selectAll().where('status_id', '=', st.id).executeTakeFirstOrThrow();
    expect(JSON.parse(part.failures)).toEqual([expect.objectContaining({ message: expect.stringMatching(/^pattern: /) as string })]);
    expect((await inbound('carla')).some((x) => x.id === good.id)).toBe(true);
  });

  it('an indicators message must be on cert and carry exactly one bundle (refused at the sender\'s outbox, nothing queued)', async () => {
    const before = await messageCount(a);
    const bytes = Buffer.from(JSON.stringify(bundle([indicator()])));
    const att = { name: 'bundle.json', media_type: 'application/stix+json', size: bytes.length, sha256: sha256Hex(bytes), content: bytes.toString('base64') };
    await expect(enqueue(a.ctx, { to: 'ru', kind: 'indicators', channel: 'law', priority: 'routine', tlp: 'green', body: {}, attachments: [att] }))
      .rejects.toMatchObject({ code: 'channel_mismatch' });
    await expect(enqueue(a.ctx, { to: 'ru', kind: 'indicators', channel: 'cert', priority: 'routine', tlp: 'green', body: {} }))
      .rejects.toMatchObject({ code: 'bundle_invalid' });
    const notBundle = Buffer.from('{"objects":[]}');
    await expect(enqueue(a.ctx, { to: 'ru', kind: 'indicators', channel: 'cert', priority: 'routine', tlp: 'green', body: {}, attachments: [{ ...att, size: notBundle.length, sha256: sha256Hex(notBundle), content: notBundle.toString('base64') }] }))
      .rejects.toMatchObject({ code: 'bundle_invalid' });
    expect(await messageCount(a)).toBe(before);
  });
});
