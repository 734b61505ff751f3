/**
 * Issue 3, bad input for the directory and ping tests: envelopes forged exactly as `us` would
 * sign them, POSTed to a real `ru` node. A directory update about another party, a malformed one,
 * and a pong for a ping ru never sent to us are refused per envelope with their code, and change
 * nothing; an older or equal version is receipted and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoTime } from '../src/shared/clock.js';
import { uuidv7 } from '../src/shared/ids.js';
import { loadKeys } from '../src/modules/identity/identity.keys.js';
import { signEnvelope } from '../src/modules/federation/federation.envelope.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import { GENESIS_HASH, type Envelope, type EnvelopeResult, type UnsignedEnvelope } from '../src/modules/federation/federation.types.js';
import { viewDirectory } from '../src/modules/directory/directory.publish.js';
import { reachability, sendPing } from '../src/modules/directory/directory.pings.js';
import type { DirectoryTables } from '../src/modules/directory/directory.tables.js';
import type { RunningNode } from '../src/main.js';
import { makeHome, peerAll, tempDir, type TestHome } from './helpers/nodes.js';

let ru: RunningNode;
let usKey: KeyObject;

beforeAll(async () => {
  const dir = tempDir();
  const homes: TestHome[] = [];
  for (const party of ['us', 'ru', 'fr']) homes.push(await makeHome(party, {}, dir));
  await peerAll(...homes);
  usKey = loadKeys(readFileSync(join(homes[0]!.home, 'node.key'), 'utf8')).privateKey;
  // Only ru runs; us and fr are keys and homes. ru's own messages stay in its outbox.
  ru = await homes[1]!.start({ runDelivery: false, runPings: false });
});
afterAll(async () => {
  await ru?.stop();
});

/** An envelope from us to ru, chained on what ru holds, signed with us's key. */
async function forge(fields: Partial<UnsignedEnvelope>): Promise<Envelope> {
  const link = await getLink(ru.ctx.db, 'us', 'ru');
  const id = uuidv7();
  return signEnvelope({
    v: 1, id, from: 'us', to: 'ru', seq: (link?.last_seq ?? 0) + 1, prev: link?.head_hash ?? GENESIS_HASH, sent_at: isoTime(Date.now()),
    kind: 'notification', channel: 'crisis', case: id, in_reply_to: null, priority: 'routine', tlp: 'amber', body: { text: 'forged' },
    ...fields,
  } as UnsignedEnvelope, usKey);
}

