import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { openSqlite } from '../../src/adapters/storage/sqlite.js';
import type { Dialect } from '../../src/shared/dialect.js';
import { exportEnvelopes, importCarriage } from '../../src/modules/federation/federation.carriage.js';
import { enqueue, type Draft } from '../../src/modules/federation/federation.outbox.js';
import { makeDescriptor, parseDescriptor, PeerRepository } from '../../src/modules/federation/federation.peers.js';
import type { ReceiveDeps } from '../../src/modules/federation/federation.receive.js';
import type { FederationTables, LinksTable, MessagesTable } from '../../src/modules/federation/federation.tables.js';
import { DEFAULT_LIMITS, type Envelope, type Limits, type Self } from '../../src/modules/federation/federation.types.js';
import { generateKeys } from '../../src/modules/identity/identity.keys.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { describeEachStore, openTestStore } from './pg.js';

let current: Dialect = 'sqlite';

/**
 * The dialect of the `describeEachDialect` block whose tests are running, for a file's helpers and
 * hooks shared by its blocks (`beforeEach(async () => { db = await openTestStore(storeDialect()); })`).
 */
export function storeDialect(): Dialect {
  return current;
}

/**
 * `describeEachStore` for files whose stores are opened by shared helpers: the same tests once
 * per dialect this machine can test, with `storeDialect()` (and so `makeStorePair()`) in that
 * block's dialect while its tests run.
 */
export function describeEachDialect(name: string, body: (dialect: Dialect) => void): void {
  describeEachStore(name, (_open, dialect) => {
    beforeAll(() => {
      current = dialect;
    });
    afterAll(() => {
      current = 'sqlite';
    });
    body(dialect);
  });
}

/** One node's store and everything the federation module needs to act on it, in process. */
export type StoreNode = ReceiveDeps & { db: Kysely<FederationTables> };

/** Two nodes with their own stores (SQLite files, or PostgreSQL schemas in the test file's database), each having pinned the other. */
export interface StorePair {
  a: StoreNode;
  b: StoreNode;
  dir: string;
  close(): Promise<void>;
}

function selfOf(party: string): Self {
  return { party, name: `Node ${party}`, url: 'http://127.0.0.1:1', channels: ['crisis', 'cert', 'law'] };
}

async function makeNode(dir: string, party: string, limits: Limits, dialect: Dialect): Promise<StoreNode> {
  const db = dialect === 'sqlite' ? await openSqlite(join(dir, `${party}.sqlite`)) : await openTestStore('postgres');
  const self = selfOf(party);
  const { keys } = generateKeys();
  const peers = new PeerRepository({ db, clock: systemClock, self });
  return { db, keys, self, clock: systemClock, limits, peers, log: silentLogger };
}

/**
 * Builds two nodes ("east" and "west" unless named) in a fresh temp dir, each pinning the other:
 * on SQLite each a file in the dir; on PostgreSQL each a fresh schema of the test
 * file's own database (test/helpers/pg.ts). The dialect is `opts.dialect`, else `storeDialect()`. Call `close()` when done: it destroys both stores and
 * removes the dir.
 */
export async function makeStorePair(opts: { a?: string; b?: string; limits?: Partial<Limits>; dialect?: Dialect } = {}): Promise<StorePair> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-stores-'));
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const dialect = opts.dialect ?? storeDialect();
  const a = await makeNode(dir, opts.a ?? 'east', limits, dialect);
  const b = await makeNode(dir, opts.b ?? 'west', limits, dialect);
  await a.peers.add(parseDescriptor(JSON.parse(JSON.stringify(makeDescriptor(b.self, b.keys)))));
  await b.peers.add(parseDescriptor(JSON.parse(JSON.stringify(makeDescriptor(a.self, a.keys)))));
  return {
    a,
    b,
    dir,
    async close() {
      await a.db.destroy();
      await b.db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Queues `n` plain notifications from `from` to `to`; returns the signed envelopes in order. */
export async function send(from: StoreNode, to: StoreNode, n: number, draft: Partial<Draft> = {}): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for (let i = 1; i <= n; i++) {
    out.push(await enqueue(from, {
      to: to.self.party, kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'green',
      body: { text: `message ${i} from ${from.self.party}` }, ...draft,
    }));
  }
  return out;
}

/** Everything a store holds about links and messages, in a stable order: compare two to prove nothing changed. */
export async function snapshot(db: Kysely<FederationTables>): Promise<{ messages: MessagesTable[]; links: LinksTable[] }> {
  const messages = await db.selectFrom('messages').selectAll().orderBy('id').execute();
  const links = await db.selectFrom('links').selectAll().orderBy('from_party').orderBy('to_party').execute();
  return { messages, links };
}

/** Carries everything `from` has queued for `to` by carriage file, and the receipts back. */
export async function carry(from: StoreNode, to: StoreNode): Promise<void> {
  const r = await importCarriage(to, await exportEnvelopes(from, to.self.party));
  if (r.type !== 'envelopes') throw new Error('expected an envelopes import');
  await importCarriage(from, r.receipts);
}
