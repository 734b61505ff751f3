import type { Leases } from '../../shared/leases.js';
import type { Kysely } from 'kysely';
import { fail } from '../../shared/errors.js';
import { statement } from '../../shared/statement.js';
import { BackgroundLoop } from '../../shared/loop.js';
import type { Envelope } from '../federation/federation.types.js';
import { templateCatalog } from '../templates/templates.service.js';
import type { TemplateCatalog } from '../templates/templates.types.js';
import type { MessagingTables } from './messaging.tables.js';

/**
 * Full-text search over the inbox and outbox (`--search TEXT`, `?search=`): an SQLite FTS5 table,
 * `message_search`, one row per stored message under the message's own rowid, filled in batches
 * off the storing path ({@link indexPending}: by the node's {@link SearchIndexer} every few seconds,
 * and by every search first, so a search always sees every message stored before it).
 * A message's searchable text is its free text and its template fields rendered with their labels
 * in every language the templates have (a Russian officer finds an English-written crisis alert
 * by "оповещение", its Russian label). Kinds without a template (indicators, directory updates)
 * are indexed only by their free text, and not at all without one.
 */

/** The stored messages as this module reads them: in the order they were stored (SQLite's rowid). */
type Stored = { messages: { rowid: number; id: string; kind: string; envelope: string } };
type SearchDb = Kysely<MessagingTables & Stored>;

const lastIndexed = statement([], (db: SearchDb) => db.selectFrom('message_search').select('rowid').orderBy('rowid', 'desc').limit(1));
const pendingRows = statement(['after', 'limit'], (db: SearchDb, p) => db.selectFrom('messages').select(['rowid', 'id', 'kind', 'envelope'])
  .where('rowid', '>', p.after).orderBy('rowid').limit(p.limit));
const insertSearch = statement(['rowid', 'id', 'content'], (db: SearchDb, p) => db.insertInto('message_search').values({ rowid: p.rowid, id: p.id, content: p.content }));

/** Every language's label of a labels object, one per line (cached per object: labels are frozen catalog data). */
const labelText = new WeakMap<object, string>();
function allLabels(labels: Readonly<Record<string, string>>): string {
  let t = labelText.get(labels);
  if (t === undefined) labelText.set(labels, (t = [...new Set(Object.values(labels))].join('\n')));
  return t;
}

/** A value as words: a time window's two ends, a list's items, anything else as JSON text. */
function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(valueText).join('\n');
  if (typeof v === 'object' && v !== null) return Object.values(v).map(valueText).join('\n');
  return String(v);
}

/**
 * The text a message is found by: its kind, its template's title and the labels of the fields it
 * has in every language, its values (codes as their labels in every language, booleans as yes/no
 * in every language), its free text. No rendering nor checking (the templates hook checked the
 * body before this runs) and cached labels: this runs for every message stored.
 */
export function searchableText(kind: string, body: Record<string, unknown>, catalog: TemplateCatalog = templateCatalog()): string | null {
  const text = typeof body.text === 'string' ? body.text : null;
  const t = catalog.templates.get(kind);
  if (t === undefined) return text;
  const fields = typeof body.fields === 'object' && body.fields !== null && !Array.isArray(body.fields) ? (body.fields as Record<string, unknown>) : {};
  const parts: string[] = [kind, allLabels(t.labels)];
  for (const [name, v] of Object.entries(fields)) {
    const spec = t.fields.find((f) => f.name === name);
    if (spec === undefined) {
      parts.push(name, valueText(v));
      continue;
    }
    parts.push(allLabels(spec.labels));
    const vocab = spec.vocabulary === undefined ? undefined : catalog.vocabularies.get(spec.vocabulary);
    const codes = vocab === undefined ? undefined : (Array.isArray(v) ? v : [v]).map((c) => (typeof c === 'string' ? vocab.codes.get(c) : undefined));
    const yesNo = typeof v === 'boolean' ? catalog.terms.get(v ? 'yes' : 'no') : undefined;
    if (codes !== undefined && codes.every((l) => l !== undefined)) parts.push(...codes.map((l) => allLabels(l!)));
    else if (yesNo !== undefined) parts.push(allLabels(yesNo));
    else parts.push(valueText(v));
  }
  if (text !== null) parts.push(text);
  return parts.join('\n');
}

/** Messages indexed per transaction. */
export const INDEX_BATCH = 500;

/**
 * Indexes up to `limit` stored messages not indexed yet, oldest first, in one transaction (FTS5
 * writes one segment per transaction: a batch costs far less than a message at a time on the
 * storing path, which a flood of messages paid before). A message with nothing to search gets an
 * empty row, so the index's last rowid is where the next batch starts. Returns how many.
 */
export async function indexPending(db: Kysely<MessagingTables>, limit: number = INDEX_BATCH, catalog: TemplateCatalog = templateCatalog()): Promise<number> {
  return (db as unknown as SearchDb).transaction().execute(async (trx) => {
    const last = ((await lastIndexed(trx, {})).rows[0] as { rowid: number } | undefined)?.rowid ?? 0;
    const rows = (await pendingRows(trx, { after: last, limit })).rows as Stored['messages'][];
    for (const r of rows) {
      const content = searchableText(r.kind, (JSON.parse(r.envelope) as Envelope).body, catalog) ?? '';
      await insertSearch(trx, { rowid: r.rowid, id: r.id, content });
    }
    return rows.length;
  });
}

/** Indexes every stored message not indexed yet (what a search does first). */
export async function indexAll(db: Kysely<MessagingTables>): Promise<void> {
  while ((await indexPending(db)) === INDEX_BATCH) { /* the next batch */ }
}

/** Keeps the index close behind the store: a batch every few seconds, on the node's loop. */
export class SearchIndexer {
  private readonly loop: BackgroundLoop;

  /** `leases`: several processes of one node (PostgreSQL) index under the `search-index` lease, one at a time, instead of conflicting on the same rows. */
  constructor(deps: { db: Kysely<MessagingTables>; onError: (e: unknown) => void; sleepMs?: number; leases?: Leases }) {
    let busy = false;
    this.loop = new BackgroundLoop({
      pass: async () => {
        const leases = deps.leases;
        if (leases !== undefined && !await leases.acquire('search-index')) {
          busy = false;
          return;
        }
        busy = (await indexPending(deps.db)) === INDEX_BATCH;
      },
      // A full batch: more are waiting, go on soon (still yielding to the node's requests).
      sleepMs: () => (busy ? 50 : deps.sleepMs ?? 3000),
      onError: deps.onError,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}

/** Most words a search may have. */
const MAX_WORDS = 16;

/**
 * An FTS5 query from what a person typed: every word must appear, each as the start of a word
 * ("оповещ" finds "оповещение"); quotes and FTS5 operators are taken as text. `invalid_argument`
 * for a search with no word.
 */
export function ftsQuery(typed: string): string {
  const words = typed.split(/[\s"]+/u).map((w) => w.trim()).filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) fail('invalid_argument', `--search needs at least one word (got "${typed}")`);
  if (words.length > MAX_WORDS) fail('invalid_argument', `--search takes at most ${MAX_WORDS} words`);
  return words.map((w) => `"${w}"*`).join(' ');
}
