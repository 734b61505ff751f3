/**
 * A synthetic day of sinkhole reports, deterministic for a seed: infected hosts (85%) and C2
 * servers (15%) at addresses drawn from the real ASN ranges of the IP database package, so that
 * they spread over countries and ASNs as real addresses do (weighted by range size); a few dozen
 * malware families with a long tail; repeats of recent rows (duplicates); and a few bad rows.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const FAMILIES = [
  'mirai', 'qakbot', 'emotet', 'trickbot', 'dridex', 'icedid', 'gozi', 'necurs', 'andromeda', 'conficker', 'ramnit', 'sality',
  'zeus', 'pushdo', 'cutwail', 'avalanche', 'gamarue', 'nymaim', 'tofsee', 'pykspa', 'virut', 'mozi', 'gafgyt', 'xorddos',
  'bashlite', 'hajime', 'sysrv', 'lokibot', 'agenttesla', 'formbook', 'remcos', 'njrat', 'asyncrat', 'redline', 'raccoon', 'vidar',
];

/** A small, fast, seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cumulative sizes of the package's IPv4 ASN ranges, to draw addresses in proportion to them. */
function ranges(): { start: Float64Array; size: Float64Array; cum: Float64Array } {
  const req = createRequire(import.meta.url);
  const file = join(dirname(req.resolve('@ip-location-db/asn/package.json')), 'asn-ipv4-num.csv');
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = new Float64Array(lines.length);
  const size = new Float64Array(lines.length);
  const cum = new Float64Array(lines.length);
  let n = 0;
  let total = 0;
  for (const l of lines) {
    const a = l.indexOf(',');
    const b = l.indexOf(',', a + 1);
    if (a < 0 || b < 0) continue;
    const s = Number(l.slice(0, a));
    const e = Number(l.slice(a + 1, b));
    start[n] = s;
    size[n] = e - s + 1;
    total += e - s + 1;
    cum[n] = total;
    n++;
  }
  return { start: start.subarray(0, n), size: size.subarray(0, n), cum: cum.subarray(0, n) };
}

function ipOf(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface GenerateStats { rows: number; bad: number; repeats: number; bytes: number }

/** Writes `rows` data rows (plus a header) of the generic CSV layout to `file`. */
export async function generateFeed(file: string, rows: number, seed = 7): Promise<GenerateStats> {
  const rnd = prng(seed);
  const r = ranges();
  const total = r.cum[r.cum.length - 1]!;
  const pick = (): number => {
    const x = rnd() * total;
    let lo = 0;
    let hi = r.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r.cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return r.start[lo]! + Math.floor(rnd() * r.size[lo]!);
  };
  const out = createWriteStream(file);
  const stats: GenerateStats = { rows: 0, bad: 0, repeats: 0, bytes: 0 };
  const recent: string[] = [];
  const day = Date.UTC(2026, 10, 30);
  let buf = 'timestamp,ip,port,family,type,protocol\n';
  for (let i = 0; i < rows; i++) {
    let line: string;
    const u = rnd();
    if (u < 0.001) {
      line = `${new Date(day).toISOString()},999.${i % 256}.0.1,80,mirai,bot,tcp`;
      stats.bad++;
    } else if (u < 0.12 && recent.length > 0) {
      line = recent[Math.floor(rnd() * recent.length)]!;
      stats.repeats++;
    } else {
      const c2 = rnd() < 0.15;
      const fam = FAMILIES[Math.floor(FAMILIES.length * rnd() * rnd())]!;
      const t = new Date(day + Math.floor(rnd() * 86_400_000)).toISOString().slice(0, 19) + 'Z';
      const port = c2 ? [443, 8080, 80, 4443, 2222][Math.floor(rnd() * 5)]! : 1024 + Math.floor(rnd() * 64000);
      line = `${t},${ipOf(pick())},${port},${fam},${c2 ? 'c2' : 'bot'},tcp`;
      if (recent.length < 4096) recent.push(line);
      else recent[Math.floor(rnd() * 4096)] = line;
    }
    buf += `${line}\n`;
    stats.rows++;
    if (buf.length > 1 << 20) {
      stats.bytes += buf.length;
      if (!out.write(buf)) await new Promise<void>((res) => out.once('drain', () => res()));
      buf = '';
    }
  }
  stats.bytes += buf.length;
  out.end(buf);
  await new Promise<void>((res) => out.once('finish', () => res()));
  return stats;
}
