/**
 * A deterministic generator of realistic STIX 2.1 threat-intel objects, the kind a botnet C2 feed
 * publishes: the same seed gives the same objects, byte for byte, on every machine.
 *
 * Objects come in blocks of 50, so that any prefix has (nearly) the proportions of a real feed:
 *   20 ipv4-addr   C2 addresses (40%): id UUIDv5 of the value, as STIX 2.1 section 2.9 says SCO ids are made
 *   20 indicator   `[ipv4-addr:value = 'a.b.c.d']` for each of those (40%): name, indicator_types,
 *                  valid_from (and sometimes valid_until), confidence, sometimes kill_chain_phases and
 *                  external_references (abuse.ch style), created_by_ref
 *    1 malware     (2%) a NEW VERSION of one of ~48 families (a later `modified`), so families have many
 *                  versions and match[version]=all|first|last differ
 *    9 relationship `indicates` from an indicator of the block to its family (18%)
 * Every object carries a TLP 2.0 marking (mostly GREEN and AMBER; some CLEAR and AMBER+STRICT).
 * Addresses are unique: a bijection of a counter over the 32-bit space, skipping private and
 * reserved ranges.
 */
import { createHash } from 'node:crypto';
import type { Tlp } from '../../src/modules/federation/federation.types.js';
import { tlpMarkingRef } from '../../src/modules/stix/stix.tlp.js';
import { validateObject } from '../../src/modules/stix/stix.validate.js';

export type StixJson = Record<string, unknown>;

export const BLOCK = 50;
const PAIRS_PER_BLOCK = 20;
const RELATIONSHIPS_PER_BLOCK = 9;

/** The publisher of the feed (created_by_ref). */
export const FEED_IDENTITY = 'identity--3c3a6e0f-8f6a-4a63-9b53-2f1d0d7f6a11';
/** STIX 2.1 section 2.9: the namespace of deterministic (UUIDv5) SCO identifiers. */
const SCO_NAMESPACE = Buffer.from('00abedb4aa42466c9c01fed23315a9b7', 'hex');

const FAMILIES: readonly (readonly [string, string])[] = [
  ['Emotet', 'bot'], ['TrickBot', 'trojan'], ['QakBot', 'bot'], ['IcedID', 'trojan'], ['Dridex', 'trojan'], ['Cobalt Strike', 'backdoor'],
  ['AsyncRAT', 'remote-access-trojan'], ['Remcos', 'remote-access-trojan'], ['njRAT', 'remote-access-trojan'], ['Agent Tesla', 'spyware'],
  ['FormBook', 'spyware'], ['LokiBot', 'spyware'], ['RedLine Stealer', 'spyware'], ['Raccoon Stealer', 'spyware'], ['Vidar', 'spyware'],
  ['Lumma Stealer', 'spyware'], ['SmokeLoader', 'downloader'], ['Pikabot', 'downloader'], ['DarkGate', 'remote-access-trojan'],
  ['Bumblebee', 'downloader'], ['Gozi', 'trojan'], ['ZLoader', 'trojan'], ['BazarLoader', 'downloader'], ['Mirai', 'bot'],
  ['Gafgyt', 'bot'], ['Mozi', 'bot'], ['Sliver', 'backdoor'], ['Havoc', 'backdoor'], ['Brute Ratel C4', 'backdoor'], ['PlugX', 'remote-access-trojan'],
  ['ShadowPad', 'backdoor'], ['Quasar RAT', 'remote-access-trojan'], ['NanoCore', 'remote-access-trojan'], ['DCRat', 'remote-access-trojan'],
  ['Warzone RAT', 'remote-access-trojan'], ['SystemBC', 'backdoor'], ['Amadey', 'bot'], ['Socks5Systemz', 'bot'], ['Latrodectus', 'downloader'],
  ['Hancitor', 'downloader'], ['GootLoader', 'downloader'], ['DanaBot', 'trojan'], ['Nymaim', 'downloader'], ['Tofsee', 'bot'],
  ['Necurs', 'bot'], ['Glupteba', 'bot'], ['SocGholish', 'downloader'], ['Ursnif', 'trojan'],
];
const PORTS = [80, 443, 443, 443, 8080, 8443, 447, 449, 2222, 4443, 995, 7000];
const SOURCES = ['feodotracker', 'threatfox', 'sslbl', 'urlhaus'];

