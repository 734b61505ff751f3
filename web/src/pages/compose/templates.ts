/**
 * The template catalog as GET /api/v1/templates gives it, and what the Compose form does with it:
 * the form's raw values, the body's fields made from them, and every problem found at once (the
 * same rules as the node's modules/templates, so the send is rarely refused; when it is, the
 * node's own problems are shown beside the same fields).
 */
export type Labels = Readonly<Record<string, string>>;

export interface FieldView {
  name: string;
  type: 'text' | 'code' | 'codes' | 'datetime' | 'time_window' | 'indicators' | 'integer' | 'boolean' | 'party' | 'message_id';
  required: boolean;
  required_if?: { field: string; in: string[] };
  vocabulary?: string;
  min?: number;
  max?: number;
  max_length?: number;
  const?: boolean;
  labels: Labels;
}

export interface TemplateView {
  kind: string;
  id: string;
  version: number;
  labels: Labels;
  text: 'required' | 'optional';
  opens_case: boolean;
  fields: FieldView[];
}

export interface VocabularyView { labels: Labels; codes: { code: string; labels: Labels }[] }

export interface TemplatesView {
  languages: string[];
  terms: Record<string, Labels>;
  channels: { channel: string; kinds: string[] }[];
  templates: TemplateView[];
  kind_labels: Record<string, Labels>;
  vocabularies: Record<string, VocabularyView>;
}

/** A label in `lang`, English when missing (as the node renders). */
export function label(labels: Labels | undefined, lang: string, fallback = ''): string {
  return labels?.[lang] ?? labels?.en ?? fallback;
}

/** What a form control holds: text, a list of codes, or a time window's two ends. */
export type Raw = string | string[] | { from: string; to: string };
export type RawValues = Record<string, Raw>;

/** A problem with one field, as a key of the page's catalog and its values, or the node's own sentence. */
export interface FieldError { key?: ProblemKey; values?: Record<string, string | number>; server?: string }
export type ProblemKey = 'required' | 'requiredIf' | 'integer' | 'min' | 'max' | 'tooLong' | 'indicator' | 'party' | 'messageId' | 'windowBoth' | 'windowOrder' | 'mustConfirm' | 'datetime' | 'recipientsNeeded';

