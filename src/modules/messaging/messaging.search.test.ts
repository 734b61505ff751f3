import { describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { ftsQuery, searchableText } from './messaging.search.js';
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
