import http from 'node:http';

/**
 * Load-generation helpers shared by the federation bench and its plain-HTTP baseline, so both
 * drive their server with the same client code and the same number of requests in flight.
 */

export type ClientKind = 'fetch' | 'http';
export const CLIENT_KINDS: readonly ClientKind[] = ['fetch', 'http'];

export interface PostResult {
  status: number;
  text: string;
}

/** POSTs JSON to one origin over keep-alive connections. */
export interface JsonPoster {
  post(path: string, body: string): Promise<PostResult>;
  close(): void;
}

export function isClientKind(s: string): s is ClientKind {
  return (CLIENT_KINDS as readonly string[]).includes(s);
}

/**
 * `fetch` is Node's built-in undici client (keep-alive by default, one connection per request
 * in flight); `http` is node:http with a keep-alive agent capped at `concurrency` sockets, which
 * costs the load generator less CPU on a small machine.
 */
export function makePoster(kind: ClientKind, origin: string, headers: Record<string, string>, concurrency: number, timeoutMs = 30_000): JsonPoster {
  const allHeaders = { 'content-type': 'application/json', ...headers };
  if (kind === 'fetch') {
    return {
      async post(path, body) {
        const res = await fetch(`${origin}${path}`, { method: 'POST', headers: allHeaders, body, signal: AbortSignal.timeout(timeoutMs) });
        return { status: res.status, text: await res.text() };
      },
      close() {
        // undici's global dispatcher closes idle sockets by itself and does not hold the process open
      },
    };
  }
  const u = new URL(origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  return {
    post(path, body) {
      return new Promise<PostResult>((resolve, reject) => {
        const req = http.request({
          agent, hostname: u.hostname, port: u.port, path, method: 'POST',
          headers: { ...allHeaders, 'content-length': Buffer.byteLength(body) },
        }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${origin}${path} within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Runs `task(i)` for i = 0, 1, 2 … with `concurrency` tasks in flight, until `more(i)` is false.
 * Rejects with the first task error (after the tasks already in flight settle).
 */
export async function closedLoop(concurrency: number, more: (i: number) => boolean, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && more(next)) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) throw failure;
  return next;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