const PARTY = /^[a-z][a-z0-9-]{1,31}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const HASH = /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-zA-Z0-9_](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const EMAIL_LOCAL = /^[^\s@"<>()[\],;:]{1,64}$/;

function isIpv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  try { return new URL(`http://[${s}]/`).hostname !== ''; } catch { return false; }
}

/** The node's indicator rule (modules/templates/templates.values.ts isIndicator), for the browser. */
export function isIndicator(s: string): boolean {
  if (s.length === 0 || s.length > 2048 || /\s/.test(s)) return false;
  if (IPV4.test(s) || isIpv6(s) || HASH.test(s) || DOMAIN.test(s)) return true;
  const slash = s.lastIndexOf('/');
  if (slash > 0 && /^\d{1,3}$/.test(s.slice(slash + 1)) && !s.includes('://')) {
    const ip = s.slice(0, slash), len = Number(s.slice(slash + 1));
    if (IPV4.test(ip)) return len <= 32;
    if (isIpv6(ip)) return len <= 128;
  }
  const at = s.lastIndexOf('@');
  if (at > 0 && !s.includes('://')) return EMAIL_LOCAL.test(s.slice(0, at)) && DOMAIN.test(s.slice(at + 1));
  if (/^(?:https?|ftp):\/\//i.test(s)) {
    try { return new URL(s).hostname !== ''; } catch { return false; }
  }
  return false;
}

/** A datetime-local value ("2026-12-05T09:30", read as UTC) as the node's RFC 3339 UTC time. */
export function toUtc(local: string): string {
  const v = local.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return `${v}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/.test(v)) return `${v}Z`;
  return v;
}

function str(r: Raw | undefined): string {
  return typeof r === 'string' ? r : '';
}

function indicatorsOf(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
}

/** Whether the field has a value in the form. */
function present(f: FieldView, r: Raw | undefined): boolean {
  if (r === undefined) return false;
  if (Array.isArray(r)) return r.length > 0;
  if (typeof r === 'object') return r.from.trim() !== '' || r.to.trim() !== '';
  if (f.type === 'indicators') return indicatorsOf(r).length > 0;
  return r.trim() !== '';
}

/** The body's `fields` from the form: only fields with a value, each converted to its type. */
export function fieldsOf(t: TemplateView, values: RawValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of t.fields) {
    const r = values[f.name];
    if (!present(f, r)) continue;
    switch (f.type) {
      case 'codes': out[f.name] = r as string[]; break;
      case 'time_window': { const w = r as { from: string; to: string }; out[f.name] = { from: toUtc(w.from), to: toUtc(w.to) }; break; }
      case 'indicators': out[f.name] = indicatorsOf(str(r)); break;
      case 'integer': { const s = str(r).trim(); out[f.name] = /^-?\d+$/.test(s) ? Number(s) : s; break; }
      case 'boolean': out[f.name] = str(r) === 'true'; break;
      case 'datetime': out[f.name] = toUtc(str(r)); break;
      case 'text': out[f.name] = str(r); break;
      default: out[f.name] = str(r).trim();
    }
  }
  return out;
}

function isRequired(f: FieldView, values: RawValues): boolean {
  if (f.required) return true;
  const r = f.required_if;
  return r !== undefined && r.in.includes(str(values[r.field]));
}

/** Every problem of the form at once, by field name (`text` for the free text). */
export function problemsOf(t: TemplateView, values: RawValues, text: string): Record<string, FieldError> {
  const out: Record<string, FieldError> = {};
  for (const f of t.fields) {
    const r = values[f.name];
    if (!present(f, r)) {
      if (f.type === 'boolean' && f.const === true && f.required) out[f.name] = { key: 'mustConfirm' };
      else if (isRequired(f, values)) out[f.name] = f.required ? { key: 'required' } : { key: 'requiredIf' };
      continue;
    }
    const s = str(r).trim();
    switch (f.type) {
      case 'integer': {
        if (!/^-?\d+$/.test(s)) out[f.name] = { key: 'integer' };
        else if (f.min !== undefined && Number(s) < f.min) out[f.name] = { key: 'min', values: { min: f.min } };
        else if (f.max !== undefined && Number(s) > f.max) out[f.name] = { key: 'max', values: { max: f.max } };
        break;
      }
      case 'text':
        if (f.max_length !== undefined && str(r).length > f.max_length) out[f.name] = { key: 'tooLong', values: { max: f.max_length } };
        break;
      case 'indicators': {
        const bad = indicatorsOf(str(r)).find((x) => !isIndicator(x));
        if (bad !== undefined) out[f.name] = { key: 'indicator', values: { value: bad } };
        else if (new Set(indicatorsOf(str(r))).size !== indicatorsOf(str(r)).length) out[f.name] = { key: 'indicator', values: { value: indicatorsOf(str(r)).find((x, i, a) => a.indexOf(x) !== i) ?? '' } };
        break;
      }
      case 'party':
        if (!PARTY.test(s)) out[f.name] = { key: 'party' };
        break;
      case 'message_id':
        if (!UUID.test(s)) out[f.name] = { key: 'messageId' };
        break;
      case 'datetime':
        if (Number.isNaN(Date.parse(toUtc(s)))) out[f.name] = { key: 'datetime' };
        break;
      case 'time_window': {
        const w = r as { from: string; to: string };
        if (w.from.trim() === '' || w.to.trim() === '') out[f.name] = { key: 'windowBoth' };
        else if (Date.parse(toUtc(w.from)) > Date.parse(toUtc(w.to))) out[f.name] = { key: 'windowOrder' };
        break;
      }
      case 'boolean':
        if (f.const !== undefined && (s === 'true') !== f.const) out[f.name] = { key: 'mustConfirm' };
        break;
      default:
        break;
    }
  }
  if (t.text === 'required' && text.trim() === '') out.text = { key: 'required' };
  return out;
}

/** The node's refusal (template_mismatch: `details.problems`, each with its field) beside the same fields. */
export function serverProblems(details: unknown): Record<string, FieldError> | null {
  const problems = (details as { problems?: { field?: unknown; problem?: unknown }[] } | undefined)?.problems;
  if (!Array.isArray(problems)) return null;
  const out: Record<string, FieldError> = {};
  for (const p of problems) {
    if (typeof p.field === 'string' && typeof p.problem === 'string') out[p.field] = { server: out[p.field]?.server === undefined ? p.problem : `${out[p.field]!.server} ${p.problem}` };
  }
  return out;
}
