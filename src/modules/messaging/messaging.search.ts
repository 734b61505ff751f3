import { createRequire } from 'node:module';
import type { Leases } from '../../shared/leases.js';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { fail } from '../../shared/errors.js';
import { statement } from '../../shared/statement.js';
import { BackgroundLoop } from '../../shared/loop.js';
import { messagesRowidHorizon, messagesStoredAfter, messagesStoredAfterUnless } from '../federation/federation.messages.js';
import type { Envelope } from '../federation/federation.types.js';
import { templateCatalog } from '../templates/templates.service.js';
import type { TemplateCatalog } from '../templates/templates.types.js';
import type { MessagingTables } from './messaging.tables.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Full-text search over the inbox and outbox (`--search TEXT`, `?search=`): a table,
 * `message_search`, one row per stored message under the message's own rowid, filled in batches
 * off the storing path ({@link indexPending}: by the node's {@link SearchIndexer} every few seconds,
 * and by every search first, so a search always sees every message stored before it).
 * A message's searchable text is its free text and its template fields rendered with their labels
 * in every language the templates have (a Russian officer finds an English-written crisis alert
 * by "оповещение", its Russian label). Kinds without a template (indicators, directory updates)
 * are indexed only by their free text, and not at all without one.
 *
 * SQLite: an FTS5 table (unicode61 tokenizer, diacritics removed). PostgreSQL: a `tsvector` of
 * `content` (the 'simple' configuration) with a GIN index (migration 0012_message_search.pg.ts);
 * there `content` holds the text already cut into words as unicode61 cuts them ({@link searchWords}),
 * and a search is cut the same way, so both stores find the same messages for the same search.
 */

type SearchDb = Kysely<MessagingTables>;

const lastIndexed = statement([], (db: SearchDb) => db.selectFrom('message_search').select('rowid').orderBy('rowid', 'desc').limit(1));
/**
 * PostgreSQL: whether a message (federation's `messages.rowid`, above `floor`) has its row here;
 * federation pages the messages for which it has not (see {@link indexPendingPg}). The bound on
 * `s.rowid` says the same again for the planner: without it, a hash anti-join read the whole index
 * table at every batch (7 ms a batch at 20,000 messages, growing with the table).
 */
const indexedRow = (floor: number) => sql<boolean>`exists (select 1 from message_search s where s.rowid = ${sql.ref('messages.rowid')} and s.rowid > ${floor})`;

/** Index rows per INSERT: one statement for many rows (on PostgreSQL each statement is a round trip). */
const INSERT_ROWS = 250;

/** Writes a batch's index rows; `once` (PostgreSQL): another process's indexer may have indexed some meanwhile. */
async function insertIndexRows(trx: SearchDb, rows: readonly { rowid: number; id: string; content: string }[], once: boolean): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    const q = trx.insertInto('message_search').values(rows.slice(i, i + INSERT_ROWS));
    await (once ? q.onConflict((oc) => oc.column('rowid').doNothing()) : q).execute();
  }
}

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
 * empty row, so the index's last rowid is where the next batch starts (SQLite). Returns how many.
 */
export async function indexPending(db: Kysely<MessagingTables>, limit: number = INDEX_BATCH, catalog: TemplateCatalog = templateCatalog()): Promise<number> {
  if (dialectOf(db) === 'postgres') return indexPendingPg(db as unknown as SearchDb, limit, catalog);
  return (db as unknown as SearchDb).transaction().execute(async (trx) => {
    // SQLite gives rowids in storing order under its one writer, and a transaction commits before
    // the next one stores: nothing can appear below the last rowid indexed.
    const last = ((await lastIndexed(trx, {})).rows[0] as { rowid: number } | undefined)?.rowid ?? 0;
    const rows = await messagesStoredAfter(trx, last, limit);
    await insertIndexRows(trx, rows.map((r) => ({ rowid: r.rowid, id: r.id, content: searchableText(r.kind, (JSON.parse(r.envelope) as Envelope).body, catalog) ?? '' })), false);
    return rows.length;
  });
}

/**
 * PostgreSQL: how far this process knows every message indexed, per store. `floor`: every message
 * with a rowid up to it is indexed (or never will exist). `candidate`: the rowids given out up to
 * `top` when it was read, and the transactions (virtual ids) then holding a write lock on
 * `messages`, which are the only ones that can still hold an uncommitted one of them.
 */
interface Horizon {
  floor: number;
  candidate: { top: number; writers: string[] } | null;
}
const horizons = new WeakMap<object, Horizon>();

