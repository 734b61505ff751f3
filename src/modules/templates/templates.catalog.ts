import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../shared/errors.js';
import { KINDS } from '../federation/federation.types.js';
import { ACK_POLICIES, FIELD_TYPES, type AckPolicy, type FieldSpec, type FieldType, type Labels, type Template, type TemplateCatalog, type Vocabulary } from './templates.types.js';

/** The vocabularies file in a templates directory; every other `<kind>.json` there is a template. */
export const VOCABULARIES_FILE = 'vocabularies.json';

/** Which kinds wait for a person's acknowledgement (deadlines.policy.ts): data beside the templates, not a template. */
export const ACK_POLICY_FILE = 'ack-policy.json';

/** The body members the templates define (docs/protocol.md section 5.4). */
export const BODY_MEMBERS = ['template', 'fields', 'text', 'lang'] as const;

/**
 * Body members other modules define and check, which the templates let through: `sender` (the
 * user who wrote it) and `recipients` (who may read a TLP:RED message), protocol section 5.6.
 */
export const OTHER_BODY_MEMBERS = ['sender', 'recipients'] as const;

const REQUIRED_LANGUAGES = ['en', 'ru'];
const REQUIRED_TERMS = ['message', 'text', 'yes', 'no'];
const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const CODE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const LANGUAGE = /^[a-z]{2,3}$/;

type Json = Record<string, unknown>;

/** Reports a problem in one data file, naming the file and the member: a node with a broken template does not start. */
class FileChecker {
  constructor(readonly file: string) {}

  bad(path: string, problem: string): never {
    return fail('template_invalid', `${this.file}: ${path === '' ? '' : `${path}: `}${problem}`, { file: this.file, path });
  }

  object(v: unknown, path: string, allowed: readonly string[]): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.bad(path, 'must be a JSON object');
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.bad(path === '' ? k : `${path}.${k}`, `is not a known member; use ${allowed.join(', ')}`);
    }
    return v as Json;
  }

  map(v: unknown, path: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.bad(path, 'must be a JSON object');
    return v as Json;
  }

  labels(v: unknown, path: string, languages: readonly string[]): Labels {
    const o = this.map(v, path);
    for (const lang of REQUIRED_LANGUAGES) if (!(lang in o)) this.bad(`${path}.${lang}`, `is missing: labels are required in ${REQUIRED_LANGUAGES.join(' and ')}`);
    for (const [lang, text] of Object.entries(o)) {
      if (!languages.includes(lang)) this.bad(`${path}.${lang}`, `is not one of the languages in ${VOCABULARIES_FILE} (${languages.join(', ')})`);
      if (typeof text !== 'string' || text.trim() === '') this.bad(`${path}.${lang}`, 'must be a non-empty string');
    }
    return Object.freeze({ ...(o as Record<string, string>) });
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return fail('template_invalid', `${file}: cannot be read`, { file, path: '' });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('template_invalid', `${file}: is not valid JSON: ${(e as Error).message}`, { file, path: '' });
  }
}

function loadVocabularies(dir: string): Pick<TemplateCatalog, 'languages' | 'terms' | 'vocabularies'> {
  const c: FileChecker = new FileChecker(join(dir, VOCABULARIES_FILE));
  const root = c.object(readJson(c.file), '', ['languages', 'terms', 'vocabularies', 'description']);
  const langs = root.languages;
  if (!Array.isArray(langs) || langs.some((l) => typeof l !== 'string' || !LANGUAGE.test(l)) || new Set(langs).size !== langs.length) {
    c.bad('languages', 'must be a list of distinct language codes such as "en", "ru"');
  }
  for (const l of REQUIRED_LANGUAGES) if (!(langs as string[]).includes(l)) c.bad('languages', `must include "${l}"`);
  const languages = ['en', ...(langs as string[]).filter((l) => l !== 'en')];
  const termsIn = c.map(root.terms, 'terms');
  const terms = new Map<string, Labels>();
  for (const t of REQUIRED_TERMS) if (!(t in termsIn)) c.bad(`terms.${t}`, 'is missing');
  for (const [t, labels] of Object.entries(termsIn)) terms.set(t, c.labels(labels, `terms.${t}`, languages));
  const vocabularies = new Map<string, Vocabulary>();
  for (const [name, v] of Object.entries(c.map(root.vocabularies, 'vocabularies'))) {
    const path = `vocabularies.${name}`;
    if (!NAME.test(name)) c.bad(path, 'a vocabulary name is lower-case letters, digits and _');
    const o = c.object(v, path, ['labels', 'codes', 'description']);
    const codes = new Map<string, Labels>();
    for (const [code, labels] of Object.entries(c.map(o.codes, `${path}.codes`))) {
      if (!CODE.test(code)) c.bad(`${path}.codes.${code}`, 'a code is lower-case letters, digits, - and _');
      codes.set(code, c.labels(labels, `${path}.codes.${code}`, languages));
    }
    if (codes.size === 0) c.bad(`${path}.codes`, 'must have at least one code');
    vocabularies.set(name, Object.freeze({ name, labels: c.labels(o.labels, `${path}.labels`, languages), codes }));
  }
  return { languages: Object.freeze(languages), terms, vocabularies };
}

