import { afterEach, describe, expect, it } from 'vitest';
import { describeEachStore, describePg, openTestStore } from '../../../test/helpers/pg.js';
import { sql } from 'kysely';
import type { Store } from '../../adapters/storage/schema.js';
import type { MessagesTable } from '../federation/federation.tables.js';
import { HotlineError } from '../../shared/errors.js';
import { ftsQuery, indexAll, indexedFloor, indexPending, INDEX_BATCH, searchableText, searchMatches, searchWords, tsQuery } from './messaging.search.js';
import { summaryOf } from './messaging.summary.js';

const alert = {
  template: 'crisis-alert@1', text: 'Volumetric attack on the grid operator', lang: 'en',
  fields: {
    incident_category: 'ddos', affected_sectors: ['energy', 'finance'], requested_actions: ['mitigate'], confidence: 'high',
    observed_window: { from: '2026-11-30T08:00:00Z', to: '2026-11-30T09:00:00Z' }, indicators: ['198.51.100.7'], from_your_networks: true,
  },
};

describe('the search index text', () => {
  it('holds the title, the labels of the fields present and of their codes in every language, the values and the free text', () => {
    const t = searchableText('crisis-alert', alert)!;
    for (const word of ['Crisis alert', 'Кризисное оповещение', 'Энергетика', 'Финансы и банковский сектор', 'Степень уверенности', '198.51.100.7', '2026-11-30T08:00:00Z', 'Volumetric attack', 'Да']) {
      expect(t).toContain(word);
    }
    // Only the fields the message has: "Number of affected systems" is not in it.
    expect(t).not.toContain('Число затронутых систем');
  });

  it('a kind without a template is found by its free text only, and not at all without one', () => {
    expect(searchableText('indicators', { text: 'QakBot C2' })).toBe('QakBot C2');
    expect(searchableText('indicators', {})).toBeNull();
  });

  it('a query: every word as the start of a word; quotes and operators are text; no word is invalid_argument', () => {
    expect(ftsQuery('оповещ  grid')).toBe('"оповещ"* "grid"*');
    expect(ftsQuery('a" OR "b NEAR(')).toBe('"a"* "OR"* "b"* "NEAR("*');
    expect(() => ftsQuery(' * " ')).toThrow(HotlineError);
  });

  it('PostgreSQL\'s query means the same: every word, a word cut in several a phrase whose last word is a prefix; cut as unicode61 cuts', () => {
    expect(tsQuery('оповещ  grid')).toBe("'оповещ':* & 'grid':*");
    expect(tsQuery('a" OR "b NEAR(')).toBe("'a':* & 'or':* & 'b':* & 'near':*");
    expect(tsQuery('198.51.100.7 Café-au-LAIT')).toBe("'198' <-> '51' <-> '100' <-> '7':* & 'cafe' <-> 'au' <-> 'lait':*");
    expect(searchWords('Кризисное ОПОВЕЩЕНИЕ: 2026-11-30T08:00:00Z, x_y; naïve')).toEqual(['кризисное', 'оповещение', '2026', '11', '30t08', '00', '00z', 'x', 'y', 'naive']);
    expect(() => tsQuery(' * " ')).toThrow(HotlineError);
  });

  it('a summary: the title and the first fields in the reader\'s language, or the first line of the text', () => {
    expect(summaryOf('crisis-alert', alert, 'ru')).toMatch(/^Кризисное оповещение: Распределённая атака/);
    expect(summaryOf('notification', { text: '\nfirst line\nsecond' }, 'en')).toBe('Notification: first line');
    expect(summaryOf('indicators', {}, 'en')).toBe('indicators');
  });
});

function message(i: number, kind: string, body: object): MessagesTable {
  return {
    id: `m-${String(i).padStart(5, '0')}`, direction: 'in' as const, from_party: 'us', to_party: 'ru', seq: i, hash: 'h', kind, channel: 'crisis', case_id: 'c',
    in_reply_to: null, priority: 'routine', tlp: 'green', sent_at: '2026-12-05T00:00:00.000Z', envelope: JSON.stringify({ body }), stored_at: i, receipt: null, receipted_at: null,
  };
}

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
});

async function found(db: Store, typed: string): Promise<string[]> {
  await indexAll(db);
  return (await searchMatches(db, typed).orderBy('id').execute()).map((r) => r.id);
}

