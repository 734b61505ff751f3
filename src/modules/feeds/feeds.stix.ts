/**
 * Convert (design.md section 7): routed feed records → STIX 2.1 bundles, one `BundleBuilder` per
 * destination. The JSON is written as bytes: each object is a byte template of the builder (its
 * markings, creator and family refs in it) with fixed-width holes for ids and timestamps, then its
 * variable end; so the size of a bundle is known, exactly, before it is written.
 *
 * A bundle is self-contained: the producer `identity`, the TLP 2.0 marking definition(s), and per
 * malware family a `malware` (is_family, bot), an `infrastructure` (botnet) and infrastructure
 * `uses` malware; per address an `ipv4-addr`/`ipv6-addr`; per entry (records with the same ip,
 * port, type and family, aggregated):
 * - c2-server: an `indicator` (on the address, or on network traffic to address and port), and
 *   with a family indicator `indicates` malware and infrastructure `consists-of` address;
 * - infected-host: an `observed-data` of the address (first/last observed, number observed) and,
 *   with a family, a `sighting` of the malware (count, first/last seen, sighted by the producer);
 * - other, and infected hosts without a family: the `observed-data` alone (a sighting needs
 *   something sighted; a made-up family `unknown` would merge unrelated records at the receiver).
 *
 * All ids are UUIDv5, so the same input makes the same objects and a receiving store recognises a
 * re-sent object: SCOs as STIX 2.1 section 2.9 says; the identity over `identity:<party>`; family
 * objects over `<type>:<party>:<tlp>:<family>`; per-entry objects over a 48-hex-digit prefix
 * (SHA-256 of party, tlp, source, family), kind, type and `ip|port|first_seen`. Per-entry objects
 * have created = first seen and modified = last seen; identity and family objects a fixed time.
 * Everything carries the feed's TLP except the identity, marked TLP:CLEAR: it is one object in
 * bundles of every TLP (a marking that varied under one id and `modified` would be a conflicting
 * version at the receiver), which is also why the TLP is in the names of family object ids.
 */
import { randomUUID } from 'node:crypto';
import { fail } from '../../shared/errors.js';
import { TLPS, type Tlp } from '../federation/federation.types.js';
import { TLP_MARKINGS, tlpMarkingRef } from '../stix/stix.tlp.js';
import { detached } from './feeds.rules.js';
import {
  digestPrefix, digits, HOTLINE_STIX_NAMESPACE, hotlineId, jsonText, layout, MAX_TIME, MIN_TIME, producerId, UuidV5, writeAddressUuid,
  writeInt, writeTime, type Layout,
} from './feeds.stixids.js';
import type { FeedRecord, FeedType } from './feeds.types.js';

/** This node, the producer of the bundles: its `identity` is the `created_by_ref` of everything. */
export interface Producer {
  party: string;
  name: string;
}

export interface BundleOptions {
  producer: Producer;
  tlp: Tlp;
  /** The feed's name, e.g. `shadowserver-infected` (in descriptions and ids; records' own `source` is not read). */
  source: string;
  /** The largest bundle JSON (UTF-8 bytes) `add` lets the builder reach, e.g. `bundleBudget(maxEnvelopeBytes)`. */
  maxBytes: number;
}

/**
 * A built bundle. `bytes` is the builder's own buffer, valid until its next `build()`: hash,
 * encode or write it before then, or copy it (a fresh buffer per bundle costs more than the rest
 * of the conversion). `text` is decoded from it on first use, which must also come before.
 */
export interface BuiltBundle {
  readonly bytes: Buffer;
  readonly text: string;
  readonly objects: number;
  readonly records: number;
}

/** created and modified of the objects that are the same in every bundle (identity, family objects). */
export const FIXED_TIME = '2025-01-01T00:00:00.000Z';

export { producerId } from './feeds.stixids.js';

