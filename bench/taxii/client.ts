/**
 * The bench's TAXII 2.1 client: node:http over keep-alive sockets (cheaper per request than
 * fetch on a 2-core machine that also runs the node), the spec's media type and a bearer token.
 */
import http from 'node:http';

export const TAXII = 'application/taxii+json;version=2.1';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Request written → last byte of the answer read, in ms. */
  ms: number;
}

export class TaxiiClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(origin: string, private readonly token: string, sockets: number) {
    this.url = new URL(origin);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  get(path: string): Promise<Answer> {
    return this.request('GET', path);
  }

  post(path: string, body: string): Promise<Answer> {
    return this.request('POST', path, body);
  }

  /** GET that must answer 200 with a JSON body. */
  async getJson<T = Record<string, unknown>>(path: string): Promise<{ body: T; answer: Answer }> {
    const a = await this.get(path);
    if (a.status !== 200) throw new Error(`GET ${path} answered ${a.status}: ${a.text.slice(0, 500)}`);
    return { body: JSON.parse(a.text) as T, answer: a };
  }

  close(): void {
    this.agent.destroy();
  }

  private request(method: string, path: string, body?: string, timeoutMs = 600_000): Promise<Answer> {
    const headers: Record<string, string | number> = { accept: TAXII, authorization: `Bearer ${this.token}` };
    if (body !== undefined) {
      headers['content-type'] = TAXII;
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise<Answer>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request({ agent: this.agent, hostname: this.url.hostname, port: this.url.port, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${method} ${path} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * The TAXII path of a collection's endpoint (`objects`, `manifest`, or one object's `object:ID`
 * and `versions:ID`), with query parameters (brackets in match[...] encoded).
 */
export function collectionPath(collectionId: string, endpoint: string, query: Record<string, string> = {}): string {
  const q = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const [kind, id] = endpoint.split(':');
  const tail = kind === 'object' ? `objects/${id}/` : kind === 'versions' ? `objects/${id}/versions/` : `${endpoint}/`;
  return `/taxii2/api/collections/${collectionId}/${tail}${q === '' ? '' : `?${q}`}`;
}
