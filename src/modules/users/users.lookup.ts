import type { Kysely } from 'kysely';
import type { UsersTables } from './users.tables.js';

/**
 * Whether a user or a token exists, for other modules (issue 13, one storage seam: `users` and
 * `tokens` are this module's, and only it names them in a query). One query each.
 */
type Db = Kysely<UsersTables>;

/** True when a user of that name exists on this node (disabled or not). */
export async function userExists(db: Db, name: string): Promise<boolean> {
  return await db.selectFrom('users').select('name').where('name', '=', name).executeTakeFirst() !== undefined;
}

/** True when an API token with that id exists on this node (revoked or not). */
export async function tokenExists(db: Db, id: string): Promise<boolean> {
  return await db.selectFrom('tokens').select('id').where('id', '=', id).executeTakeFirst() !== undefined;
}
