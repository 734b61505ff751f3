import { render, templateCatalog } from '../templates/templates.service.js';
import type { Alert, AlertLine, AlertMessage, AlertSettings } from './alerts.types.js';
import { words } from './alerts.words.js';

/** `2026-01-15 09:30 UTC` */
export function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The time in the node's zone, as digits that read the same in every language and every ICU
 * version, with the zone's offset: `2026-01-15 12:10 UTC+03:00`.
 */
export function localTime(ms: number, s: Pick<AlertSettings, 'timeZone'>): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: s.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
  }).formatToParts(new Date(ms));
  const p = (t: Intl.DateTimeFormatPartTypes): string => parts.find((x) => x.type === t)?.value ?? '';
  const offset = p('timeZoneName').replace(/^GMT$/, 'GMT+00:00').replace('GMT', 'UTC');
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${offset}`;
}

/** The kind as its template names it in the language ("Кризисное оповещение"); the code when it has no template. */
export function kindName(kind: string, lang: string): string {
  const t = templateCatalog().templates.get(kind);
  return t?.labels[lang] ?? t?.labels.en ?? kind;
}

/** The kind as its template names it in the language ("Crisis alert"), with its code; the code alone when it has no template. */
export function kindLabel(kind: string, lang: string): string {
  const t = templateCatalog().templates.get(kind);
  const label = t?.labels[lang] ?? t?.labels.en;
  return label === undefined ? kind : `${label} (${kind})`;
}

/** The content lines: the rendered template fields and free text, or for TLP:RED one line naming its recipients. */
function contentOf(m: AlertMessage, lang: string): AlertLine[] {
  if (m.tlp === 'red') return [{ label: words('label.content', lang), value: words('red', lang, { recipients: (m.recipients ?? []).join(', ') || '?' }) }];
  return render(m.kind, m.body, lang).map((l) => ({ label: l.label, value: l.value }));
}

function dueLines(ms: number, s: AlertSettings, utcKey: 'label.due_utc' | 'label.expires_utc', localKey: 'label.due_local' | 'label.expires_local'): AlertLine[] {
  const lines = [{ label: words(utcKey, s.language), value: utcTime(ms) }];
  if (s.timeZone !== 'UTC') lines.push({ label: words(localKey, s.language, { zone: s.timeZone }), value: localTime(ms, s) });
  return lines;
}

/** The due time for a subject line: in the node's zone, or UTC. */
function dueShort(ms: number, s: AlertSettings): string {
  return s.timeZone === 'UTC' ? utcTime(ms) : localTime(ms, s);
}

function who(party: string, user: string | null): string {
  return user === null ? party : `${party} (${user})`;
}

/** The plain text of an alert: headline, facts, content, what to do. */
function textOf(a: Omit<Alert, 'text'>): string {
  const width = Math.max(...a.facts.map((f) => f.label.length));
  const out = [a.headline, '', ...a.facts.map((f) => `${`${f.label}:`.padEnd(width + 1)} ${f.value}`)];
  if (a.content.length > 0) {
    out.push('', `${words('label.content', a.language)}:`);
    for (const c of a.content) out.push(c.value.includes('\n') ? `${c.label}:\n${c.value}` : `${c.label}: ${c.value}`);
  }
  if (a.todo.length > 0) out.push('', `${words('label.todo', a.language)}:`, ...a.todo.map((t) => `- ${t}`));
  return out.join('\n');
}

function finish(a: Omit<Alert, 'text'>): Alert {
  return { ...a, text: textOf(a) };
}

function messageUrl(s: AlertSettings, id: string): string | null {
  return s.publicUrl === null ? null : `${s.publicUrl}/messages/${id}`;
}

function messageFacts(m: AlertMessage, s: AlertSettings): AlertLine[] {
  const lang = s.language;
  return [
    { label: words('label.priority', lang), value: m.priority.toUpperCase() },
    m.direction === 'in'
      ? { label: words('label.from', lang), value: who(m.from, m.sender) }
      : { label: words('label.to', lang), value: m.to },
    { label: words('label.kind', lang), value: kindLabel(m.kind, lang) },
    { label: words('label.channel', lang), value: m.channel },
    { label: words('label.case', lang), value: m.case },
    ...dueLines(m.due_at, s, 'label.due_utc', 'label.due_local'),
  ];
}

/** A received message waits for a person's acknowledgement: escalation step `step`, `paged` the contact it goes to (if any). */
export function escalationAlert(m: AlertMessage, o: { step: string; paged: string | null }, s: AlertSettings): Alert {
  const lang = s.language;
  const vars = { priority: m.priority.toUpperCase(), kind: kindName(m.kind, lang), from: m.from, due: dueShort(m.due_at, s), step: o.step };
  const ack = `hotline ack ${m.short_id}`;
  const url = messageUrl(s, m.id);
  const facts = messageFacts(m, s);
  if (o.paged !== null) facts.push({ label: words('label.on_duty', lang), value: o.paged });
  return finish({
    language: lang, time_zone: s.timeZone,
    subject: words('subject.escalation', lang, vars),
    headline: words('headline.escalation', lang, vars),
    facts, content: contentOf(m, lang),
    todo: [words('action.ack', lang, { command: ack }), ...(url === null ? [] : [words('action.open', lang, { url })])],
    ack_command: ack, url,
  });
}

/** A message this node sent was not acknowledged by the peer in time. */
export function overdueAlert(m: AlertMessage, s: AlertSettings): Alert {
  const lang = s.language;
  const vars = { priority: m.priority.toUpperCase(), kind: kindName(m.kind, lang), to: m.to, due: dueShort(m.due_at, s) };
  const url = messageUrl(s, m.id);
  return finish({
    language: lang, time_zone: s.timeZone,
    subject: words('subject.overdue', lang, vars),
    headline: words('headline.overdue', lang, vars),
    facts: messageFacts(m, s), content: contentOf(m, lang),
    todo: [words('action.overdue', lang, { to: m.to, command: `hotline show ${m.short_id}` }), ...(url === null ? [] : [words('action.open', lang, { url })])],
    ack_command: null, url,
  });
}

/** What a preservation reminder speaks of (law.types.ts PreservationView, in part). */
export interface PreservationFacts {
  case: string;
  reference: string | null;
  requesting_party: string;
  responding_party: string;
  direction: 'in' | 'out';
  expires_at: string | null;
  days_left: number | null;
}

/** A preservation expires soon: extend it or record the mutual-assistance request. */
export function preservationAlert(p: PreservationFacts, s: AlertSettings): Alert {
  const lang = s.language;
  const expires = p.expires_at === null ? null : Date.parse(p.expires_at);
  const reference = p.reference ?? p.case;
  return finish({
    language: lang, time_zone: s.timeZone,
    subject: words('subject.preservation', lang, { reference, expires: expires === null ? '?' : dueShort(expires, s) }),
    headline: words('headline.preservation', lang, { case: p.case, days: p.days_left ?? '?' }),
    facts: [
      { label: words('label.reference', lang), value: reference },
      { label: words('label.case', lang), value: p.case },
      p.direction === 'out' ? { label: words('label.to', lang), value: p.responding_party } : { label: words('label.from', lang), value: p.requesting_party },
      ...(expires === null ? [] : dueLines(expires, s, 'label.expires_utc', 'label.expires_local')),
    ],
    content: [],
    todo: [words('action.preservation', lang, { command: `hotline preservation extend ${p.case} --days N` })],
    ack_command: null, url: null,
  });
}

/** A peer's receipts stopped verifying with its pinned key (a reinstalled node, or an impostor). */
export function keyMismatchAlert(k: { peer: string; fingerprints: readonly string[]; seq: number; at: number }, s: AlertSettings): Alert {
  const lang = s.language;
  return finish({
    language: lang, time_zone: s.timeZone,
    subject: words('subject.key_mismatch', lang, { peer: k.peer }),
    headline: words('headline.key_mismatch', lang, { peer: k.peer }),
    facts: [
      { label: words('label.from', lang), value: k.peer },
      ...k.fingerprints.map((f) => ({ label: words('label.pinned', lang), value: f })),
      { label: words('label.sent', lang), value: utcTime(k.at) },
    ],
    content: [],
    todo: [words('action.key_mismatch', lang, { peer: k.peer, command: `hotline peer show ${k.peer}` })],
    ack_command: null, url: null,
  });
}

/** The alert `hotline sink test NAME` sends. */
export function testAlert(o: { node: string; sink: string; at: number }, s: AlertSettings): Alert {
  const lang = s.language;
  return finish({
    language: lang, time_zone: s.timeZone,
    subject: words('subject.test', lang, { node: o.node, sink: o.sink }),
    headline: words('headline.test', lang, { sink: o.sink }),
    facts: [{ label: words('label.from', lang), value: o.node }, { label: words('label.sent', lang), value: utcTime(o.at) }],
    content: [],
    todo: [words('action.none', lang)],
    ack_command: null, url: null,
  });
}
