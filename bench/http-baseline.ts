import http from 'node:http';
import { parseArgs } from 'node:util';
import { closedLoop, isClientKind, makePoster } from './load.js';

/**
 * The floor the federation bench is compared with: plain Node HTTP between two processes, no
 * signing, no storage. Run as two processes by bench/federation/baseline.ts:
 *   node dist/bench/http-baseline.js server            → prints {"port":N} and serves until SIGTERM
 *   node dist/bench/http-baseline.js client --url U --seconds S --concurrency C --client fetch|http
 *                                                      → prints {"requests":N,"seconds":S,"errors":E}
 */

function server(): void {
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let status = 200;
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        status = 400;
      }
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    });
  });
  srv.keepAliveTimeout = 30_000;
  srv.listen(0, '127.0.0.1', () => {
    const a = srv.address();
    process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a !== null ? a.port : 0 })}\n`);
  });
  const stop = (): void => {
    srv.close();
    srv.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function client(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '64' }, client: { type: 'string', default: 'fetch' } },
  });
  const kind = values.client ?? 'fetch';
  if (values.url === undefined || !isClientKind(kind)) throw new Error('client needs --url and --client fetch|http');
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const poster = makePoster(kind, values.url, {}, concurrency);
  const body = JSON.stringify({ to: 'b', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'baseline message 0' });
  let errors = 0;
  // A short warm-up so connection set-up and JIT are not in the measured window.
  const warmEnd = performance.now() + 500;
  await closedLoop(concurrency, () => performance.now() < warmEnd, async () => {
    await poster.post('/', body);
  });
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const n = await closedLoop(concurrency, () => performance.now() < end, async () => {
    const r = await poster.post('/', body);
    if (r.status !== 200) errors++;
  });
  const elapsed = (performance.now() - t0) / 1000;
  poster.close();
  process.stdout.write(`${JSON.stringify({ requests: n, seconds: elapsed, errors })}\n`);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'server') server();
else if (mode === 'client') await client(rest);
else {
  process.stderr.write('usage: http-baseline.js server | client --url U [--seconds S] [--concurrency C] [--client fetch|http]\n');
  process.exitCode = 2;
}
