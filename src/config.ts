import { DEFAULT_CONSOLE, type ConsoleOptions } from './modules/users/users.types.js';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fail, HotlineError } from './shared/errors.js';
import { isTimeZone } from './shared/zoned.js';
import { checkChannelList, checkNodeName, checkPeerUrl } from './modules/federation/federation.peers.js';
import { parsePingSchedule } from './modules/directory/directory.types.js';
import { parseLawConfig, type LawConfig } from './modules/law/law.types.js';
import { parseNotifyConfig, type NotifyConfig } from './modules/deadlines/deadlines.types.js';
import type { PingScheduleEntry } from './modules/directory/directory.types.js';
import { CHANNELS, DEFAULT_DELIVERY, DEFAULT_LIMITS, PARTY_ID, type Channel, type DeliveryOptions, type Limits } from './modules/federation/federation.types.js';
import { DEFAULT_PG_CONNECTIONS, type StoreLocation } from './adapters/storage/store.js';

export const CONFIG_FILE = 'hotline.json';

/** `retention` in hotline.json: how many days each kind of prunable record is kept (retention.ts: the rules). */
export interface RetentionConfig {
  /** TAXII status resources of POSTs and inbound indicators messages. */
  taxiiStatusesDays: number;
  /** Escalation, overdue and reminder notifications whose deliveries are finished. */
  notificationsDays: number;
  /** Feed runs and their reports. */
  feedRunsDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionConfig> = { taxiiStatusesDays: 30, notificationsDays: 90, feedRunsDays: 90 };

/** A node's configuration: parsed once from `<home>/hotline.json`, typed, frozen. */
export interface Config {
  readonly home: string;
  readonly party: string;
  readonly name: string;
  readonly url: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly channels: readonly Channel[];
  readonly keyFile: string;
  /** The store: an SQLite file (`store`), or PostgreSQL (`database_url`, or `store` with driver "postgres"). */
  readonly store: StoreLocation;
  /** SHA-256 (hex) of the administrator's API token; the token itself is in `<home>/admin.token`. */
  readonly adminTokenSha256: string;
  readonly limits: Readonly<Limits>;
  readonly delivery: Readonly<DeliveryOptions>;
  readonly logLevel: string;
  /** The language messages are rendered in by default (`language`, default "en"); `show --lang` overrides it. */
  readonly language: string;
  /** The node's IANA time zone (`time_zone`, default "UTC"): rota shifts' weekdays and hours are in it; alerts show due times in it besides UTC. */
  readonly timeZone: string;
  /** Where people reach this node's console (`public_url`, e.g. https://hotline.cert.example); alerts link to `<public_url>/messages/<id>`. */
  readonly publicUrl: string | null;
  /** Ping tests the node sends by itself (`ping_schedule`); empty when none. */
  readonly pingSchedule: readonly PingScheduleEntry[];
  /** The law channel (`law`): when to remind before a preservation expires. */
  readonly law: LawConfig;
  /** Where escalation and overdue notifications go besides the rota's own targets (`notify`). */
  readonly notify: NotifyConfig;
  /** The TAXII 2.1 server (`taxii`): request and page sizes. */
  readonly taxii: Readonly<TaxiiConfig>;
  /** How many days prunable records are kept (`retention`; `hotline prune`). */
  readonly retention: Readonly<RetentionConfig>;
  /** The HTTP server (`http`): timeouts, connection limits, rate limits per source address. */
  readonly http: Readonly<HttpConfig>;
  /** Feed runs over REST (`feeds`): the largest upload, and how many runs at once. */
  readonly feeds: Readonly<FeedsConfig>;
  /** The web console's sign-in (`console`): session timeouts, TOTP for all, sign-in locks. */
  readonly console: Readonly<ConsoleOptions>;
}

/** `feeds` in hotline.json. */
export interface FeedsConfig {
  /** Largest feed upload in bytes (POST /api/v1/feed-runs); a larger one is refused with `body_too_large`. */
  maxUploadBytes: number;
  /** Feed runs the node runs at once (each on a worker thread); an upload beyond it is refused with `feeds_busy`. */
  maxConcurrentRuns: number;
}

export const DEFAULT_FEEDS: Readonly<FeedsConfig> = { maxUploadBytes: 512 * 1024 * 1024, maxConcurrentRuns: 1 };

/** `taxii` in hotline.json. */
export interface TaxiiConfig {
  /** Largest POST body in bytes (the API root's `max_content_length`). */
  maxContentLength: number;
  /** Largest page: a larger `limit` is lowered to it. */
  maxPage: number;
  /** Page size when a client gives no `limit`. */
  defaultPage: number;
}

export const DEFAULT_TAXII: Readonly<TaxiiConfig> = { maxContentLength: 16 * 1024 * 1024, maxPage: 10_000, defaultPage: 1000 };

/** The file's shape (snake_case, paths relative to the home). */
export interface ConfigFile {
  party: string;
  name: string;
  url: string;
  listen: { host: string; port: number };
  channels: string[];
  key_file: string;
  store?: { driver: 'sqlite'; path: string } | { driver: 'postgres'; url: string; password_file?: string; max_connections?: number; schema?: string };
  database_url?: string;
  admin_token_sha256: string;
  limits?: Partial<Limits>;
  delivery?: Partial<DeliveryOptions>;
  log_level?: string;
  language?: string;
  time_zone?: string;
  public_url?: string;
  ping_schedule?: { to: string; channel: string; every_minutes: number }[];
  law?: { remind_days_before?: number };
  notify?: { webhook?: { url: string }; smtp?: { host: string; port: number; from: string; secure?: boolean; require_tls?: boolean; user?: string; password_file?: string; password_env?: string; ca_file?: string } };
  taxii?: Partial<TaxiiConfig>;
  retention?: Partial<RetentionConfig>;
  http?: Partial<HttpConfig>;
  feeds?: Partial<FeedsConfig>;
  console?: ConsoleConfigFile;
}

/** `console` in hotline.json; every member optional (defaults: DEFAULT_CONSOLE in modules/users/users.sessions.ts). */
export interface ConsoleConfigFile {
  /** A session unused this long ends (default 480: a shift with the page open). */
  idle_timeout_minutes?: number;
  /** A session ends this long after sign-in (default 24). */
  absolute_timeout_hours?: number;
  /** Every console user must have a TOTP second factor (default false). */
  require_totp?: boolean;
  /** Wrong sign-ins that lock a user name (default 5) and an address (default 20), for signin_lock_minutes (default 15). */
  signin_max_failures?: number;
  signin_max_failures_per_address?: number;
  signin_lock_minutes?: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates `<home>/hotline.json`; every problem names the field and the file. */
export function loadConfig(home: string): Config {
  const file = join(home, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return fail('home_missing', `No node at ${home}: ${file} does not exist; create one with "hotline init --home ${home} ..."`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail('config_invalid', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseConfig(raw, home);
  } catch (e) {
    if (e instanceof HotlineError) fail('config_invalid', `${file}: ${e.message}`);
    throw e;
  }
}

export function parseConfig(raw: unknown, home: string): Config {
  const bad = (m: string): never => fail('config_invalid', m);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('the config must be a JSON object');
  const c = raw as Record<string, unknown>;
  const str = (k: string): string => (typeof c[k] === 'string' && c[k] !== '' ? (c[k] as string) : bad(`"${k}" must be a non-empty string`));
  const party = str('party');
  if (!PARTY_ID.test(party)) bad(`"party" must be 2 to 32 characters of a-z, 0-9 and -, starting with a letter (got "${party}")`);
  const url = str('url');
  try {
    checkPeerUrl(url);
  } catch (e) {
    bad(`"url": ${(e as Error).message}`);
  }
  const listen = c.listen as { host?: unknown; port?: unknown } | undefined;
  if (typeof listen !== 'object' || listen === null || typeof listen.host !== 'string' || !Number.isInteger(listen.port)
    || (listen.port as number) < 0 || (listen.port as number) > 65535) {
    bad('"listen" must be { "host": string, "port": 0..65535 }');
  }
  const nameProblem = checkNodeName(c.name);
  if (nameProblem !== undefined) bad(nameProblem);
  const channels = c.channels;
  if (!Array.isArray(channels) || channels.length === 0 || channels.some((x) => !(CHANNELS as readonly unknown[]).includes(x))) {
    bad(`"channels" must be a non-empty list of ${CHANNELS.join(', ')}`);
  }
  const channelsProblem = checkChannelList(channels);
  if (channelsProblem !== undefined) bad(channelsProblem);
  const token = str('admin_token_sha256');
  if (!/^[0-9a-f]{64}$/.test(token)) bad('"admin_token_sha256" must be 64 hex digits');
  const logLevel = c.log_level === undefined ? 'info' : String(c.log_level);
  if (!LOG_LEVELS.includes(logLevel)) bad(`"log_level" must be one of ${LOG_LEVELS.join(', ')}`);
  // Which languages the templates have labels for is checked when the node opens (context.ts).
  const language = c.language === undefined ? 'en' : c.language;
  if (typeof language !== 'string' || !/^[a-z]{2,3}$/.test(language)) bad('"language" must be a language code such as "en" or "ru"');
  const timeZone = c.time_zone === undefined ? 'UTC' : c.time_zone;
  if (!isTimeZone(timeZone)) bad(`"time_zone" must be an IANA time zone such as "UTC" or "Europe/Moscow" (got ${JSON.stringify(timeZone)})`);
  const publicUrl = c.public_url === undefined ? null : c.public_url;
  if (publicUrl !== null && !isHttpUrl(publicUrl)) bad(`"public_url" must be the http(s) URL people open the node's console at, e.g. "https://hotline.cert.example" (got ${JSON.stringify(publicUrl)})`);
  const resolve = (p: string): string => (p === ':memory:' || isAbsolute(p) ? p : join(home, p));
  const store = parseStore(c, resolve, bad);
  return Object.freeze({
    home,
    party,
    name: c.name as string,
    url,
    listen: Object.freeze({ host: listen!.host as string, port: listen!.port as number }),
    channels: Object.freeze([...(channels as Channel[])]),
    keyFile: resolve(str('key_file')),
    store,
    adminTokenSha256: token,
    limits: Object.freeze(overrides('limits', DEFAULT_LIMITS, c.limits)),
    delivery: Object.freeze(overrides('delivery', DEFAULT_DELIVERY, c.delivery)),
    logLevel,
    language: language as string,
    timeZone: timeZone as string,
    publicUrl: publicUrl === null ? null : (publicUrl as string).replace(/\/+$/, ''),
    pingSchedule: parsePingSchedule(c.ping_schedule, { party, channels: channels as Channel[] }),
    law: parseLawConfig(c.law),
    notify: parseNotifyConfig(c.notify, home),
    taxii: Object.freeze(overrides('taxii', DEFAULT_TAXII, c.taxii)),
    retention: Object.freeze(overrides('retention', DEFAULT_RETENTION, c.retention)),
    http: parseHttpConfig(c.http),
    feeds: Object.freeze(overrides('feeds', DEFAULT_FEEDS, c.feeds)),
    console: parseConsoleConfig(c.console),
  });
}

/**
 * `store`: { "driver": "sqlite", "path": "hotline.db" } or { "driver": "postgres", "url": "postgres://...",
 * "password_file"?: path, "max_connections"?: n }; `database_url` is short for the second. The
 * password never sits in hotline.json: it comes from `password_file` or the PGPASSWORD variable.
 */
function parseStore(c: Record<string, unknown>, resolve: (p: string) => string, bad: (m: string) => never): StoreLocation {
  const store = (c.store ?? (c.database_url === undefined ? undefined : { driver: 'postgres', url: c.database_url })) as Record<string, unknown> | undefined;
  if (c.store !== undefined && c.database_url !== undefined) bad('give either "store" or "database_url", not both');
  if (typeof store !== 'object' || store === null) return bad('"store" must be { "driver": "sqlite", "path": string } or { "driver": "postgres", "url": "postgres://..." }');
  if (store.driver === 'sqlite') {
    if (typeof store.path !== 'string') bad('"store" must be { "driver": "sqlite", "path": string }');
    return Object.freeze({ driver: 'sqlite' as const, path: resolve(store.path as string) });
  }
  if (store.driver !== 'postgres') return bad('"store.driver" must be "sqlite" or "postgres"');
  const url = store.url;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !/^postgres(ql)?:$/.test(parsed.protocol) || parsed.pathname.length < 2) {
    bad('the PostgreSQL store\'s URL must look like "postgres://user@host:5432/database"');
  }
  if (parsed!.password !== '') bad('the PostgreSQL store\'s URL must not hold the password: put it in a file named by "password_file" (first line), or in the PGPASSWORD environment variable');
  const file = store.password_file;
  if (file !== undefined && typeof file !== 'string') bad('"store.password_file" must be a path');
  const max = store.max_connections ?? DEFAULT_PG_CONNECTIONS;
  if (!Number.isInteger(max) || (max as number) < 2 || (max as number) > 1000) bad('"store.max_connections" must be an integer from 2 to 1000');
  const schema = store.schema;
  if (schema !== undefined && (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))) bad('"store.schema" must be a lower-case SQL name such as "hotline"');
  return Object.freeze({
    driver: 'postgres' as const, url: url as string, passwordFile: file === undefined ? null : resolve(file), maxConnections: max as number,
    ...(schema === undefined ? {} : { schema: schema as string }),
  });
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Merges optional numeric overrides onto defaults, refusing unknown keys and non-positive numbers. */
function overrides<T extends object>(section: string, defaults: Readonly<T>, given: unknown): T {
  if (given === undefined) return { ...defaults };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return fail('config_invalid', `"${section}" must be an object`);
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in defaults)) fail('config_invalid', `"${section}.${k}" is not a setting; known: ${Object.keys(defaults).join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail('config_invalid', `"${section}.${k}" must be a positive number`);
    out[k] = v;
  }
  return out as T;
}

/** `http` in hotline.json: what a slow or noisy client may cost the node. Times in ms. */
export interface HttpConfig {
  /** The whole request, body included, must arrive within this; a trickled body is cut (408). */
  requestTimeoutMs: number;
  /** The request's headers must arrive within this (at most `requestTimeoutMs`). */
  headersTimeoutMs: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections in all, and from one source address (more are closed at once). */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Requests per minute from one source address: to the federation endpoint, and to everything else. Over it: 429 `rate_limited` with Retry-After. */
  federationPerMinute: number;
  apiPerMinute: number;
  /**
   * Whether loopback clients (127.0.0.0/8, ::1) count against the per-address limits; off by
   * default: they are this host (the operator, the tests). Turn it on behind a local reverse proxy.
   */
  limitLoopback: boolean;
}

export const DEFAULT_HTTP: Readonly<HttpConfig> = {
  requestTimeoutMs: 120_000, headersTimeoutMs: 20_000, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000,
  maxConnections: 1024, maxConnectionsPerAddress: 64, federationPerMinute: 600, apiPerMinute: 1200, limitLoopback: false,
};

function parseHttpConfig(given: unknown): Readonly<HttpConfig> {
  const { limitLoopback, ...numbers } = DEFAULT_HTTP;
  let loopback = limitLoopback;
  let rest = given;
  if (typeof given === 'object' && given !== null && !Array.isArray(given) && 'limitLoopback' in given) {
    const { limitLoopback: l, ...others } = given as Record<string, unknown>;
    if (typeof l !== 'boolean') fail('config_invalid', '"http.limitLoopback" must be true or false');
    loopback = l;
    rest = others;
  }
  const out = { ...overrides('http', numbers, rest), limitLoopback: loopback };
  if (out.headersTimeoutMs > out.requestTimeoutMs) fail('config_invalid', '"http.headersTimeoutMs" must not be more than "http.requestTimeoutMs"');
  return Object.freeze(out);
}

/** `console` in hotline.json: minutes and hours in the file, milliseconds in the Config. */
function parseConsoleConfig(given: unknown): Readonly<ConsoleOptions> {
  if (given === undefined) return DEFAULT_CONSOLE;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return fail('config_invalid', '"console" must be an object');
  const { require_totp: requireTotp, ...rest } = given as Record<string, unknown>;
  if (requireTotp !== undefined && typeof requireTotp !== 'boolean') fail('config_invalid', '"console.require_totp" must be true or false');
  const d = DEFAULT_CONSOLE;
  const n = overrides('console', {
    idle_timeout_minutes: d.idleMs / 60_000, absolute_timeout_hours: d.absoluteMs / 3600_000, signin_max_failures: d.maxFailures,
    signin_max_failures_per_address: d.maxFailuresPerAddress, signin_lock_minutes: d.lockMs / 60_000,
  }, rest);
  return Object.freeze({
    idleMs: n.idle_timeout_minutes * 60_000, absoluteMs: n.absolute_timeout_hours * 3600_000, requireTotp: requireTotp ?? d.requireTotp,
    maxFailures: Math.ceil(n.signin_max_failures), maxFailuresPerAddress: Math.ceil(n.signin_max_failures_per_address), lockMs: n.signin_lock_minutes * 60_000,
  });
}
