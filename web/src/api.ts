/**
 * The REST API of the node this page came from (same origin). The session is an HttpOnly cookie
 * the browser sends by itself; every write also carries the session's CSRF token in
 * `X-CSRF-Token` (the node checks it and the Origin). Errors are the node's problem+json: a
 * stable `code` and a `detail` a person can act on.
 */

/** The signed-in user, as POST/GET /api/v1/session answer. */
export interface Session {
  user: string;
  role: 'admin' | 'officer';
  channels: string[];
  display_name: string | null;
  csrf_token: string;
  /** Whether the user has a TOTP second factor. */
  totp_enrolled: boolean;
  /** The node requires TOTP (`console.require_totp`) and the user has none: the session may only enrol (account page). */
  totp_enrolment_required?: boolean;
  /** The node: its party and name (for the page's header). */
  node: { party: string; name: string };
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** Called by the session layer after sign-in and on load. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** What to do when the node says the session is gone (401): show the sign-in page. */
export function setOnUnauthorized(f: (() => void) | null): void {
  onUnauthorized = f;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** `path` with the defined values of `q` as its query string. */
export function withQuery(path: string, q?: Query): string {
  if (q === undefined) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? path : `${path}?${s}`;
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try { json = text === '' ? null : JSON.parse(text); } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    const p = (json ?? {}) as { code?: string; detail?: string; title?: string; details?: unknown };
    if (res.status === 401 && path !== '/api/v1/session') onUnauthorized?.();
    throw new ApiError(res.status, p.code ?? `http_${res.status}`, p.detail ?? p.title ?? res.statusText, p.details);
  }
  return json as T;
}

export const get = <T>(path: string, q?: Query) => api<T>('GET', withQuery(path, q));
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);
