import { isIP } from 'node:net';
import { parseIsoTime } from '../../shared/clock.js';
import { isUuid } from '../../shared/ids.js';
import { PARTY_ID } from '../federation/federation.types.js';
import type { FieldSpec, FieldType, TemplateCatalog } from './templates.types.js';

/** What is wrong with one field's value: a sentence fragment, plus the allowed codes when a code is wrong. */
export interface ValueProblem {
  problem: string;
  allowed?: readonly string[];
}

const HASH = /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-zA-Z0-9_](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const EMAIL_LOCAL = /^[^\s@"<>()[\],;:]{1,64}$/;

/** Is `s` an indicator a peer can act on: an IP address or prefix, a domain, a URL, an e-mail address, or an MD5/SHA-1/SHA-256/SHA-512 hash? */
export function isIndicator(s: string): boolean {
  if (s.length === 0 || s.length > 2048 || /\s/.test(s)) return false;
  if (isIP(s) !== 0 || HASH.test(s) || DOMAIN.test(s)) return true;
  const slash = s.lastIndexOf('/');
  if (slash > 0 && /^\d{1,3}$/.test(s.slice(slash + 1)) && !s.includes('://')) {
    const version = isIP(s.slice(0, slash));
    const len = Number(s.slice(slash + 1));
    if (version !== 0) return len <= (version === 4 ? 32 : 128);
  }
  const at = s.lastIndexOf('@');
  if (at > 0 && !s.includes('://')) return EMAIL_LOCAL.test(s.slice(0, at)) && DOMAIN.test(s.slice(at + 1));
  if (/^(?:https?|ftp):\/\//i.test(s)) {
    try {
      return new URL(s).hostname !== '';
    } catch {
      return false;
    }
  }
  return false;
}

const DESCRIBE: Record<FieldType, string> = {
  text: 'text (a non-empty string)',
  code: 'one code (a string)',
  codes: 'a non-empty list of codes',
  datetime: 'an RFC 3339 UTC time such as "2026-01-15T09:30:00Z"',
  time_window: '{"from": <RFC 3339 UTC time>, "to": <RFC 3339 UTC time>}',
  indicators: 'a non-empty list of indicators (IP addresses or prefixes, domains, URLs, e-mail addresses, hashes)',
  integer: 'a whole number',
  boolean: 'true or false',
  party: 'a party id such as "us" or "cert-eu"',
  message_id: 'a message id (a lower-case UUID)',
};

/** How a person should write a value of this type. */
export function describeType(type: FieldType): string {
  return DESCRIBE[type];
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function codeProblem(catalog: TemplateCatalog, spec: FieldSpec, code: unknown): ValueProblem | undefined {
  const vocab = catalog.vocabularies.get(spec.vocabulary!)!;
  if (typeof code === 'string' && vocab.codes.has(code)) return undefined;
  const allowed = [...vocab.codes.keys()];
  return { problem: `${show(code)} is not a code of ${vocab.name}; allowed: ${allowed.join(', ')}`, allowed };
}

function listProblem(v: unknown, each: (x: unknown) => ValueProblem | undefined): ValueProblem | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  for (const x of v) {
    const p = each(x);
    if (p !== undefined) return p;
  }
  const dup = v.find((x, i) => v.indexOf(x) !== i);
  return dup === undefined ? undefined : { problem: `lists ${show(dup)} twice` };
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(parseIsoTime(v));
}

/** Checks one present value against its field's type; undefined when it fits. */
export function valueProblem(catalog: TemplateCatalog, spec: FieldSpec, v: unknown): ValueProblem | undefined {
  const wrong = (): ValueProblem => ({ problem: `must be ${describeType(spec.type)}, not ${show(v)}` });
  switch (spec.type) {
    case 'text':
      if (typeof v !== 'string') return wrong();
      if (v.trim() === '') return { problem: 'is empty' };
      if (spec.maxLength !== undefined && v.length > spec.maxLength) return { problem: `is ${v.length} characters long; the most is ${spec.maxLength}` };
      return undefined;
    case 'code':
      return typeof v === 'string' ? codeProblem(catalog, spec, v) : wrong();
    case 'codes':
      return Array.isArray(v) && v.length > 0 ? listProblem(v, (x) => codeProblem(catalog, spec, x)) : wrong();
    case 'datetime':
      return isTime(v) ? undefined : wrong();
    case 'time_window': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return wrong();
      const keys = Object.keys(v).sort();
      if (keys.length !== 2 || keys[0] !== 'from' || keys[1] !== 'to') return wrong();
      const w = v as { from: unknown; to: unknown };
      if (!isTime(w.from) || !isTime(w.to)) return wrong();
      return parseIsoTime(w.from) > parseIsoTime(w.to) ? { problem: `starts (${w.from}) after it ends (${w.to})` } : undefined;
    }
    case 'indicators':
      if (!Array.isArray(v) || v.length === 0) return wrong();
      return listProblem(v, (x) => (typeof x === 'string' && isIndicator(x) ? undefined : { problem: `${show(x)} is not an IP address or prefix, domain, URL, e-mail address or hash` }));
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return wrong();
      if (spec.min !== undefined && v < spec.min) return { problem: `is ${v}; the least is ${spec.min}` };
      if (spec.max !== undefined && v > spec.max) return { problem: `is ${v}; the most is ${spec.max}` };
      return undefined;
    case 'boolean':
      if (typeof v !== 'boolean') return wrong();
      return spec.const !== undefined && v !== spec.const ? { problem: `must be ${String(spec.const)}` } : undefined;
    case 'party':
      return typeof v === 'string' && PARTY_ID.test(v) ? undefined : wrong();
    case 'message_id':
      return typeof v === 'string' && isUuid(v) ? undefined : wrong();
  }
}

/**
 * Turns what a person typed on the command line into a value of the field's type:
 * lists as `a,b`, a time window as `FROM/TO`, integers and booleans from their text.
 * Anything that does not convert is passed on as typed, for validation to refuse with a reason.
 */
export function valueFromText(type: FieldType | undefined, text: string): unknown {
  switch (type) {
    case 'codes':
    case 'indicators':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'time_window': {
      const parts = text.split('/');
      return parts.length === 2 ? { from: parts[0]!.trim(), to: parts[1]!.trim() } : text;
    }
    case 'integer':
      return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
    case 'boolean': {
      const t = text.trim().toLowerCase();
      return t === 'true' || t === 'yes' ? true : t === 'false' || t === 'no' ? false : text;
    }
    default:
      return text;
  }
}