/** STIX caps number_observed and count at 999,999,999. */
const MAX_COUNT = 999_999_999;
/** Hole widths: a UUID, a timestamp, an address id (`ipv4-addr--<uuid>`, as long as `ipv6-addr--<uuid>`). */
const ID = 36;
const TIME = 24;
const ADDRESS = 47;
/** From a created hole through the modified hole after it: `<time>","modified":"<time>`. */
const TIMES = 62;
// the byte after the id prefix: which per-entry object an id is for
const K_INDICATOR = 73; // I
const K_INDICATES = 78; // N
const K_CONSISTS = 67; // C
const K_OBSERVED = 79; // O
const K_SIGHTING = 83; // S
const TYPE_CHAR: Readonly<Record<FeedType, string>> = { 'c2-server': 'c', 'infected-host': 'i', 'other': 'o' };
const COMMA = 44;
/** What a canonical address (dotted IPv4, RFC 5952 IPv6) is made of: nothing to escape in JSON or a pattern. */
const IP_TEXT = /^[0-9a-f.:]{2,45}$/;

/** One malware family (or none) as this builder writes it; kept across bundles. */
class Family {
  /** The generation (bundle) that last included its objects. */
  mark = -1;

  constructor(
    readonly name: string | null,
    /** The name escaped for JSON ('' for no family). */
    readonly json: string,
    /** Its malware, infrastructure and uses objects, comma-joined (empty for no family). */
    readonly objects: Buffer,
    readonly ascii: boolean,
    readonly indicates: Layout,
    readonly consists: Layout,
    readonly sighting: Layout,
    /** Generator of the ids of the per-entry objects of this family. */
    readonly ids: UuidV5,
  ) {}
}

/** One aggregated entry: the records with the same ip, port, type and family. */
class Entry {
  next: Entry | null = null;
  size = 0;

  constructor(
    readonly port: number | null,
    readonly type: FeedType,
    readonly fam: Family,
    public first: number,
    public last: number,
    public count: number,
    /** The end of its indicator (name, description, pattern) or sighting (description), JSON. */
    readonly tail: string,
    readonly tailBytes: number,
  ) {}
}

/** One address and its entries. */
class Slot {
  head: Entry | null = null;
  tail: Entry | null = null;

  constructor(readonly ip: string, readonly v6: boolean) {}
}

/** Collects the records for one destination and writes them as STIX bundles (see the module comment). */
export class BundleBuilder {
  private readonly tlp: Tlp;
  private readonly party: string;
  private readonly src: string;
  private readonly maxBytes: number;
  private readonly identity: string;
  /** `"created_by_ref":"identity--…","object_marking_refs":["…"]`. */
  private readonly common: string;
  private readonly mk: string;
  private readonly head: Buffer;
  private readonly headAscii: boolean;
  private readonly headObjects: number;
  private readonly base: number;
  private readonly sco4: Layout;
  private readonly sco6: Layout;
  private readonly indicator: Layout;
  private readonly observed: Layout;

  private readonly familyCache = new Map<string, Family>();
  private readonly none: Family;
  private lastFamily: Family;
  private byIp = new Map<string, Slot>();
  private out: Buffer = Buffer.alloc(0);
  private fams: Family[] = [];
  private gen = 0;
  private size = 0;
  private ascii = true;
  private objectCount = 0;
  private entryCount = 0;
  private recordCount = 0;

  constructor(opts: BundleOptions) {
    this.tlp = opts.tlp;
    this.party = opts.producer.party;
    this.src = jsonText(opts.source);
    this.maxBytes = opts.maxBytes;
    this.identity = producerId(this.party);
    this.mk = `"object_marking_refs":["${tlpMarkingRef(this.tlp)}"]`;
    this.common = `"created_by_ref":"${this.identity}",${this.mk}`;
    const markings = TLP_MARKINGS.filter((_, i) => i === 0 || TLPS[i] === this.tlp);
    const head = [
      `{"type":"identity","spec_version":"2.1","id":"${this.identity}","created":"${FIXED_TIME}","modified":"${FIXED_TIME}","name":${JSON.stringify(opts.producer.name)},"identity_class":"organization","object_marking_refs":["${tlpMarkingRef('clear')}"]}`,
      ...markings.map((m) => JSON.stringify(m)),
    ].join(',');
    this.head = Buffer.from(head, 'utf8');
    this.headAscii = this.head.length === head.length;
    this.headObjects = 1 + markings.length;
    this.base = this.head.length + `{"type":"bundle","id":"bundle--${'0'.repeat(ID)}","objects":[]}`.length;
    const sco = (t: string): Layout => layout(`{"type":"${t}","spec_version":"2.1",${this.mk},"id":"${t}--`, ID, '","value":"');
    this.sco4 = sco('ipv4-addr');
    this.sco6 = sco('ipv6-addr');
    this.indicator = layout(
      `{"type":"indicator","spec_version":"2.1",${this.common},"indicator_types":["malicious-activity"],"pattern_type":"stix","pattern_version":"2.1","id":"indicator--`,
      ID, '","created":"', TIME, '","modified":"', TIME, '","valid_from":"', TIME, '","name":"',
    );
    this.observed = layout(
      `{"type":"observed-data","spec_version":"2.1",${this.common},"id":"observed-data--`, ID, '","created":"', TIME, '","modified":"', TIME,
      '","first_observed":"', TIME, '","last_observed":"', TIME, '","object_refs":["', ADDRESS, '"],"number_observed":',
    );
    this.none = this.makeFamily(null);
    this.lastFamily = this.none;
    this.size = this.base;
    this.objectCount = this.headObjects;
  }

