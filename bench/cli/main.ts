/**
 * `npm run bench:cli`: how long the `hotline` program takes to start, against bare `node -e 0` in
 * the same run. Each round runs every command once, one after the other (interleaved, so a busy
 * moment of the machine hits them all); per command the median and p90 of wall time and the
 * median CPU time (user + system, from /proc: steadier than wall time on a shared machine).
 *
 *   node dist/bench/cli/main.js [--runs 20] [--compare OTHER/bin/hotline.js] [--no-docs]
 *
 * `--compare` adds the same two commands run by another build (e.g. a checkout of main) to each
 * round: before and after in one run. Prints a JSON last line; writes its section in docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from '../federation/system.js';

const BIN = fileURLToPath(new URL('../../../bin/hotline.js', import.meta.url));
const DOCS = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));
const START_MARK = '<!-- bench:cli:start -->';
const END_MARK = '<!-- bench:cli:end -->';
/** The bar (issue 9): `hotline --help` and `hotline inbox` under 0.3 s on the project's machine. */
const BAR_MS = 300;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** CPU seconds used by this process's finished (waited-for) children: cutime + cstime of /proc/self/stat. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Case {
  name: string;
  argv: string[];
  wall: number[];
  cpu: number[];
}

function runOnce(c: Case): void {
  const cpu0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOTLINE_HOME: '' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr.toString()}`);
  c.wall.push(ms);
  c.cpu.push((childrenCpu() - cpu0) * 1000);
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const fmt = (n: number): string => String(Math.round(n));

function main(): void {
  const runs = Number(arg('--runs') ?? process.env.CLI_BENCH_RUNS ?? 20);
  const compare = arg('--compare');
  const dir = mkdtempSync(join(tmpdir(), 'hotline-bench-cli-'));
  const home = join(dir, 'node');
  const init = spawnSync(process.execPath, [BIN, 'init', '--home', home, '--party', 'us', '--name', 'US CERT', '--listen', '127.0.0.1:7999'], { stdio: 'ignore' });
  if (init.status !== 0) throw new Error('hotline init failed');
  const m = machine();
  const cases: Case[] = [
    { name: 'node -e 0', argv: ['-e', '0'], wall: [], cpu: [] },
    { name: 'hotline --help', argv: [BIN, '--help'], wall: [], cpu: [] },
    { name: 'hotline inbox --home H', argv: [BIN, 'inbox', '--home', home], wall: [], cpu: [] },
  ];
  if (compare !== undefined) {
    cases.push({ name: 'before: hotline --help', argv: [compare, '--help'], wall: [], cpu: [] });
    cases.push({ name: 'before: hotline inbox --home H', argv: [compare, 'inbox', '--home', home], wall: [], cpu: [] });
  }
  for (const c of cases) runOnce(c); // warm the file cache; not counted
  for (const c of cases) {
    c.wall.length = 0;
    c.cpu.length = 0;
  }
  for (let i = 0; i < runs; i++) for (const c of cases) runOnce(c);
  rmSync(dir, { recursive: true, force: true });

  const rows = cases.map((c) => ({ name: c.name, p50_ms: quantile(c.wall, 0.5), p90_ms: quantile(c.wall, 0.9), cpu_p50_ms: quantile(c.cpu, 0.5) }));
  const bare = rows[0]!;
  const lines = rows.map((r) => `| ${r.name} | ${fmt(r.p50_ms)} | ${fmt(r.p90_ms)} | ${fmt(r.cpu_p50_ms)} | ${fmt(r.p50_ms - bare.p50_ms)} |`);
  const met = (name: string): string => {
    const r = rows.find((x) => x.name === name)!;
    return r.p50_ms < BAR_MS ? 'met' : '**not met**';
  };
  const section = `${START_MARK}
## CLI start (bench:cli)

\`npm run bench:cli\` (\`node dist/bench/cli/main.js --runs ${runs}${compare === undefined ? '' : ' --compare OTHER'}\`): each command run ${runs} times as a child process,
interleaved round by round with bare \`node -e 0\`; \`inbox\` on a fresh home (empty store). CPU is user + system of the child (10 ms ticks).

Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}; run ${m.date} (1-minute load average ${m.load1.toFixed(2)} at start${m.load1 > 2 ? ': a busy machine, wall times are inflated' : ''}).

| command | wall p50 ms | wall p90 ms | CPU p50 ms | p50 over bare node |
| --- | ---: | ---: | ---: | ---: |
${lines.join('\n')}

Bar (issue 9): \`hotline --help\` and \`hotline inbox\` under ${BAR_MS} ms: --help ${met('hotline --help')}, inbox ${met('hotline inbox --home H')}.
\`--help\` loads commander and the command files only; each verb imports the modules it needs when it runs.
${END_MARK}`;
  if (!process.argv.includes('--no-docs')) {
    const doc = readFileSync(DOCS, 'utf8');
    const a = doc.indexOf(START_MARK);
    const b = doc.indexOf(END_MARK);
    writeFileSync(DOCS, a >= 0 && b > a ? doc.slice(0, a) + section + doc.slice(b + END_MARK.length) : `${doc.trimEnd()}\n\n${section}\n`);
  }
  process.stdout.write(`${section}\n`);
  process.stdout.write(`${JSON.stringify({ runs, load1: m.load1, rows })}\n`);
}

main();
