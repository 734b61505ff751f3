/** A REST API client for tests: one node's URL, a bearer token per call. */
export interface ApiResult {
  status: number;
  json: Record<string, unknown>;
}

export type Api = (path: string, token: string | null, init?: { method?: string; body?: unknown }) => Promise<ApiResult>;

/** Calls `url + path` with `Authorization: Bearer <token>` (none when token is null), JSON in and out. */
export function api(url: string): Api {
  return async (path, token, init = {}) => {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
}

/** Creates users on a node through its REST API (as its administrator) and a token for each; returns name → secret. */
export async function usersWithTokens(call: Api, adminToken: string, users: Record<string, string[]>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, channels] of Object.entries(users)) {
    const u = await call('/api/v1/users', adminToken, { method: 'POST', body: { name, role: 'officer', channels } });
    if (u.status !== 201) throw new Error(`adding ${name}: ${JSON.stringify(u.json)}`);
    const t = await call('/api/v1/tokens', adminToken, { method: 'POST', body: { user: name } });
    if (t.status !== 201) throw new Error(`token for ${name}: ${JSON.stringify(t.json)}`);
    out[name] = String(t.json.secret);
  }
  return out;
}
