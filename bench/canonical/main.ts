/**
 * Micro-benchmark of the canonical JSON writer (src/shared/canonical.ts) on what the node
 * canonicalises: a small envelope, a templated crisis alert, an envelope with a 256 KiB
 * attachment. Prints calls per second, and the ratio to `JSON.stringify` (not canonical: a fixed
 * yardstick) and, when the npm package `json-canonicalize` can be loaded, to it (the writer
 * this one replaced). Ratios are taken within one run, rounds interleaved, median of the rounds.
 *
 *   npm run build --silent && node dist/bench/canonical/main.js
 */
import { generateKeyPairSync } from 'node:crypto';
import { signEnvelope } from '../../src/modules/federation/federation.envelope.js';
import { GENESIS_HASH, type UnsignedEnvelope } from '../../src/modules/federation/federation.types.js';
import { canonicalJson, sha256Hex } from '../../src/shared/canonical.js';

type Writer = (v: unknown) => string;

/** Calls per second of `fn` over about `ms`. */
function rate(ms: number, fn: () => void): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function envelope(body: Record<string, unknown>, attachment?: Buffer): unknown {
  const id = '01900000-0000-7000-8000-000000000001';
  const unsigned: UnsignedEnvelope = {
    v: 1, id, from: 'alpha', to: 'bravo', seq: 42, prev: GENESIS_HASH, sent_at: '2026-01-15T09:30:00.000Z', kind: 'crisis-alert', channel: 'crisis',
    case: id, in_reply_to: null, priority: 'flash', tlp: 'amber', body,
    ...(attachment === undefined ? {} : {
      attachments: [{ name: 'bundle.json', media_type: 'application/stix+json', size: attachment.length, sha256: sha256Hex(attachment), content: attachment.toString('base64') }],
    }),
  };
  // As received: parsed from the wire, members in the order the sender wrote them.
  return JSON.parse(JSON.stringify(signEnvelope(unsigned, generateKeyPairSync('ed25519').privateKey))) as unknown;
}

const samples: [string, unknown][] = [
  ['small envelope (notification)', envelope({ template: 'notification@1', text: 'Routine notice about a sinkhole feed.', lang: 'en' })],
  ['crisis alert (templated body)', envelope({
    template: 'crisis-alert@1', lang: 'en', sender: 'officer.ivanova',
    fields: {
      incident_category: 'intrusion', affected_sectors: ['energy', 'transport', 'health'], confidence: 'high',
      observed_window: { from: '2026-01-15T08:55:00Z', to: '2026-01-15T09:25:00Z' },
      indicators: Array.from({ length: 40 }, (_, i) => `192.0.2.${i}`), requested_actions: ['clarify', 'mitigate'],
    },
    text: 'Significant incident affecting the energy sector, apparently from your networks; we request clarification. '.repeat(4),
  })],
  ['envelope with a 256 KiB attachment', envelope({ text: 'bundle attached' }, Buffer.alloc(256 * 1024, 7))],
];

async function main(): Promise<void> {
  const writers: [string, Writer][] = [['canonicalJson', canonicalJson], ['JSON.stringify', (v) => JSON.stringify(v)]];
  try {
    const name = 'json-canonicalize';
    const mod = (await import(name)) as { canonicalize: Writer };
    writers.push(['json-canonicalize 3', mod.canonicalize]);
  } catch {
    // not installed any more: compare with JSON.stringify only
  }
  const rounds = 7;
  console.log(`Node ${process.version}; ${rounds} interleaved rounds of 200 ms per writer; median calls/s`);
  for (const [label, value] of samples) {
    for (const [, w] of writers) for (let i = 0; i < 200; i++) w(value); // warm up
    const rates = writers.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) writers.forEach(([, w], i) => rates[i]!.push(rate(200, () => w(value))));
    const ours = median(rates[0]!);
    const cells = writers.map(([name], i) => `${name} ${Math.round(median(rates[i]!)).toLocaleString('en')}/s${i === 0 ? '' : ` (ours ×${(ours / median(rates[i]!)).toFixed(2)})`}`);
    console.log(`${label}: ${cells.join('; ')}`);
  }
}

await main();
