import { createServer, type Server, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNotifyConfig } from '../../modules/deadlines/deadlines.types.js';
import { RELAY_CERT, smtpRelay } from '../../../test/helpers/smtp.js';
import { tempDir } from '../../../test/helpers/nodes.js';
import { notificationSinks } from './sinks.js';
import { webhookSignature } from './webhook.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function relay(o: Parameters<typeof smtpRelay>[0] = {}): Promise<Awaited<ReturnType<typeof smtpRelay>>> {
  const r = await smtpRelay(o);
  cleanups.push(() => r.close());
  return r;
}

/** An HTTP server on 127.0.0.1 that counts requests and answers each with `answer`. */
async function counting(answer: (res: ServerResponse) => void): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n };
}

const SUBJECT = '[hotline FLASH] запрос от us ждёт подтверждения (шаг 1)';
const never = new AbortController().signal;

describe('notification sinks', () => {
  it('e-mail: STARTTLS when the relay offers it, AUTH with the password from a file, a non-ASCII Subject encoded and decoded intact', async () => {
    const smtp = await relay({ starttls: true, auth: { user: 'hotline', password: 's3cret pass' } });
    const home = tempDir();
    writeFileSync(join(home, 'smtp.password'), 's3cret pass\n');
    const notify = parseNotifyConfig({ smtp: { host: '127.0.0.1', port: smtp.port, from: 'hotline@ru.example', user: 'hotline', password_file: 'smtp.password', ca_file: RELAY_CERT } }, home);
    const sinks = notificationSinks(notify);
    await sinks.email!({ to: 'backup@ru.example', subject: `${SUBJECT}\r\nBcc: evil@example.com`, text: 'Строка 1\n.hidden\nline 3', date: new Date(Date.UTC(2026, 0, 15, 9)) }, never);
    expect(smtp.mails).toHaveLength(1);
    const m = smtp.mails[0]!;
    expect(m).toMatchObject({ from: 'hotline@ru.example', to: ['backup@ru.example'], secure: true, user: 'hotline' });
    // A line break in the subject cannot add a header: it is one Subject, and Bcc is its text.
    expect(m.subject).toBe(`${SUBJECT} Bcc: evil@example.com`);
    // On the wire the header is 7-bit (RFC 2047 encoded words), not raw UTF-8.
    expect(m.rawSubject).toMatch(/^Subject: =\?UTF-8\?[BQ]\?/);
    expect([...m.rawSubject].every((ch) => ch.charCodeAt(0) < 128)).toBe(true);
    expect(m.text.trim()).toBe('Строка 1\n.hidden\nline 3');
  });

  it('e-mail: the password can come from an environment variable; a plain relay without STARTTLS still works unless require_tls', async () => {
    const plain = await relay();
    const open = notificationSinks(parseNotifyConfig({ smtp: { host: '127.0.0.1', port: plain.port, from: 'hotline@ru.example' } }));
    await open.email!({ to: 'a@ru.example', subject: 'plain', text: 'x', date: new Date() }, never);
    expect(plain.mails.map((m) => [m.subject, m.secure])).toEqual([['plain', false]]);

    const strict = notificationSinks(parseNotifyConfig({ smtp: { host: '127.0.0.1', port: plain.port, from: 'hotline@ru.example', require_tls: true } }));
    await expect(strict.email!({ to: 'a@ru.example', subject: 'strict', text: 'x', date: new Date() }, never)).rejects.toMatchObject({ code: 'sink_failed' });
    expect(plain.mails).toHaveLength(1);

    const authed = await relay({ starttls: true, auth: { user: 'u', password: 'from-env' } });
    const config = parseNotifyConfig({ smtp: { host: '127.0.0.1', port: authed.port, from: 'hotline@ru.example', user: 'u', password_env: 'HOTLINE_SMTP_PASSWORD', ca_file: RELAY_CERT } });
    await notificationSinks(config, { env: { HOTLINE_SMTP_PASSWORD: 'from-env' } }).email!({ to: 'b@ru.example', subject: 's', text: 'x', date: new Date() }, never);
    expect(authed.mails.map((m) => m.user)).toEqual(['u']);
    // A wrong password fails the attempt, and the error does not carry the password.
    const wrong = notificationSinks(config, { env: { HOTLINE_SMTP_PASSWORD: 'not-it' } });
    const e = await wrong.email!({ to: 'b@ru.example', subject: 's', text: 'x', date: new Date() }, never).catch((x: unknown) => x as Error);
    expect(e).toMatchObject({ code: 'sink_failed' });
    expect(String((e as Error).message)).not.toContain('not-it');
    expect(() => notificationSinks(config, { env: {} })).toThrow(/HOTLINE_SMTP_PASSWORD is not set/);
  });

  it('webhook: a 307 is refused (redirect_refused) and never followed: 1 request to the first server, 0 to the second', async () => {
    const target = await counting((res) => res.writeHead(204).end());
    const redirector = await counting((res) => res.writeHead(307, { location: `${target.url}/hook` }).end());
    const sinks = notificationSinks({});
    await expect(sinks.webhook(`${redirector.url}/hook`, { id: 'n1' }, never)).rejects.toMatchObject({ code: 'redirect_refused' });
    expect(redirector.count()).toBe(1);
    expect(target.count()).toBe(0);
    await sinks.webhook(`${target.url}/hook`, { id: 'n2' }, never);
    expect(target.count()).toBe(1);
  });

  it('the smtp settings are checked: user needs exactly one password source, unknown keys are named', () => {
    const base = { host: 'h', port: 587, from: 'a@b.example' };
    expect(parseNotifyConfig({ smtp: { ...base, user: 'u', password_file: 'p' } }, '/home/x').smtp).toEqual({ ...base, auth: { user: 'u', passwordFile: '/home/x/p' } });
    for (const [bad, why] of [
      [{ ...base, user: 'u' }, /exactly one of "password_file"/],
      [{ ...base, user: 'u', password_file: 'p', password_env: 'E' }, /exactly one of/],
      [{ ...base, password_env: 'E' }, /need "notify.smtp.user"/],
      [{ ...base, secure: 'yes' }, /"notify.smtp.secure" must be true or false/],
      [{ ...base, password: 'inline' }, /"notify.smtp.password" is not a setting/],
    ] as const) {
      expect(() => parseNotifyConfig({ smtp: bad })).toThrow(why);
    }
  });

  it('webhook: Standard Webhooks headers (the id on every retry, a signature with a secret, none without); slack posts {"text"} with &, < and > escaped', async () => {
    const got: { headers: Record<string, unknown>; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`;
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const sinks = notificationSinks({});
    const payload = { id: 'n-1', type: 'hotline.escalation', alert: { text: 'От <us> & "them"' } };
    await sinks.webhook(url, payload, never, { secret });
    await sinks.webhook(url, payload, never, { secret });
    await sinks.webhook(url, payload, never);
    await sinks.webhook(url, payload, never, { format: 'slack' });
    expect(got.map((g) => g.headers['webhook-id'])).toEqual(['n-1', 'n-1', 'n-1', 'n-1']);
    const [first, , unsigned, slack] = got;
    const ts = Number(first!.headers['webhook-timestamp']);
    expect(Number.isInteger(ts)).toBe(true);
    expect(first!.headers['webhook-signature']).toBe(webhookSignature(secret, 'n-1', ts, first!.body));
    expect(JSON.parse(first!.body)).toEqual(payload);
    expect(unsigned!.headers['webhook-signature']).toBeUndefined();
    expect(JSON.parse(slack!.body)).toEqual({ text: 'От &lt;us&gt; &amp; "them"' });
  });
});
