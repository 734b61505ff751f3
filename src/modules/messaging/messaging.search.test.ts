import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../adapters/storage/sqlite.js';
import { HotlineError } from '../../shared/errors.js';
import { ftsQuery, indexAll, indexPending, INDEX_BATCH, searchableText } from './messaging.search.js';
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

  it('a summary: the title and the first fields in the reader\'s language, or the first line of the text', () => {
    expect(summaryOf('crisis-alert', alert, 'ru')).toMatch(/^Кризисное оповещение: Распределённая атака/);
    expect(summaryOf('notification', { text: '\nfirst line\nsecond' }, 'en')).toBe('Notification: first line');
    expect(summaryOf('indicators', {}, 'en')).toBe('indicators');
  });
});

describe('the search index is filled in batches behind the store', () => {
  it('indexes what is not indexed yet, oldest first, in batches; a message with nothing to search gets an empty row; a search catches up first', async () => {
    const db = await openSqlite(':memory:');
    try {
      const message = (i: number, kind: string, body: object) => ({
        id: `m-${String(i).padStart(5, '0')}`, direction: 'in' as const, from_party: 'us', to_party: 'ru', seq: i, hash: 'h', kind, channel: 'crisis', case_id: 'c',
        in_reply_to: null, priority: 'routine', tlp: 'green', sent_at: '2026-12-05T00:00:00.000Z', envelope: JSON.stringify({ body }), stored_at: i, receipt: null, receipted_at: null,
      });
      const rows = Array.from({ length: INDEX_BATCH + 20 }, (_, i) => (i % 2 === 0 ? message(i, 'notification', { text: `grid ${i}` }) : message(i, 'indicators', {})));
      for (let i = 0; i < rows.length; i += 100) await db.insertInto('messages').values(rows.slice(i, i + 100)).execute();
      expect(await indexPending(db)).toBe(INDEX_BATCH);
      expect(await indexPending(db)).toBe(20);
      expect(await indexPending(db)).toBe(0);
      const indexed = await db.selectFrom('message_search').select(['id', 'content']).orderBy('rowid').execute();
      expect(indexed.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      expect(indexed[1]!.content).toBe('');
      await db.insertInto('messages').values(message(99_999, 'notification', { text: 'later arrival' })).execute();
      await indexAll(db);
      const found = await db.selectFrom('message_search').select('id').where('content', 'match', ftsQuery('later')).execute();
      expect(found.map((r) => r.id)).toEqual(['m-99999']);
    } finally {
      await db.destroy();
    }
  });
});
