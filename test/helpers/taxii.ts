import { randomUUID } from 'node:crypto';
import type { RunningNode } from '../../src/main.js';
import type { Collection } from '../../src/modules/taxii/taxii.collections.js';
import { makePair, type TestHome } from './nodes.js';

export const TAXII = 'application/taxii+json;version=2.1';

/** What a TAXII call returned: status, headers, the JSON body (or null), the raw text. */
export interface TaxiiResult {
  status: number;
  headers: Headers;
  json: Record<string, unknown> | null;
  text: string;
}

export interface TaxiiCall {
  method?: string;
  body?: unknown;
  /** Raw body text (wins over `body`). */
  raw?: string;
  accept?: string | null;
  contentType?: string | null;
  /** `Authorization` header; default `Bearer <token>` of the client. */
  authorization?: string | null;
}

/** A TAXII 2.1 client for tests: real HTTP, the spec's headers by default. */
export function taxiiClient(base: string, token: string | null) {
  return async (path: string, init: TaxiiCall = {}): Promise<TaxiiResult> => {
    const headers: Record<string, string> = {};
    const accept = init.accept === undefined ? TAXII : init.accept;
    if (accept !== null) headers.accept = accept;
    const auth = init.authorization === undefined ? (token === null ? null : `Bearer ${token}`) : init.authorization;
    if (auth !== null) headers.authorization = auth;
    const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    if (body !== undefined) {
      const ct = init.contentType === undefined ? TAXII : init.contentType;
      if (ct !== null) headers['content-type'] = ct;
    }
    const res = await fetch(`${base}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let json: Record<string, unknown> | null = null;
    try {
      json = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = null;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
}

export type Taxii = ReturnType<typeof taxiiClient>;

/** `Basic base64(user:secret)`. */
export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

let counter = 0;

/** A valid STIX 2.1 indicator for a C2 IP, with optional overrides. */
export function indicator(over: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  const ip = `198.51.${(counter >> 8) & 255}.${counter & 255}`;
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`,
    created: '2026-11-30T10:00:00.000Z', modified: '2026-11-30T10:00:00.000Z',
    name: `C2 ${ip}`, indicator_types: ['malicious-activity'], pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix',
    valid_from: '2026-11-30T10:00:00Z', ...over,
  };
}

/** An ipv4-addr observable (no versions). */
export function ipv4(value: string): Record<string, unknown> {
  return { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${randomUUID()}`, value };
}

/** A malware family object. */
export function malware(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'malware', spec_version: '2.1', id: `malware--${randomUUID()}`, created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z',
    name, is_family: true, malware_types: ['bot'], ...over,
  };
}

export function envelope(objects: unknown[]): { objects: unknown[] } {
  return { objects };
}


/** A started node `us` (peer `ru` pinned, not started) with TAXII users, tokens and collections. */
export interface TaxiiFixture {
  us: TestHome;
  node: RunningNode;
  /** Name → token secret: alice (cert, read+write on intel), bob (law), carol (cert, no grant), reader (read-only on intel), ruFeed (peer account of ru). */
  tokens: Record<'admin' | 'alice' | 'bob' | 'carol' | 'reader' | 'ruFeed', string>;
  /** Collections: intel (cert), lawIntel (law, bob read+write), empty (cert, alice read). */
  c: Record<'intel' | 'lawIntel' | 'empty', Collection>;
  as(who: keyof TaxiiFixture['tokens']): Taxii;
  /** Row counts of the STIX store, to check that a refusal changed nothing. */
  counts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function taxiiFixture(extra: Parameters<typeof makePair>[0] = {}): Promise<TaxiiFixture> {
  const [us] = await makePair(extra);
  const node = await us.start({ runDelivery: false, runPings: false, runReminders: false, runDeadlines: false });
  const { users, taxii } = node.ctx;
  const tok = async (name: string, role: string, channels: string, peer?: string): Promise<string> => {
    await users.add({ name, role, channels, ...(peer === undefined ? {} : { peer }) });
    return (await users.createToken(name)).secret;
  };
  const tokens = {
    admin: us.token,
    alice: await tok('alice', 'officer', 'cert'),
    bob: await tok('bob', 'officer', 'law'),
    carol: await tok('carol', 'officer', 'cert'),
    reader: await tok('reader', 'officer', 'cert'),
    ruFeed: await tok('ru-feed', 'peer', 'cert', 'ru'),
  };
  const intel = await taxii.collections.add({ alias: 'intel', title: 'Botnet intelligence', description: 'C2 servers and infected hosts' });
  await taxii.collections.grant('intel', 'user:alice', { read: true, write: true });
  await taxii.collections.grant('intel', 'user:reader', { read: true, write: false });
  const lawIntel = await taxii.collections.add({ alias: 'law-intel', channel: 'law' });
  await taxii.collections.grant('law-intel', 'user:bob', { read: true, write: true });
  const empty = await taxii.collections.add({ alias: 'empty' });
  await taxii.collections.grant('empty', 'user:alice', { read: true, write: false });
  const db = node.ctx.db;
  return {
    us, node, tokens, c: { intel, lawIntel, empty },
    as: (who) => taxiiClient(node.address, tokens[who]),
    counts: async () => ({
      objects: (await db.selectFrom('stix_objects').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
      statuses: (await db.selectFrom('taxii_status').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
      collections: (await db.selectFrom('taxii_collections').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
      grants: (await db.selectFrom('taxii_grants').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
    }),
    stop: () => node.stop(),
  };
}

/** Asserts a TAXII error resource: status, `error_code`, the TAXII media type, `http_status` matching. */
export function expectTaxiiError(r: TaxiiResult, status: number, code: string): void {
  const where = `${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`;
  if (r.status !== status) throw new Error(`expected ${where}`);
  if (r.headers.get('content-type') !== TAXII) throw new Error(`error without the TAXII media type: ${r.headers.get('content-type')}`);
  const j = r.json ?? {};
  if (j.error_code !== code || j.http_status !== String(status) || typeof j.title !== 'string' || typeof j.description !== 'string' || typeof j.error_id !== 'string') {
    throw new Error(`not the TAXII error resource for ${where}`);
  }
}
