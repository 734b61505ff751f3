/**
 * What a person may compose: per channel they hold, the kinds the generic send takes there, and
 * each kind's template as data (fields, types, vocabularies with labels in every language,
 * required-if rules), for a form generated from it (the console's Compose page, GET
 * /api/v1/templates). Nothing here is new policy: it is the send's own rules, read ahead.
 */
import { CHANNELS, type Channel, type Kind } from '../federation/federation.types.js';
import { nextSteps, opensCase, type CaseState } from '../cases/cases.machine.js';
import { render, templateCatalog, bodyProblems, type TemplateProblem } from '../templates/templates.service.js';
import type { FieldSpec, Labels, RenderedLine, TemplateCatalog } from '../templates/templates.types.js';
import { holdsChannel } from '../users/users.access.js';
import type { Principal } from '../users/users.types.js';
import { PERSON_KINDS } from './messaging.kinds.js';

/** Kinds that travel only on `law` (modules/law refuses them elsewhere with `channel_mismatch`). */
export const LAW_ONLY_KINDS: readonly Kind[] = ['preservation-request', 'preservation-response'];

/** The kinds a person may send with the generic send on `channel`. */
export function kindsOn(channel: Channel): Kind[] {
  return PERSON_KINDS.filter((k) => channel === 'law' || !LAW_ONLY_KINDS.includes(k));
}

/** A template field as the catalog shows it (templates/README.md, snake_case as in the files). */
export interface FieldView {
  name: string;
  type: string;
  required: boolean;
  required_if?: { field: string; in: readonly string[] };
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
  /** True when a message of this kind may open a case (Compose offers these for a new message). */
  opens_case: boolean;
  fields: FieldView[];
}

export interface VocabularyView {
  labels: Labels;
  /** In the order they are offered. */
  codes: { code: string; labels: Labels }[];
}

/** GET /api/v1/templates. */
export interface TemplatesView {
  /** The languages labels are given in (`en` first, the fallback). */
  languages: readonly string[];
  /** The words a rendering needs besides the templates': message, text, yes, no. */
  terms: Record<string, Labels>;
  /** Each channel the user holds, with the kinds they may send on it. */
  channels: { channel: Channel; kinds: Kind[] }[];
  templates: TemplateView[];
  /** The title of every templated kind (also those the user may not send: acks, pongs, closes...), to name a message in a thread. */
  kind_labels: Record<string, Labels>;
  /** Every vocabulary the templates use, and close_reason (for closing a case). */
  vocabularies: Record<string, VocabularyView>;
}

function fieldView(f: FieldSpec): FieldView {
  return {
    name: f.name, type: f.type, required: f.required, labels: f.labels,
    ...(f.requiredIf === undefined ? {} : { required_if: { field: f.requiredIf.field, in: f.requiredIf.in } }),
    ...(f.vocabulary === undefined ? {} : { vocabulary: f.vocabulary }),
    ...(f.min === undefined ? {} : { min: f.min }),
    ...(f.max === undefined ? {} : { max: f.max }),
    ...(f.maxLength === undefined ? {} : { max_length: f.maxLength }),
    ...(f.const === undefined ? {} : { const: f.const }),
  };
}

/** The kinds `as` may send on some channel it holds. */
export function offeredKinds(as: Principal): Set<Kind> {
  return new Set(CHANNELS.filter((c) => holdsChannel(as, c)).flatMap(kindsOn));
}

/** The template catalog as `as` may use it: only its channels, only the kinds it may send there. */
export function templatesFor(as: Principal, catalog: TemplateCatalog = templateCatalog()): TemplatesView {
  const channels = CHANNELS.filter((c) => holdsChannel(as, c)).map((channel) => ({ channel, kinds: kindsOn(channel) }));
  const kinds = new Set(channels.flatMap((c) => c.kinds));
  const templates: TemplateView[] = [];
  const used = new Set<string>(['close_reason']);
  for (const t of catalog.templates.values()) {
    if (!kinds.has(t.kind as Kind)) continue;
    for (const f of t.fields) if (f.vocabulary !== undefined) used.add(f.vocabulary);
    templates.push({ kind: t.kind, id: t.id, version: t.version, labels: t.labels, text: t.text, opens_case: opensCase(t.kind), fields: t.fields.map(fieldView) });
  }
  const vocabularies: Record<string, VocabularyView> = {};
  for (const name of [...used].sort()) {
    const v = catalog.vocabularies.get(name);
    if (v !== undefined) vocabularies[name] = { labels: v.labels, codes: [...v.codes].map(([code, labels]) => ({ code, labels })) };
  }
  const law = holdsChannel(as, 'law');
  const kindLabels = Object.fromEntries([...catalog.templates.values()]
    .filter((t) => law || !LAW_ONLY_KINDS.includes(t.kind as Kind)).map((t) => [t.kind, t.labels]));
  return { languages: catalog.languages, terms: Object.fromEntries(catalog.terms), channels, templates, kind_labels: kindLabels, vocabularies };
}

/** What the receiver's officer will read, in `lang`, and what the sender must still fix. */
export interface Preview {
  kind: string;
  lang: string;
  lines: RenderedLine[];
  /** The lines as text, one `label: value` a line. */
  text: string;
  /** Every problem the send would be refused for (empty when it fits), each with its field and path. */
  problems: TemplateProblem[];
}

/** Renders a body as the receiving node's renderer shows it in `lang` (templates.service `render`), with its problems. */
export function previewBody(kind: string, body: unknown, lang: string, catalog: TemplateCatalog = templateCatalog()): Preview {
  const lines = render(kind, body, lang, catalog);
  return { kind, lang, lines, text: lines.map((l) => `${l.label}: ${l.value}`).join('\n'), problems: bodyProblems(kind, body, catalog) };
}

/**
 * How a person takes a step: `reply` (Compose in reply mode, the generic reply), `ack` (acknowledge
 * the case), `close` (close the case), `node` (a kind the node emits through its own page or
 * command: pong, indicators...).
 */
export type StepVia = 'reply' | 'ack' | 'close' | 'node';

/** A step the case's machine allows next, and how a person takes it. */
export interface CaseStep {
  kind: string;
  to: CaseState;
  via: StepVia;
}

/** The next steps of a case opened by `opening`, now `state`, on `channel` (none once closed). */
export function caseSteps(opening: string, state: CaseState, channel: Channel): CaseStep[] {
  const person = kindsOn(channel) as readonly string[];
  return nextSteps(opening, state).map((s) => ({
    ...s, via: s.kind === 'ack' ? 'ack' : s.kind === 'case-close' ? 'close' : person.includes(s.kind) ? 'reply' : 'node',
  }));
}
