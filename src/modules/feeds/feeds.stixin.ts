import { fail } from '../../shared/errors.js';
import { canonicalIp, parseTimestamp, timestampMask } from './feeds.normalise.js';
import type { FamilyNormaliser } from './feeds.rules.js';
import type { FeedRecord, FeedReject } from './feeds.types.js';

/**
 * Reading STIX 2.1 bundles as feeds, streaming: `BundleSplitter` cuts the text of a bundle into the
 * elements of its `objects` array as they arrive (each then `JSON.parse`d on its own), so a bundle
 * of any size is read in the memory of its largest object; `stixRecord` turns an object into a
 * record. Objects that are not IP observables or IP indicators are skipped.
 */

/** The largest object of a bundle that is read (characters). */
export const MAX_STIX_OBJECT = 16 * 1024 * 1024;

/** One element of a bundle's `objects`: its JSON text and the line of its first character. */
export interface BundleElement {
  text: string;
  line: number;
}

const S_START = 0;
const S_KEY = 1;
const S_KEYSTR = 2;
const S_COLON = 3;
const S_VALUE = 4;
const S_COMMA = 5;
const S_ARRAY = 6;
const S_ELEMENT = 7;
const S_ARRAY_SEP = 8;
const S_DONE = 9;

function bad(line: number, problem: string): never {
  return fail('feed_format', `line ${line}: not a STIX bundle: ${problem}`, { line });
}

/** An incremental splitter of one bundle's text; `push` text in order, then `end`. */
export class BundleSplitter {
  private buf = '';
  private i = 0;
  private line = 1;
  private st = S_START;
  private key = '';
  private vStart = -1;
  private vLine = 0;
  private vDepth = 0;
  private vStr = false;
  private vLiteral = false;

  /** Scans `text`, appending finished elements of `objects` to `out`. */
  push(text: string, out: BundleElement[]): void {
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    const buf = this.buf;
    const n = buf.length;
    while (this.i < n) {
      if (this.vStart >= 0) {
        if (!this.scanValue()) break;
        this.finishValue(out);
        continue;
      }
      const c = buf.charCodeAt(this.i);
      if (c === 10) this.line++;
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        this.i++;
        continue;
      }
      const ch = buf[this.i];
      switch (this.st) {
        case S_START:
          if (ch !== '{') bad(this.line, `it starts with ${JSON.stringify(ch)}, not '{'`);
          this.st = S_KEY;
          this.i++;
          break;
        case S_KEY:
          if (ch === '}') {
            this.st = S_DONE;
            this.i++;
          } else if (ch === '"') {
            this.st = S_KEYSTR;
            this.begin(c);
          } else bad(this.line, `expected a member name, found ${JSON.stringify(ch)}`);
          break;
        case S_COLON:
          if (ch !== ':') bad(this.line, `expected ':' after "${this.key}"`);
          this.st = S_VALUE;
          this.i++;
          break;
        case S_VALUE:
          if (this.key === 'objects') {
            if (ch !== '[') bad(this.line, '"objects" is not a list');
            this.st = S_ARRAY;
            this.i++;
          } else this.begin(c);
          break;
        case S_COMMA:
        case S_ARRAY_SEP:
          if (ch === ',') this.st = this.st === S_COMMA ? S_KEY : S_ARRAY;
          else if (ch === (this.st === S_COMMA ? '}' : ']')) this.st = this.st === S_COMMA ? S_DONE : S_COMMA;
          else bad(this.line, `expected ',' or '${this.st === S_COMMA ? '}' : ']'}', found ${JSON.stringify(ch)}`);
          this.i++;
          break;
        case S_ARRAY:
          if (ch === ']') {
            this.st = S_COMMA;
            this.i++;
          } else {
            this.st = S_ELEMENT;
            this.begin(c);
          }
          break;
        default:
          bad(this.line, `text after the end of the bundle: ${JSON.stringify(ch)}`);
      }
    }
    const keep = this.vStart >= 0 ? this.vStart : this.i;
    if (this.vStart >= 0 && this.i - this.vStart > MAX_STIX_OBJECT) bad(this.vLine, `an object longer than ${MAX_STIX_OBJECT} characters`);
    this.buf = this.buf.slice(keep);
    this.i -= keep;
    if (this.vStart >= 0) this.vStart = 0;
  }

  /** At the end of the input: null when the bundle is complete, else the line of the unfinished object (or of the end). */
  end(out: BundleElement[]): number | null {
    if (this.vStart >= 0 && this.vLiteral) {
      this.finishValue(out);
    }
    if (this.st === S_DONE) return null;
    return this.vStart >= 0 ? this.vLine : this.line;
  }

  private begin(c: number): void {
    this.vStart = this.i;
    this.vLine = this.line;
    this.vDepth = 0;
    this.vStr = false;
    this.vLiteral = c !== 123 && c !== 91 && c !== 34;
  }

  /** Advances through the current value; true when it is complete. */
  private scanValue(): boolean {
    const buf = this.buf;
    const n = buf.length;
    let i = this.i;
    if (this.vLiteral) {
      while (i < n) {
        const c = buf.charCodeAt(i);
        if (c === 44 || c === 125 || c === 93 || c === 32 || c === 10 || c === 13 || c === 9) break;
        i++;
      }
      this.i = i;
      return i < n;
    }
    let depth = this.vDepth;
    let str = this.vStr;
    let done = false;
    while (i < n) {
      if (str) {
        // Skip to the next quote; it closes the string unless an odd run of backslashes precedes it.
        const q = buf.indexOf('"', i);
        if (q < 0) {
          i = n;
          break;
        }
        let k = q - 1;
        while (buf.charCodeAt(k) === 92) k--;
        i = q + 1;
        if ((q - 1 - k) % 2 === 1) continue;
        str = false;
        if (depth === 0) {
          done = true;
          break;
        }
        continue;
      }
      const c = buf.charCodeAt(i++);
      if (c === 34) str = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) {
          done = true;
          break;
        }
      } else if (c === 10) this.line++;
    }
    this.i = i;
    this.vDepth = depth;
    this.vStr = str;
    return done;
  }

  private finishValue(out: BundleElement[]): void {
    const text = this.buf.slice(this.vStart, this.i);
    this.vStart = -1;
    if (this.st === S_ELEMENT) {
      out.push({ text, line: this.vLine });
      this.st = S_ARRAY_SEP;
    } else if (this.st === S_KEYSTR) {
      try {
        this.key = JSON.parse(text) as string;
      } catch {
        bad(this.vLine, `a member name is not a JSON string: ${text.slice(0, 60)}`);
      }
      this.st = S_COLON;
    } else {
      if (this.key === 'type') {
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          v = text;
        }
        if (v !== 'bundle') bad(this.vLine, `its type is ${text}, not "bundle"`);
      }
      this.st = S_COMMA;
    }
  }
}

