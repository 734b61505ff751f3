import { afterEach, expect, it } from 'vitest';
import { carry, describeEachDialect, makeStorePair, send, type StoreNode, type StorePair } from '../../../test/helpers/stores.js';
import { generateKeys } from '../identity/identity.keys.js';
import { insertKey } from './federation.keys.js';
import { GENESIS_HASH } from './federation.types.js';
import { verifyStore, type VerifyReport } from './federation.verify.js';

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});


/** east → west: 4 messages; west → east: 2; all carried and receipted. */
async function exchanged(): Promise<StorePair> {
  pair = await makeStorePair();
  await send(pair.a, pair.b, 4);
  await send(pair.b, pair.a, 2);
  await carry(pair.a, pair.b);
  await carry(pair.b, pair.a);
  return pair;
}

const verify = (n: StoreNode, pageSize = 2): Promise<VerifyReport> => verifyStore({ db: n.db, self: n.self, keys: n.keys, pageSize });

async function idAt(n: StoreNode, from: string, to: string, seq: number): Promise<string> {
  const row = await n.db.selectFrom('messages').select('id').where('from_party', '=', from).where('to_party', '=', to).where('seq', '=', seq).executeTakeFirstOrThrow();
  return row.id;
}

async function where(n: StoreNode, from: string, to: string, seq: number): Promise<string> {
  return `link ${from}→${to} seq ${seq} (id ${await idAt(n, from, to, seq)})`;
}

/** Replaces text inside the stored envelope of one message, leaving every other column alone. */
async function editEnvelope(n: StoreNode, id: string, from: string, to: string): Promise<void> {
  const row = await n.db.selectFrom('messages').select('envelope').where('id', '=', id).executeTakeFirstOrThrow();
  const edited = row.envelope.replace(from, to);
  expect(edited).not.toBe(row.envelope);
  await n.db.updateTable('messages').set({ envelope: edited }).where('id', '=', id).execute();
}

const problems = (r: VerifyReport): string[] => r.problems.map((p) => `${p.code} @ ${p.where}`);

