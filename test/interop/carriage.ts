/**
 * Offline carriage files (docs/protocol.md section 14) for the second implementation:
 * an envelopes file out of a link, its import through the receiver algorithm, and a receipts file
 * back, checked as in section 14.3.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Envelope, InteropPeer, Result } from './peer.js';
import { receiptShapeProblem, type Receipt } from './wire.js';

export interface EnvelopesFile { format: 'hotline-carriage'; v: 1; type: 'envelopes'; from: string; to: string; exported_at: string; envelopes: Envelope[] }
export interface ReceiptsFile { format: 'hotline-carriage'; v: 1; type: 'receipts'; from: string; to: string; exported_at: string; receipts: Receipt[] }
export type ReceiptResult = { id: string | null; ok: true } | { id: string | null; ok: false; error: { code: string; message: string } };

/** Writes a carriage file as the reference does: 2-space indentation and a final newline. */
export function writeCarriage(path: string, file: EnvelopesFile | ReceiptsFile): void {
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n');
}

/** Section 14.1: the envelopes of self→to from `fromSeq` (default: the link's send_from_seq). */
export function exportEnvelopes(peer: InteropPeer, to: string, fromSeq?: number): EnvelopesFile {
  if (!peer.peers.has(to)) throw new Error('unknown_peer');
  const link = peer.outLink(to);
  const start = fromSeq ?? link.sendFromSeq;
  const envelopes = [...link.bySeq.values()].map((s) => s.envelope).filter((e) => e.seq >= start).sort((a, b) => a.seq - b.seq);
  return { format: 'hotline-carriage', v: 1, type: 'envelopes', from: peer.party, to, exported_at: new Date().toISOString(), envelopes };
}

/** Section 14.3, the file header; throws carriage_invalid. */
function header(json: unknown): Record<string, unknown> {
  const o = json as Record<string, unknown>;
  const ok = typeof o === 'object' && o !== null && o.format === 'hotline-carriage' && o.v === 1
    && typeof o.from === 'string' && o.from !== '' && typeof o.to === 'string' && o.to !== ''
    && ((o.type === 'envelopes' && Array.isArray(o.envelopes)) || (o.type === 'receipts' && Array.isArray(o.receipts)));
  if (!ok) throw new Error('carriage_invalid');
  return o;
}

/** Section 14.3, envelopes: each through the receiver algorithm; answers the receipts file of 14.2. */
export function importEnvelopesFile(peer: InteropPeer, path: string, now = Date.now()): { results: Result[]; receipts: ReceiptsFile } {
  const file = header(JSON.parse(readFileSync(path, 'utf8')));
  if (file.type !== 'envelopes') throw new Error('not an envelopes file');
  const results: Result[] = [];
  for (const e of file.envelopes as unknown[]) {
    const from = (e as { from?: unknown }).from;
    if (typeof from === 'string' && from !== file.from) {
      const id = typeof (e as { id?: unknown }).id === 'string' ? (e as { id: string }).id : null;
      results.push({ id, ok: false, error: { code: 'invalid_envelope', message: `from ${from} is not the file's ${String(file.from)}` } });
    } else results.push(...peer.receive([e], now));
  }
  const receipts = results.flatMap((r) => (r.ok ? [r.receipt] : []));
  return { results, receipts: { format: 'hotline-carriage', v: 1, type: 'receipts', from: peer.party, to: file.from as string, exported_at: new Date(now).toISOString(), receipts } };
}

/** Section 14.3, receipts: check each against our outbound message and move the link forward. */
export function importReceiptsFile(peer: InteropPeer, path: string): ReceiptResult[] {
  const file = header(JSON.parse(readFileSync(path, 'utf8')));
  if (file.type !== 'receipts') throw new Error('not a receipts file');
  const out: ReceiptResult[] = [];
  for (const r of file.receipts as unknown[]) {
    const id = typeof (r as { id?: unknown }).id === 'string' ? (r as { id: string }).id : null;
    const no = (code: string, message: string) => out.push({ id, ok: false, error: { code, message } });
    const shape = receiptShapeProblem(r);
    if (shape) { no('bad_receipt', shape); continue; }
    const rc = r as Receipt;
    if (!peer.peers.has(rc.from)) { no('unknown_peer', rc.from); continue; }
    const link = peer.outLink(rc.from);
    const slot = [...link.bySeq.values()].find((s) => s.envelope.id === rc.id);
    if (!slot) { no('not_found', rc.id); continue; }
    const problem = peer.receiptProblem(slot.envelope, rc);
    if (problem) { no('bad_receipt', problem); continue; }
    slot.receipt ??= rc;
    let acked = 0;
    while (link.bySeq.get(acked + 1)?.receipt) acked++;
    link.ackedSeq = Math.max(link.ackedSeq, acked);
    link.sendFromSeq = Math.max(link.sendFromSeq, link.ackedSeq + 1);
    out.push({ id, ok: true });
  }
  return out;
}
