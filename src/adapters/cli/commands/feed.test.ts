import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../../modules/feeds/feeds.run.js';
import { describeRun } from './feed.js';

const families = Array.from({ length: 33 }, (_, i) => `family${String(i).padStart(2, '0')}`);
const ids = Array.from({ length: 164 }, (_, i) => `01a24e49-0000-7000-8000-${String(i).padStart(12, '0')}`);

function report(o: Partial<RunReport> = {}): RunReport {
  return {
    source: 'sinkhole', tlp: 'amber', bytes: 0, lines: 300_001, records: 299_734, rejected: 266, duplicates: 35_789, unrouted: 67_666,
    rejects: Array.from({ length: 100 }, (_, i) => ({ line: i + 2, reason: `'ip' is not an IP address: '999.${i}.0.1'`, field: 'ip' as const })),
    peers: [{ party: 'ru', records: 77_394, distinct_ips: 77_216, families, messages: ids, objects: 0 }],
    domestic: { party: 'us', collection: 'domestic', records: 118_885, distinct_ips: 117_944, families: families.slice(0, 2), messages: [], objects: 0 },
    elapsed_ms: 42_400, ...o,
  };
}

describe('describeRun: a large run on one screen', () => {
  it('names the first few message ids and families of a destination, and the first rejects of how many', () => {
    const text = describeRun('run-1', report());
    expect(text).toContain(`${ids[0]} ${ids[1]} ${ids[2]} … (+161; --json lists all)`);
    expect(text).not.toContain(ids[3]!);
    expect(text).toContain('family00,family01,family02,family03,family04,family05,… (33)');
    expect(text).not.toContain('family06');
    // The domestic row's two families in full.
    expect(text).toMatch(/us \(domestic\) +118885 +117944 +family00,family01 +- +collection domestic/);
    expect(text).toContain('Rejected: the first 20 of 266 (--json has the first 100):');
    expect(text).toContain("line 21: 'ip' is not an IP address: '999.19.0.1'");
    expect(text).not.toContain('line 22:');
  });

  it('shows everything of a small run', () => {
    const small = report({
      rejected: 2, rejects: [{ line: 3, reason: 'bad', field: null }, { line: 9, reason: 'worse', field: null }],
      peers: [{ party: 'ru', records: 4, distinct_ips: 4, families: ['emotet', 'qakbot'], messages: ids.slice(0, 3), objects: 0 }],
    });
    const text = describeRun('run-2', small);
    expect(text).toContain(`${ids[0]} ${ids[1]} ${ids[2]}\n`);
    expect(text).not.toContain('…');
    expect(text).toContain('Rejected: all 2:\n  line 3: bad\n  line 9: worse');
  });
});
