import { afterEach, expect, it } from 'vitest';
import { describeEachDialect, makeStorePair, send, snapshot, type StorePair } from '../../../test/helpers/stores.js';
import { HotlineError } from '../../shared/errors.js';
import { exportEnvelopes, importCarriage, type CarriageImport, type ReceiptsCarriage } from './federation.carriage.js';
import { signEnvelope, signingInput } from './federation.envelope.js';
import { getLink } from './federation.links.js';
import type { Envelope } from './federation.types.js';

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function setup(limits = {}): Promise<StorePair> {
  pair = await makeStorePair({ limits });
  return pair;
}

function envelopesResult(r: CarriageImport): Extract<CarriageImport, { type: 'envelopes' }> {
  if (r.type !== 'envelopes') throw new Error(`expected an envelopes import, got ${r.type}`);
  return r;
}

function receiptsResult(r: CarriageImport): Extract<CarriageImport, { type: 'receipts' }> {
  if (r.type !== 'receipts') throw new Error(`expected a receipts import, got ${r.type}`);
  return r;
}

const codes = (r: CarriageImport): (string | undefined)[] => r.results.map((x) => (x.ok ? undefined : x.error?.code));

async function carriageError(p: Promise<unknown>): Promise<HotlineError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof HotlineError)) throw new Error(`expected a HotlineError, got ${String(e)}`);
  return e;
}

