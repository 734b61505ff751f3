import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/pg.js';
import { describeEachDialect, storeDialect } from '../../../test/helpers/stores.js';
import type { Store } from '../../adapters/storage/schema.js';
import { HotlineError } from '../../shared/errors.js';
import { audit, parseSince, recordAudit, searchAudit, verifyAudit } from './audit.service.js';
import type { AuditTable } from './audit.tables.js';

let db: Store;
const T0 = Date.UTC(2026, 0, 1);

/** Five records: ivan sends twice from REST, the CLI adds a user and a token, the node prunes. */
async function fill(): Promise<void> {
  const rest = { who: 'ivan', address: '127.0.0.1' };
  const cli = { who: 'cli:root', address: 'cli' };
  await audit.record(db, { actor: rest, action: 'message.send', subject: 'm1', details: { to: 'ru' } }, T0);
  await audit.record(db, { actor: cli, action: 'user.add', subject: 'olga', details: { role: 'officer' } }, T0 + 1000);
  await audit.record(db, { actor: rest, action: 'message.send', subject: 'm2', details: { to: 'ru' } }, T0 + 2000);
  await audit.record(db, { actor: cli, action: 'token.create', subject: 't1', details: { user: 'olga' } }, T0 + 3000);
  await audit.record(db, { actor: { who: 'node', address: 'node' }, action: 'prune', details: { deleted: { statuses: 2 } } }, T0 + 4000);
}

async function rows(): Promise<AuditTable[]> {
  return db.selectFrom('audit').selectAll().orderBy('seq').execute();
}

beforeEach(async () => {
  db = await openTestStore(storeDialect());
  await fill();
});
afterEach(async () => {
  await db.destroy();
});