  /** UTF-8 bytes of the bundle's JSON if it were built now (exact). */
  get bytes(): number {
    return this.size;
  }

  /** Distinct aggregated entries since the last build. */
  get entries(): number {
    return this.entryCount;
  }

  /** Records added since the last build. */
  get records(): number {
    return this.recordCount;
  }

  /** Distinct IP addresses since the last build. */
  ipCount(): number {
    return this.byIp.size;
  }

  /** The malware families in the bundle so far. */
  families(): string[] {
    const out: string[] = [];
    for (const f of this.fams) if (f.name !== null) out.push(f.name);
    return out;
  }

  isEmpty(): boolean {
    return this.recordCount === 0;
  }

  /**
   * Adds one record (routed and enriched), aggregating it into the entry with the same ip, port,
   * type and family (count, first and last seen). Returns false, adding nothing, when the bundle
   * would then exceed `maxBytes`: build it and add the record again. An empty builder takes any
   * record.
   */
  add(r: FeedRecord): boolean {
    const t = r.timestamp;
    if (!(t >= MIN_TIME && t <= MAX_TIME && t === Math.floor(t))) fail('invalid_argument', `line ${r.line}: the timestamp ${t} cannot be a STIX timestamp`);
    const fam = r.family === this.lastFamily.name ? this.lastFamily : this.family(r.family);
    this.lastFamily = fam;
    let slot = this.byIp.get(r.ip);
    if (slot !== undefined) {
      for (let e = slot.head; e !== null; e = e.next) {
        if (e.port !== r.port || e.type !== r.type || e.fam !== fam) continue;
        const size = this.entrySize(e, e.count + 1);
        if (size > e.size && this.size + size - e.size > this.maxBytes) return false;
        e.count++;
        if (t < e.first) e.first = t;
        else if (t > e.last) e.last = t;
        this.size += size - e.size;
        e.size = size;
        this.recordCount++;
        return true;
      }
    }
    if (slot === undefined && !IP_TEXT.test(r.ip)) fail('invalid_argument', `line ${r.line}: '${r.ip}' is not a canonical IP address`);
    const ip = slot === undefined ? detached(r.ip) : slot.ip;
    const e = this.entry(r, ip, fam);
    e.size = this.entrySize(e, 1);
    const addSlot = slot === undefined ? 3 + this.sco4.bytes.length + ip.length : 0;
    const addFamily = fam.mark === this.gen || fam.name === null ? 0 : 1 + fam.objects.length;
    if (this.recordCount > 0 && this.size + addSlot + addFamily + e.size > this.maxBytes) return false;
    if (slot === undefined) {
      slot = new Slot(ip, ip.includes(':'));
      this.byIp.set(ip, slot);
      this.objectCount++;
    }
    if (fam.mark !== this.gen) {
      fam.mark = this.gen;
      this.fams.push(fam);
      if (fam.name !== null) this.objectCount += 3;
      if (!fam.ascii) this.ascii = false;
    }
    if (slot.tail === null) slot.head = e;
    else slot.tail.next = e;
    slot.tail = e;
    const named = fam.name !== null;
    this.objectCount += e.type === 'c2-server' ? (named ? 3 : 1) : e.type === 'infected-host' && named ? 2 : 1;
    if (e.tailBytes !== e.tail.length) this.ascii = false;
    this.size += addSlot + addFamily + e.size;
    this.entryCount++;
    this.recordCount++;
    return true;
  }

