import type { Kysely } from 'kysely';
import { fail } from '../../shared/errors.js';
import { statement } from '../../shared/statement.js';
import type { MessageHook } from '../federation/federation.hooks.js';
import { render, templateCatalog } from '../templates/templates.service.js';
import type { TemplateCatalog } from '../templates/templates.types.js';
import type { MessagingTables } from './messaging.tables.js';

/**
 * Full-text search over the inbox and outbox (`--search TEXT`, `?search=`): an SQLite FTS5 table,
 * `message_search`, filled when a message is stored (the hook below, in the storing transaction).
 * A message's searchable text is its free text and its template fields rendered with their labels
 * in every language the templates have (a Russian officer finds an English-written crisis alert
 * by "оповещение", its Russian label). Kinds without a template (indicators, directory updates)
 * are indexed only by their free text, and not at all without one.
 */

const insertSearch = statement(['id', 'content'], (db: Kysely<MessagingTables>, p) => db.insertInto('message_search').values({ id: p.id, content: p.content }));

/** The text a message is found by: its kind, its rendered labels and values in every language, its free text. */
export function searchableText(kind: string, body: Record<string, unknown>, catalog: TemplateCatalog = templateCatalog()): string | null {
  const text = typeof body.text === 'string' ? body.text : null;
  if (!catalog.templates.has(kind)) return text;
  const words = new Set<string>([kind]);
  for (const lang of catalog.languages) {
    for (const line of render(kind, body, lang, catalog)) {
      if (line.field === 'text') continue;
      words.add(line.label);
      words.add(line.value);
    }
  }
  if (text !== null) words.add(text);
  return [...words].join('\n');
}

/**
 * Indexes each stored message (both directions) for search: one compiled INSERT into
 * `message_search` per message that has something to search, nothing for one that has not. Its
 * cost on the storing path is that statement (FTS5 tokenises a few hundred bytes) and rendering
 * the body's labels in each template language (bench:federation, docs/benchmarks.md).
 */
export function searchHook(catalog: TemplateCatalog = templateCatalog()): MessageHook {
  return {
    name: 'search',
    async apply(trx, m) {
      const content = searchableText(m.env.kind, m.env.body, catalog);
      if (content === null || content === '') return;
      await insertSearch(trx, { id: m.env.id, content });
    },
  };
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
