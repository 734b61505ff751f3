import type { Kysely } from 'kysely';
import { statement, type QueryRunner } from '../../shared/statement.js';
import type { FederationTables } from './federation.tables.js';

/**
 * What other modules read and write of a peer's row (issue 13, one storage seam: `peers` is
 * federation's, and only this module names it in a query): whether a party is pinned, and the
 * deadlines agreed with it. Pass the caller's transaction as `db` to stay inside it.
 */
type Db = Kysely<FederationTables>;

/** True when `party` is a pinned peer of this node (in any lifecycle state). */
export async function isPinned(db: Db, party: string): Promise<boolean> {
  return await db.selectFrom('peers').select('party').where('party', '=', party).executeTakeFirst() !== undefined;
}

// Compiled once (shared/statement.ts): the deadlines hook reads it per peer in each storing transaction.
const deadlinesOf = statement(['party'], (db: Db, p) => db.selectFrom('peers').select('deadlines').where('party', '=', p.party));

/** The deadlines agreed with a peer, as stored (JSON `Record<Priority, minutes>`), or undefined for an unknown party. */
export async function peerDeadlinesJson(db: QueryRunner, party: string): Promise<string | undefined> {
  return ((await deadlinesOf(db, { party })).rows[0] as { deadlines: string } | undefined)?.deadlines;
}

/** Stores the deadlines agreed with a peer (JSON `Record<Priority, minutes>`). */
export async function setPeerDeadlinesJson(db: Db, party: string, deadlines: string, at: number): Promise<void> {
  await db.updateTable('peers').set({ deadlines, updated_at: at }).where('party', '=', party).execute();
}