  /**
   * Removes, before a build, the entries `pick` chooses by their key (ip, port, type, family):
   * records another run reported meanwhile (feeds.run.ts). Returns how many records went with them.
   */
  drop(pick: (ip: string, port: number | null, type: FeedType, family: string | null) => boolean): number {
    let dropped = 0;
    for (const [ip, slot] of this.byIp) {
      let prev: Entry | null = null;
      for (let e = slot.head; e !== null; e = e.next) {
        if (!pick(ip, e.port, e.type, e.fam.name)) {
          prev = e;
          continue;
        }
        dropped += e.count;
        if (prev === null) slot.head = e.next;
        else prev.next = e.next;
        if (slot.tail === e) slot.tail = prev;
      }
      if (slot.head === null) this.byIp.delete(ip);
    }
    if (dropped > 0) this.recount();
    return dropped;
  }

  /** Sizes and counts again from the entries left (after `drop`). */
  private recount(): void {
    const used = new Set<Family>();
    let size = this.base;
    let objects = this.headObjects;
    let entries = 0;
    let records = 0;
    let ascii = true;
    for (const slot of this.byIp.values()) {
      size += 3 + this.sco4.bytes.length + slot.ip.length;
      objects++;
      for (let e = slot.head; e !== null; e = e.next) {
        used.add(e.fam);
        const named = e.fam.name !== null;
        objects += e.type === 'c2-server' ? (named ? 3 : 1) : e.type === 'infected-host' && named ? 2 : 1;
        size += e.size;
        if (e.tailBytes !== e.tail.length) ascii = false;
        entries++;
        records += e.count;
      }
    }
    for (const f of this.fams) if (!used.has(f)) f.mark = -1;
    this.fams = this.fams.filter((f) => used.has(f));
    for (const f of this.fams) {
      if (f.name === null) continue;
      size += 1 + f.objects.length;
      objects += 3;
      if (!f.ascii) ascii = false;
    }
    this.size = size;
    this.objectCount = objects;
    this.entryCount = entries;
    this.recordCount = records;
    this.ascii = ascii;
  }

  /** The bundle and its counts; the builder starts over (an empty one holds the identity and markings only). */
  build(): BuiltBundle {
    const size = this.size;
    if (this.out.length < size) this.out = Buffer.allocUnsafe(Math.max(size, Math.min(this.maxBytes, 64 * 1024 * 1024)));
    const out = this.out.subarray(0, size);
    let p = out.write(`{"type":"bundle","id":"bundle--${randomUUID()}","objects":[`, 0, 'latin1');
    out.set(this.head, p);
    p += this.head.length;
    for (const f of this.fams) {
      if (f.name === null) continue;
      out[p++] = COMMA;
      out.set(f.objects, p);
      p += f.objects.length;
    }
    for (const slot of this.byIp.values()) {
      const L = slot.v6 ? this.sco6 : this.sco4;
      out[p++] = COMMA;
      out.set(L.bytes, p);
      const id = p + L.at[0]!;
      writeAddressUuid(slot.ip, out, id);
      p += L.bytes.length;
      p += out.write(slot.ip, p, 'latin1');
      out[p++] = 34; // "
      out[p++] = 125; // }
      for (let e = slot.head; e !== null; e = e.next) p = this.write(e, slot.ip, id - 11, out, p);
    }
    out[p++] = 93; // ]
    out[p++] = 125;
    if (p !== size) throw new Error(`BundleBuilder wrote ${p} bytes where it counted ${size}`);
    const ascii = this.ascii && this.headAscii;
    const gen = this.gen;
    const reused = (): boolean => this.gen !== gen + 1;
    let text: string | undefined;
    const built: BuiltBundle = {
      bytes: out,
      get text(): string {
        if (text === undefined && reused()) throw new Error('BuiltBundle.text read after the next build() reused its buffer');
        text ??= out.toString(ascii ? 'latin1' : 'utf8');
        return text;
      },
      objects: this.objectCount,
      records: this.recordCount,
    };
    this.byIp = new Map();
    this.fams = [];
    this.gen++;
    this.size = this.base;
    this.ascii = true;
    this.objectCount = this.headObjects;
    this.entryCount = 0;
    this.recordCount = 0;
    if (this.familyCache.size > 4096) this.familyCache.clear();
    return built;
  }