/** sfc32 seeded through splitmix32: small, fast, good enough for test data, and the same everywhere. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** [0, 1) */
  float(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** An RFC 4122 version 4 UUID from this generator. */
  uuid4(): string {
    const h = [this.u32(), this.u32(), this.u32(), this.u32()].map((x) => x.toString(16).padStart(8, '0')).join('');
    const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** The deterministic SCO id of STIX 2.1 section 2.9: UUIDv5 over the canonical JSON of the id-contributing properties. */
export function scoId(type: string, contributing: Record<string, string>): string {
  const h = createHash('sha1').update(SCO_NAMESPACE).update(JSON.stringify(contributing)).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${type}--${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function reserved(a: number, b: number): boolean {
  return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254)
    || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19));
}

const iso = (ms: number): string => new Date(ms).toISOString();
const DAY = 86_400_000;

interface Family { id: string; name: string; kind: string; created: number; versions: number }

/** Counts of what a generator has produced so far. */
export interface GeneratedCounts {
  total: number;
  byType: Record<string, number>;
  /** Distinct ids (the malware families count once): what a walk of the latest versions returns. */
  distinct: number;
}

/**
 * An endless, deterministic stream of objects. `next(n)` returns the next n objects. Time starts
 * at `startMs` (default 2026-06-01) and advances 15 s per object, so a million objects span ~6 months.
 */
export class StixGenerator {
  private readonly rng: Prng;
  private readonly families: Family[];
  private readonly ipBase: number;
  private ipCounter = 0;
  private block = 0;
  private queue: StixJson[] = [];
  private introduced = 0;
  readonly counts: GeneratedCounts = { total: 0, byType: {}, distinct: 0 };

  constructor(seed: number, private readonly startMs = Date.UTC(2026, 5, 1)) {
    this.rng = new Prng(seed);
    this.ipBase = this.rng.u32();
    this.families = FAMILIES.map(([name, kind]) => ({ id: `malware--${this.rng.uuid4()}`, name, kind, created: 0, versions: 0 }));
  }

  next(n: number): StixJson[] {
    const out: StixJson[] = [];
    while (out.length < n) {
      if (this.queue.length === 0) this.queue = this.makeBlock();
      const o = this.queue.shift()!;
      const type = o.type as string;
      this.counts.total++;
      this.counts.byType[type] = (this.counts.byType[type] ?? 0) + 1;
      if (type !== 'malware' || (o.created === o.modified)) this.counts.distinct++;
      out.push(o);
    }
    return out;
  }

  private nextIp(): string {
    for (;;) {
      // An odd multiplier makes this a bijection of the 32-bit counter: no address repeats.
      const x = (Math.imul(this.ipCounter++, 0x9e3779b1) + this.ipBase) >>> 0;
      const a = x >>> 24;
      const b = (x >>> 16) & 255;
      if (!reserved(a, b) && (x & 255) !== 0 && (x & 255) !== 255) return `${a}.${b}.${(x >>> 8) & 255}.${x & 255}`;
    }
  }

  private tlp(): Tlp {
    const r = this.rng.float();
    return r < 0.5 ? 'green' : r < 0.88 ? 'amber' : r < 0.95 ? 'clear' : 'amber+strict';
  }

  private makeBlock(): StixJson[] {
    const rng = this.rng;
    const t0 = this.startMs + this.block * BLOCK * 15_000;
    const out: StixJson[] = [];
    // The first blocks introduce the families one by one; later blocks re-publish a random one.
    const family = this.introduced < this.families.length ? this.families[this.introduced++]! : rng.pick(this.families);
    const known = this.families.slice(0, this.introduced);
    const indicators: { id: string; family: Family; tlp: Tlp; at: number }[] = [];
    for (let k = 0; k < PAIRS_PER_BLOCK; k++) {
      const at = t0 + k * 30_000 + rng.int(1000);
      const tlp = this.tlp();
      const fam = rng.pick(known);
      const ip = this.nextIp();
      const marking = [tlpMarkingRef(tlp)];
      out.push({ type: 'ipv4-addr', spec_version: '2.1', id: scoId('ipv4-addr', { value: ip }), value: ip, object_marking_refs: marking });
      const id = `indicator--${rng.uuid4()}`;
      const port = rng.pick(PORTS);
      const ind: StixJson = {
        type: 'indicator', spec_version: '2.1', id, created_by_ref: FEED_IDENTITY, created: iso(at), modified: iso(at),
        name: `${fam.name} C2 ${ip}:${port}`,
        description: `${fam.name} botnet command-and-control server seen at ${ip} on port ${port}/tcp`,
        indicator_types: rng.chance(0.8) ? ['malicious-activity'] : ['malicious-activity', 'attribution'],
        pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', pattern_version: '2.1',
        valid_from: iso(at),
        confidence: 50 + rng.int(51),
        object_marking_refs: marking,
      };
      if (rng.chance(0.6)) ind.valid_until = iso(at + (30 + rng.int(60)) * DAY);
      if (rng.chance(0.4)) {
        ind.kill_chain_phases = [{ kill_chain_name: 'lockheed-martin-cyber-kill-chain', phase_name: 'command-and-control' }];
        if (rng.chance(0.5)) ind.kill_chain_phases = [...(ind.kill_chain_phases as unknown[]), { kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }];
      }
      if (rng.chance(0.3)) {
        const src = rng.pick(SOURCES);
        ind.external_references = [{ source_name: src, url: `https://${src}.abuse.ch/browse/host/${ip}/`, external_id: String(1_000_000 + rng.int(9_000_000)) }];
      }
      if (rng.chance(0.25)) ind.labels = ['botnet', 'c2'];
      out.push(ind);
      indicators.push({ id, family: fam, tlp, at });
    }
    // One new version of one family (a later `modified`).
    const version = t0 + 7;
    if (family.versions === 0) family.created = version;
    family.versions++;
    out.splice(rng.int(out.length + 1), 0, {
      type: 'malware', spec_version: '2.1', id: family.id, created_by_ref: FEED_IDENTITY, created: iso(family.created), modified: iso(version),
      name: family.name, is_family: true, malware_types: [family.kind], first_seen: iso(family.created),
      description: `${family.name}: ${family.versions} update${family.versions === 1 ? '' : 's'} of the family's C2 infrastructure from the feed`,
      kill_chain_phases: [{ kill_chain_name: 'lockheed-martin-cyber-kill-chain', phase_name: 'command-and-control' }],
      object_marking_refs: [tlpMarkingRef(rng.chance(0.8) ? 'green' : 'clear')],
    });
    // Relationships after everything they point at in the block.
    const chosen = new Set<number>();
    while (chosen.size < RELATIONSHIPS_PER_BLOCK) chosen.add(rng.int(indicators.length));
    for (const k of [...chosen].sort((x, y) => x - y)) {
      const ind = indicators[k]!;
      const at = iso(ind.at + 500);
      out.push({
        type: 'relationship', spec_version: '2.1', id: `relationship--${rng.uuid4()}`, created_by_ref: FEED_IDENTITY, created: at, modified: at,
        relationship_type: 'indicates', source_ref: ind.id, target_ref: ind.family.id,
        description: `This address is a C2 server of ${ind.family.name}`, object_marking_refs: [tlpMarkingRef(ind.tlp)],
      });
    }
    this.block++;
    return out;
  }
}

/**
 * Runs the node's own validator on `objects`; throws (the bench aborts) naming the first invalid
 * object and every problem, so a generator that drifts from what the node accepts is caught before
 * any number is measured.
 */
export function assertValid(objects: readonly StixJson[]): void {
  for (const o of objects) {
    const v = validateObject(o);
    if (!v.ok) {
      throw new Error(`the generator made an object the node's validator refuses:\n${JSON.stringify(o, null, 2)}\n`
        + v.problems.map((p) => `  ${p.path === '' ? '(object)' : p.path}: ${p.message}`).join('\n'));
    }
  }
}
