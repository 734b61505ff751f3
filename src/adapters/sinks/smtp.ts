import { readFileSync } from 'node:fs';
import type { Transporter } from 'nodemailer';
import type { SmtpConfig } from '../../modules/deadlines/deadlines.types.js';
import type { AlertMail } from '../../modules/deadlines/deadlines.sinks.js';
import { fail, HotlineError } from '../../shared/errors.js';
import { alertHtml } from './html.js';

/** What {@link smtpSender} sends: one mail, text and (with the alert) HTML. */
export type Mail = AlertMail;

/** Reads the relay password named by the config (a file or an environment variable), once, at start. */
function password(auth: NonNullable<SmtpConfig['auth']>, env: NodeJS.ProcessEnv): string {
  if (auth.passwordFile !== undefined) {
    try {
      return readFileSync(auth.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch {
      return fail('config_invalid', `"notify.smtp.password_file": cannot read ${auth.passwordFile}`);
    }
  }
  const value = env[auth.passwordEnv ?? ''];
  if (value === undefined || value === '') fail('config_invalid', `"notify.smtp.password_env": the environment variable ${auth.passwordEnv ?? ''} is not set`);
  return value;
}

/**
 * Sends mail through an SMTP relay with nodemailer: STARTTLS whenever the relay offers it (with
 * `requireTls`, never without it), TLS from the start with `secure` (default for port 465),
 * AUTH with `user` and the password read now from its file or environment variable. Headers are
 * encoded properly (a non-ASCII Subject as an RFC 2047 encoded word; line breaks cannot inject
 * headers); the body is UTF-8, quoted-printable, `multipart/alternative` (text and HTML) for an alert. A failure throws `sink_failed`, with nodemailer's reason but never the password.
 */
export function smtpSender(smtp: SmtpConfig, o: { timeoutMs: number; env?: NodeJS.ProcessEnv }): (mail: Mail, signal: AbortSignal) => Promise<void> {
  let ca: string | undefined;
  if (smtp.caFile !== undefined) {
    try {
      ca = readFileSync(smtp.caFile, 'utf8');
    } catch {
      fail('config_invalid', `"notify.smtp.ca_file": cannot read ${smtp.caFile}`);
    }
  }
  const options = {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? smtp.port === 465,
    requireTLS: smtp.requireTls ?? false,
    ...(smtp.auth === undefined ? {} : { auth: { user: smtp.auth.user, pass: password(smtp.auth, o.env ?? process.env) } }),
    ...(ca === undefined ? {} : { tls: { ca } }),
    name: 'hotline',
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  // nodemailer is loaded at the first mail, not at every start of the node or the CLI.
  let transport: Promise<Transporter> | undefined;
  return async (mail, signal) => {
    signal.throwIfAborted();
    try {
      transport ??= import('nodemailer').then((m) => m.createTransport(options));
      await (await transport).sendMail({
        from: smtp.from, to: mail.to, subject: mail.subject.replace(/[\r\n]+/g, ' '), text: mail.text, date: mail.date,
        ...(mail.alert === undefined ? {} : { html: alertHtml(mail.alert), headers: { 'Content-Language': mail.alert.language } }),
        textEncoding: 'quoted-printable',
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new HotlineError('sink_failed', `SMTP ${smtp.host}:${smtp.port} did not take the mail to ${mail.to}: ${code === undefined ? '' : `${code}: `}${(e as Error).message}`);
    }
  };
}
