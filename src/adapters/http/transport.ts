import type { Transport } from '../../modules/federation/federation.delivery.js';
import type { Peer } from '../../modules/federation/federation.peers.js';

export const FEDERATION_PATH = '/federation/v1/envelopes';

/** Delivers batches over HTTP(S) POST to a peer's federation endpoint (keep-alive via undici). */
export function httpTransport(opts: { timeoutMs?: number } = {}): Transport {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return {
    async deliver(peer: Peer, envelopes: readonly string[]): Promise<unknown> {
      const url = `${peer.url.replace(/\/+$/, '')}${FEDERATION_PATH}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"envelopes":[${envelopes.join(',')}]}`,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`cannot reach ${peer.party} at ${peer.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
      }
      const text = await res.text();
      if (!res.ok) {
        let detail = text.slice(0, 300);
        try {
          const p = JSON.parse(text) as { code?: string; detail?: string };
          detail = `${p.code ?? ''}: ${p.detail ?? ''}`;
        } catch {
          // not problem+json: keep the raw text
        }
        throw new Error(`${peer.party} answered HTTP ${res.status} ${detail}`);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`${peer.party} answered with something that is not JSON`);
      }
    },
  };
}
