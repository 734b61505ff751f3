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
  digits, jsonText, layout, MAX_TIME, MIN_TIME, producerId, writeAddressUuid, writeInt, writeTime, type Layout,
} from './feeds.stixids.js';
import {
  ADDRESS, COMMA, Entry, Family, FIXED_TIME, ID, IP_TEXT, K_CONSISTS, K_INDICATES, K_INDICATOR, K_OBSERVED, K_SIGHTING, makeFamily, MAX_COUNT,
  newEntry, related, Slot, TIME, TYPE_CHAR, type BuilderText,
} from './feeds.stixparts.js';
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


export { producerId } from './feeds.stixids.js';
export { FIXED_TIME } from './feeds.stixparts.js';

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

  /** What its families' objects are made of (feeds.stixparts.ts makeFamily). */
  private readonly text: BuilderText;
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
    this.text = { party: this.party, tlp: this.tlp, src: this.src, common: this.common, identity: this.identity };
    this.none = makeFamily(this.text, null);
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
    const e = newEntry(this.src, r, ip, fam);
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
      f = makeFamily(this.text, own);
      this.familyCache.set(own, f);
    }
    return f;
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
