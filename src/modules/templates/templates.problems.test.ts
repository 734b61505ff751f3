import { describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { bodyProblems, validateBody } from './templates.service.js';

/** A crisis alert that fits crisis-alert@1. */
function alert(): { template: string; fields: Record<string, unknown>; text: string; lang: string } {
  return {
    template: 'crisis-alert@1',
    fields: {
      incident_category: 'intrusion', affected_sectors: ['energy'], requested_actions: ['clarify'], confidence: 'high',
      observed_window: { from: '2026-01-15T08:55:00Z', to: '2026-01-15T09:25:00Z' },
    },
    text: 'Significant incident.',
    lang: 'en',
  };
}

describe('every problem of a body at once (issue 10)', () => {
  it('bodyProblems lists each bad member and field in order: body members, unknown fields, then the template\'s fields', () => {
    const b: Record<string, unknown> = { ...alert(), lang: 'english!', colour: 'red' };
    const f = b.fields as Record<string, unknown>;
    f.confidence = 'certain';
    f.affected_systems = 'many';
    f.severity = 'high';
    delete f.observed_window;
    const problems = bodyProblems('crisis-alert', b);
    expect(problems.map((p) => p.field)).toEqual(['colour', 'lang', 'severity', 'observed_window', 'confidence', 'affected_systems']);
    expect(problems.find((p) => p.field === 'confidence')).toMatchObject({ allowed: ['low', 'medium', 'high', 'confirmed'] });
  });

  it('validateBody: one problem keeps its one-line message; several are listed one per line, with details.problems and details.field the first', () => {
    const one = alert();
    one.fields.confidence = 'certain';
    expect(() => validateBody('crisis-alert', one)).toThrow(/: field "confidence": "certain" is not a code of confidence; allowed: low, medium, high, confirmed$/);
    const many = alert();
    many.fields.confidence = 'certain';
    many.fields.affected_systems = -1;
    delete many.fields.incident_category;
    let e: unknown;
    try {
      validateBody('crisis-alert', many);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(HotlineError);
    const err = e as HotlineError;
    expect(err.code).toBe('template_mismatch');
    expect(err.message).toMatch(/crisis-alert@1: 3 problems:\n {2}- field "incident_category" is required and missing.*\n {2}- field "confidence": .*\n {2}- field "affected_systems": /);
    expect(err.details).toMatchObject({ field: 'incident_category', template: 'crisis-alert@1' });
    expect((err.details as { problems: unknown[] }).problems).toHaveLength(3);
  });

  it('a body that fits has no problems; a kind without a template is not checked', () => {
    expect(bodyProblems('crisis-alert', alert())).toEqual([]);
    expect(bodyProblems('indicators', { anything: 1 })).toEqual([]);
  });
});
