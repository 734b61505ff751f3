import type { Transport } from '../../modules/federation/federation.delivery.js';
import type { Peer } from '../../modules/federation/federation.peers.js';
import type { KeyChallenge } from '../../modules/federation/federation.proof.js';
import { HotlineError } from '../../shared/errors.js';

export const FEDERATION_PATH = '/federation/v1/envelopes';
/** Where a node answers key challenges (docs/protocol.md section 9.4). */
export const CHALLENGE_PATH = '/federation/v1/key-proof';

/** Most bytes of a key-proof answer read: a proof is about 300 bytes. */
const MAX_PROOF_BYTES = 4096;

/** Per-request timeout when the config gives none (`delivery.timeoutMs`). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * POSTs `body` and never follows a redirect: a 3xx answer throws `redirect_refused` (a peer or a
 * webhook must not steer the node at another address, nor around the "plain http only on
 * loopback" rule). A network failure throws `peer_unreachable`; the caller decides what a non-2xx
 * means. `what` names the other side in messages, e.g. `ru at https://ru.example`.
 */
export async function postNoRedirect(url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number; signal?: AbortSignal | undefined; what: string }): Promise<Response> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal: init.signal === undefined ? timeout : AbortSignal.any([init.signal, timeout]),
    });
  } catch (e) {
    if (timeout.aborted) throw new HotlineError('peer_unreachable', `${init.what} did not answer within ${init.timeoutMs} ms`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new HotlineError('peer_unreachable', `cannot reach ${init.what}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    const location = (res.headers.get('location') ?? '').slice(0, 200);
    throw new HotlineError('redirect_refused', `${init.what} answered HTTP ${res.status}${location === '' ? '' : ` to ${location}`}; redirects are never followed: correct the URL where it is configured`);
  }
  return res;
}

/** Delivers batches over HTTP(S) POST to a peer's federation endpoint (keep-alive via undici); never follows redirects. */
export function httpTransport(opts: { timeoutMs?: number } = {}): Transport {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async deliver(peer: Peer, envelopes: readonly string[], signal?: AbortSignal): Promise<unknown> {
      const url = `${peer.url.replace(/\/+$/, '')}${FEDERATION_PATH}`;
      const res = await postNoRedirect(url, {
        headers: { 'content-type': 'application/json' },
        body: `{"envelopes":[${envelopes.join(',')}]}`,
        timeoutMs, signal, what: `${peer.party} at ${peer.url}`,
      });
      const text = await res.text();
      if (!res.ok) {
        let detail = text.slice(0, 300);
        try {
          const p = JSON.parse(text) as { code?: string; detail?: string };
          detail = `${p.code ?? ''}: ${p.detail ?? ''}`;
        } catch {
          // not problem+json: keep the raw text
        }
        throw new HotlineError('peer_error', `${peer.party} answered HTTP ${res.status} ${detail}`);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new HotlineError('peer_error', `${peer.party} answered with something that is not JSON`);
      }
    },
    async challenge(peer: Peer, challenge: KeyChallenge, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
      const url = `${peer.url.replace(/\/+$/, '')}${CHALLENGE_PATH}`;
      const res = await postNoRedirect(url, {
        headers: { 'content-type': 'application/json' }, body: JSON.stringify(challenge),
        timeoutMs, signal, what: `${peer.party} at ${peer.url}`,
      });
      const text = (await res.text()).slice(0, MAX_PROOF_BYTES);
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
      return { status: res.status, body };
    },
  };
}