describeEachDialect('verifyStore', () => {
  it('finds nothing wrong with a clean store, and describes its links (any page size)', async () => {
    const { a, b } = await exchanged();
    for (const pageSize of [1, 2, 1000]) {
      const ra = await verify(a, pageSize);
      expect(ra.problems).toEqual([]);
      expect(ra.ok).toBe(true);
      expect(ra.links.map((l) => [l.from, l.to, l.messages, l.last_seq])).toEqual([['east', 'west', 4, 4], ['west', 'east', 2, 2]]);
      const heads = await a.db.selectFrom('links').select(['from_party', 'head_hash']).orderBy('from_party').execute();
      expect(ra.links.map((l) => l.head_hash)).toEqual(heads.map((h) => h.head_hash));
    }
    expect((await verify(b)).ok).toBe(true);
  });

  it('reports an empty links row at genesis as a link with no messages', async () => {
    pair = await makeStorePair();
    await send(pair.a, pair.b, 1);
    await pair.a.db.deleteFrom('messages').execute();
    await pair.a.db.updateTable('links').set({ last_seq: 0, head_hash: GENESIS_HASH }).execute();
    const r = await verify(pair.a);
    expect(r).toMatchObject({ ok: true, links: [{ from: 'east', to: 'west', messages: 0, last_seq: 0, head_hash: GENESIS_HASH }] });
  });

  it('detects a changed character in a stored envelope: bad signature, hash mismatch, broken chain', async () => {
    const { a, b } = await exchanged();
    await editEnvelope(a, await idAt(a, 'east', 'west', 2), 'message 2 from east', 'massage 2 from east');
    const r = await verify(a);
    expect(r.ok).toBe(false);
    const at2 = await where(a, 'east', 'west', 2);
    expect(problems(r)).toEqual(expect.arrayContaining([`bad_signature @ ${at2}`, `hash_mismatch @ ${at2}`, `prev_mismatch @ ${await where(a, 'east', 'west', 3)}`]));
    expect(r.problems.every((p) => p.where.startsWith('link east→west'))).toBe(true);

    // Inbound: verified against the peer's pinned key.
    await editEnvelope(b, await idAt(b, 'east', 'west', 4), 'message 4 from east', 'message 4 from eats');
    const rb = await verify(b);
    expect(problems(rb)).toEqual(expect.arrayContaining([`bad_signature @ ${await where(b, 'east', 'west', 4)}`, 'link_head_mismatch @ link east→west']));
  });

  it('detects a changed hash column', async () => {
    const { a } = await exchanged();
    await a.db.updateTable('messages').set({ hash: 'f'.repeat(64) }).where('id', '=', await idAt(a, 'east', 'west', 3)).execute();
    expect(problems(await verify(a))).toEqual([`hash_mismatch @ ${await where(a, 'east', 'west', 3)}`]);
  });

  it('detects a deleted message as a gap in the link', async () => {
    const { a } = await exchanged();
    await a.db.deleteFrom('messages').where('id', '=', await idAt(a, 'east', 'west', 2)).execute();
    const r = await verify(a);
    expect(problems(r)).toEqual(['seq_gap @ link east→west seq 2']);
    expect(r.problems[0]!.message).toMatch(/jumps from seq 1 to 3/);
  });

  it('detects a links row whose head is not the last message', async () => {
    const { a } = await exchanged();
    await a.db.updateTable('links').set({ head_hash: 'a'.repeat(64) }).where('from_party', '=', 'west').execute();
    await a.db.updateTable('links').set({ last_seq: 3 }).where('from_party', '=', 'east').execute();
    const r = await verify(a);
    expect(problems(r)).toEqual(['link_head_mismatch @ link east→west', 'link_head_mismatch @ link west→east']);
    expect(r.problems[0]!.message).toMatch(/beyond the link's last_seq 3/);
  });

  it('detects non-canonical text and columns that disagree with the envelope', async () => {
    const { a } = await exchanged();
    const id = await idAt(a, 'east', 'west', 1);
    const row = await a.db.selectFrom('messages').select('envelope').where('id', '=', id).executeTakeFirstOrThrow();
    await a.db.updateTable('messages').set({ envelope: ` ${row.envelope}`, hash: 'b'.repeat(64) }).where('id', '=', id).execute();
    await a.db.updateTable('messages').set({ priority: 'flash' }).where('id', '=', await idAt(a, 'east', 'west', 4)).execute();
    const r = await verify(a);
    expect(problems(r)).toEqual(expect.arrayContaining([`not_canonical @ ${await where(a, 'east', 'west', 1)}`, `field_mismatch @ ${await where(a, 'east', 'west', 4)}`]));
    expect(r.problems.find((p) => p.code === 'field_mismatch')?.message).toMatch(/priority is "flash" but the envelope says "routine"/);
  });

  it('reports a stored envelope that has no canonical form (1e400, a lone surrogate) as not_canonical and goes on', async () => {
    const { a } = await exchanged();
    for (const [seq, from, to] of [[1, '"seq":1', '"seq":1e400'], [2, '"from":"east"', '"from":"\\ud800"']] as const) {
      const id = await idAt(a, 'east', 'west', seq);
      const row = await a.db.selectFrom('messages').select('envelope').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.envelope).toContain(from);
      await a.db.updateTable('messages').set({ envelope: row.envelope.replace(from, to) }).where('id', '=', id).execute();
    }
    const r = await verify(a);
    expect(problems(r)).toEqual(expect.arrayContaining([`not_canonical @ ${await where(a, 'east', 'west', 1)}`, `not_canonical @ ${await where(a, 'east', 'west', 2)}`]));
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/no canonical \(JCS\) form: \$\.seq is a number that is not finite/);
  });

  it('detects altered receipts, given and received', async () => {
    const { a } = await exchanged();
    for (const [from, to] of [['east', 'west'], ['west', 'east']] as const) {
      const id = await idAt(a, from, to, 1);
      const row = await a.db.selectFrom('messages').select('receipt').where('id', '=', id).executeTakeFirstOrThrow();
      const receipt = JSON.parse(row.receipt ?? '{}') as Record<string, unknown>;
      await a.db.updateTable('messages').set({ receipt: JSON.stringify({ ...receipt, received_at: '2020-01-01T00:00:00.000Z' }) }).where('id', '=', id).execute();
    }
    expect(problems(await verify(a))).toEqual([`bad_receipt @ ${await where(a, 'east', 'west', 1)}`, `bad_receipt @ ${await where(a, 'west', 'east', 1)}`]);
  });

  it('verifies inbound history with keys that have since been rotated out, and reports an unknown peer', async () => {
    const { a } = await exchanged();
    // The key west signed with ends at 1 ms after the epoch... and is listed valid from then: a rotation
    // that ended long after the messages were signed verifies them; the history is what counts.
    await a.db.updateTable('key_history').set({ valid_until: Date.now() + 60_000 }).where('party', '=', 'west').execute();
    await insertKey(a.db, 'west', { key: generateKeys().keys.publicKeyB64, added_at: 2, valid_from: Date.now() + 60_000, valid_until: null, revoked_since: null, origin: 'key-change', statement_id: null });
    expect(problems(await verify(a))).toEqual([]);

    // Ended before the messages were signed: the key was not valid then.
    await a.db.updateTable('key_history').set({ valid_until: 1 }).where('party', '=', 'west').where('origin', '=', 'pinned').execute();
    expect(problems(await verify(a)).filter((p) => p.startsWith('key_expired')).length).toBeGreaterThan(0);

    await a.db.deleteFrom('key_history').where('party', '=', 'west').execute();
    expect(problems(await verify(a))).toEqual(['unknown_peer @ link east→west', 'unknown_peer @ link west→east']);
  });

  it('lists at most maxProblems and counts the rest', async () => {
    const { a } = await exchanged();
    await a.db.updateTable('messages').set({ hash: 'c'.repeat(64) }).execute();
    const r = await verifyStore({ db: a.db, self: a.self, keys: a.keys, maxProblems: 2 });
    expect(r.problems).toHaveLength(2);
    expect(r.omitted).toBe(4);
    expect(r.ok).toBe(false);
  });
});
