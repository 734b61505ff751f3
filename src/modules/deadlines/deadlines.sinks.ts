import { connect, type Socket } from 'node:net';
import type { NotifyConfig } from './deadlines.types.js';

/** How long one sink attempt may take before it counts as failed (a timeout for the network call, not a test limit). */
export const SINK_TIMEOUT_MS = 10_000;

/** POSTs the notification's JSON to a webhook; resolves on a 2xx, throws with the reason otherwise. */
export async function postWebhook(url: string, payload: Record<string, unknown>): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': String(payload.id) },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(SINK_TIMEOUT_MS),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new Error(`webhook ${url} answered HTTP ${res.status}`);
}

/** Reads SMTP replies (possibly multi-line: "250-..." then "250 ...") from a socket, one at a time. */
class ReplyReader {
  private buf = '';
  private waiting: ((line: string) => void) | undefined;
  private failed: Error | undefined;
  private readonly replies: string[] = [];
  private reject: ((e: Error) => void) | undefined;

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, '');
        this.buf = this.buf.slice(i + 1);
        if (/^\d{3}-/.test(line)) continue;
        this.push(line);
      }
    });
    const fault = (e: Error): void => {
      this.failed ??= e;
      this.reject?.(e);
    };
    socket.on('error', fault);
    socket.on('close', () => fault(new Error('the SMTP server closed the connection')));
  }

  private push(line: string): void {
    if (this.waiting !== undefined) {
      const w = this.waiting;
      this.waiting = undefined;
      this.reject = undefined;
      w(line);
    } else {
      this.replies.push(line);
    }
  }

  /** The next reply; throws unless its code starts with `expect`. */
  async next(expect: string): Promise<string> {
    const line = this.replies.shift() ?? await new Promise<string>((resolve, reject) => {
      if (this.failed !== undefined) return reject(this.failed);
      this.waiting = resolve;
      this.reject = reject;
    });
    if (!line.startsWith(expect)) throw new Error(`SMTP server answered "${line}", expected ${expect}xx`);
    return line;
  }
}

/** Dot-stuffs a message body and ends every line with CRLF (RFC 5321 section 4.5.2). */
export function smtpData(text: string): string {
  return text.split(/\r?\n/).map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n');
}

/**
 * Sends one plain-text e-mail through a local SMTP relay with minimal SMTP over node:net (EHLO,
 * MAIL, RCPT, DATA, QUIT; no TLS, no auth: a relay on the node's own host or network).
 */
export async function sendMail(smtp: NonNullable<NotifyConfig['smtp']>, to: string, subject: string, text: string, date: Date): Promise<void> {
  const socket = connect({ host: smtp.host, port: smtp.port });
  socket.setTimeout(SINK_TIMEOUT_MS, () => socket.destroy(new Error(`SMTP ${smtp.host}:${smtp.port} timed out`)));
  const reader = new ReplyReader(socket);
  const say = (line: string): void => {
    socket.write(`${line}\r\n`);
  };
  try {
    await reader.next('220');
    say('EHLO hotline');
    await reader.next('250');
    say(`MAIL FROM:<${smtp.from}>`);
    await reader.next('250');
    say(`RCPT TO:<${to}>`);
    await reader.next('25');
    say('DATA');
    await reader.next('354');
    const headers = [`From: <${smtp.from}>`, `To: <${to}>`, `Subject: ${subject.replace(/[\r\n]+/g, ' ')}`, `Date: ${date.toUTCString()}`,
      'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'];
    socket.write(`${smtpData([...headers, '', text].join('\n'))}\r\n.\r\n`);
    await reader.next('250');
    say('QUIT');
    await reader.next('221').catch(() => undefined);
  } finally {
    socket.destroy();
  }
}
