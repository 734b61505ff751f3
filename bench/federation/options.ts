/**
 * The bench's flags: --messages N, --rate R, --latency-messages M, --concurrency C,
 * --baseline-seconds S, --client http|fetch, --no-docs; and HOTLINE_BENCH_CPU_PROF=<dir>.
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
  return {
    messages: Math.round(positive('messages', values.messages)),
    rate: positive('rate', values.rate),
    latencyMessages: Math.round(positive('latency-messages', values['latency-messages'])),
    concurrency: Math.round(positive('concurrency', values.concurrency)),
    baselineSeconds: positive('baseline-seconds', values['baseline-seconds']),
    client,
    docs: values['no-docs'] !== true,
    cpuProfDir: prof === undefined || prof === '' ? undefined : resolve(prof),
  };
}
