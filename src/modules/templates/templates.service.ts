import { fail } from '../../shared/errors.js';
import { BODY_MEMBERS, defaultTemplatesDir, OTHER_BODY_MEMBERS, readCatalog } from './templates.catalog.js';
import type { FieldSpec, Labels, RenderedLine, Template, TemplateCatalog } from './templates.types.js';
import { describeType, valueFromText, valueProblem } from './templates.values.js';

export { BODY_MEMBERS, OTHER_BODY_MEMBERS } from './templates.catalog.js';

const catalogs = new Map<string, TemplateCatalog>();

/**
 * The templates a node uses, read from `dir` (by default the repository's `templates/`) once and
 * cached. A broken file is a `template_invalid` error naming the file and the member, so a node
 * with a broken template does not start.
 */
export function templateCatalog(dir: string = defaultTemplatesDir()): TemplateCatalog {
  let c = catalogs.get(dir);
  if (c === undefined) {
    c = readCatalog(dir);
    catalogs.set(dir, c);
  }
  return c;
}

/** A BCP 47 language tag as a body's `lang` carries it (the language of the free text). */
const LANG_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

type Body = Record<string, unknown>;

function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when a field with no value must have one: always required, or required by another field's code. */
function isRequired(spec: FieldSpec, fields: Body): boolean {
  if (spec.required) return true;
  const r = spec.requiredIf;
  return r !== undefined && typeof fields[r.field] === 'string' && r.in.includes(fields[r.field] as string);
}

/** One thing wrong with a body: the field (or body member) and what is wrong with it. */
export interface TemplateProblem {
  field: string;
  /** Where in the body: `fields.<name>` for a field (known or not), the member's name (`text`, `lang`, ...) otherwise. */
  path: string;
  problem: string;
  /** The codes a code field allows, when the problem is a code outside its vocabulary. */
  allowed?: readonly string[];
}

/**
 * Every problem of a message body against its kind's template, in the template's order (body
 * members first); empty when it fits or the kind has no template (e.g. `indicators`).
 */
export function bodyProblems(kind: string, body: unknown, catalog: TemplateCatalog = templateCatalog()): TemplateProblem[] {
  const t = catalog.templates.get(kind);
  if (t === undefined) return [];
  const out: TemplateProblem[] = [];
  const add = (field: string, problem: string, allowed?: readonly string[], inFields = false): void => {
    out.push({ field, path: inFields ? `fields.${field}` : field, problem, ...(allowed === undefined ? {} : { allowed }) });
  };
  if (!isObject(body)) {
    add('body', 'the body must be a JSON object');
    return out;
  }
  const members: readonly string[] = [...BODY_MEMBERS, ...OTHER_BODY_MEMBERS];
  for (const k of Object.keys(body)) {
    if (!members.includes(k)) add(k, `"${k}" is not a body member (a body has ${members.join(', ')}); put the template's fields under "fields"`);
  }
  if (body.template !== undefined && body.template !== t.id) {
    add('template', `"template" is ${JSON.stringify(body.template)}, but this node knows ${kind} messages as "${t.id}"`);
  }
  if (body.text === undefined) {
    if (t.text === 'required') add('text', 'the free text ("text") is required and missing');
  } else if (typeof body.text !== 'string' || body.text.trim() === '') {
    add('text', 'the free text ("text") must be a non-empty string');
  }
  if (body.lang !== undefined && (typeof body.lang !== 'string' || !LANG_TAG.test(body.lang))) {
    add('lang', `"lang" must be the language tag of the free text, such as "en" or "ru", not ${JSON.stringify(body.lang)}`);
  }
  if (body.fields !== undefined && !isObject(body.fields)) add('fields', '"fields" must be a JSON object of field values');
  const fields: Body = isObject(body.fields) ? body.fields : {};
  for (const name of Object.keys(fields)) {
    if (!t.fields.some((f) => f.name === name)) {
      add(name, `field "${name}" is not a field of ${t.id}; its fields are: ${t.fields.map((f) => f.name).join(', ') || '(none)'}`, undefined, true);
    }
  }
  for (const spec of t.fields) {
    const v = fields[spec.name];
    if (v === undefined) {
      if (isRequired(spec, fields)) {
        const why = spec.required ? '' : ` (required when ${spec.requiredIf!.field} is ${spec.requiredIf!.in.join(' or ')})`;
        add(spec.name, `field "${spec.name}" is required and missing${why}; it is ${describeType(spec.type)}`, undefined, true);
      }
      continue;
    }
    const p = valueProblem(catalog, spec, v);
    if (p !== undefined) add(spec.name, `field "${spec.name}": ${p.problem}`, p.allowed, true);
  }
  return out;
}

/**
 * Checks a message body against its kind's template. A kind without a template (e.g.
 * `indicators`, `directory-update`) is not checked here. Throws `template_mismatch` listing every
 * problem at once (a wrong type, a code outside its vocabulary with the allowed codes, a missing
 * required field, an unknown field): `details.problems` has each `{ field, problem, allowed? }`,
 * `details.field` names the first.
 *
 * @example validateBody('crisis-alert', { template: 'crisis-alert@1', fields: { confidence: 'certain', ... } })
 *   // throws template_mismatch: crisis-alert@1: field "confidence": "certain" is not a code of confidence; allowed: low, medium, high, confirmed
 */
