import { HotlineError } from '../../shared/errors.js';
import { postNoRedirect } from '../http/transport.js';

/**
 * POSTs a notification's JSON to a webhook; resolves on a 2xx. Never follows a redirect (a 3xx
 * throws `redirect_refused`); an unreachable receiver throws `peer_unreachable`, any other status
 * `sink_failed`.
 */
export async function postWebhook(url: string, payload: Record<string, unknown>, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const res = await postNoRedirect(url, {
    headers: { 'content-type': 'application/json', 'idempotency-key': String(payload.id) },
    body: JSON.stringify(payload),
    timeoutMs, signal, what: `webhook ${url}`,
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new HotlineError('sink_failed', `webhook ${url} answered HTTP ${res.status}`);
}
