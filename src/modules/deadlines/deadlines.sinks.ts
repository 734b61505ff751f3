/**
 * Where notifications go. The module depends on this interface only; the implementations (an HTTP
 * webhook, SMTP through nodemailer) are adapters (`src/adapters/sinks/`), composed in main.ts.
 * Each call gets a signal that aborts it when its time is up or the node stops; a call throws
 * (preferably a HotlineError with a stable code, e.g. `redirect_refused`) when the sink did not
 * take the notification.
 */
export interface NotificationSinks {
  /** POSTs the notification's JSON to a webhook URL; resolves on a 2xx. */
  webhook(url: string, payload: Record<string, unknown>, signal: AbortSignal): Promise<void>;
  /** Sends one plain-text e-mail; absent when no SMTP relay is configured. */
  email?: (mail: { to: string; subject: string; text: string; date: Date }, signal: AbortSignal) => Promise<void>;
}