describeEachStore('the search index', (open) => {
  it('is filled in batches behind the store: what is not indexed yet, oldest first; a message with nothing to search gets an empty row; a search catches up first', async () => {
    const db = await open();
    stores.push(db);
    const rows = Array.from({ length: INDEX_BATCH + 20 }, (_, i) => (i % 2 === 0 ? message(i, 'notification', { text: `grid ${i}` }) : message(i, 'indicators', {})));
    for (let i = 0; i < rows.length; i += 100) await db.insertInto('messages').values(rows.slice(i, i + 100)).execute();
    expect(await indexPending(db)).toBe(INDEX_BATCH);
    expect(await indexPending(db)).toBe(20);
    expect(await indexPending(db)).toBe(0);
    const indexed = await db.selectFrom('message_search').select(['id', 'content']).orderBy('rowid').execute();
    expect(indexed.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(indexed[1]!.content).toBe('');
    await db.insertInto('messages').values(message(99_999, 'notification', { text: 'later arrival' })).execute();
    expect(await found(db, 'later')).toEqual(['m-99999']);
  });

  it('finds the same messages on SQLite and PostgreSQL: words in any order and case, prefixes, labels in every language, addresses and times as phrases, without diacritics', async () => {
    const db = await open();
    stores.push(db);
    await db.insertInto('messages').values([
      message(1, 'crisis-alert', alert),
      message(2, 'notification', { text: 'Scanning of 192.0.2.0/24 from your networks since 08:55 UTC' }),
      message(3, 'notification', { text: 'Café au lait; the MOLE is naïve' }),
      message(4, 'indicators', {}),
    ]).execute();
    const cases: [string, string[]][] = [
      ['оповещение', ['m-00001']], ['ЭНЕРГЕТИКА', ['m-00001']], ['оповещ', ['m-00001']], ['volumetric grid', ['m-00001']], ['grid volumetric', ['m-00001']],
      ['scann', ['m-00002']], ['nothing-like-this', []], ['mole', ['m-00003']], ['cafe', ['m-00003']], ['CAFÉ AU', ['m-00003']], ['naive', ['m-00003']],
      ['198.51', ['m-00001']], ['51.100.7', ['m-00001']], ['100.51', []], ['192.0.2.0/24', ['m-00002']], ['2026-11-30T08', ['m-00001']],
      ['"grid" attack', ['m-00001']], ['grid scanning', []], ['OR', ['m-00001']], ['NEAR(', []], ['08', ['m-00002']],
    ];
    for (const [typed, ids] of cases) expect([typed, await found(db, typed)]).toEqual([typed, ids]);
  });
});

/** Runs `meanwhile` while message 1's transaction, which drew rowid 1, is still open; then commits it. */
async function whileMessage1Uncommitted(db: Store, meanwhile: () => Promise<void>): Promise<void> {
  let commit!: () => void;
  const held = new Promise<void>((r) => (commit = r));
  let inserted!: () => void;
  const drawn = new Promise<void>((r) => (inserted = r));
  const slow = db.transaction().execute(async (trx) => {
    await trx.insertInto('messages').values(message(1, 'notification', { text: 'slow writer' })).execute();
    inserted();
    await held;
  });
  try {
    // A failed insert ends the wait too (it would otherwise never be drawn).
    await Promise.race([drawn, slow]);
    await meanwhile();
  } finally {
    commit();
    await slow;
  }
}

describePg('the search index on PostgreSQL', () => {
  it('indexes a message whose transaction drew its rowid before a later message was indexed and committed after (rowids are not in commit order)', async () => {
    const db = await openTestStore('postgres');
    stores.push(db);
    // The first message's transaction draws rowid 1 and stays open while the second (rowid 2)
    // commits and is indexed, in several passes.
    await whileMessage1Uncommitted(db, async () => {
      await db.insertInto('messages').values(message(2, 'notification', { text: 'fast writer' })).execute();
      for (let i = 0; i < 3; i++) await indexPending(db);
      expect(await found(db, 'writer')).toEqual(['m-00002']);
    });
    const rowids = await sql<{ rowid: number }>`select rowid from messages order by id`.execute(db);
    expect(rowids.rows.map((r) => Number(r.rowid))).toEqual([1, 2]);
    expect(await found(db, 'writer')).toEqual(['m-00001', 'm-00002']);
    // And later passes, with the horizon moved past both, still find what comes next.
    for (let i = 0; i < 3; i++) await indexPending(db);
    await db.insertInto('messages').values(message(3, 'notification', { text: 'third writer' })).execute();
    expect(await found(db, 'writer')).toEqual(['m-00001', 'm-00002', 'm-00003']);
  });

  it('behind a flood, each full batch moves the floor on (a walk starts where the last one ended), never past a transaction still open', async () => {
    const db = await openTestStore('postgres');
    stores.push(db);
    const floors: number[] = [];
    // Message 1 draws rowid 1 and stays uncommitted while 2..11 commit.
    await whileMessage1Uncommitted(db, async () => {
      for (let i = 2; i <= 11; i++) await db.insertInto('messages').values(message(i, 'notification', { text: `writer ${i}` })).execute();
      for (let i = 0; i < 3; i++) floors.push((await indexPending(db, 2), indexedFloor(db)));
    });
    // While rowid 1 could still commit, the floor stays below it.
    expect(floors).toEqual([0, 0, 0]);
    // Then full batches of 2 (rowids 1 and 8 to 11 are left) move it batch by batch: to the last
    // rowid each took, and past the rest once a batch is not full.
    for (let i = 0; i < 3; i++) floors.push((await indexPending(db, 2), indexedFloor(db)));
    expect(floors.slice(3)).toEqual([8, 10, 11]);
    expect(await found(db, 'writer')).toEqual(Array.from({ length: 11 }, (_, i) => `m-${String(i + 1).padStart(5, '0')}`));
  });
});
