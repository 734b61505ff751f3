import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One mail a test relay took, decoded by mailparser (an independent reader of what was sent). */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** The HTML part, decoded ('' when there is none). */
  html: string;
  /** The message's top Content-Type (e.g. multipart/alternative). */
  contentType: string;
  /** The Subject header line exactly as it was on the wire. */
  rawSubject: string;
  /** Whether the session was TLS (STARTTLS or implicit) when the mail was sent. */
  secure: boolean;
  /** The authenticated user, if any. */
  user: string | undefined;
}

/** A self-signed certificate for 127.0.0.1 (test/fixtures/tls), valid for a century: the relay's STARTTLS. */
export const RELAY_CERT = join(import.meta.dirname, '..', 'fixtures', 'tls', 'relay.crt');
const RELAY_KEY = join(import.meta.dirname, '..', 'fixtures', 'tls', 'relay.key');

/**
 * A real SMTP relay (the smtp-server package) on 127.0.0.1:0. `starttls`: offer STARTTLS with the
 * fixture certificate; `auth`: require this user and password (after STARTTLS).
 */
export async function smtpRelay(o: { starttls?: boolean; auth?: { user: string; password: string } } = {}): Promise<{ port: number; mails: ReceivedMail[]; close(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    ...(o.starttls === true ? { key: readFileSync(RELAY_KEY), cert: readFileSync(RELAY_CERT) } : {}),
    disabledCommands: [...(o.starttls === true ? [] : ['STARTTLS']), ...(o.auth === undefined ? ['AUTH'] : [])],
    authOptional: o.auth === undefined,
    logger: false,
    onAuth(auth, _session, callback) {
      if (o.auth !== undefined && auth.username === o.auth.user && auth.password === o.auth.password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void simpleParser(raw).then((m) => {
          const rawSubject = /^Subject:.*(?:\r\n[ \t].*)*/m.exec(raw.toString('latin1'))?.[0] ?? '';
          mails.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: m.subject ?? '', text: m.text ?? '', html: typeof m.html === 'string' ? m.html : '', contentType: m.headers.get('content-type') === undefined ? '' : String((m.headers.get('content-type') as { value?: string }).value ?? ''), rawSubject, secure: session.secure, user: session.user,
          });
          callback();
        }, (e: unknown) => callback(e as Error));
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}
