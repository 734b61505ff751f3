/**
 * Console users and sessions for tests (issue 11).
 *
 *   await addConsoleUser(home.home, { name: 'olga', role: 'officer', channels: ['crisis'], password: 'correct horse battery' });
 *   const s = await apiSession(home.url, 'olga', 'correct horse battery');   // { cookie, csrf, session }
 *   await fetch(`${home.url}/api/v1/queue`, { headers: { cookie: s.cookie } });
 *   await fetch(url, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body });
 *
 * addConsoleUser opens the home with withNode: call it before the node starts, or on a running
 * node's home (SQLite in WAL mode: both may write; the CLI does the same).
 */
import { withNode } from '../../src/adapters/cli/home.js';

export interface ConsoleUser {
  name: string;
  role: 'officer' | 'admin';
  channels?: string[];
  password: string;
  display_name?: string;
}

/** A password long enough for the node's rule (12 characters), for tests. */
export const TEST_PASSWORD = 'correct horse battery staple';

export async function addConsoleUser(home: string, u: ConsoleUser): Promise<void> {
  await withNode(home, async (ctx) => {
    await ctx.users.add({
      name: u.name, role: u.role, ...(u.channels === undefined ? {} : { channels: u.channels }),
      ...(u.display_name === undefined ? {} : { display_name: u.display_name }),
    });
    await ctx.users.setPassword(u.name, u.password);
  });
}

export interface ApiSession {
  /** The Cookie header to send: `hotline_session=...`. */
  cookie: string;
  /** The session's CSRF token, for X-CSRF-Token on writes. */
  csrf: string;
  /** The Set-Cookie header as the node sent it. */
  setCookie: string;
  session: Record<string, unknown>;
}

/** Signs in through POST /api/v1/session (with `totp` when given); throws with the node's answer when refused. */
export async function apiSession(url: string, user: string, password: string, totp?: string): Promise<ApiSession> {
  const res = await fetch(`${url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password, ...(totp === undefined ? {} : { totp }) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`sign-in of ${user}: ${res.status} ${JSON.stringify(json)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  return { cookie, csrf: String(json.csrf_token), setCookie, session: json };
}

/** fetch with a session: its cookie, and its CSRF token on writes unless `csrf: false`. */
export async function sessionFetch(url: string, s: Pick<ApiSession, 'cookie' | 'csrf'>, path: string,
  init: { method?: string; body?: unknown; csrf?: boolean; origin?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const method = init.method ?? 'GET';
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      cookie: s.cookie,
      ...(method !== 'GET' && init.csrf !== false ? { 'x-csrf-token': s.csrf } : {}),
      ...(init.origin === undefined ? {} : { origin: init.origin }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}