const FIELD_MEMBERS = ['type', 'required', 'required_if', 'vocabulary', 'min', 'max', 'max_length', 'const', 'labels', 'description'];

function loadField(c: FileChecker, name: string, raw: unknown, ctx: Pick<TemplateCatalog, 'languages' | 'vocabularies'>): FieldSpec {
  const path = `fields.${name}`;
  if (!NAME.test(name)) c.bad(path, 'a field name is lower-case letters, digits and _, starting with a letter');
  if ([...BODY_MEMBERS, ...OTHER_BODY_MEMBERS].includes(name as never)) c.bad(path, `"${name}" is a body member, not a field name`);
  const o = c.object(raw, path, FIELD_MEMBERS);
  if (!(FIELD_TYPES as readonly unknown[]).includes(o.type)) c.bad(`${path}.type`, `must be one of ${FIELD_TYPES.join(', ')}`);
  const type = o.type as FieldType;
  if (typeof o.required !== 'boolean') c.bad(`${path}.required`, 'must be true or false');
  const only = (member: string, types: readonly FieldType[]): void => {
    if (o[member] !== undefined && !types.includes(type)) c.bad(`${path}.${member}`, `applies only to ${types.join(' and ')} fields`);
  };
  only('vocabulary', ['code', 'codes']);
  only('min', ['integer']);
  only('max', ['integer']);
  only('max_length', ['text']);
  only('const', ['boolean']);
  const spec: { -readonly [K in keyof FieldSpec]: FieldSpec[K] } = { name, type, required: o.required as boolean, labels: c.labels(o.labels, `${path}.labels`, ctx.languages) };
  if (type === 'code' || type === 'codes') {
    if (typeof o.vocabulary !== 'string' || !ctx.vocabularies.has(o.vocabulary)) {
      c.bad(`${path}.vocabulary`, `must name a vocabulary in ${VOCABULARIES_FILE} (known: ${[...ctx.vocabularies.keys()].join(', ')})`);
    }
    spec.vocabulary = o.vocabulary;
  }
  for (const bound of ['min', 'max'] as const) {
    if (o[bound] === undefined) continue;
    if (!Number.isSafeInteger(o[bound])) c.bad(`${path}.${bound}`, 'must be an integer');
    spec[bound] = o[bound] as number;
  }
  if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) c.bad(`${path}.min`, 'is greater than max');
  if (o.max_length !== undefined) {
    if (!Number.isSafeInteger(o.max_length) || (o.max_length as number) < 1) c.bad(`${path}.max_length`, 'must be a positive integer');
    spec.maxLength = o.max_length as number;
  }
  if (o.const !== undefined) {
    if (typeof o.const !== 'boolean') c.bad(`${path}.const`, 'must be true or false');
    spec.const = o.const;
  }
  if (o.required_if !== undefined) {
    if (spec.required) c.bad(`${path}.required_if`, 'applies only to a field that is not always required ("required": false)');
    const r = c.object(o.required_if, `${path}.required_if`, ['field', 'in']);
    if (typeof r.field !== 'string' || !Array.isArray(r.in) || r.in.length === 0 || r.in.some((x) => typeof x !== 'string')) {
      c.bad(`${path}.required_if`, 'must be { "field": "<a code field>", "in": ["<code>", ...] }');
    }
    spec.requiredIf = { field: r.field, in: Object.freeze([...(r.in as string[])]) };
  }
  return Object.freeze(spec);
}

