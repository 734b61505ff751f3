import type { Kysely } from 'kysely';
import type { FederationTables } from './federation.tables.js';
import { lastErrorCode } from './federation.types.js';

/** One pinned peer's links as `hotline status` and /metrics show them. Times in ms, null when never. */
export interface LinkHealth {
  party: string;
  name: string;
  /** Our envelopes to it not yet receipted. */
  backlog: number;
  /** When its newest receipt for our envelopes came back. */
  last_receipt_at: number | null;
  /** When we stored its newest envelope to us. */
  last_received_at: number | null;
  /** Failed delivery attempts in a row (0 when the last one succeeded). */
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  /** The stable code in front of `last_error`, e.g. key_mismatch, peer_unreachable. */
  last_error_code: string | null;
}

/**
 * Every pinned peer's links, by party: a few indexed lookups per peer (the link rows, and the
 * messages at the heads by their unique (from, to, seq) key), cheap enough for each scrape.
 */
export async function linkHealth(db: Kysely<FederationTables>, self: string): Promise<LinkHealth[]> {
  const peers = await db.selectFrom('peers').select(['party', 'name']).orderBy('party').execute();
  const links = await db.selectFrom('links').selectAll().where((eb) => eb.or([eb('from_party', '=', self), eb('to_party', '=', self)])).execute();
  const at = async (from: string, to: string, seq: number, column: 'receipted_at' | 'stored_at'): Promise<number | null> => {
    if (seq <= 0) return null;
    const r = await db.selectFrom('messages').select(column).where('from_party', '=', from).where('to_party', '=', to).where('seq', '=', seq).executeTakeFirst();
    const v = r?.[column];
    return v === undefined || v === null ? null : Number(v);
  };
  const out: LinkHealth[] = [];
  for (const p of peers) {
    const outLink = links.find((l) => l.from_party === self && l.to_party === p.party);
    const inLink = links.find((l) => l.from_party === p.party && l.to_party === self);
    const acked = Number(outLink?.acked_seq ?? 0);
    out.push({
      party: p.party, name: p.name,
      backlog: outLink === undefined ? 0 : Math.max(0, Number(outLink.last_seq) - acked),
      last_receipt_at: await at(self, p.party, acked, 'receipted_at'),
      last_received_at: await at(p.party, self, Number(inLink?.last_seq ?? 0), 'stored_at'),
      attempts: Number(outLink?.attempts ?? 0),
      next_attempt_at: outLink?.next_attempt_at === null || outLink?.next_attempt_at === undefined ? null : Number(outLink.next_attempt_at),
      last_error: outLink?.last_error ?? null,
      last_error_code: lastErrorCode(outLink?.last_error),
    });
  }
  return out;
}

/** Our envelopes not yet receipted, per peer we have a link to (the /metrics outbox gauge): one query. */
export async function outboxPending(db: Kysely<FederationTables>, self: string): Promise<{ to: string; pending: number }[]> {
  const rows = await db.selectFrom('links').select(['to_party', 'last_seq', 'acked_seq']).where('from_party', '=', self).execute();
  return rows.map((r) => ({ to: r.to_party, pending: Number(r.last_seq) - Number(r.acked_seq) }));
}

/** Reads one row of the store (GET /healthz): throws when the store does not answer. */
export async function storeAnswers(db: Kysely<FederationTables>): Promise<void> {
  await db.selectFrom('links').select('from_party').limit(1).execute();
}
