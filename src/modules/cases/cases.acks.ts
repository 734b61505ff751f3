import type { Kysely } from 'kysely';
import type { AcksTable, CasesTables } from './cases.tables.js';

/**
 * The first human acknowledgement of each of these messages that has one (the `acks` table is the
 * cases module's; other modules read it only through here). One query.
 */
export async function acksOf(db: Kysely<CasesTables>, ids: readonly string[]): Promise<AcksTable[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('acks').select(['message_id', 'officer', 'acked_at', 'ack_message_id']).where('message_id', 'in', [...ids]).execute();
}
