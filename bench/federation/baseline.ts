/** The floor to compare with: plain Node HTTP between two processes (bench/http-baseline.ts), no signing, no storage. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Options } from './options.js';
import { firstJsonLine, stopChild, track } from './processes.js';

const BASELINE = fileURLToPath(new URL('../http-baseline.js', import.meta.url));

export interface Baseline {
  reqPerS: number;
  seconds: number;
}

export async function baseline(o: Options): Promise<Baseline> {
  const server = track(spawn(process.execPath, [BASELINE, 'server'], { stdio: ['ignore', 'pipe', 'inherit'] }));
  try {
    const { port } = await firstJsonLine(server, 10_000);
    const client = track(spawn(process.execPath, [
      BASELINE, 'client', '--url', `http://127.0.0.1:${String(port)}`, '--seconds', String(o.baselineSeconds),
      '--concurrency', String(o.concurrency), '--client', o.client,
    ], { stdio: ['ignore', 'pipe', 'inherit'] }));
    try {
      const r = await firstJsonLine(client, (o.baselineSeconds + 30) * 1000);
      const seconds = Number(r.seconds);
      if (Number(r.errors) > 0) throw new Error(`baseline client saw ${String(r.errors)} non-200 answers`);
      return { reqPerS: Number(r.requests) / seconds, seconds };
    } finally {
      await stopChild(client);
    }
  } finally {
    await stopChild(server);
  }
}
