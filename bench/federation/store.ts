/** A read-only view of a node's store, to read when each message was stored and receipted (SQLite or PostgreSQL). */
import { createRequire } from 'node:module';
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

export interface StoreReader {
  linkState(from: string, to: string): Promise<LinkState>;
  /** Messages `from` sent to `to` with after < seq ≤ upTo, in seq order. */
  outbound(from: string, to: string, after: number, upTo: number): Promise<OutboundRow[]>;
  /** Messages received from `from` for `to` with after < seq ≤ upTo, in seq order. */
  received(from: string, to: string, after: number, upTo: number): Promise<InboundRow[]>;
  close(): Promise<void>;
}

const LINK = 'SELECT last_seq, acked_seq FROM links WHERE from_party = $1 AND to_party = $2';
const OUT = `SELECT seq, stored_at, receipted_at FROM messages
  WHERE direction = 'out' AND from_party = $1 AND to_party = $2 AND seq > $3 AND seq <= $4 ORDER BY seq`;
const IN = `SELECT seq, stored_at FROM messages
  WHERE direction = 'in' AND from_party = $1 AND to_party = $2 AND seq > $3 AND seq <= $4 ORDER BY seq`;

/** Opens the node's SQLite file read-only (WAL: readers never block the node's writer). */
export class SqliteReader implements StoreReader {
  private readonly db: Database.Database;
  private readonly link: Database.Statement<[string, string], LinkState>;
  private readonly out: Database.Statement<[string, string, number, number], OutboundRow>;
  private readonly inbound: Database.Statement<[string, string, number, number], InboundRow>;

  constructor(home: string) {
    this.db = new Database(join(home, 'hotline.db'), { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    const q = (s: string): string => s.replace(/\$\d/g, '?');
    this.link = this.db.prepare(q(LINK));
    this.out = this.db.prepare(q(OUT));
    this.inbound = this.db.prepare(q(IN));
  }

  linkState(from: string, to: string): Promise<LinkState> {
    return Promise.resolve(this.link.get(from, to) ?? { last_seq: 0, acked_seq: 0 });
  }

  outbound(from: string, to: string, after: number, upTo: number): Promise<OutboundRow[]> {
    return Promise.resolve(this.out.all(from, to, after, upTo));
  }

  received(from: string, to: string, after: number, upTo: number): Promise<InboundRow[]> {
    return Promise.resolve(this.inbound.all(from, to, after, upTo));
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

/** Reads a node's PostgreSQL store over one connection. */
export class PgReader implements StoreReader {
  private readonly client;
  private readonly ready: Promise<void>;

  constructor(url: string) {
    const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');
    this.client = new Client({ connectionString: url });
    this.ready = this.client.connect().then(() => undefined);
  }

  private async rows<T>(text: string, values: unknown[]): Promise<T[]> {
    await this.ready;
    const r = await this.client.query(text, values);
    return r.rows.map((row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : Number(v)])) as T);
  }

  async linkState(from: string, to: string): Promise<LinkState> {
    return (await this.rows<LinkState>(LINK, [from, to]))[0] ?? { last_seq: 0, acked_seq: 0 };
  }

  outbound(from: string, to: string, after: number, upTo: number): Promise<OutboundRow[]> {
    return this.rows(OUT, [from, to, after, upTo]);
  }

  received(from: string, to: string, after: number, upTo: number): Promise<InboundRow[]> {
    return this.rows(IN, [from, to, after, upTo]);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
