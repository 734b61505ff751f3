import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RangesV4, RangesV6 } from './feeds.ranges.js';
import type { IpdbEncoding, IpdbKind } from './feeds.ipcsv.js';

/**
 * The compiled IP database: one file of typed arrays that loads without parsing.
 *
 * Layout: 8 bytes magic `HLIPDB\r\n`, u32 format version, u32 header length, the header as
 * UTF-8 JSON (which sources it was built from, and where each section lies), zero padding to a
 * multiple of 8, then the sections, each a typed array in the host's byte order (recorded in the
 * header; a cache from a host of the other order is rebuilt). Sections start on 8-byte boundaries
 * so they are used in place, without copying.
 */

/** Bumped whenever the layout or the meaning of a section changes: an older cache is rebuilt. */
export const IPDB_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('HLIPDB\r\n', 'latin1');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where a source file came from: `hotline ipdb import`, the caller's options, or the npm package. */
export type IpdbOrigin = 'import' | 'option' | 'package';

/** One source file as it was when the cache was built. */
export interface IpdbSourceRecord {
  kind: IpdbKind;
  path: string;
  origin: IpdbOrigin;
  /** Size and modification time: the cache is reused only while both are unchanged. */
  bytes: number;
  mtimeMs: number;
  encoding: IpdbEncoding;
  rows: number;
  /** Ranges after overlaps were resolved. */
  ranges: number;
  overlaps: number;
  firstOverlapLine: number | null;
  /** For package files: the npm package and its version (the version encodes the data's date). */
  package?: { name: string; version: string };
  /** For imported files: the file the operator imported, and when. */
  importedFrom?: string;
  importedAt?: string;
}

interface Section {
  name: string;
  type: 'u32' | 'u8';
  offset: number;
  length: number;
}

/** The JSON header. */
export interface IpdbCacheHeader {
  format: number;
  littleEndian: boolean;
  builtAt: string;
  /** Bytes after the header and its padding. */
  dataBytes: number;
  sources: IpdbSourceRecord[];
  sections: Section[];
}

/** The tables a database is made of. Pair i is (pairAsn[i], organisation pairOrg[i]); names are UTF-8 in orgBytes, name j at orgOffsets[j]..orgOffsets[j+1]. */
export interface IpdbTables {
  asn4: RangesV4;
  asn6: RangesV6;
  country4: RangesV4;
  country6: RangesV6;
  pairAsn: Uint32Array;
  pairOrg: Uint32Array;
  orgOffsets: Uint32Array;
  orgBytes: Uint8Array;
}

const SECTIONS = [
  'asn4.starts', 'asn4.ends', 'asn4.values',
  'asn6.starts', 'asn6.ends', 'asn6.values',
  'country4.starts', 'country4.ends', 'country4.values',
  'country6.starts', 'country6.ends', 'country6.values',
  'pairs.asn', 'pairs.org', 'orgs.offsets', 'orgs.bytes',
] as const;

