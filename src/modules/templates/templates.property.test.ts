/**
 * Properties over every template in templates/: any body generated from a template validates,
 * and any single corruption of one field (wrong value, missing when required, unknown name) is
 * refused with template_mismatch naming that field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { templateCatalog, validateBody } from './templates.service.js';
import type { FieldSpec, Template } from './templates.types.js';

const catalog = templateCatalog();
const templates = [...catalog.templates.values()];

const MIN = Date.UTC(1990, 0, 1);
const MAX = Date.UTC(2100, 0, 1);
const time = fc.integer({ min: MIN, max: MAX }).chain((ms) =>
  fc.boolean().map((withMs) => (withMs ? new Date(ms).toISOString() : `${new Date(ms).toISOString().slice(0, 19)}Z`)));
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const indicator = fc.oneof(
  fc.ipV4(), fc.ipV6(), fc.domain(), fc.webUrl(), fc.emailAddress(), hex(32), hex(40), hex(64), hex(128),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, n]) => `${ip}/${n}`),
);

function codes(spec: FieldSpec): string[] {
  return [...catalog.vocabularies.get(spec.vocabulary!)!.codes.keys()];
}

/** Values that fit the field. */
function valid(spec: FieldSpec): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'text':
      return fc.string({ minLength: 1, maxLength: spec.maxLength ?? 300, unit: 'grapheme' }).filter((s) => s.trim() !== '' && s.length <= (spec.maxLength ?? 300));
    case 'code':
      return fc.constantFrom(...codes(spec));
    case 'codes':
      return fc.uniqueArray(fc.constantFrom(...codes(spec)), { minLength: 1 });
    case 'datetime':
      return time;
    case 'time_window':
      return fc.tuple(time, time).map(([a, b]) => (Date.parse(a) <= Date.parse(b) ? { from: a, to: b } : { from: b, to: a }));
    case 'indicators':
      return fc.uniqueArray(indicator, { minLength: 1, maxLength: 20 });
    case 'integer':
      return fc.integer({ min: spec.min ?? -(2 ** 31), max: spec.max ?? 2 ** 31 });
    case 'boolean':
      return spec.const === undefined ? fc.boolean() : fc.constant(spec.const);
    case 'party':
      return fc.stringMatching(/^[a-z][a-z0-9-]{1,31}$/);
    case 'message_id':
      return fc.uuid();
  }
}

