import type { Kysely } from 'kysely';
import { MIN_PREFIX } from '../../shared/shortid.js';
import type { FederationTables } from '../federation/federation.tables.js';

/**
 * The shortest prefix of a stored message's id (at least 8 characters) that no other stored
 * message shares, as `hotline ack` takes it: what an alert tells a person to type. Two indexed
 * look-ups (the ids just before and after it).
 */
export async function shortMessageId(db: Kysely<FederationTables>, id: string): Promise<string> {
  const before = await db.selectFrom('messages').select('id').where('id', '<', id).orderBy('id', 'desc').limit(1).executeTakeFirst();
  const after = await db.selectFrom('messages').select('id').where('id', '>', id).orderBy('id').limit(1).executeTakeFirst();
  const common = (other: string | undefined): number => {
    if (other === undefined) return 0;
    let i = 0;
    while (i < id.length && id[i] === other[i]) i++;
    return i;
  };
  let n = Math.max(MIN_PREFIX, common(before?.id) + 1, common(after?.id) + 1);
  if (id[n - 1] === '-') n++;
  return id.slice(0, Math.min(n, id.length));
}
