import type { Alert } from '../alerts/alerts.types.js';

/** How a webhook is carried: signed with a Standard Webhooks secret (`whsec_...`), as the notification's JSON or as Slack-style `{"text"}`. */
export interface WebhookOptions {
  secret?: string | null;
  format?: 'standard' | 'slack';
  /** How errors name the receiver (a stored sink: `sink "ops"`), instead of its URL, which may carry a token. */
  label?: string;
}

/** One e-mail: the subject and plain text; with the alert, the adapter adds an HTML part. */
export interface AlertMail {
  to: string;
  subject: string;
  text: string;
  alert?: Alert;
  date: Date;
}

/**
 * Where notifications go. The module depends on this interface only; the implementations (an HTTP
 * webhook, SMTP through nodemailer) are adapters (`src/adapters/sinks/`), composed in main.ts.
 * Each call gets a signal that aborts it when its time is up or the node stops; a call throws
 * (preferably a HotlineError with a stable code, e.g. `redirect_refused`) when the sink did not
 * take the notification. The domain decides what an alert says; the adapters how it is carried.
 */
export interface NotificationSinks {
  /** POSTs the notification (its JSON, or `{"text"}` in the slack format) to a webhook URL; resolves on a 2xx. */
  webhook(url: string, payload: Record<string, unknown>, signal: AbortSignal, o?: WebhookOptions): Promise<void>;
  /** Sends one e-mail (text, and HTML when it carries the alert); absent when no SMTP relay is configured. */
  email?: (mail: AlertMail, signal: AbortSignal) => Promise<void>;
}
