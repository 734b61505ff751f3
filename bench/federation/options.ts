/**
 * The bench's flags: --messages N, --rate R, --latency-messages M, --concurrency C,
 * --baseline-seconds S, --client http|fetch, --no-docs, --store sqlite|postgres, --processes N (A's
 * processes, PostgreSQL only), --database-url URL (default HOTLINE_BENCH_PG_URL or the local server);
 * and HOTLINE_BENCH_CPU_PROF=<dir>.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isClientKind, type ClientKind } from '../load.js';

export interface Options {
  messages: number;
  rate: number;
  latencyMessages: number;
  concurrency: number;
  baselineSeconds: number;
  client: ClientKind;
  docs: boolean;
  cpuProfDir: string | undefined;
  /** Where both nodes keep their store: SQLite files, or a PostgreSQL database each (made and dropped by the bench). */
  store: 'sqlite' | 'postgres';
  /** Processes of node A (PostgreSQL only): the POSTs go round-robin to them, nothing sticky. */
  processes: number;
  /** The PostgreSQL server the bench makes its databases on (--database-url; default the local one). */
  databaseUrl: string;
}

export function options(): Options {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '20000' },
      rate: { type: 'string', default: '200' },
      'latency-messages': { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '64' },
      'baseline-seconds': { type: 'string', default: '5' },
      client: { type: 'string', default: 'http' },
      'no-docs': { type: 'boolean', default: false },
      store: { type: 'string', default: 'sqlite' },
      processes: { type: 'string', default: '1' },
      'database-url': { type: 'string', default: process.env.HOTLINE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    },
  });
  const positive = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${v}")`);
    return n;
  };
  const client = values.client ?? 'http';
  if (!isClientKind(client)) throw new Error(`--client must be fetch or http (got "${client}")`);
  const prof = process.env.HOTLINE_BENCH_CPU_PROF;
  const store = values.store ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite or postgres (got "${store}")`);
  const processes = Math.round(positive('processes', values.processes));
  if (processes > 1 && store !== 'postgres') throw new Error('--processes above 1 needs --store postgres (an SQLite store runs one process)');
  return {
    messages: Math.round(positive('messages', values.messages)),
    rate: positive('rate', values.rate),
    latencyMessages: Math.round(positive('latency-messages', values['latency-messages'])),
    concurrency: Math.round(positive('concurrency', values.concurrency)),
    baselineSeconds: positive('baseline-seconds', values['baseline-seconds']),
    client,
    docs: values['no-docs'] !== true,
    cpuProfDir: prof === undefined || prof === '' ? undefined : resolve(prof),
    store, processes, databaseUrl: values['database-url'] ?? 'postgres://postgres@127.0.0.1:5432/test',
  };
}
