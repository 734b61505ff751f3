import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../../shared/errors.js';
import type { IpdbOrigin } from './feeds.ipcache.js';
import { IPDB_KINDS, type IpdbKind } from './feeds.ipcsv.js';

/**
 * Where the IP database's four source files come from: a file imported into the cache
 * directory (`hotline ipdb import`), else one the caller names, else the npm package's.
 */

/** The file in each package. IPv4 from the `-num` files (integers parse faster than dotted quads), IPv6 from text (smaller than 39-digit integers). */
export const PACKAGE_FILES: Readonly<Record<IpdbKind, { pkg: string; file: string; attribution: string }>> = {
  'asn-ipv4': { pkg: '@ip-location-db/asn', file: 'asn-ipv4-num.csv', attribution: 'RouteViews, DB-IP (https://db-ip.com), NRO; CC BY 4.0' },
  'asn-ipv6': { pkg: '@ip-location-db/asn', file: 'asn-ipv6.csv', attribution: 'RouteViews, DB-IP (https://db-ip.com), NRO; CC BY 4.0' },
  'country-ipv4': { pkg: '@ip-location-db/geo-whois-asn-country', file: 'geo-whois-asn-country-ipv4-num.csv', attribution: 'ip-location-db geo-whois-asn-country; CC0 1.0' },
  'country-ipv6': { pkg: '@ip-location-db/geo-whois-asn-country', file: 'geo-whois-asn-country-ipv6.csv', attribution: 'ip-location-db geo-whois-asn-country; CC0 1.0' },
};

/**
 * The date of the data in an @ip-location-db package, from its date-stamped version
 * (`2.3.2026061719` → `2026-06-17`); null for a version without one. The packages are pinned
 * exactly in package.json: which party an address routes to changes only when someone bumps them.
 */
export function packageDataDate(version: string): string | null {
  const m = /\.(\d{4})(\d{2})(\d{2})\d{0,2}$/.exec(version);
  return m === null ? null : `${m[1]}-${m[2]}-${m[3]}`;
}

/** A source file chosen for a kind, with the size and mtime the cache is keyed on. */
export interface ResolvedSource {
  kind: IpdbKind;
  path: string;
  origin: IpdbOrigin;
  bytes: number;
  mtimeMs: number;
  package?: { name: string; version: string };
}

/** What an import records beside the imported file. */
export interface ImportMeta {
  importedFrom: string;
  importedAt: string;
}

/** `<cacheDir>/sources`: where imported files live, one `<kind>.csv` each, with a `<kind>.json` note. */
export function sourcesDir(cacheDir: string): string {
  return join(cacheDir, 'sources');
}

/** The npm packages' files, resolved from this module with their package versions. */
export async function packageIpdbSources(): Promise<Record<IpdbKind, { path: string; package: { name: string; version: string } }>> {
  const require = createRequire(import.meta.url);
  const out: Partial<Record<IpdbKind, { path: string; package: { name: string; version: string } }>> = {};
  for (const kind of IPDB_KINDS) {
    const { pkg, file } = PACKAGE_FILES[kind];
    let manifest: string;
    try {
      manifest = require.resolve(`${pkg}/package.json`);
    } catch {
      return fail('config_invalid', `The npm package ${pkg} is not installed: run npm install, or import a ${kind} file with hotline ipdb import`, { kind });
    }
    const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
    out[kind] = { path: join(dirname(manifest), file), package: { name: pkg, version } };
  }
  return out as Record<IpdbKind, { path: string; package: { name: string; version: string } }>;
}

/** Each kind's file: imported, else `sources[kind]`, else the package's. Fails with `config_invalid` if one cannot be read. */
export async function resolveIpdbSources(cacheDir: string, sources?: Partial<Record<IpdbKind, string>>): Promise<ResolvedSource[]> {
  const needPackages = !IPDB_KINDS.every((k) => sources?.[k] !== undefined);
  const pkgs = needPackages ? await packageIpdbSources() : null;
  const out: ResolvedSource[] = [];
  for (const kind of IPDB_KINDS) {
    const imported = join(sourcesDir(cacheDir), `${kind}.csv`);
    const st = await stat(imported).catch(() => null);
    if (st !== null) {
      out.push({ kind, path: imported, origin: 'import', bytes: st.size, mtimeMs: st.mtimeMs });
      continue;
    }
    const given = sources?.[kind];
    const pkg = pkgs?.[kind];
    const path = given !== undefined ? resolve(given) : (pkg?.path ?? '');
    const s = await stat(path).catch(() => null);
    if (s === null || !s.isFile()) return fail('config_invalid', `The ${kind} source file ${path} cannot be read`, { kind, path });
    out.push({ kind, path, origin: given !== undefined ? 'option' : 'package', bytes: s.size, mtimeMs: s.mtimeMs, ...(given === undefined && pkg ? { package: pkg.package } : {}) });
  }
  return out;
}

/** Reads a source as UTF-8 text (a leading BOM is left for the parser), failing with `invalid_argument` if it is not. */
export async function readSourceText(path: string): Promise<{ text: string; raw: Buffer }> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    return fail('ipdb_invalid', `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: path });
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw), raw };
  } catch {
    return fail('ipdb_invalid', `${path}: not UTF-8 text`, { file: path });
  }
}

/** The note an import left beside `<kind>.csv`, if it describes the file now there (same size). */
export async function readImportMeta(cacheDir: string, kind: IpdbKind, bytes: number): Promise<ImportMeta | null> {
  try {
    const m = JSON.parse(await readFile(join(sourcesDir(cacheDir), `${kind}.json`), 'utf8')) as Partial<ImportMeta> & { bytes?: number };
    if (m.bytes !== bytes || typeof m.importedFrom !== 'string' || typeof m.importedAt !== 'string') return null;
    return { importedFrom: m.importedFrom, importedAt: m.importedAt };
  } catch {
    return null;
  }
}
