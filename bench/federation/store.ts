/** A read-only view of a node's store, to read when each message was stored and receipted. */
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface LinkState {
  last_seq: number;
  acked_seq: number;
}

export interface OutboundRow {
  seq: number;
  stored_at: number;
  receipted_at: number | null;
}

export interface InboundRow {
  seq: number;
  stored_at: number;
}

/** Opens the node's SQLite file read-only (WAL: readers never block the node's writer). */
export class StoreReader {
  private readonly db: Database.Database;
  private readonly link: Database.Statement<[string, string], LinkState>;
  private readonly out: Database.Statement<[string, string, number, number], OutboundRow>;
  private readonly inbound: Database.Statement<[string, string, number, number], InboundRow>;

  constructor(home: string) {
    this.db = new Database(join(home, 'hotline.db'), { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.link = this.db.prepare('SELECT last_seq, acked_seq FROM links WHERE from_party = ? AND to_party = ?');
    this.out = this.db.prepare(`SELECT seq, stored_at, receipted_at FROM messages
      WHERE direction = 'out' AND from_party = ? AND to_party = ? AND seq > ? AND seq <= ? ORDER BY seq`);
    this.inbound = this.db.prepare(`SELECT seq, stored_at FROM messages
      WHERE direction = 'in' AND from_party = ? AND to_party = ? AND seq > ? AND seq <= ? ORDER BY seq`);
  }

  linkState(from: string, to: string): LinkState {
    return this.link.get(from, to) ?? { last_seq: 0, acked_seq: 0 };
  }

  /** Messages `from` sent to `to` with after < seq ≤ upTo, in seq order. */
  outbound(from: string, to: string, after: number, upTo: number): OutboundRow[] {
    return this.out.all(from, to, after, upTo);
  }

  /** Messages received from `from` for `to` with after < seq ≤ upTo, in seq order. */
  received(from: string, to: string, after: number, upTo: number): InboundRow[] {
    return this.inbound.all(from, to, after, upTo);
  }

  close(): void {
    this.db.close();
  }
}