/**
 * PostgreSQL's identity gives a rowid when a row is inserted, not when its transaction commits:
 * a transaction may commit a rowid lower than one already indexed, so "after the last indexed"
 * (SQLite's way) would skip it forever. Instead each batch takes the messages above `floor` that
 * have no index row (`not exists`, an anti-join over both primary keys), and `floor` moves up to a
 * candidate `top` only when every transaction that could hold a rowid up to it has ended: every
 * writer of `messages` holds its RowExclusiveLock from before it draws a rowid until it ends, so
 * the writers listed in `pg_locks` after reading `top` are all of them, and once none of them runs
 * (checked before the batch's snapshot) and a batch found fewer than it could take, every message
 * up to `top` is indexed. (The identity must not cache values per session: its default, cache 1.)
 * A new process starts at floor 0: its first batches walk the whole table once.
 */
async function indexPendingPg(db: SearchDb, limit: number, catalog: TemplateCatalog): Promise<number> {
  let h = horizons.get(db);
  if (h === undefined) horizons.set(db, (h = { floor: 0, candidate: null }));
  const c = h.candidate;
  const settled = c !== null && (c.writers.length === 0
    || (await sql<{ n: number }>`select count(*) as n from pg_locks where locktype = 'virtualxid' and virtualxid = any(${c.writers})`.execute(db)).rows[0]?.n === 0);
  const floor = h.floor;
  const { n, last } = await db.transaction().execute(async (trx) => {
    const rows = await messagesStoredAfterUnless(trx, floor, limit, indexedRow(floor));
    await insertIndexRows(trx, rows.map((r) => ({
      rowid: r.rowid, id: r.id, content: searchWords(searchableText(r.kind, (JSON.parse(r.envelope) as Envelope).body, catalog) ?? '').join(' '),
    })), true);
    return { n: rows.length, last: rows.at(-1)?.rowid ?? floor };
  });
  if (c !== null && settled) {
    // Every rowid up to `top` was committed (or dropped) before this batch's snapshot, so each of
    // them up to the last one the batch took is indexed now; a batch that was not full took all.
    // A full batch moves the floor too: an indexer behind a flood of messages would otherwise
    // walk from the same floor at every batch, each walk longer than the one before.
    const upTo = n < limit ? c.top : Math.min(c.top, last);
    h.floor = Math.max(h.floor, upTo);
    if (upTo === c.top) h.candidate = null;
  }
  if (h.candidate === null) {
    h.candidate = await messagesRowidHorizon(db);
  }
  return n;
}

/** PostgreSQL: the rowid up to which this process knows every message of `db` indexed (its horizon's floor; 0 before its first pass). */
export function indexedFloor(db: Kysely<MessagingTables>): number {
  return horizons.get(db)?.floor ?? 0;
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

/** The words a person typed: split at spaces and quotes, each with a letter or a digit. `invalid_argument` for none, or too many. */
function typedWords(typed: string): string[] {
  const words = typed.split(/[\s"]+/u).map((w) => w.trim()).filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) fail('invalid_argument', `--search needs at least one word (got "${typed}")`);
  if (words.length > MAX_WORDS) fail('invalid_argument', `--search takes at most ${MAX_WORDS} words`);
  return words;
}

/**
 * An FTS5 query from what a person typed: every word must appear, each as the start of a word
 * ("оповещ" finds "оповещение"); quotes and FTS5 operators are taken as text. `invalid_argument`
 * for a search with no word.
 */
export function ftsQuery(typed: string): string {
  return typedWords(typed).map((w) => `"${w}"*`).join(' ');
}

/**
 * Text cut into words as SQLite's unicode61 tokenizer (with remove_diacritics 2) cuts it: runs of
 * letters, digits and private-use characters, lower-cased, without diacritics ("Café" → "cafe").
 * PostgreSQL's index holds these words, and its searches are made of them ({@link tsQuery}).
 */
export function searchWords(text: string): string[] {
  return text.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC').split(/[^\p{L}\p{N}\p{Co}]+/u).filter((w) => w !== '');
}

/**
 * The PostgreSQL `tsquery` (for `to_tsquery('simple', ...)`) of what a person typed, meaning what
 * {@link ftsQuery} means to FTS5: every typed word must appear; one that unicode61 cuts into
 * several words ("198.51.100.7", "nothing-like-this") is those words in a row (`<->`, FTS5's
 * phrase), the last one as the start of a word (`:*`, FTS5's `*`). The words hold only letters and
 * digits, so quoting them is enough.
 */
export function tsQuery(typed: string): string {
  return typedWords(typed).map((w) => {
    const words = searchWords(w);
    return words.map((x, i) => `'${x}'${i === words.length - 1 ? ':*' : ''}`).join(' <-> ');
  }).filter((w) => w !== '').join(' & ');
}

/** The ids of the indexed messages a search finds (a subquery for the inbox; the index must be caught up first: {@link indexAll}). */
export function searchMatches(db: Kysely<MessagingTables>, typed: string) {
  const q = db.selectFrom('message_search').select('id');
  return dialectOf(db) === 'postgres'
    ? q.where(sql<boolean>`words @@ to_tsquery('simple', ${tsQuery(typed)})`)
    : q.where('content', 'match', ftsQuery(typed));
}