describeEachDialect('offline carriage', () => {
  it('exports the unreceipted outbound envelopes of a link, in seq order, as parsed envelope objects', async () => {
    const { a, b } = await setup();
    const sent = await send(a, b, 3);
    const file = await exportEnvelopes(a, b.self.party);
    expect(file).toMatchObject({ format: 'hotline-carriage', v: 1, type: 'envelopes', from: 'east', to: 'west' });
    expect(Number.isNaN(Date.parse(file.exported_at))).toBe(false);
    expect(file.envelopes).toEqual(sent);
    expect(file.envelopes.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await exportEnvelopes(a, 'west', { fromSeq: 3 })).envelopes.map((e) => e.seq)).toEqual([3]);
  });

  it('refuses to export to a party that is not pinned, and gives an empty file for a pinned peer with no link', async () => {
    const { a, b } = await setup();
    expect((await carriageError(exportEnvelopes(a, 'nowhere'))).code).toBe('unknown_peer');
    expect((await exportEnvelopes(a, b.self.party)).envelopes).toEqual([]);
  });

  it('imports envelopes through the receive path, answers with receipts, and a second import changes nothing', async () => {
    const { a, b } = await setup();
    await send(a, b, 3);
    const file = JSON.parse(JSON.stringify(await exportEnvelopes(a, 'west'))) as unknown;
    const first = envelopesResult(await importCarriage(b, file));
    expect(first.results.every((r) => r.ok)).toBe(true);
    expect(first.receipts).toMatchObject({ format: 'hotline-carriage', v: 1, type: 'receipts', from: 'west', to: 'east' });
    expect(first.receipts.receipts.map((r) => r.seq)).toEqual([1, 2, 3]);
    const after = await snapshot(b.db);
    expect(after.messages).toHaveLength(3);
    expect(after.links).toHaveLength(1);
    expect(after.links[0]).toMatchObject({ from_party: 'east', to_party: 'west', last_seq: 3 });

    const second = envelopesResult(await importCarriage(b, file));
    expect(second.receipts.receipts).toEqual(first.receipts.receipts);
    expect(await snapshot(b.db)).toEqual(after);
  });

  it('applies carried receipts on the sender: messages delivered, link advanced; re-import is a no-op', async () => {
    const { a, b } = await setup();
    await send(a, b, 3);
    await a.db.updateTable('links').set({ attempts: 4, last_error: 'network down' }).execute();
    const { receipts } = envelopesResult(await importCarriage(b, await exportEnvelopes(a, 'west')));
    const applied = receiptsResult(await importCarriage(a, JSON.parse(JSON.stringify(receipts)) as unknown));
    expect(applied.results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(applied.advanced).toEqual([{ to: 'west', acked_seq: 3, send_from_seq: 4 }]);
    const rows = await a.db.selectFrom('messages').select(['receipt', 'receipted_at']).orderBy('seq').execute();
    expect(rows.map((r) => JSON.parse(r.receipt ?? 'null') as unknown)).toEqual(receipts.receipts);
    expect(rows.every((r) => r.receipted_at !== null)).toBe(true);
    expect(await getLink(a.db, 'east', 'west')).toMatchObject({ acked_seq: 3, send_from_seq: 4, attempts: 0, last_error: null });
    expect((await exportEnvelopes(a, 'west')).envelopes).toEqual([]);

    const before = await snapshot(a.db);
    const again = receiptsResult(await importCarriage(a, receipts));
    expect(again.results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(again.advanced).toEqual([]);
    expect(await snapshot(a.db)).toEqual(before);
  });

  it('advances the link only as far as every earlier seq has a receipt', async () => {
    const { a, b } = await setup();
    await send(a, b, 4);
    const { receipts } = envelopesResult(await importCarriage(b, await exportEnvelopes(a, 'west')));
    const gappy: ReceiptsCarriage = { ...receipts, receipts: [receipts.receipts[0]!, receipts.receipts[2]!] };
    const partial = receiptsResult(await importCarriage(a, gappy));
    expect(partial.advanced).toEqual([{ to: 'west', acked_seq: 1, send_from_seq: 2 }]);
    expect((await exportEnvelopes(a, 'west')).envelopes.map((e) => e.seq)).toEqual([2, 3, 4]);
    const rest = receiptsResult(await importCarriage(a, { ...receipts, receipts: [receipts.receipts[1]!] }));
    expect(rest.advanced).toEqual([{ to: 'west', acked_seq: 3, send_from_seq: 4 }]);
  });

  it('feeds large files in batches of the receive limit, in order', async () => {
    const { a, b } = await setup({ maxBatchEnvelopes: 2 });
    await send(a, b, 5);
    const r = envelopesResult(await importCarriage(b, await exportEnvelopes(a, 'west')));
    expect(r.results.map((x) => x.ok)).toEqual([true, true, true, true, true]);
    expect(r.receipts.receipts.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a tampered envelope with bad_signature and changes nothing', async () => {
    const { a, b } = await setup();
    await send(a, b, 2);
    const file = await exportEnvelopes(a, 'west');
    const tamper = (f: unknown, seq: number): unknown =>
      JSON.parse(JSON.stringify(f).replace(`message ${seq} from east`, `massage ${seq} from east`)) as unknown;
    const before = await snapshot(b.db);
    const alone = envelopesResult(await importCarriage(b, tamper({ ...file, envelopes: [file.envelopes[0]] }, 1)));
    expect(codes(alone)).toEqual(['bad_signature']);
    expect(alone.receipts.receipts).toEqual([]);
    expect(await snapshot(b.db)).toEqual(before);

    // Only the tampered envelope is refused; the genuine one before it is stored.
    const mixed = envelopesResult(await importCarriage(b, tamper(file, 2)));
    expect(codes(mixed)).toEqual([undefined, 'bad_signature']);
    expect(mixed.receipts.receipts.map((r) => r.seq)).toEqual([1]);
    expect((await snapshot(b.db)).messages.map((m) => Number(m.seq))).toEqual([1]);

    // Once the genuine file is in, the tampered one is still refused and still changes nothing.
    await importCarriage(b, file);
    const stored = await snapshot(b.db);
    expect(stored.messages).toHaveLength(2);
    expect(codes(await importCarriage(b, tamper(file, 2)))).toEqual([undefined, 'bad_signature']);
    expect(await snapshot(b.db)).toEqual(stored);
  });

  it('refuses a re-signed envelope that reuses a stored id with replay_mismatch', async () => {
    const { a, b } = await setup();
    await send(a, b, 1);
    const file = await exportEnvelopes(a, 'west');
    await importCarriage(b, file);
    const stored = await snapshot(b.db);
    const original = file.envelopes[0]!;
    const { sig: _sig, ...unsigned } = { ...original, body: { text: 'another text' } };
    const forged: Envelope = signEnvelope(unsigned, a.keys.privateKey);
    expect(signingInput(forged)).not.toBe(signingInput(original));
    expect(codes(await importCarriage(b, { ...file, envelopes: [forged] }))).toEqual(['replay_mismatch']);
    expect(await snapshot(b.db)).toEqual(stored);
  });

  it('refuses envelopes whose sender is not the file\'s sender', async () => {
    const { a, b } = await setup();
    await send(a, b, 1);
    const file = await exportEnvelopes(a, 'west');
    expect(codes(await importCarriage(b, { ...file, from: 'north' }))).toEqual(['invalid_envelope']);
    expect((await snapshot(b.db)).messages).toEqual([]);
  });

  it('refuses receipts that do not verify or name no envelope of ours, and changes nothing', async () => {
    const { a, b } = await setup();
    await send(a, b, 2);
    const { receipts } = envelopesResult(await importCarriage(b, await exportEnvelopes(a, 'west')));
    const [r1, r2] = receipts.receipts;
    const before = await snapshot(a.db);
    const bad = { ...receipts, receipts: [{ ...r1!, received_at: '2020-01-01T00:00:00.000Z' }, { ...r2!, id: '01900000-0000-7000-8000-000000000000' }, { nonsense: true }] };
    const r = receiptsResult(await importCarriage(a, bad));
    expect(codes(r)).toEqual(['bad_receipt', 'not_found', 'bad_receipt']);
    expect(r.results.map((x) => x.id)).toEqual([r1!.id, '01900000-0000-7000-8000-000000000000', null]);
    expect(r.advanced).toEqual([]);
    expect(await snapshot(a.db)).toEqual(before);
  });

  it.each([
    ['not an object', null, /JSON object/],
    ['an array', [], /JSON object/],
    ['the wrong format', { format: 'zip', v: 1, type: 'envelopes', from: 'east', to: 'west', envelopes: [] }, /"format"/],
    ['the wrong version', { format: 'hotline-carriage', v: 2, type: 'envelopes', from: 'east', to: 'west', envelopes: [] }, /"v"/],
    ['an unknown type', { format: 'hotline-carriage', v: 1, type: 'letters', from: 'east', to: 'west' }, /"type"/],
    ['no sender', { format: 'hotline-carriage', v: 1, type: 'envelopes', to: 'west', envelopes: [] }, /"from"/],
    ['no envelopes array', { format: 'hotline-carriage', v: 1, type: 'envelopes', from: 'east', to: 'west' }, /"envelopes"/],
    ['receipts not an array', { format: 'hotline-carriage', v: 1, type: 'receipts', from: 'west', to: 'east', receipts: {} }, /"receipts"/],
  ])('refuses a file with %s as carriage_invalid before changing anything', async (_what, file, message) => {
    const { a, b } = await setup();
    await send(a, b, 1);
    const before = await snapshot(b.db);
    const e = await carriageError(importCarriage(b, file));
    expect(e.code).toBe('carriage_invalid');
    expect(e.message).toMatch(message);
    expect(await snapshot(b.db)).toEqual(before);
  });
});