function arraysOf(t: IpdbTables): Uint32Array[] {
  return [
    t.asn4.starts, t.asn4.ends, t.asn4.values,
    t.asn6.starts, t.asn6.ends, t.asn6.values,
    t.country4.starts, t.country4.ends, t.country4.values,
    t.country6.starts, t.country6.ends, t.country6.values,
    t.pairAsn, t.pairOrg, t.orgOffsets,
  ];
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Writes the cache atomically (see {@link writeFileAtomic}). Returns its size. */
export async function writeIpdbCache(file: string, sources: IpdbSourceRecord[], tables: IpdbTables): Promise<number> {
  const arrays: (Uint32Array | Uint8Array)[] = [...arraysOf(tables), tables.orgBytes];
  const sections: Section[] = [];
  let at = 0; // offsets count from the start of the data, so the header does not depend on its own length
  for (const [i, a] of arrays.entries()) {
    sections.push({ name: SECTIONS[i] ?? '', type: a instanceof Uint8Array ? 'u8' : 'u32', offset: at, length: a.length });
    at = pad8(at + a.byteLength);
  }
  const header: IpdbCacheHeader = { format: IPDB_FORMAT_VERSION, littleEndian: LITTLE_ENDIAN, builtAt: new Date().toISOString(), dataBytes: at, sources, sections };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(pad8(16 + json.length));
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(IPDB_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  json.copy(prefix, 16);
  const chunks: Uint8Array[] = [prefix];
  for (const a of arrays) {
    chunks.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (pad8(a.byteLength) > a.byteLength) chunks.push(new Uint8Array(pad8(a.byteLength) - a.byteLength));
  }
  return writeFileAtomic(file, chunks);
}

/**
 * Writes a file atomically: a temporary file beside it, fsync, rename over the old one, fsync the
 * directory. A reader sees the old content or the new, never part of either. Returns the size.
 */
export async function writeFileAtomic(file: string, chunks: readonly Uint8Array[]): Promise<number> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const h = await open(tmp, 'wx', 0o600);
  let size = 0;
  try {
    for (const c of chunks) {
      for (let done = 0; done < c.byteLength; ) done += (await h.write(c, done, c.byteLength - done)).bytesWritten;
      size += c.byteLength;
    }
    await h.sync();
    await h.close();
    await rename(tmp, file);
  } catch (e) {
    await h.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dirname(file));
  return size;
}

/** fsyncs a directory so a rename in it survives a crash (not possible on every platform; best effort there). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Windows cannot open a directory for fsync; the rename is still atomic there
  }
}

/** Reads a cache file: null if it is missing, of another format version or byte order, truncated or inconsistent (the caller rebuilds). */
export async function readIpdbCache(file: string): Promise<{ header: IpdbCacheHeader; tables: IpdbTables } | null> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return null;
  }
  if (buf.length < 16 || !buf.subarray(0, 8).equals(MAGIC) || buf.readUInt32LE(8) !== IPDB_FORMAT_VERSION) return null;
  const headerLen = buf.readUInt32LE(12);
  if (16 + headerLen > buf.length) return null;
  let header: IpdbCacheHeader;
  try {
    header = JSON.parse(buf.subarray(16, 16 + headerLen).toString('utf8')) as IpdbCacheHeader;
  } catch {
    return null;
  }
  const dataStart = pad8(16 + headerLen);
  if (typeof header !== 'object' || header === null) return null;
  if (header.format !== IPDB_FORMAT_VERSION || header.littleEndian !== LITTLE_ENDIAN || dataStart + header.dataBytes !== buf.length) return null;
  if (!Array.isArray(header.sections) || header.sections.length !== SECTIONS.length || !Array.isArray(header.sources)) return null;
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(new Uint8Array(buf).buffer); // a copy on its own ArrayBuffer, so aligned
  const u32: Uint32Array[] = [];
  let orgBytes: Uint8Array | null = null;
  for (const [i, s] of header.sections.entries()) {
    const at = buf.byteOffset + dataStart + s.offset;
    const width = s.type === 'u32' ? 4 : 1;
    if (s.name !== SECTIONS[i] || s.offset % 8 !== 0 || dataStart + s.offset + s.length * width > buf.length) return null;
    if (i < SECTIONS.length - 1) {
      if (s.type !== 'u32') return null;
      u32.push(new Uint32Array(buf.buffer, at, s.length));
    } else {
      if (s.type !== 'u8') return null;
      orgBytes = new Uint8Array(buf.buffer, at, s.length);
    }
  }
  const tables = orgBytes === null ? null : assemble(u32, orgBytes);
  return tables === null ? null : { header, tables };
}

function assemble(a: Uint32Array[], orgBytes: Uint8Array): IpdbTables | null {
  const [s4, e4, v4, s6, e6, v6, cs4, ce4, cv4, cs6, ce6, cv6, pairAsn, pairOrg, orgOffsets] = a;
  if (!s4 || !e4 || !v4 || !s6 || !e6 || !v6 || !cs4 || !ce4 || !cv4 || !cs6 || !ce6 || !cv6 || !pairAsn || !pairOrg || !orgOffsets) return null;
  const consistent =
    s4.length === e4.length && s4.length === v4.length &&
    cs4.length === ce4.length && cs4.length === cv4.length &&
    s6.length === e6.length && s6.length === 4 * v6.length &&
    cs6.length === ce6.length && cs6.length === 4 * cv6.length &&
    pairAsn.length === pairOrg.length && orgOffsets.length >= 1 &&
    (orgOffsets[orgOffsets.length - 1] ?? 0) === orgBytes.length;
  if (!consistent) return null;
  return {
    asn4: new RangesV4(s4, e4, v4),
    asn6: new RangesV6(s6, e6, v6),
    country4: new RangesV4(cs4, ce4, cv4),
    country6: new RangesV6(cs6, ce6, cv6),
    pairAsn,
    pairOrg,
    orgOffsets,
    orgBytes,
  };
}