  // ---- families and entries ----

  private family(name: string | null): Family {
    if (name === null) return this.none;
    let f = this.familyCache.get(name);
    if (f === undefined) {
      const own = detached(name);
      f = this.makeFamily(own);
      this.familyCache.set(own, f);
    }
    return f;
  }

  private makeFamily(name: string | null): Family {
    const ids = new UuidV5(HOTLINE_STIX_NAMESPACE, digestPrefix([this.party, this.tlp, this.src, name === null ? '' : `f:${name}`], 48));
    const json = name === null ? '' : jsonText(name);
    const key = `${this.party}:${this.tlp}:${name ?? ''}`;
    const malware = hotlineId('malware', `malware:${key}`);
    const infrastructure = hotlineId('infrastructure', `infrastructure:${key}`);
    const F = FIXED_TIME;
    const at = `"created":"${F}","modified":"${F}",${this.common}`;
    const objects = name === null ? '' : [
      `{"type":"malware","spec_version":"2.1","id":"${malware}",${at},"name":"${json}","is_family":true,"malware_types":["bot"]}`,
      `{"type":"infrastructure","spec_version":"2.1","id":"${infrastructure}",${at},"name":"${json} botnet","infrastructure_types":["botnet"]}`,
      `{"type":"relationship","spec_version":"2.1","id":"${hotlineId('relationship', `relationship:${key}:uses`)}",${at},"relationship_type":"uses","source_ref":"${infrastructure}","target_ref":"${malware}"}`,
    ].join(',');
    const times = ['","created":"', TIME, '","modified":"', TIME] as const;
    return new Family(
      name, json, Buffer.from(objects, 'utf8'), Buffer.byteLength(objects) === objects.length,
      layout(`{"type":"relationship","spec_version":"2.1",${this.common},"relationship_type":"indicates","target_ref":"${malware}","id":"relationship--`, ID, ...times, '","source_ref":"indicator--', ID, '"}'),
      layout(`{"type":"relationship","spec_version":"2.1",${this.common},"relationship_type":"consists-of","source_ref":"${infrastructure}","id":"relationship--`, ID, ...times, '","target_ref":"', ADDRESS, '"}'),
      layout(
        `{"type":"sighting","spec_version":"2.1",${this.common},"sighting_of_ref":"${malware}","where_sighted_refs":["${this.identity}"],"id":"sighting--`, ID, ...times,
        '","observed_data_refs":["observed-data--', ID, '"],"first_seen":"', TIME, '","last_seen":"', TIME, '","count":',
      ),
      ids,
    );
  }

  /** A new entry of one record, with the end of its indicator or sighting (the text that never changes). */
  private entry(r: FeedRecord, ip: string, fam: Family): Entry {
    const port = r.port;
    let tail = '';
    if (r.type === 'c2-server') {
      const type = ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
      const family = fam.name === null ? '' : `${fam.json} `;
      const pattern = port === null
        ? `[${type}:value = '${ip}']`
        : `[network-traffic:dst_ref.type = '${type}' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = ${port}]`;
      tail = `${family}C2 ${ip}${port === null ? '' : ` port ${port}`}","description":"${family}C2 server ${ip}${this.where(r)}${this.more(r)}","pattern":"${pattern}"}`;
    } else if (r.type === 'infected-host' && fam.name !== null) {
      const c2 = r.c2_ip === null ? '' : `, C2 ${jsonText(r.c2_ip)}${r.c2_port === null ? '' : ` port ${r.c2_port}`}`;
      tail = `,"description":"Host ${ip}${this.where(r)} infected with ${fam.json}${c2}${this.more(r)}"}`;
    }
    if (tail !== '') tail = detached(tail);
    return new Entry(port, r.type, fam, r.timestamp, r.timestamp, 1, tail, tail === '' ? 0 : Buffer.byteLength(tail));
  }

