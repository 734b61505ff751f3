/**
 * Single-process context measures: Ed25519 sign+verify/s, each node's per-message CPU without
 * HTTP or storage, and fsync'd SQLite commits/s.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { signText, verifyText } from '../../src/modules/identity/identity.keys.js';
import { parseEnvelope, readEnvelope, receiptProblem, signEnvelope, signReceipt, verifyEnvelope } from '../../src/modules/federation/federation.envelope.js';
import { DEFAULT_LIMITS, GENESIS_HASH, type UnsignedEnvelope } from '../../src/modules/federation/federation.types.js';
import { canonicalJson, sha256Hex } from '../../src/shared/canonical.js';
import { isoTime } from '../../src/shared/clock.js';
import { uuidv7 } from '../../src/shared/ids.js';
import { makeTempDir, removeTempDir } from './processes.js';
import { messageText } from './traffic.js';

export interface Micro {
  ed25519SignVerifyPerS: number;
  outboxCpuPerS: number;
  receiveCpuPerS: number;
  receiptCheckPerS: number;
  sqliteFsyncCommitsPerS: number;
}

/** Runs `fn` repeatedly for about `ms` and returns calls per second. */
function opsPerSecond(ms: number, fn: () => void): number {
  for (let i = 0; i < 50; i++) fn(); // warm up
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

function sampleUnsigned(seq: number): UnsignedEnvelope {
  const id = uuidv7();
  return {
    v: 1, id, from: 'alpha', to: 'bravo', seq, prev: GENESIS_HASH, sent_at: isoTime(Date.now()), kind: 'notification', channel: 'cert',
    case: id, in_reply_to: null, priority: 'routine', tlp: 'green', body: { text: messageText(seq) },
  };
}

/**
 * Per-message CPU on each side without HTTP or storage, using the node's own functions:
 * outbox = sign + parse and canonicalise (one pass) + hash (A's enqueue); receive = parse + verify +
 * canonicalise + hash + sign a receipt (B); receipt check = A verifying one receipt.
 */
export function micro(): Micro {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const input = canonicalJson(sampleUnsigned(1));
  const ed25519SignVerifyPerS = opsPerSecond(1000, () => {
    if (!verifyText(publicKey, input, signText(privateKey, input))) throw new Error('ed25519 self-check failed');
  });
  let seq = 0;
  const outboxCpuPerS = opsPerSecond(1000, () => {
    sha256Hex(readEnvelope(signEnvelope(sampleUnsigned(++seq), privateKey), DEFAULT_LIMITS).text);
  });
  const signed = signEnvelope(sampleUnsigned(1), privateKey);
  const wire = JSON.parse(canonicalJson(signed)) as unknown;
  let hash = '';
  let receipt: unknown;
  const receiveCpuPerS = opsPerSecond(1000, () => {
    const env = parseEnvelope(wire, DEFAULT_LIMITS);
    if (!verifyEnvelope(env, [publicKey])) throw new Error('verify failed');
    const text = canonicalJson(env);
    hash = sha256Hex(text);
    receipt = signReceipt({ v: 1, type: 'receipt', id: env.id, seq: env.seq, from: 'bravo', to: 'alpha', envelope_hash: hash, link_hash: hash, received_at: isoTime(Date.now()) }, privateKey);
  });
  const receiptCheckPerS = opsPerSecond(1000, () => {
    const p = receiptProblem(receipt, { self: 'alpha', peer: 'bravo', id: signed.id, seq: 1, hash }, [publicKey]);
    if (p !== undefined) throw new Error(p);
  });
  return { ed25519SignVerifyPerS, outboxCpuPerS, receiveCpuPerS, receiptCheckPerS, sqliteFsyncCommitsPerS: sqliteCommits() };
}

/** One-row transactions with the store's pragmas (WAL, synchronous=FULL): each commit fsyncs the WAL. */
function sqliteCommits(): number {
  const dir = makeTempDir('hotline-bench-sqlite-');
  try {
    const db = new Database(join(dir, 'commits.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, envelope TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (envelope) VALUES (?)');
      const row = canonicalJson(signEnvelope(sampleUnsigned(1), generateKeyPairSync('ed25519').privateKey));
      return opsPerSecond(2000, () => {
        insert.run(row);
      });
    } finally {
      db.close();
    }
  } finally {
    removeTempDir(dir);
  }
}