describeEachDialect('the audit trail', () => {
  it('chains each record to the previous one and verifies whole', async () => {
    const r = await rows();
    expect(r.map((x) => Number(x.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(r[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < r.length; i++) expect(r[i]!.prev_hash).toBe(r[i - 1]!.hash);
    expect(await verifyAudit(db)).toEqual({ ok: true, records: 5, head_hash: r[4]!.hash, problem: null });
  });

  it('a one-byte change in a stored record is found and names that record', async () => {
    const r = (await rows())[2]!;
    await db.updateTable('audit').set({ details: r.details.replace('ru', 'rv') }).where('seq', '=', 3).execute();
    const v = await verifyAudit(db);
    expect(v.ok).toBe(false);
    expect(v.problem).toMatchObject({ seq: 3, id: r.id, code: 'audit_changed' });
  });

  it('a changed actor, time or address is found too', async () => {
    for (const change of [{ actor: 'olga' }, { at: T0 + 1 }, { address: '10.0.0.1' }]) {
      const before = (await rows())[1]!;
      await db.updateTable('audit').set(change).where('seq', '=', 2).execute();
      expect((await verifyAudit(db)).problem).toMatchObject({ seq: 2, code: 'audit_changed' });
      await db.updateTable('audit').set(before).where('seq', '=', 2).execute();
      expect((await verifyAudit(db)).ok).toBe(true);
    }
  });

  it('a deleted record is found (in the middle: a gap; the last one: the head)', async () => {
    await db.deleteFrom('audit').where('seq', '=', 2).execute();
    const v = await verifyAudit(db);
    expect(v.ok).toBe(false);
    expect(v.problem).toMatchObject({ seq: 2, code: 'audit_removed' });
    expect(v.problem?.message).toContain('#2 is missing');
    await db.deleteFrom('audit').where('seq', '>=', 2).execute();
    expect((await verifyAudit(db)).problem).toMatchObject({ code: 'audit_head_mismatch', seq: 5 });
  });

  it('a deleted record renumbered to close the gap is found', async () => {
    await db.deleteFrom('audit').where('seq', '=', 2).execute();
    for (const s of [3, 4, 5]) await db.updateTable('audit').set({ seq: s - 1 }).where('seq', '=', s).execute();
    expect((await verifyAudit(db)).problem).toMatchObject({ seq: 2, code: 'audit_changed' });
  });

  it('two swapped records are found', async () => {
    const [, b, c] = await rows();
    // Swap their places: record 3 now stands at seq 2 and record 2 at seq 3.
    await db.updateTable('audit').set({ seq: 100 }).where('seq', '=', 2).execute();
    await db.updateTable('audit').set({ seq: 2 }).where('seq', '=', 3).execute();
    await db.updateTable('audit').set({ seq: 3 }).where('seq', '=', 100).execute();
    const v = await verifyAudit(db);
    expect(v.problem).toMatchObject({ seq: 2, id: c!.id });
    // And with the seqs kept, their contents exchanged:
    await db.updateTable('audit').set({ seq: 100 }).where('seq', '=', 3).execute();
    await db.updateTable('audit').set({ seq: 3 }).where('seq', '=', 2).execute();
    await db.updateTable('audit').set({ seq: 2 }).where('seq', '=', 100).execute();
    expect((await verifyAudit(db)).ok).toBe(true);
    const { seq: _b, ...bRest } = b!;
    const { seq: _c, ...cRest } = c!;
    await db.updateTable('audit').set({ ...cRest, id: 'x' }).where('seq', '=', 2).execute();
    await db.updateTable('audit').set(bRest).where('seq', '=', 3).execute();
    await db.updateTable('audit').set({ id: c!.id }).where('seq', '=', 2).execute();
    expect((await verifyAudit(db)).problem).toMatchObject({ seq: 2, id: c!.id, code: 'audit_changed' });
  });

  it('walks the trail in pages', async () => {
    expect((await verifyAudit(db, 2)).ok).toBe(true);
    await db.updateTable('audit').set({ subject: 'm9' }).where('seq', '=', 5).execute();
    expect((await verifyAudit(db, 2)).problem).toMatchObject({ seq: 5, code: 'audit_changed' });
  });

  it('is written in the caller\'s transaction: a rolled-back action leaves no record', async () => {
    await expect(db.transaction().execute(async (trx) => {
      await recordAudit(trx, { actor: { who: 'ivan', address: 'cli' }, action: 'user.add', subject: 'x' }, T0);
      throw new Error('the action failed');
    })).rejects.toThrow('the action failed');
    expect((await rows()).length).toBe(5);
    expect((await verifyAudit(db)).ok).toBe(true);
  });

  it('never holds a message body, a text or a secret', async () => {
    for (const key of ['body', 'text', 'secret', 'password']) {
      const e = await audit.record(db, { actor: { who: 'ivan', address: 'cli' }, action: 'message.send', details: { [key]: 'x' } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HotlineError);
    }
    expect((await rows()).length).toBe(5);
  });

  it('searches by user, action and time, newest first, with a limit', async () => {
    const now = T0 + 10_000;
    expect((await searchAudit(db, {}, now)).map((r) => r.seq)).toEqual([5, 4, 3, 2, 1]);
    expect((await searchAudit(db, { user: 'ivan' }, now)).map((r) => r.subject)).toEqual(['m2', 'm1']);
    expect((await searchAudit(db, { action: 'token.create' }, now)).map((r) => [r.actor, r.address, r.subject])).toEqual([['cli:root', 'cli', 't1']]);
    expect((await searchAudit(db, { since: new Date(T0 + 2000).toISOString() }, now)).map((r) => r.seq)).toEqual([5, 4, 3]);
    expect((await searchAudit(db, { since: '7s' }, now)).map((r) => r.seq)).toEqual([5, 4]);
    expect((await searchAudit(db, { limit: 2 }, now)).map((r) => r.seq)).toEqual([5, 4]);
    expect((await searchAudit(db, { limit: 2, before: 4 }, now)).map((r) => r.seq)).toEqual([3, 2]);
    expect((await searchAudit(db, { user: 'ivan', action: 'user.add' }, now))).toEqual([]);
    await expect(searchAudit(db, { action: 'nothing' }, now)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(searchAudit(db, { limit: 0 }, now)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('--since takes a time or a duration, and refuses anything else', () => {
    expect(parseSince('24h', T0)).toBe(T0 - 86_400_000);
    expect(parseSince('2026-01-01T00:00:00Z', 0)).toBe(T0);
    expect(() => parseSince('yesterday', T0)).toThrow(/--since/);
  });
});