export function validateBody(kind: string, body: unknown, catalog: TemplateCatalog = templateCatalog()): void {
  const problems = bodyProblems(kind, body, catalog);
  if (problems.length === 0) return;
  const t = catalog.templates.get(kind)!;
  const first = problems[0]!;
  const what = problems.length === 1 ? first.problem : `${problems.length} problems:${problems.map((p) => `\n  - ${p.problem}`).join('')}`;
  fail('template_mismatch', `The ${kind} message does not fit its template ${t.id}: ${what}`, {
    field: first.field, path: first.path, template: t.id, ...(first.allowed === undefined ? {} : { allowed: first.allowed }), problems,
  });
}

/**
 * The body a person's message gets: `{ template, fields, text, lang }` for a templated kind
 * (`template` is the kind's current `<kind>@<version>`), `{ fields?, text, lang }` otherwise.
 */
export function composeBody(kind: string, input: { fields?: Body; text?: string; lang?: string }, catalog: TemplateCatalog = templateCatalog()): Body {
  const t = catalog.templates.get(kind);
  const body: Body = {};
  if (t !== undefined) {
    body.template = t.id;
    body.fields = input.fields ?? {};
  } else if (input.fields !== undefined && Object.keys(input.fields).length > 0) {
    body.fields = input.fields;
  }
  if (input.text !== undefined) body.text = input.text;
  if (input.lang !== undefined) body.lang = input.lang;
  return body;
}

/** Refuses a language the templates have no labels for (`invalid_argument`, naming the ones they have). */
export function requireLanguage(lang: string, catalog: TemplateCatalog = templateCatalog()): string {
  if (!catalog.languages.includes(lang)) {
    fail('invalid_argument', `No labels in language "${lang}"; the templates have: ${catalog.languages.join(', ')}`);
  }
  return lang;
}

/** Refuses a node whose configured `language` the templates have no labels for (`config_invalid`), at start. */
export function checkNodeLanguage(lang: string, catalog: TemplateCatalog = templateCatalog()): void {
  if (!catalog.languages.includes(lang)) {
    fail('config_invalid', `"language" is "${lang}", but the templates have labels only in: ${catalog.languages.join(', ')}`);
  }
}

function label(labels: Labels, lang: string): string {
  return labels[lang] ?? labels.en!;
}

function renderValue(catalog: TemplateCatalog, spec: FieldSpec, v: unknown, lang: string): Pick<RenderedLine, 'value' | 'codes'> {
  if (valueProblem(catalog, spec, v) !== undefined) return { value: typeof v === 'string' ? v : JSON.stringify(v) };
  const code = (c: string): string => label(catalog.vocabularies.get(spec.vocabulary!)!.codes.get(c)!, lang);
  switch (spec.type) {
    case 'code':
      return { value: code(v as string), codes: [v as string] };
    case 'codes':
      return { value: (v as string[]).map(code).join('; '), codes: v as string[] };
    case 'time_window': {
      const w = v as { from: string; to: string };
      return { value: `${w.from} – ${w.to}` };
    }
    case 'indicators':
      return { value: (v as string[]).join(', ') };
    case 'boolean':
      return { value: label(catalog.terms.get(v === true ? 'yes' : 'no')!, lang) };
    case 'integer':
      return { value: String(v) };
    default:
      return { value: v as string };
  }
}

/**
 * A message body as labelled lines in the reader's language: the template's title, each field
 * that has a value (in the template's order; codes as their labels), then the free text as the
 * writer wrote it. Labels missing in `lang` fall back to English. Never throws on a body that
 * does not fit (it may have been stored before a template changed): such values are shown as
 * they are, and fields the template does not know are shown under their own names.
 */
export function render(kind: string, body: unknown, lang: string, catalog: TemplateCatalog = templateCatalog()): RenderedLine[] {
  const t: Template | undefined = catalog.templates.get(kind);
  const b: Body = isObject(body) ? body : {};
  const fields: Body = isObject(b.fields) ? b.fields : {};
  const lines: RenderedLine[] = [];
  if (t !== undefined) lines.push({ field: 'template', label: label(catalog.terms.get('message')!, lang), value: label(t.labels, lang) });
  for (const spec of t?.fields ?? []) {
    const v = fields[spec.name];
    if (v !== undefined) lines.push({ field: spec.name, label: label(spec.labels, lang), ...renderValue(catalog, spec, v, lang) });
  }
  for (const [name, v] of Object.entries(fields)) {
    if (t?.fields.some((f) => f.name === name) !== true) lines.push({ field: name, label: name, value: typeof v === 'string' ? v : JSON.stringify(v) });
  }
  if (typeof b.text === 'string') {
    lines.push({ field: 'text', label: label(catalog.terms.get('text')!, lang), value: b.text, ...(typeof b.lang === 'string' ? { lang: b.lang } : {}) });
  }
  return lines;
}

/**
 * Fields from `--field key=value` arguments, typed by the kind's template: lists as `key=a,b`,
 * a time window as `key=FROM/TO`, integers and booleans from their text. `base` (e.g. from
 * `--template-file`) is overridden field by field. A key given twice is refused, except that a
 * list field given twice gets both lists.
 */
export function fieldsFromArgs(kind: string, args: readonly string[], base: Body = {}, catalog: TemplateCatalog = templateCatalog()): Body {
  const t = catalog.templates.get(kind);
  const out: Body = { ...base };
  const seen = new Set<string>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) fail('invalid_argument', `--field takes key=value, not "${arg}"`);
    const name = arg.slice(0, eq).trim();
    const spec = t?.fields.find((f) => f.name === name);
    const value = valueFromText(spec?.type, arg.slice(eq + 1));
    if (seen.has(name)) {
      if (!Array.isArray(value) || !Array.isArray(out[name])) fail('invalid_argument', `--field ${name} is given twice`);
      out[name] = [...(out[name] as unknown[]), ...value];
      continue;
    }
    seen.add(name);
    out[name] = value;
  }
  return out;
}