const ISO = timestampMask(['iso8601']);
const IP_PATTERN = /^\[\s*(?:ipv4-addr|ipv6-addr):value\s*=\s*'([^']+)'\s*\]$/;
const TRAFFIC_PATTERN = /^\[\s*network-traffic:dst_ref\.value\s*=\s*'([^']+)'\s+AND\s+network-traffic:dst_port\s*=\s*(\d{1,5})\s*\]$/;

/** Malware names and `indicates` relationships seen so far in a bundle (bounded), for families. */
export class StixContext {
  readonly malware = new Map<string, string>();
  readonly indicates = new Map<string, string>();

  constructor(
    readonly source: string,
    readonly now: number,
    readonly family: FamilyNormaliser,
  ) {}
}

const CONTEXT_LIMIT = 200_000;

function address(v: string): string | null {
  const slash = v.indexOf('/');
  if (slash < 0) return canonicalIp(v);
  const len = v.slice(slash + 1);
  const ip = canonicalIp(v.slice(0, slash));
  if (ip === null) return null;
  return (ip.includes(':') ? len === '128' : len === '32') ? ip : null;
}

/**
 * An object of a bundle as a record: an `ipv4-addr`/`ipv6-addr` observable (type `other`, the
 * parse time), or an `indicator` whose pattern is one IP (optionally with a destination port):
 * a `c2-server`, or an `infected-host` when its indicator_types include `compromised`, at its
 * `valid_from`, with the family of a `malware` object an earlier `indicates` relationship points
 * to. Other objects give `null` (and `malware` and `relationship` objects are remembered).
 */
export function stixRecord(o: Record<string, unknown>, line: number, ctx: StixContext): FeedRecord | FeedReject | null {
  const rec = (ip: string, port: number | null, timestamp: number, type: FeedRecord['type'], family: string | null): FeedRecord => ({
    line, ip, port, timestamp, type, family, source: ctx.source, asn: null, country: null, c2_ip: null, c2_port: null, protocol: null, hostname: null,
  });
  switch (o.type) {
    case 'ipv4-addr':
    case 'ipv6-addr': {
      const ip = typeof o.value === 'string' ? address(o.value) : null;
      if (ip === null) return { line, reason: `${o.type} value is not an IP address: ${JSON.stringify(o.value)}`, field: 'ip' };
      return rec(ip, null, ctx.now, 'other', null);
    }
    case 'indicator': {
      if (o.pattern_type !== undefined && o.pattern_type !== 'stix') return { line, reason: `indicator pattern_type is ${JSON.stringify(o.pattern_type)}, not "stix"`, field: null };
      const pattern = typeof o.pattern === 'string' ? o.pattern.trim() : '';
      const m = IP_PATTERN.exec(pattern) ?? TRAFFIC_PATTERN.exec(pattern);
      if (m === null) return { line, reason: `indicator pattern is not one IP address: ${JSON.stringify(pattern.slice(0, 120))}`, field: 'ip' };
      const ip = address(m[1] ?? '');
      if (ip === null) return { line, reason: `indicator pattern holds no IP address: ${JSON.stringify(m[1])}`, field: 'ip' };
      const port = m[2] === undefined ? null : Number(m[2]);
      if (port !== null && port > 65535) return { line, reason: `indicator pattern port is not 0-65535: ${m[2]}`, field: 'port' };
      const ts = typeof o.valid_from === 'string' ? parseTimestamp(o.valid_from, ISO) : NaN;
      if (ts !== ts) return { line, reason: `indicator valid_from is not a timestamp: ${JSON.stringify(o.valid_from)}`, field: 'timestamp' };
      const types = Array.isArray(o.indicator_types) ? o.indicator_types : [];
      const malware = typeof o.id === 'string' ? ctx.indicates.get(o.id) : undefined;
      const name = malware === undefined ? undefined : ctx.malware.get(malware);
      return rec(ip, port, ts, types.includes('compromised') ? 'infected-host' : 'c2-server', name === undefined ? null : ctx.family.normalise(name));
    }
    case 'malware':
      if (typeof o.id === 'string' && typeof o.name === 'string' && ctx.malware.size < CONTEXT_LIMIT) ctx.malware.set(o.id, o.name);
      return null;
    case 'relationship':
      if (o.relationship_type === 'indicates' && typeof o.source_ref === 'string' && typeof o.target_ref === 'string' && o.target_ref.startsWith('malware--') && ctx.indicates.size < CONTEXT_LIMIT) {
        ctx.indicates.set(o.source_ref, o.target_ref);
      }
      return null;
    default:
      return null;
  }
}
