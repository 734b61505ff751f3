/**
 * The console's sign-in, sessions, CSRF defence, sign-in locks and TOTP (issue 11), over real HTTP
 * against real nodes; the live events (GET /api/v1/events) with the API's visibility rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOTP, Secret } from 'otpauth';
import { FakeClock } from '../src/shared/clock.js';
import type { RunningNode } from '../src/main.js';
import { withNode } from '../src/adapters/cli/home.js';
import { makeHome, makePair, eventually, type TestHome } from './helpers/nodes.js';
import { addConsoleUser, apiSession, sessionFetch, TEST_PASSWORD } from './helpers/console.js';
import { publishRedRecipients } from './helpers/red.js';

async function signInRaw(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; setCookie: string | null }> {
  const res = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, setCookie: res.headers.get('set-cookie') };
}

async function auditActions(home: string, subject?: string): Promise<string[]> {
  return withNode(home, async (ctx) => {
    let q = ctx.db.selectFrom('audit').select(['action']).orderBy('seq');
    if (subject !== undefined) q = q.where('subject', '=', subject);
    return (await q.execute()).map((r) => r.action);
  });
}

describe('console sign-in and sessions', () => {
  let us: TestHome;
  let node: RunningNode;

  beforeAll(async () => {
    us = await makeHome('us');
    await addConsoleUser(us.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD, display_name: 'Olga Ivanova' });
    await addConsoleUser(us.home, { name: 'boris', role: 'officer', channels: ['cert'], password: `${TEST_PASSWORD} 2` });
    await addConsoleUser(us.home, { name: 'lena', role: 'admin', password: `${TEST_PASSWORD} 3` });
    await addConsoleUser(us.home, { name: 'gone', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    node = await us.start({ runDelivery: false });
  });
  afterAll(async () => {
    await node.stop();
  });

  it('signs in: HttpOnly, SameSite=Lax, Path=/ cookie without Secure on loopback; GET /session answers the same session', async () => {
    const s = await apiSession(us.url, 'olga', TEST_PASSWORD);
    expect(s.setCookie).toMatch(/^hotline_session=[A-Za-z0-9_-]{43}; /);
    expect(s.setCookie).toContain('HttpOnly');
    expect(s.setCookie).toContain('SameSite=Lax');
    expect(s.setCookie).toContain('Path=/');
    expect(s.setCookie).not.toContain('Secure');
    expect(s.session).toMatchObject({ user: 'olga', role: 'officer', channels: ['crisis'], display_name: 'Olga Ivanova', totp_enrolled: false, node: { party: 'us' } });
    const got = await sessionFetch(us.url, s, '/api/v1/session');
    expect(got.status).toBe(200);
    expect(got.json).toEqual(s.session);
    // Any API route takes the cookie, with the user's own authorization.
    const me = await sessionFetch(us.url, s, '/api/v1/me');
    expect(me.json).toMatchObject({ user: 'olga', role: 'officer', channels: ['crisis'] });
    expect((await sessionFetch(us.url, s, '/api/v1/users')).status).toBe(403);
  });

  it('a wrong password and an unknown user get the same answer: 401 bad_credentials; a peer or passwordless user cannot sign in', async () => {
    const wrong = await signInRaw(us.url, { user: 'lena', password: 'not the password at all' });
    const unknown = await signInRaw(us.url, { user: 'nobody', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json.code).toBe('bad_credentials');
    expect(unknown.json).toEqual(wrong.json);
    expect(wrong.setCookie).toBeNull();
  });

  it('signing out ends the session: its cookie is refused afterwards', async () => {
    const s = await apiSession(us.url, 'olga', TEST_PASSWORD);
    const out = await sessionFetch(us.url, s, '/api/v1/session', { method: 'DELETE' });
    expect(out.status).toBe(204);
    expect((await sessionFetch(us.url, s, '/api/v1/session')).status).toBe(401);
    expect((await sessionFetch(us.url, s, '/api/v1/me')).json.code).toBe('unauthorized');
    expect(await auditActions(us.home, 'olga')).toContain('auth.sign_out');
  });

  it('disabling a user ends its sessions', async () => {
    const s = await apiSession(us.url, 'gone', TEST_PASSWORD);
    expect((await sessionFetch(us.url, s, '/api/v1/me')).status).toBe(200);
    const admin = await apiSession(us.url, 'lena', `${TEST_PASSWORD} 3`);
    expect((await sessionFetch(us.url, admin, '/api/v1/users/gone/disable', { method: 'POST' })).status).toBe(200);
    expect((await sessionFetch(us.url, s, '/api/v1/me')).status).toBe(401);
    expect((await signInRaw(us.url, { user: 'gone', password: TEST_PASSWORD })).json.code).toBe('bad_credentials');
  });

  it("one user's session cannot act as another: the CSRF token of another session does not pass", async () => {
    const olga = await apiSession(us.url, 'olga', TEST_PASSWORD);
    const boris = await apiSession(us.url, 'boris', `${TEST_PASSWORD} 2`);
    const body = { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'routine', tlp: 'amber', text: 'x' };
    // Boris's cookie with Olga's token: refused; Boris's cookie alone is Boris (no crisis channel).
    const mixed = await sessionFetch(us.url, { cookie: boris.cookie, csrf: olga.csrf }, '/api/v1/messages', { method: 'POST', body });
    expect(mixed.status).toBe(403);
    expect(mixed.json.code).toBe('csrf_failed');
    expect((await sessionFetch(us.url, boris, '/api/v1/me')).json.user).toBe('boris');
    // A forged or stale cookie value is no session at all.
    expect((await sessionFetch(us.url, { cookie: 'hotline_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', csrf: '' }, '/api/v1/me')).status).toBe(401);
  });

  it('CSRF: a cookie write without the token, or from another origin, is 403 csrf_failed and changes nothing', async () => {
    const lena = await apiSession(us.url, 'lena', `${TEST_PASSWORD} 3`);
    const before = (await sessionFetch(us.url, lena, '/api/v1/users')).json.users as unknown[];
    const body = { name: 'mallory', role: 'admin' };
    const noToken = await sessionFetch(us.url, lena, '/api/v1/users', { method: 'POST', body, csrf: false });
    expect(noToken.status).toBe(403);
    expect(noToken.json.code).toBe('csrf_failed');
    const otherSite = await sessionFetch(us.url, lena, '/api/v1/users', { method: 'POST', body, origin: 'https://evil.example' });
    expect(otherSite.status).toBe(403);
    expect(otherSite.json.code).toBe('csrf_failed');
    expect((await sessionFetch(us.url, lena, '/api/v1/users')).json.users).toEqual(before);
    expect(await auditActions(us.home)).toContain('auth.csrf_failed');
    // With the token and its own origin, the same write goes through.
    const ok = await sessionFetch(us.url, lena, '/api/v1/users', { method: 'POST', body: { name: 'nina', role: 'officer', channels: ['crisis'] }, origin: us.url });
    expect(ok.status).toBe(201);
    // A bearer token needs neither.
    const bearer = await fetch(`${us.url}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ name: 'pavel', role: 'officer', channels: ['crisis'] }) });
    expect(bearer.status).toBe(201);
  });

  it('five wrong passwords lock the user: 429 signin_locked (the right password too), audited', async () => {
    await addConsoleUser(us.home, { name: 'vera', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    const answers: unknown[] = [];
    for (let i = 0; i < 5; i++) answers.push((await signInRaw(us.url, { user: 'vera', password: `wrong password ${i}` })).json.code);
    expect(answers).toEqual(['bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'signin_locked']);
    const locked = await signInRaw(us.url, { user: 'vera', password: TEST_PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.json.code).toBe('signin_locked');
    expect(String((locked.json.details as { until: string }).until)).toMatch(/^\d{4}-\d\d-\d\dT/);
    const actions = await auditActions(us.home, 'vera');
    expect(actions.filter((a) => a === 'auth.sign_in_failed')).toHaveLength(5);
    expect(await auditActions(us.home, 'user:vera')).toEqual(['auth.locked']);
    // An unknown name is locked the same way: the lock says nothing about who exists.
    const ghost: unknown[] = [];
    for (let i = 0; i < 5; i++) ghost.push((await signInRaw(us.url, { user: 'ghost', password: `wrong password ${i}` })).json.code);
    expect(ghost).toEqual(answers);
  });
});

describe('behind a TLS reverse proxy on this host', () => {
  let home: TestHome;
  let node: RunningNode;
  beforeAll(async () => {
    home = await makeHome('us', { public_url: 'https://hotline.us.example', console: { signin_max_failures_per_address: 3 } });
    await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    node = await home.start({ runDelivery: false });
  });
  afterAll(async () => {
    await node.stop();
  });

  it('the cookie is Secure when public_url is https; the public origin passes the Origin check', async () => {
    const s = await apiSession(home.url, 'olga', TEST_PASSWORD);
    expect(s.setCookie).toContain('; Secure');
    const out = await sessionFetch(home.url, s, '/api/v1/session', { method: 'DELETE', origin: 'https://hotline.us.example' });
    expect(out.status).toBe(204);
  });

  it('wrong sign-ins from one (non-loopback) address lock the address whatever the user names; loopback is never locked as an address', async () => {
    const codes: unknown[] = [];
    for (const user of ['anna', 'boris', 'clara']) {
      codes.push(await node.ctx.sessions.signIn({ user, password: 'not a password at all' }, '203.0.113.5').catch((e: { code: string }) => e.code));
    }
    expect(codes).toEqual(['bad_credentials', 'bad_credentials', 'signin_locked']);
    await expect(node.ctx.sessions.signIn({ user: 'olga', password: TEST_PASSWORD }, '203.0.113.5')).rejects.toMatchObject({ code: 'signin_locked' });
    expect(await auditActions(home.home, 'addr:203.0.113.5')).toEqual(['auth.locked']);
    // Over HTTP from loopback (a reverse proxy): three wrong names lock nobody else.
    for (const user of ['anna', 'boris', 'clara']) expect((await signInRaw(home.url, { user, password: 'not a password at all' })).json.code).toBe('bad_credentials');
    expect((await signInRaw(home.url, { user: 'olga', password: TEST_PASSWORD })).status).toBe(200);
  });
});

describe('console session timeouts (fake clock)', () => {
  let home: TestHome;
  let node: RunningNode;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    home = await makeHome('us');
    await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    node = await home.start({ runDelivery: false, clock });
  });
  afterAll(async () => {
    await node.stop();
  });

  it('ends a session unused for the idle timeout (8 h), and any session after the absolute timeout (24 h)', async () => {
    const idle = await apiSession(home.url, 'olga', TEST_PASSWORD);
    clock.advance(8 * 3600_000 - 60_000);
    expect((await sessionFetch(home.url, idle, '/api/v1/me')).status).toBe(200);
    clock.advance(8 * 3600_000 - 60_000);
    expect((await sessionFetch(home.url, idle, '/api/v1/me')).status).toBe(200);
    clock.advance(8 * 3600_000);
    expect((await sessionFetch(home.url, idle, '/api/v1/me')).status).toBe(401);

    const busy = await apiSession(home.url, 'olga', TEST_PASSWORD);
    for (let h = 0; h < 23; h++) {
      clock.advance(3600_000);
      expect([h, (await sessionFetch(home.url, busy, "/api/v1/me")).json]).toEqual([h, expect.objectContaining({ user: "olga" })]);
    }
    clock.advance(3600_000);
    expect((await sessionFetch(home.url, busy, '/api/v1/me')).status).toBe(401);
  });
});

describe('TOTP', () => {
  let home: TestHome;
  let node: RunningNode;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    home = await makeHome('us');
    await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    node = await home.start({ runDelivery: false, clock });
  });
  afterAll(async () => {
    await node.stop();
  });

  it('enrols with a QR code, then asks for a code at sign-in; a code is accepted once', async () => {
    const s = await apiSession(home.url, 'olga', TEST_PASSWORD);
    const start = await sessionFetch(home.url, s, '/api/v1/account/totp', { method: 'POST' });
    expect(start.status).toBe(200);
    expect(String(start.json.qr_svg)).toMatch(/^<svg/);
    expect(String(start.json.uri)).toMatch(/^otpauth:\/\/totp\//);
    const totp = new TOTP({ secret: Secret.fromBase32(String(start.json.secret)) });
    expect((await sessionFetch(home.url, s, '/api/v1/account/totp/confirm', { method: 'POST', body: { code: '000000' === totp.generate({ timestamp: clock.now() }) ? '111111' : '000000' } })).json.code).toBe('totp_invalid');
    const confirmed = await sessionFetch(home.url, s, '/api/v1/account/totp/confirm', { method: 'POST', body: { code: totp.generate({ timestamp: clock.now() }) } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.totp_enrolled).toBe(true);

    const noCode = await signInRaw(home.url, { user: 'olga', password: TEST_PASSWORD });
    expect(noCode.status).toBe(401);
    expect(noCode.json.code).toBe('totp_required');
    expect(noCode.setCookie).toBeNull();
    // The code used for the enrolment is spent; the next step's code works once.
    clock.advance(30_000);
    const code = totp.generate({ timestamp: clock.now() });
    const ok = await apiSession(home.url, 'olga', TEST_PASSWORD, code);
    expect(ok.session.totp_enrolled).toBe(true);
    const replay = await signInRaw(home.url, { user: 'olga', password: TEST_PASSWORD, totp: code });
    expect(replay.status).toBe(401);
    expect(replay.json.code).toBe('totp_invalid');
    // A wrong password with a right code is still bad_credentials.
    clock.advance(30_000);
    expect((await signInRaw(home.url, { user: 'olga', password: 'wrong password here', totp: totp.generate({ timestamp: clock.now() }) })).json.code).toBe('bad_credentials');
    // The administrator resets it (a lost phone): a password alone works again.
    await withNode(home.home, (ctx) => ctx.users.resetTotp('olga'));
    expect((await apiSession(home.url, 'olga', TEST_PASSWORD)).session.totp_enrolled).toBe(false);
  });
});

describe('console.require_totp and changing one\'s own password', () => {
  let home: TestHome;
  let node: RunningNode;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    home = await makeHome('us', { console: { require_totp: true } });
    await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    node = await home.start({ runDelivery: false, clock });
  });
  afterAll(async () => {
    await node.stop();
  });

  it('a user without TOTP gets a session that can only enrol: other routes are 403 totp_enrolment_required', async () => {
    const s = await apiSession(home.url, 'olga', TEST_PASSWORD);
    expect(s.session).toMatchObject({ totp_enrolled: false, totp_enrolment_required: true });
    for (const path of ['/api/v1/me', '/api/v1/messages', '/api/v1/events']) {
      const r = await sessionFetch(home.url, s, path);
      expect([path, r.status, r.json.code]).toEqual([path, 403, 'totp_enrolment_required']);
    }
    expect((await sessionFetch(home.url, s, '/api/v1/session')).status).toBe(200);
    const start = await sessionFetch(home.url, s, '/api/v1/account/totp', { method: 'POST' });
    const totp = new TOTP({ secret: Secret.fromBase32(String(start.json.secret)) });
    const done = await sessionFetch(home.url, s, '/api/v1/account/totp/confirm', { method: 'POST', body: { code: totp.generate({ timestamp: clock.now() }) } });
    expect(done.json).toMatchObject({ totp_enrolled: true, totp_enrolment_required: false });
    expect((await sessionFetch(home.url, s, '/api/v1/me')).status).toBe(200);
    // Bearer tokens are not concerned.
    expect((await fetch(`${home.url}/api/v1/me`, { headers: { authorization: `Bearer ${home.token}` } })).status).toBe(200);
  });

  it('changes one\'s own password with the current one; the other sessions end, this one stays', async () => {
    await addConsoleUser(home.home, { name: 'ilya', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    const a = await apiSession(home.url, 'ilya', TEST_PASSWORD);
    const b = await apiSession(home.url, 'ilya', TEST_PASSWORD);
    // (require_totp: enrolment-only sessions may not change the password either)
    expect((await sessionFetch(home.url, a, '/api/v1/account/password', { method: 'POST', body: { current: TEST_PASSWORD, password: 'a brand new password' } })).json.code).toBe('totp_enrolment_required');
    const start = await sessionFetch(home.url, a, '/api/v1/account/totp', { method: 'POST' });
    const totp = new TOTP({ secret: Secret.fromBase32(String(start.json.secret)) });
    await sessionFetch(home.url, a, '/api/v1/account/totp/confirm', { method: 'POST', body: { code: totp.generate({ timestamp: clock.now() }) } });
    const wrong = await sessionFetch(home.url, a, '/api/v1/account/password', { method: 'POST', body: { current: 'not my password', password: 'a brand new password' } });
    expect(wrong.json.code).toBe('bad_credentials');
    const short = await sessionFetch(home.url, a, '/api/v1/account/password', { method: 'POST', body: { current: TEST_PASSWORD, password: 'short' } });
    expect(short.json.code).toBe('password_too_short');
    const ok = await sessionFetch(home.url, a, '/api/v1/account/password', { method: 'POST', body: { current: TEST_PASSWORD, password: 'a brand new password' } });
    expect(ok.status).toBe(204);
    expect((await sessionFetch(home.url, a, '/api/v1/me')).status).toBe(200);
    expect((await sessionFetch(home.url, b, '/api/v1/session')).status).toBe(401);
    clock.advance(30_000);
    expect((await apiSession(home.url, 'ilya', 'a brand new password', totp.generate({ timestamp: clock.now() }))).session.user).toBe('ilya');
  });
});

/** Reads `event:`/`data:` pairs of an SSE stream into `into` until aborted. */
async function listen(url: string, headers: Record<string, string>, into: { name: string; data: Record<string, unknown> }[], signal: AbortSignal): Promise<void> {
  const res = await fetch(`${url}/api/v1/events`, { headers, signal });
  if (res.status !== 200) throw new Error(`events: ${res.status}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const name = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (name !== undefined && data !== undefined) into.push({ name, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted
    }
  })();
}

describe('live events (GET /api/v1/events)', () => {
  let us: TestHome;
  let ru: TestHome;
  let a: RunningNode;
  let b: RunningNode;

  beforeAll(async () => {
    [us, ru] = await makePair();
    await addConsoleUser(ru.home, { name: 'ivan', role: 'officer', channels: ['crisis', 'cert'], password: TEST_PASSWORD });
    await addConsoleUser(ru.home, { name: 'petr', role: 'officer', channels: ['crisis', 'cert'], password: TEST_PASSWORD });
    await addConsoleUser(ru.home, { name: 'kira', role: 'officer', channels: ['law'], password: TEST_PASSWORD });
    a = await us.start();
    b = await ru.start();
    await publishRedRecipients(b, a, 'crisis', ['ivan']);
  });
  let stopped = false;
  afterAll(async () => {
    await a.stop();
    if (!stopped) await b.stop();
  });

  it('a cert officer never hears of law traffic; a TLP:RED message reaches only its recipients; acks and deliveries stream', async () => {
    const ac = new AbortController();
    const heard: Record<string, { name: string; data: Record<string, unknown> }[]> = { ivan: [], petr: [], kira: [], sender: [] };
    for (const who of ['ivan', 'petr', 'kira'] as const) {
      const s = await apiSession(ru.url, who, TEST_PASSWORD);
      await listen(ru.url, { cookie: s.cookie }, heard[who]!, ac.signal);
    }
    // The sender's side with a bearer token: its own outbound messages and their delivery.
    await listen(us.url, { authorization: `Bearer ${us.token}` }, heard.sender!, ac.signal);
    await eventually(async () => (b.ctx.events.size >= 3 && a.ctx.events.size >= 1 ? true : undefined));
    const post = async (body: Record<string, unknown>): Promise<string> => {
      const r = await fetch(`${us.url}/api/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const j = (await r.json()) as Record<string, unknown>;
      if (r.status >= 300) throw new Error(JSON.stringify(j));
      return String(j.id);
    };
    const law = await post({ to: 'ru', channel: 'law', kind: 'notification', priority: 'immediate', tlp: 'amber', text: 'law only' });
    const red = await post({ to: 'ru', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'red', recipients: ['ivan'], text: 'for ivan' });
    const plain = await post({ to: 'ru', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'for all on crisis' });
    const ids = (who: string) => heard[who]!.filter((e) => e.name === 'message').map((e) => e.data.id);
    await eventually(async () => (ids('ivan').includes(plain) && ids('kira').includes(law) && ids('petr').includes(plain) ? true : undefined));
    expect(ids('kira')).toEqual([law]);
    expect(ids('ivan')).toEqual([red, plain]);
    expect(ids('petr')).toEqual([plain]);
    expect(heard.ivan!.find((e) => e.data.id === plain)!.data).toEqual({ id: plain, direction: 'in', kind: 'notification', priority: 'flash', channel: 'crisis', peer: 'us', case_id: expect.any(String) as string });
    // The sender's node: its outbound messages, then their receipts.
    await eventually(async () => (heard.sender!.filter((e) => e.name === 'delivery' && e.data.state === 'receipted').length >= 3 ? true : undefined));
    expect(heard.sender!.filter((e) => e.name === 'message').map((e) => e.data.id)).toEqual([law, red, plain]);
    // Ivan acknowledges through his session: everyone on crisis hears of it, kira does not.
    const ivan = await apiSession(ru.url, 'ivan', TEST_PASSWORD);
    const ack = await sessionFetch(ru.url, ivan, `/api/v1/messages/${plain}/ack`, { method: 'POST', body: {} });
    expect(ack.status).toBeLessThan(300);
    await eventually(async () => (heard.petr!.some((e) => e.name === 'ack') ? true : undefined));
    expect(heard.petr!.find((e) => e.name === 'ack')!.data).toMatchObject({ message_id: plain, by: 'ivan' });
    expect(heard.kira!.some((e) => e.name === 'ack' || ids('kira').length !== 1)).toBe(false);
    ac.abort();
  });

  it('a delivery that fails is heard as retrying by those who may read the message', async () => {
    await b.stop();
    stopped = true;
    const ac = new AbortController();
    const heard: { name: string; data: Record<string, unknown> }[] = [];
    await listen(us.url, { authorization: `Bearer ${us.token}` }, heard, ac.signal);
    await eventually(async () => (a.ctx.events.size >= 1 ? true : undefined));
    const r = await fetch(`${us.url}/api/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'ru is down' }) });
    const id = String(((await r.json()) as { id: string }).id);
    await eventually(async () => (heard.some((e) => e.name === 'delivery' && e.data.message_id === id) ? true : undefined));
    expect(heard.find((e) => e.name === 'delivery' && e.data.message_id === id)!.data).toEqual({ message_id: id, state: 'retrying' });
    ac.abort();
  });

  it('closes open streams when the node stops (stop does not hang)', async () => {
    const home = await makeHome('xx');
    await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: TEST_PASSWORD });
    const n = await home.start({ runDelivery: false });
    const s = await apiSession(home.url, 'olga', TEST_PASSWORD);
    const res = await fetch(`${home.url}/api/v1/events`, { headers: { cookie: s.cookie } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await n.stop();
    const reader = res.body!.getReader();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});
