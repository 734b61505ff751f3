import type { NotificationSinks } from '../../modules/deadlines/deadlines.sinks.js';
import type { NotifyConfig } from '../../modules/deadlines/deadlines.types.js';
import { smtpSender } from './smtp.js';
import { postWebhook } from './webhook.js';

/** How long one sink call may take when the config gives none (`deadlines.sinkTimeoutMs` bounds it in the processor too). */
export const SINK_TIMEOUT_MS = 10_000;

/**
 * The notification sinks of a node: webhooks always, e-mail when `notify.smtp` is configured.
 * Reads the SMTP password (file or environment variable) now: call it once at start.
 */
export function notificationSinks(notify: NotifyConfig, o: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): NotificationSinks {
  const timeoutMs = o.timeoutMs ?? SINK_TIMEOUT_MS;
  const email = notify.smtp === undefined ? undefined : smtpSender(notify.smtp, { timeoutMs, ...(o.env === undefined ? {} : { env: o.env }) });
  return {
    webhook: (url, payload, signal, w) => postWebhook(url, payload, signal, timeoutMs, w),
    ...(email === undefined ? {} : { email }),
  };
}
