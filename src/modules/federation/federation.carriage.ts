import type { Kysely, Transaction } from 'kysely';
import { isoTime, systemClock, type Clock } from '../../shared/clock.js';
import { fail, HotlineError } from '../../shared/errors.js';
import { parseReceipt, receiptProblem } from './federation.envelope.js';
import { getLink, normaliseLink } from './federation.links.js';
import { validKeys, type Peer } from './federation.peers.js';
import { receiveBatch, type ReceiveDeps } from './federation.receive.js';
import type { FederationTables, LinksTable } from './federation.tables.js';
import type { Envelope, EnvelopeResult, Receipt, Self } from './federation.types.js';

/** The `format` tag of every carriage file. */
export const CARRIAGE_FORMAT = 'hotline-carriage' as const;

interface CarriageHeader {
  format: typeof CARRIAGE_FORMAT;
  v: 1;
  /** The node that wrote the file and the node it is meant for. */
  from: string;
  to: string;
  exported_at: string;
}

/** Envelopes carried offline (USB, e-mail) from their sender to their recipient. */
export interface EnvelopesCarriage extends CarriageHeader {
  type: 'envelopes';
  envelopes: Envelope[];
}

/** Receipts carried back from the recipient to the envelopes' sender. */
export interface ReceiptsCarriage extends CarriageHeader {
  type: 'receipts';
  receipts: Receipt[];
}

/** A carriage file, as exported and imported (JSON). */
export type CarriageFile = EnvelopesCarriage | ReceiptsCarriage;

/** Per-receipt answer of a receipts import. */
export interface ReceiptResult {
  id: string | null;
  ok: boolean;
  error?: { code: string; message: string };
}

/** A link whose delivery state a receipts import moved forward. */
export interface AdvancedLink {
  to: string;
  acked_seq: number;
  send_from_seq: number;
}

/** What {@link importCarriage} did, by file type. */
export type CarriageImport =
  | { type: 'envelopes'; results: EnvelopeResult[]; receipts: ReceiptsCarriage }
  | { type: 'receipts'; results: ReceiptResult[]; advanced: AdvancedLink[] };

/** What an import needs: the receive path's dependencies, plus an optional delivery hook (metrics). */
export type CarriageDeps = ReceiveDeps & {
  /** Told of receipts newly applied from a file: (messages receipted, peer). */
  onDelivered?: (count: number, to: string) => void;
};

/**
 * Exports the outbound envelopes on the link self→`to`, in seq order, as a carriage file.
 * By default from the link's `send_from_seq`: everything not yet receipted.
 * Refuses with `unknown_peer` when `to` is not pinned; a pinned peer with no link yet gives an empty file.
 * `clock` (default: the system clock) only stamps `exported_at`.
 *
 * @example
 * const file = await exportEnvelopes({ db, self }, 'ru', {});
 * await writeFile('to-ru.json', JSON.stringify(file));
 */
export async function exportEnvelopes(
  deps: { db: Kysely<FederationTables>; self: Self; clock?: Clock },
  to: string,
  opts: { fromSeq?: number } = {},
): Promise<EnvelopesCarriage> {
  const { db, self } = deps;
  const peer = await db.selectFrom('peers').select(['party', 'state']).where('party', '=', to).executeTakeFirst();
  if (peer === undefined) fail('unknown_peer', `No peer "${to}" is pinned on this node; nothing can be exported to it`);
  if (peer.state === 'removed') fail('peer_removed', `"${to}" was removed; nothing more is sent to it, by carriage either. Pin it again with "hotline peer add" to write to it`);
  if (opts.fromSeq !== undefined && (!Number.isSafeInteger(opts.fromSeq) || opts.fromSeq < 1)) {
    fail('invalid_argument', `The first seq to export must be an integer of at least 1, not ${String(opts.fromSeq)}`);
  }
  const link = await getLink(db, self.party, to);
  const envelopes: Envelope[] = [];
  if (link !== undefined) {
    const rows = await db.selectFrom('messages').select('envelope')
      .where('from_party', '=', self.party).where('to_party', '=', to).where('direction', '=', 'out')
      .where('seq', '>=', opts.fromSeq ?? link.send_from_seq)
      .orderBy('seq').execute();
    for (const r of rows) envelopes.push(JSON.parse(r.envelope) as Envelope);
  }
  return { format: CARRIAGE_FORMAT, v: 1, type: 'envelopes', from: self.party, to, exported_at: isoTime((deps.clock ?? systemClock).now()), envelopes };
}

/**
 * Imports a carriage file: envelopes go through the same path as the network ({@link receiveBatch}),
 * receipts are checked and applied like those that come back over HTTP. Importing a file twice
 * changes nothing the second time. A file that is not a carriage file throws `carriage_invalid`
 * before anything is changed; individual bad envelopes or receipts are refused one by one.
 */