/** Values that do not fit the field, whatever else the body holds. */
function invalid(spec: FieldSpec): fc.Arbitrary<unknown> {
  const common = [null, [1], { a: 1 }];
  switch (spec.type) {
    case 'text':
      return fc.constantFrom('', '   ', 42, true, ...common, ...(spec.maxLength === undefined ? [] : ['x'.repeat(spec.maxLength + 1)]));
    case 'code':
      return fc.constantFrom('not-a-code', 'HIGH', '', 1, ...common, codes(spec));
    case 'codes':
      return fc.constantFrom([], ['not-a-code'], codes(spec)[0], [codes(spec)[0], codes(spec)[0]], 'x', ...common);
    case 'datetime':
      return fc.constantFrom('2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-15 09:30:00', '2026-01-15T09:30:00+03:00', 1768469400000, ...common);
    case 'time_window':
      return fc.constantFrom({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, { from: '2026-01-01T00:00:00Z' },
        { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', tz: 'UTC' }, '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z', { from: 'yesterday', to: 'today' }, ...common);
    case 'indicators':
      return fc.constantFrom([], ['not an indicator'], ['192.0.2.1', '192.0.2.1'], '192.0.2.1', [42], ...common);
    case 'integer':
      return fc.constantFrom(1.5, '7', 2 ** 60, Number.NaN, ...common, ...(spec.min === undefined ? [] : [spec.min - 1]), ...(spec.max === undefined ? [] : [spec.max + 1]));
    case 'boolean':
      return fc.constantFrom('true', 0, 1, ...common, ...(spec.const === undefined ? [] : [!spec.const]));
    case 'party':
      return fc.constantFrom('US', 'u', '1us', 'us!', '', 7, ...common);
    case 'message_id':
      return fc.constantFrom('not-a-uuid', '019B1F2E-8C3A-7D10-8F00-0123456789AB', '', 5, ...common);
  }
}

/** A body that fits `t`: every required field, any subset of the optional ones, text when required or by chance. */
function body(t: Template): fc.Arbitrary<Record<string, unknown>> {
  const values = fc.tuple(...t.fields.map((f) => fc.record({ present: fc.boolean(), value: valid(f) })));
  return fc.record({
    picks: t.fields.length === 0 ? fc.constant([]) : values,
    text: t.text === 'required' ? fc.string({ minLength: 1 }).filter((s) => s.trim() !== '') : fc.option(fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''), { nil: undefined }),
    lang: fc.option(fc.constantFrom('en', 'ru', 'fr', 'zh-Hans', 'de-CH'), { nil: undefined }),
    withTemplate: fc.boolean(),
  }).map(({ picks, text, lang, withTemplate }) => {
    const fields: Record<string, unknown> = {};
    t.fields.forEach((f, i) => {
      if (f.required || picks[i]!.present) fields[f.name] = picks[i]!.value;
    });
    for (const [i, f] of t.fields.entries()) {
      const r = f.requiredIf;
      if (r !== undefined && r.in.includes(fields[r.field] as string)) fields[f.name] = picks[i]!.value;
    }
    return {
      ...(withTemplate ? { template: t.id } : {}),
      fields,
      ...(text === undefined ? {} : { text }),
      ...(lang === undefined ? {} : { lang }),
    };
  });
}

function refusedNaming(kind: string, b: unknown, field: string): void {
  let error: unknown;
  try {
    validateBody(kind, b);
  } catch (e) {
    error = e;
  }
  expect(error, `${kind} ${JSON.stringify(b)}`).toBeInstanceOf(HotlineError);
  expect((error as HotlineError).code).toBe('template_mismatch');
  expect((error as HotlineError).details?.field).toBe(field);
  expect((error as HotlineError).message).toContain(`"${field}"`);
}

describe.each(templates.map((t) => [t.id, t] as const))('template %s', (_id, t) => {
  it('any body generated from the template validates', () => {
    fc.assert(fc.property(body(t), (b) => {
      validateBody(t.kind, b);
    }), { numRuns: 300 });
  });

  if (t.fields.length > 0) it('one field with a value that does not fit is refused, naming that field', () => {
    const corrupt = fc.tuple(body(t), fc.constantFrom(...t.fields)).chain(([b, f]) => invalid(f).map((bad) => [b, f.name, bad] as const));
    fc.assert(fc.property(corrupt, ([b, name, bad]) => {
      refusedNaming(t.kind, { ...b, fields: { ...(b.fields as object), [name]: bad } }, name);
    }), { numRuns: 300 });
  });

  if (t.fields.some((f) => f.required)) it('a required field left out is refused, naming that field', () => {
    const required = t.fields.filter((f) => f.required).map((f) => f.name);
    fc.assert(fc.property(body(t), fc.constantFrom(...required), (b, name) => {
      const fields = { ...(b.fields as Record<string, unknown>) };
      delete fields[name];
      refusedNaming(t.kind, { ...b, fields }, name);
    }), { numRuns: 200 });
  });

  it('a field the template does not have is refused, naming that field', () => {
    const unknown = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).filter((n) => !t.fields.some((f) => f.name === n));
    fc.assert(fc.property(body(t), unknown, fc.jsonValue(), (b, name, v) => {
      refusedNaming(t.kind, { ...b, fields: { ...(b.fields as object), [name]: v } }, name);
    }), { numRuns: 200 });
  });

  if (t.text === 'required') it('leaving out the required free text is refused, naming "text"', () => {
    fc.assert(fc.property(body(t), (b) => {
      const { text: _text, ...rest } = b;
      refusedNaming(t.kind, rest, 'text');
    }), { numRuns: 100 });
  });
});