  /** ` port P (ASN, CC)`, as far as known. */
  private where(r: FeedRecord): string {
    const cc = r.country === null ? '' : jsonText(r.country);
    return (r.port === null ? '' : ` port ${r.port}`)
      + (r.asn === null ? (cc === '' ? '' : ` (${cc})`) : ` (AS${r.asn}${cc === '' ? '' : `, ${cc}`})`);
  }

  /** `, protocol …, hostname …; reported by <source>`. */
  private more(r: FeedRecord): string {
    return (r.protocol === null ? '' : `, protocol ${jsonText(r.protocol)}`)
      + (r.hostname === null ? '' : `, hostname ${jsonText(r.hostname)}`) + `; reported by ${this.src}`;
  }

  /** UTF-8 bytes of an entry's objects (each with its comma) at `count`. */
  private entrySize(e: Entry, count: number): number {
    const f = e.fam;
    if (e.type === 'c2-server') {
      return 1 + this.indicator.bytes.length + e.tailBytes + (f.name === null ? 0 : 2 + f.indicates.bytes.length + f.consists.bytes.length);
    }
    const d = digits(Math.min(count, MAX_COUNT));
    const observed = 2 + this.observed.bytes.length + d;
    return e.type === 'infected-host' && f.name !== null ? observed + 1 + f.sighting.bytes.length + d + e.tailBytes : observed;
  }

  /** Writes an entry's objects (each after a comma) at `p`; `address` is where its address id is in `out`. */
  private write(e: Entry, ip: string, address: number, out: Buffer, p: number): number {
    const f = e.fam;
    const ids = f.ids;
    ids.begin();
    ids.str(TYPE_CHAR[e.type]);
    ids.str(ip);
    ids.str('|');
    if (e.port === null) ids.str('-');
    else ids.num(e.port);
    ids.str('|');
    if (e.first >= 0) ids.num(e.first);
    else ids.str(String(e.first));
    const c2 = e.type === 'c2-server';
    const L = c2 ? this.indicator : this.observed;
    const a = L.at;
    out[p++] = COMMA;
    out.set(L.bytes, p);
    const id = p + a[0]!;
    const created = p + a[1]!;
    const modified = p + a[2]!;
    ids.write(c2 ? K_INDICATOR : K_OBSERVED, out, id);
    writeTime(e.first, out, created);
    writeTime(e.last, out, modified);
    out.copyWithin(p + a[3]!, created, created + TIME); // valid_from, first_observed
    if (c2) {
      p += L.bytes.length;
      p += out.write(e.tail, p, e.tailBytes === e.tail.length ? 'latin1' : 'utf8');
      if (f.name === null) return p;
      p = related(f.indicates, ids, K_INDICATES, out, p, created, id, ID);
      return related(f.consists, ids, K_CONSISTS, out, p, created, address, ADDRESS);
    }
    out.copyWithin(p + a[4]!, modified, modified + TIME);
    out.copyWithin(p + a[5]!, address, address + ADDRESS);
    const count = Math.min(e.count, MAX_COUNT);
    p = writeInt(count, out, p + L.bytes.length);
    out[p++] = 125; // }
    if (e.type !== 'infected-host' || f.name === null) return p;
    const S = f.sighting;
    const s = p + 1;
    p = related(S, ids, K_SIGHTING, out, p, created, id, ID);
    out.copyWithin(s + S.at[4]!, created, created + TIME);
    out.copyWithin(s + S.at[5]!, modified, modified + TIME);
    p = writeInt(count, out, p);
    return p + out.write(e.tail, p, e.tailBytes === e.tail.length ? 'latin1' : 'utf8');
  }
}

/**
 * Writes a comma and the template `L` at `p`: its id (`kind`), created and modified (copied from
 * the pair at `times`), and the `n` bytes at `ref` into its fourth hole. Returns the end.
 */
function related(L: Layout, ids: UuidV5, kind: number, out: Buffer, p: number, times: number, ref: number, n: number): number {
  out[p++] = COMMA;
  out.set(L.bytes, p);
  ids.write(kind, out, p + L.at[0]!);
  out.copyWithin(p + L.at[1]!, times, times + TIMES);
  out.copyWithin(p + L.at[3]!, ref, ref + n);
  return p + L.bytes.length;
}