export async function importCarriage(deps: CarriageDeps, file: unknown): Promise<CarriageImport> {
  const f = checkFile(file);
  if (f.type === 'envelopes') {
    const results = await importEnvelopes(deps, f.from, f.envelopes);
    const receipts: Receipt[] = [];
    for (const r of results) if (r.ok) receipts.push(r.receipt);
    return {
      type: 'envelopes',
      results,
      receipts: { format: CARRIAGE_FORMAT, v: 1, type: 'receipts', from: deps.self.party, to: f.from, exported_at: isoTime(deps.clock.now()), receipts },
    };
  }
  return { type: 'receipts', ...(await importReceipts(deps, f.receipts)) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(what: string): never {
  return fail('carriage_invalid', `Not a valid carriage file: ${what}`);
}

type Unchecked = { type: 'envelopes'; from: string; envelopes: unknown[] } | { type: 'receipts'; from: string; receipts: unknown[] };

function checkFile(file: unknown): Unchecked {
  if (!isRecord(file)) invalid('expected a JSON object');
  if (file.format !== CARRIAGE_FORMAT) invalid(`"format" is ${JSON.stringify(file.format)}, expected "${CARRIAGE_FORMAT}"`);
  if (file.v !== 1) invalid(`"v" is ${JSON.stringify(file.v)}; this node reads version 1`);
  if (typeof file.from !== 'string' || file.from === '') invalid('"from" must name the party that wrote the file');
  if (typeof file.to !== 'string' || file.to === '') invalid('"to" must name the party the file is for');
  if (file.type === 'envelopes') {
    if (!Array.isArray(file.envelopes)) invalid('"envelopes" must be an array');
    return { type: 'envelopes', from: file.from, envelopes: file.envelopes as unknown[] };
  }
  if (file.type === 'receipts') {
    if (!Array.isArray(file.receipts)) invalid('"receipts" must be an array');
    return { type: 'receipts', from: file.from, receipts: file.receipts as unknown[] };
  }
  return invalid(`"type" is ${JSON.stringify(file.type)}, expected "envelopes" or "receipts"`);
}

/**
 * Feeds envelopes to the receive path in order, in batches it accepts. A carriage file holds one
 * sender's envelopes: one claiming another sender is refused here (its receipt would go astray).
 */
async function importEnvelopes(deps: CarriageDeps, sender: string, envelopes: readonly unknown[]): Promise<EnvelopeResult[]> {
  const results: EnvelopeResult[] = new Array<EnvelopeResult>(envelopes.length);
  const passed: number[] = [];
  for (const [i, e] of envelopes.entries()) {
    if (isRecord(e) && typeof e.from === 'string' && e.from !== sender) {
      results[i] = { id: idOf(e), ok: false, error: { code: 'invalid_envelope', message: `The envelope is from "${e.from}" but the carriage file is from "${sender}"` } };
    } else {
      passed.push(i);
    }
  }
  const size = Math.max(1, deps.limits.maxBatchEnvelopes);
  for (let i = 0; i < passed.length; i += size) {
    const chunk = passed.slice(i, i + size);
    const answers = await receiveBatch(deps, chunk.map((j) => envelopes[j]));
    for (const [k, j] of chunk.entries()) results[j] = answers[k]!;
  }
  return results;
}

interface Parsed {
  index: number;
  receipt: Receipt;
  peer: Peer;
}

/** Checks each receipt against our outbound message and the peer's keys, stores the new ones, advances links. */
async function importReceipts(deps: CarriageDeps, items: readonly unknown[]): Promise<{ results: ReceiptResult[]; advanced: AdvancedLink[] }> {
  const results: ReceiptResult[] = new Array<ReceiptResult>(items.length);
  const parsed: Parsed[] = [];
  const peers = new Map<string, Peer | undefined>();
  for (const [index, item] of items.entries()) {
    try {
      const receipt = parseReceipt(item);
      if (!peers.has(receipt.from)) peers.set(receipt.from, await deps.peers.get(receipt.from));
      const peer = peers.get(receipt.from);
      if (peer === undefined) fail('unknown_peer', `The receipt is signed by "${receipt.from}", which is not a pinned peer`);
      parsed.push({ index, receipt, peer });
    } catch (e) {
      results[index] = refusal(idOf(item), e);
    }
  }
  const advanced: AdvancedLink[] = [];
  const newly = new Map<string, number>();
  if (parsed.length > 0) {
    await deps.db.transaction().execute(async (trx) => {
      const links = new Map<string, LinksTable | undefined>();
      for (const p of parsed) {
        if (!links.has(p.peer.party)) links.set(p.peer.party, await lockExistingLink(trx, deps.self.party, p.peer.party));
      }
      const now = deps.clock.now();
      for (const p of parsed) {
        try {
          if (await applyReceipt(deps, trx, p, now)) newly.set(p.peer.party, (newly.get(p.peer.party) ?? 0) + 1);
          results[p.index] = { id: p.receipt.id, ok: true };
        } catch (e) {
          results[p.index] = refusal(p.receipt.id, e);
        }
      }
      for (const link of links.values()) {
        if (link === undefined) continue;
        const moved = await advanceLink(trx, link);
        if (moved !== undefined) advanced.push(moved);
      }
    });
  }
  for (const [to, count] of newly) deps.onDelivered?.(count, to);
  for (const r of results) {
    if (!r.ok) deps.log.warn({ id: r.id, code: r.error?.code }, `carried receipt refused: ${r.error?.message ?? ''}`);
  }
  return { results, advanced };
}

/** Takes the write lock on an existing link row (a no-op update first, as `lockLink` does) without creating one. */
async function lockExistingLink(trx: Transaction<FederationTables>, from: string, to: string): Promise<LinksTable | undefined> {
  await trx.updateTable('links').set((eb) => ({ attempts: eb.ref('attempts') })).where('from_party', '=', from).where('to_party', '=', to).execute();
  const row = await trx.selectFrom('links').selectAll().where('from_party', '=', from).where('to_party', '=', to).executeTakeFirst();
  return row === undefined ? undefined : normaliseLink(row);
}

/** Stores a receipt on its outbound message unless the message has one already; returns whether it stored. */
async function applyReceipt(deps: CarriageDeps, trx: Transaction<FederationTables>, p: Parsed, now: number): Promise<boolean> {
  const { receipt, peer } = p;
  const row = await trx.selectFrom('messages').select(['id', 'seq', 'hash', 'receipt'])
    .where('id', '=', receipt.id).where('direction', '=', 'out')
    .where('from_party', '=', deps.self.party).where('to_party', '=', peer.party)
    .executeTakeFirst();
  if (row === undefined) fail('not_found', `No envelope ${receipt.id} was sent by this node to "${peer.party}"`);
  const problem = receiptProblem(receipt, { self: deps.self.party, peer: peer.party, id: row.id, seq: Number(row.seq), hash: row.hash }, validKeys(peer, now));
  if (problem !== undefined) fail('bad_receipt', problem);
  if (row.receipt !== null) return false;
  await trx.updateTable('messages').set({ receipt: JSON.stringify(receipt), receipted_at: now })
    .where('id', '=', row.id).where('receipt', 'is', null).execute();
  return true;
}

/**
 * Moves `acked_seq` to the highest seq up to which every envelope on the link has a receipt,
 * and `send_from_seq` past it (never backwards). Writes only when something moved.
 */
async function advanceLink(trx: Transaction<FederationTables>, link: LinksTable): Promise<AdvancedLink | undefined> {
  const where = { from: link.from_party, to: link.to_party };
  const first = await trx.selectFrom('messages').select((eb) => eb.fn.min('seq').as('seq'))
    .where('from_party', '=', where.from).where('to_party', '=', where.to).where('direction', '=', 'out')
    .where('receipt', 'is', null).executeTakeFirst();
  const firstOpen = first?.seq === null || first?.seq === undefined ? link.last_seq + 1 : Number(first.seq);
  const candidate = firstOpen - 1;
  if (candidate <= link.acked_seq && candidate + 1 <= link.send_from_seq) return undefined;
  // Every seq up to the candidate must be stored (an outbound link has no holes unless the store is damaged).
  const held = await trx.selectFrom('messages').select((eb) => eb.fn.countAll().as('n'))
    .where('from_party', '=', where.from).where('to_party', '=', where.to).where('direction', '=', 'out')
    .where('seq', '<=', candidate).executeTakeFirst();
  if (Number(held?.n ?? 0) !== candidate) return undefined;
  const acked = Math.max(link.acked_seq, candidate);
  const sendFrom = Math.max(link.send_from_seq, candidate + 1);
  if (acked === link.acked_seq && sendFrom === link.send_from_seq) return undefined;
  await trx.updateTable('links').set({ acked_seq: acked, send_from_seq: sendFrom, attempts: 0, last_error: null })
    .where('from_party', '=', where.from).where('to_party', '=', where.to).execute();
  return { to: link.to_party, acked_seq: acked, send_from_seq: sendFrom };
}

function idOf(item: unknown): string | null {
  return isRecord(item) && typeof item.id === 'string' ? item.id : null;
}

function refusal(id: string | null, e: unknown): ReceiptResult {
  if (e instanceof HotlineError) return { id, ok: false, error: { code: e.code, message: e.message } };
  throw e;
}
