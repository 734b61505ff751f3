import type { Kysely } from 'kysely';
import type { FederationTables } from '../federation/federation.tables.js';
import type { Envelope } from '../federation/federation.types.js';
import type { Principal } from '../users/users.types.js';
import { render, templateCatalog } from '../templates/templates.service.js';
import type { TemplateCatalog } from '../templates/templates.types.js';
import { canRead, markedOf } from './messaging.visibility.js';
import { messagesFields } from '../federation/federation.messages.js';

/** Longest summary a listing shows (characters). */
export const SUMMARY_MAX = 100;

/** How many template fields a summary names after the title. */
const KEY_FIELDS = 2;

function oneLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

function clip(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > SUMMARY_MAX ? `${t.slice(0, SUMMARY_MAX - 1)}…` : t;
}

/**
 * The line a person reads in a listing, in `lang`: the template's title and its first fields
 * with values ("Crisis alert: DDoS; High"), or the first line of the free text; the kind when
 * there is neither.
 */
export function summaryOf(kind: string, body: Record<string, unknown>, lang: string, catalog: TemplateCatalog = templateCatalog()): string {
  const lines = render(kind, body, lang, catalog);
  const title = lines.find((l) => l.field === 'template')?.value;
  const fields = lines.filter((l) => l.field !== 'template' && l.field !== 'text').slice(0, KEY_FIELDS).map((l) => l.value);
  const text = typeof body.text === 'string' ? oneLine(body.text) : '';
  if (fields.length > 0) return clip(`${title ?? kind}: ${fields.join('; ')}`);
  if (text !== '') return clip(title === undefined ? text : `${title}: ${text}`);
  return clip(title ?? kind);
}

/** What the queue shows of a message the reader may read. */
export interface Readable {
  id: string;
  from: string;
  summary: string;
}

/**
 * Of these messages, the ones `as` may read (its channels; a TLP:RED one only where it is a
 * named recipient or its writer, messaging.visibility.ts `canRead`), each with its sender and
 * summary in `lang`. Others are left out: the queue does not list what its reader cannot read.
 */
export async function readableSummaries(db: Kysely<FederationTables>, ids: readonly string[], as: Principal, lang: string): Promise<Map<string, Readable>> {
  const out = new Map<string, Readable>();
  if (ids.length === 0) return out;
  const catalog = templateCatalog();
  const rows = await messagesFields(db, ids, ['id', 'direction', 'channel', 'tlp', 'kind', 'from_party', 'envelope']);
  for (const r of rows) {
    const body = (JSON.parse(r.envelope) as Envelope).body;
    if (!canRead(as, markedOf(r, body))) continue;
    out.set(r.id, { id: r.id, from: r.from_party, summary: summaryOf(r.kind, body, lang, catalog) });
  }
  return out;
}