function loadTemplate(dir: string, file: string, ctx: Pick<TemplateCatalog, 'languages' | 'vocabularies'>): Template {
  const c: FileChecker = new FileChecker(join(dir, file));
  const kind = basename(file, '.json');
  if (!(KINDS as readonly string[]).includes(kind)) c.bad('', `"${kind}" is not a message kind (${KINDS.join(', ')}); name a template file <kind>.json`);
  const o = c.object(readJson(c.file), '', ['kind', 'version', 'description', 'labels', 'text', 'fields']);
  if (o.kind !== kind) c.bad('kind', `must be "${kind}", the file's name`);
  if (!Number.isSafeInteger(o.version) || (o.version as number) < 1) c.bad('version', 'must be a positive integer');
  if (o.text !== 'required' && o.text !== 'optional') c.bad('text', 'must be "required" or "optional"');
  const fields = Object.entries(c.map(o.fields, 'fields')).map(([name, raw]) => loadField(c, name, raw, ctx));
  for (const f of fields) {
    if (f.requiredIf === undefined) continue;
    const on = fields.find((g) => g.name === f.requiredIf!.field);
    if (on === undefined || on.type !== 'code') c.bad(`fields.${f.name}.required_if.field`, `must name a code field of this template, not "${f.requiredIf.field}"`);
    const vocab = ctx.vocabularies.get(on.vocabulary!)!;
    for (const code of f.requiredIf.in) {
      if (!vocab.codes.has(code)) c.bad(`fields.${f.name}.required_if.in`, `"${code}" is not a code of ${vocab.name}`);
    }
  }
  const version = o.version as number;
  return Object.freeze({
    kind, version, id: `${kind}@${version}`, labels: c.labels(o.labels, 'labels', ctx.languages),
    text: o.text as 'required' | 'optional', fields: Object.freeze(fields),
  });
}

/**
 * Reads and validates a templates directory: `vocabularies.json` and one `<kind>.json` per
 * templated kind. Any problem is a `template_invalid` error naming the file and the member.
 */
export function readCatalog(dir: string): TemplateCatalog {
  const base = loadVocabularies(dir);
  const templates = new Map<string, Template>();
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== VOCABULARIES_FILE && f !== ACK_POLICY_FILE).sort();
  for (const file of files) {
    const t = loadTemplate(dir, file, base);
    templates.set(t.kind, t);
  }
  return Object.freeze({ dir, ...base, templates, ackPolicy: loadAckPolicy(dir) });
}

/** `ack-policy.json`: `{"kinds": {"<kind>": "person" | "none", ...}}`, every kind listed once. */
function loadAckPolicy(dir: string): ReadonlyMap<string, AckPolicy> {
  const c: FileChecker = new FileChecker(join(dir, ACK_POLICY_FILE));
  const root = c.object(readJson(c.file), '', ['kinds', 'description']);
  const kinds = c.map(root.kinds, 'kinds');
  const out = new Map<string, AckPolicy>();
  for (const [kind, v] of Object.entries(kinds)) {
    if (!(KINDS as readonly string[]).includes(kind)) c.bad(`kinds.${kind}`, `is not a message kind (${KINDS.join(', ')})`);
    if (!(ACK_POLICIES as readonly unknown[]).includes(v)) c.bad(`kinds.${kind}`, `must be ${ACK_POLICIES.map((p) => `"${p}"`).join(' or ')}`);
    out.set(kind, v as AckPolicy);
  }
  for (const k of KINDS) if (!out.has(k)) c.bad(`kinds.${k}`, 'is missing: say whether the kind waits for a person ("person") or not ("none")');
  return out;
}

let defaultDir: string | undefined;

/** The repository's `templates/` directory: the nearest one above this module holding vocabularies.json. */
export function defaultTemplatesDir(): string {
  // Asked on every send (templateCatalog's default): found once, not stat'ed per message.
  defaultDir ??= findTemplatesDir();
  return defaultDir;
}

function findTemplatesDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(d, 'templates');
    if (existsSync(join(candidate, VOCABULARIES_FILE))) return candidate;
    const up = dirname(d);
    if (up === d) return fail('template_invalid', `No templates directory with ${VOCABULARIES_FILE} above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
}