async function post(env: Envelope): Promise<EnvelopeResult> {
  const res = await fetch(`${ru.address}/federation/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelopes: [env] }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: EnvelopeResult[] }).results[0]!;
}

/** Everything ru holds about links, messages and the directory. */
async function snapshot(): Promise<unknown> {
  const db: Kysely<DirectoryTables> = ru.ctx.db;
  return {
    messages: await ru.ctx.db.selectFrom('messages').selectAll().orderBy('id').execute(),
    links: await ru.ctx.db.selectFrom('links').selectAll().orderBy('from_party').orderBy('to_party').execute(),
    contacts: await db.selectFrom('directory_contacts').selectAll().orderBy('party').orderBy('id').execute(),
    rota: await db.selectFrom('directory_rota').selectAll().orderBy('party').orderBy('channel').orderBy('position').execute(),
    parties: await db.selectFrom('directory_parties').selectAll().orderBy('party').execute(),
    pings: await db.selectFrom('directory_pings').selectAll().orderBy('id').execute(),
  };
}

async function refused(env: Envelope, code: string, message: RegExp): Promise<void> {
  const before = await snapshot();
  const r = await post(env);
  expect(r, JSON.stringify(r)).toMatchObject({ id: env.id, ok: false, error: { code } });
  expect((r as Extract<EnvelopeResult, { ok: false }>).error.message).toMatch(message);
  expect(await snapshot()).toEqual(before);
}

const contact = { id: uuidv7(), channel: 'crisis', function: 'Duty officer', name: 'Jane Smith', languages: ['en'], hours: '24/7', phone: '+1 202 555 0100', email: 'duty@us.example' };
const update = (version: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  party: 'us', version, contacts: [contact], rota: { crisis: { primary: contact.id, backup: null, supervisor: null } }, ...over,
});
const usEntry = async (): Promise<unknown> => (await viewDirectory(ru.ctx, { party: 'us' }))[0];

describe('directory-update from a peer', () => {
  it('about another party: refused with directory_party_mismatch, nothing changed', async () => {
    await refused(await forge({ kind: 'directory-update', body: update(1, { party: 'fr' }) }), 'directory_party_mismatch', /from "us" about another party \("fr"\)/);
    expect(await viewDirectory(ru.ctx, { party: 'fr' })).toMatchObject([{ party: 'fr', version: null }]);
  });

  it('malformed: refused with directory_invalid naming the field, nothing changed', async () => {
    await refused(await forge({ kind: 'directory-update', body: update(1, { contacts: [{ ...contact, email: 'nobody' }] }) }), 'directory_invalid', /contacts\[0\]\.email/);
    await refused(await forge({ kind: 'directory-update', body: { text: 'our contacts changed' } }), 'directory_invalid', /expected the fields contacts,party,rota,version/);
  });

  it('a newer version replaces; an older or equal one is receipted and changes nothing', async () => {
    expect(await post(await forge({ kind: 'directory-update', body: update(5) }))).toMatchObject({ ok: true });
    const v5 = await usEntry();
    expect(v5).toMatchObject({ version: 5, channels: expect.arrayContaining([expect.objectContaining({ channel: 'crisis', contacts: [{ ...contact, party: 'us', user: null }] })]) });
    for (const version of [3, 5]) {
      const before = await snapshot();
      const env = await forge({ kind: 'directory-update', body: update(version, { contacts: [], rota: {} }) });
      expect(await post(env)).toMatchObject({ ok: true });
      const after = (await snapshot()) as { messages: { id: string }[] };
      // Only the message itself was stored (and the link moved); the directory is as it was.
      expect(after.messages.map((m) => m.id)).toContain(env.id);
      expect({ ...(after as object), messages: undefined, links: undefined }).toEqual({ ...(before as object), messages: undefined, links: undefined });
      expect(await usEntry()).toEqual(v5);
    }
    expect(await post(await forge({ kind: 'directory-update', body: update(6, { contacts: [], rota: {} }) }))).toMatchObject({ ok: true });
    expect(await usEntry()).toMatchObject({ version: 6, channels: expect.arrayContaining([expect.objectContaining({ channel: 'crisis', contacts: [] })]) });
  });
});

describe('pong from a peer', () => {
  const pongBody = { template: 'pong@1', fields: { officer: 'Jane Smith' }, text: 'pong' };

  it('for a ping ru never sent: refused with pong_without_ping, nothing changed', async () => {
    await refused(await forge({ kind: 'pong', in_reply_to: uuidv7(), body: pongBody }), 'pong_without_ping', /did not send to "us"/);
    await refused(await forge({ kind: 'pong', in_reply_to: null, body: pongBody }), 'pong_without_ping', /no ping/);
  });

  it('naming a ping ru sent to another party, or on another channel: refused with pong_without_ping, nothing changed', async () => {
    const toFr = await sendPing(ru.ctx, { to: 'fr', channel: 'crisis' });
    const toUs = await sendPing(ru.ctx, { to: 'us', channel: 'crisis' });
    await refused(await forge({ kind: 'pong', case: toFr.case, in_reply_to: toFr.id, body: pongBody }), 'pong_without_ping', /did not send to "us"/);
    await refused(await forge({ kind: 'pong', channel: 'cert', case: toUs.case, in_reply_to: toUs.id, body: pongBody }), 'pong_without_ping', /on cert/);
    // The real answer is accepted and counted.
    expect(await post(await forge({ kind: 'pong', case: toUs.case, in_reply_to: toUs.id, body: pongBody }))).toMatchObject({ ok: true });
    const rows = await reachability(ru.ctx, { channel: 'crisis' });
    expect(rows.find((r) => r.peer === 'us')).toMatchObject({ sent: 1, answered: 1, last_officer: 'Jane Smith' });
    expect(rows.find((r) => r.peer === 'fr')).toMatchObject({ sent: 1, answered: 0 });
  });

  it('without the officer: refused, nothing changed', async () => {
    const toUs = await sendPing(ru.ctx, { to: 'us', channel: 'cert' });
    const before = await snapshot();
    const r = await post(await forge({ kind: 'pong', channel: 'cert', case: toUs.case, in_reply_to: toUs.id, body: { template: 'pong@1', fields: {}, text: 'pong' } }));
    expect(r.ok).toBe(false);
    expect(['template_mismatch', 'directory_invalid']).toContain((r as Extract<EnvelopeResult, { ok: false }>).error.code);
    expect(await snapshot()).toEqual(before);
  });
});
