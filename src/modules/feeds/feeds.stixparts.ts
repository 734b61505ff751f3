/**
 * The pieces a `BundleBuilder` (feeds.stix.ts) writes bundles with: the widths of the holes in its
 * byte templates, the per-family objects and templates (`Family`), the aggregated entries
 * (`Entry`) and addresses (`Slot`) it collects, and `related`, which writes a relationship or
 * sighting from its template.
 */
import type { Tlp } from '../federation/federation.types.js';
import { detached } from './feeds.rules.js';
import { digestPrefix, HOTLINE_STIX_NAMESPACE, hotlineId, jsonText, layout, UuidV5, type Layout } from './feeds.stixids.js';
import type { FeedRecord, FeedType } from './feeds.types.js';

/** created and modified of the objects that are the same in every bundle (identity, family objects). */
export const FIXED_TIME = '2025-01-01T00:00:00.000Z';

/** What a builder's family objects are made of: whose, at which TLP, from which feed, and the common members. */
export interface BuilderText {
  readonly party: string;
  readonly tlp: Tlp;
  readonly src: string;
  /** The members every object of the builder has (created_by_ref, object_marking_refs), JSON. */
  readonly common: string;
  /** The producer identity's id. */
  readonly identity: string;
}

/** STIX caps number_observed and count at 999,999,999. */
export const MAX_COUNT = 999_999_999;
/** Hole widths: a UUID, a timestamp, an address id (`ipv4-addr--<uuid>`, as long as `ipv6-addr--<uuid>`). */
export const ID = 36;
export const TIME = 24;
export const ADDRESS = 47;
/** From a created hole through the modified hole after it: `<time>","modified":"<time>`. */
export const TIMES = 62;
// the byte after the id prefix: which per-entry object an id is for
export const K_INDICATOR = 73; // I
export const K_INDICATES = 78; // N
export const K_CONSISTS = 67; // C
export const K_OBSERVED = 79; // O
export const K_SIGHTING = 83; // S
export const TYPE_CHAR: Readonly<Record<FeedType, string>> = { 'c2-server': 'c', 'infected-host': 'i', 'other': 'o' };
export const COMMA = 44;
/** What a canonical address (dotted IPv4, RFC 5952 IPv6) is made of: nothing to escape in JSON or a pattern. */
export const IP_TEXT = /^[0-9a-f.:]{2,45}$/;

/** One malware family (or none) as this builder writes it; kept across bundles. */
export class Family {
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
export class Entry {
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
export class Slot {
  head: Entry | null = null;
  tail: Entry | null = null;

  constructor(readonly ip: string, readonly v6: boolean) {}
}

/**
 * Writes a comma and the template `L` at `p`: its id (`kind`), created and modified (copied from
 * the pair at `times`), and the `n` bytes at `ref` into its fourth hole. Returns the end.
 */
export function related(L: Layout, ids: UuidV5, kind: number, out: Buffer, p: number, times: number, ref: number, n: number): number {
  out[p++] = COMMA;
  out.set(L.bytes, p);
  ids.write(kind, out, p + L.at[0]!);
  out.copyWithin(p + L.at[1]!, times, times + TIMES);
  out.copyWithin(p + L.at[3]!, ref, ref + n);
  return p + L.bytes.length;
}

/** A family's objects and templates for a builder (`b`): made once per family name per builder. */
export function makeFamily(b: BuilderText, name: string | null): Family {
  const ids = new UuidV5(HOTLINE_STIX_NAMESPACE, digestPrefix([b.party, b.tlp, b.src, name === null ? '' : `f:${name}`], 48));
  const json = name === null ? '' : jsonText(name);
  const key = `${b.party}:${b.tlp}:${name ?? ''}`;
  const malware = hotlineId('malware', `malware:${key}`);
  const infrastructure = hotlineId('infrastructure', `infrastructure:${key}`);
  const F = FIXED_TIME;
  const at = `"created":"${F}","modified":"${F}",${b.common}`;
  const objects = name === null ? '' : [
    `{"type":"malware","spec_version":"2.1","id":"${malware}",${at},"name":"${json}","is_family":true,"malware_types":["bot"]}`,
    `{"type":"infrastructure","spec_version":"2.1","id":"${infrastructure}",${at},"name":"${json} botnet","infrastructure_types":["botnet"]}`,
    `{"type":"relationship","spec_version":"2.1","id":"${hotlineId('relationship', `relationship:${key}:uses`)}",${at},"relationship_type":"uses","source_ref":"${infrastructure}","target_ref":"${malware}"}`,
  ].join(',');
  const times = ['","created":"', TIME, '","modified":"', TIME] as const;
  return new Family(
    name, json, Buffer.from(objects, 'utf8'), Buffer.byteLength(objects) === objects.length,
    layout(`{"type":"relationship","spec_version":"2.1",${b.common},"relationship_type":"indicates","target_ref":"${malware}","id":"relationship--`, ID, ...times, '","source_ref":"indicator--', ID, '"}'),
    layout(`{"type":"relationship","spec_version":"2.1",${b.common},"relationship_type":"consists-of","source_ref":"${infrastructure}","id":"relationship--`, ID, ...times, '","target_ref":"', ADDRESS, '"}'),
    layout(
      `{"type":"sighting","spec_version":"2.1",${b.common},"sighting_of_ref":"${malware}","where_sighted_refs":["${b.identity}"],"id":"sighting--`, ID, ...times,
      '","observed_data_refs":["observed-data--', ID, '"],"first_seen":"', TIME, '","last_seen":"', TIME, '","count":',
    ),
    ids,
  );
}

/** A new entry of one record, with the end of its indicator or sighting (the text that never changes). */
export function newEntry(src: string, r: FeedRecord, ip: string, fam: Family): Entry {
  const port = r.port;
  let tail = '';
  if (r.type === 'c2-server') {
    const type = ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
    const family = fam.name === null ? '' : `${fam.json} `;
    const pattern = port === null
      ? `[${type}:value = '${ip}']`
      : `[network-traffic:dst_ref.type = '${type}' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = ${port}]`;
    tail = `${family}C2 ${ip}${port === null ? '' : ` port ${port}`}","description":"${family}C2 server ${ip}${where(r)}${more(src, r)}","pattern":"${pattern}"}`;
  } else if (r.type === 'infected-host' && fam.name !== null) {
    const c2 = r.c2_ip === null ? '' : `, C2 ${jsonText(r.c2_ip)}${r.c2_port === null ? '' : ` port ${r.c2_port}`}`;
    tail = `,"description":"Host ${ip}${where(r)} infected with ${fam.json}${c2}${more(src, r)}"}`;
  }
  if (tail !== '') tail = detached(tail);
  return new Entry(port, r.type, fam, r.timestamp, r.timestamp, 1, tail, tail === '' ? 0 : Buffer.byteLength(tail));
}

/** ` port P (ASN, CC)`, as far as known. */
function where(r: FeedRecord): string {
  const cc = r.country === null ? '' : jsonText(r.country);
  return (r.port === null ? '' : ` port ${r.port}`)
    + (r.asn === null ? (cc === '' ? '' : ` (${cc})`) : ` (AS${r.asn}${cc === '' ? '' : `, ${cc}`})`);
}

/** `, protocol …, hostname …; reported by <source>`. */
function more(src: string, r: FeedRecord): string {
  return (r.protocol === null ? '' : `, protocol ${jsonText(r.protocol)}`)
    + (r.hostname === null ? '' : `, hostname ${jsonText(r.hostname)}`) + `; reported by ${src}`;
}
