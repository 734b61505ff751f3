import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a webhook receiver got. */
export interface Hit {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** The body exactly as it arrived (what a signature covers). */
  raw: string;
  /** The status the receiver answered. */
  status: number;
}

/** A real HTTP webhook receiver on 127.0.0.1:0 that records every POST; `failNext(n)` answers the next n with 500. */
export interface WebhookReceiver {
  url: string;
  hits: Hit[];
  /** Only the hits answered 2xx. */
  ok(): Hit[];
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function webhookReceiver(): Promise<WebhookReceiver> {
  const hits: Hit[] = [];
  let failing = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failing > 0 ? 500 : 204;
      if (failing > 0) failing--;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = { unparsed: Buffer.concat(chunks).toString('utf8') };
      }
      hits.push({ path: req.url ?? '', headers: req.headers, body, raw: Buffer.concat(chunks).toString('utf8'), status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    ok: () => hits.filter((h) => h.status >= 200 && h.status < 300),
    failNext: (n) => {
      failing = n;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
