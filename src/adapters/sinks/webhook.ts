import { createHmac } from 'node:crypto';
import { HotlineError } from '../../shared/errors.js';
import { secretKey } from '../../modules/alerts/alerts.sinks.js';
import type { WebhookOptions } from '../../modules/deadlines/deadlines.sinks.js';
import { postNoRedirect } from '../http/transport.js';

/**
 * The Standard Webhooks signature (https://www.standardwebhooks.com/): `v1,` and the base64
 * HMAC-SHA256 of `<id>.<timestamp>.<body>`, keyed with the secret's bytes (`whsec_<base64>`).
 */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** What a Slack, Mattermost or Rocket.Chat incoming webhook shows: the alert's text, or the notification's type for one without. */
function slackBody(payload: Record<string, unknown>): string {
  const alert = payload.alert as { text?: unknown } | undefined;
  const text = typeof alert === 'object' && alert !== null && typeof alert.text === 'string' ? alert.text : `hotline: ${String(payload.type ?? 'notification')} ${String(payload.message_id ?? '')}`.trim();
  // Slack's message formatting takes &, < and > as control characters: escaped, a message's text cannot make a link or a mention.
  return JSON.stringify({ text: text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') });
}

/**
 * POSTs a notification to a webhook; resolves on a 2xx. The body is the notification's JSON
 * (docs/alerts.schema.json), or `{"text"}` with `format: "slack"`. Headers per Standard Webhooks:
 * `webhook-id` (the notification's id: the same on every retry, so a receiver drops repeats),
 * `webhook-timestamp` (Unix seconds, now) and, with a secret, `webhook-signature`. Never follows a
 * redirect (a 3xx throws `redirect_refused`); an unreachable receiver throws `peer_unreachable`,
 * any other status `sink_failed`.
 */
export async function postWebhook(url: string, payload: Record<string, unknown>, signal: AbortSignal, timeoutMs: number, o: WebhookOptions = {}): Promise<void> {
  const id = String(payload.id);
  const timestamp = Math.floor(Date.now() / 1000);
  const body = o.format === 'slack' ? slackBody(payload) : JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json', 'idempotency-key': id, 'webhook-id': id, 'webhook-timestamp': String(timestamp),
  };
  if (o.secret !== undefined && o.secret !== null) headers['webhook-signature'] = webhookSignature(o.secret, id, timestamp, body);
  const what = o.label ?? `webhook ${url}`;
  const res = await postNoRedirect(url, { headers, body, timeoutMs, signal, what });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new HotlineError('sink_failed', `${what} answered HTTP ${res.status}`);
}
