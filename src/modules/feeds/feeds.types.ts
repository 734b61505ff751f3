/**
 * Botnet feeds: the records the parse and normalise stages produce (design.md section 7).
 * Every record has every member (absent values are `null`, never `undefined`): one object shape
 * for the whole pipeline, which keeps V8's property access monomorphic at millions of records.
 */

/** What a record says about its IP. */
export const FEED_TYPES = ['infected-host', 'c2-server', 'other'] as const;

export type FeedType = (typeof FEED_TYPES)[number];

/**
 * One normalised row of a feed. Its strings may be views into the text of the batch they came
 * from (V8 slices): a stage that keeps one long after the batch (an index, a cache) should keep a
 * copy (`detached()` in feeds.rules.ts) or a key it builds itself, or it keeps that text alive.
 */
export interface FeedRecord {
  /** Physical line (1-based) where the row starts in the input; for a STIX bundle, the line of the object's `{`. */
  line: number;
  /** The address, canonical: dotted IPv4, or RFC 5952 IPv6 (lower case, `::` compressed); an IPv4-mapped IPv6 address becomes IPv4. */
  ip: string;
  port: number | null;
  /** Milliseconds since the epoch, UTC. */
  timestamp: number;
  type: FeedType;
  /** Malware family, normalised (lower case, aliases applied, e.g. `mirai`). */
  family: string | null;
  /** The feed's name, as given to the parser. */
  source: string;
  asn: number | null;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string | null;
  /** For an infected host: the C2 (or sinkhole) address it talked to, canonical like `ip`. */
  c2_ip: string | null;
  c2_port: number | null;
  /** Lower case, e.g. `tcp`, `http`. */
  protocol: string | null;
  /** Lower case. */
  hostname: string | null;
}

/** The record fields a column can feed, in a fixed order (indexes into a normaliser's value array). */
export const FEED_FIELDS = [
  'ip', 'port', 'timestamp', 'type', 'family', 'asn', 'country', 'c2_ip', 'c2_port', 'protocol', 'hostname',
] as const;

export type FeedField = (typeof FEED_FIELDS)[number];

/** A row that could not be made a record: counted and reported, and the run goes on. */
export interface FeedReject {
  line: number;
  /** What was wrong, naming the column as the file spells it, e.g. `'src_ip' is not an IP address: '999.1.1.1'`. */
  reason: string;
  /** The record field at fault, or `null` for the row as a whole (column count, quoting, not JSON). */
  field: FeedField | null;
}

/** What the parser yields: the records and rejects of a stretch of the input, and how much input that was. */
export interface ParsedBatch {
  records: FeedRecord[];
  rejects: FeedReject[];
  /** Input bytes consumed since the previous batch (for progress). */
  bytes: number;
  /** Physical lines consumed since the previous batch, headers, comments and blank lines included. */
  lines: number;
}

/** The input formats `parseFeed` reads. */
export const FEED_FORMATS = ['csv', 'jsonl', 'stix', 'auto'] as const;

export type FeedFormat = (typeof FEED_FORMATS)[number];

/** `line N: reason`, the way a person reads a reject. */
export function formatReject(r: FeedReject): string {
  return `line ${r.line}: ${r.reason}`;
}
