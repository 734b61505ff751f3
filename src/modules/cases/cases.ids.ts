import type { Kysely } from 'kysely';
import { prefixBounds, resolveUuid, shortIdsAmong } from '../../shared/shortid.js';
import type { CasesTables } from './cases.tables.js';

/** The ids of cases that start with `prefix` (at most `limit`), on `channels` when given. A range on the primary key. */
export async function caseIdsStartingWith(db: Kysely<CasesTables>, prefix: string, limit: number, channels?: readonly string[]): Promise<string[]> {
  if (channels !== undefined && channels.length === 0) return [];
  const { lo, hi } = prefixBounds(prefix);
  let q = db.selectFrom('cases').select('id').where('id', '>=', lo).where('id', '<', hi);
  if (channels !== undefined) q = q.where('channel', 'in', [...channels]);
  return (await q.orderBy('id').limit(limit).execute()).map((r) => r.id);
}

/** A case id as a person types it: the whole id or a unique prefix of at least 8 characters (shared/shortid.ts). */
export function resolveCaseId(db: Kysely<CasesTables>, input: string, channels?: readonly string[]): Promise<string> {
  return resolveUuid(input, 'case', (p, n) => caseIdsStartingWith(db, p, n, channels));
}

/** How a listing shows these case ids: the shortest prefix (at least 8 characters) that names one case on this node. */
export function shortCaseIds(db: Kysely<CasesTables>, ids: readonly string[]): Promise<Map<string, string>> {
  return shortIdsAmong(ids, async (id) => {
    const before = await db.selectFrom('cases').select('id').where('id', '<', id).orderBy('id', 'desc').limit(1).executeTakeFirst();
    const after = await db.selectFrom('cases').select('id').where('id', '>', id).orderBy('id').limit(1).executeTakeFirst();
    return [before?.id, after?.id].filter((x): x is string => x !== undefined);
  });
}
