import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../shared/errors.js';
import { TIMESTAMP_FORMATS, timestampMask, type TimestampFormat } from './feeds.normalise.js';
import { FEED_FIELDS, FEED_TYPES, type FeedField, type FeedType } from './feeds.types.js';
import { detached, FamilyNormaliser, TypeMapper, type FamilyRule } from './feeds.rules.js';

/**
 * Feed layouts as data (`presets/*.json`, format in presets/README.md): which columns of a report
 * hold which record field, how to recognise its header, how to derive the type, which timestamp
 * forms it uses, how to normalise its family names. `resolveLayout` turns a preset (named,
 * recognised, or built from a `--map`) and a header into the column indexes the normaliser reads.
 */

/** The shared family rules every preset starts from. */
export const FAMILIES_FILE = 'families.json';

/** How a preset derives a record's type. */
export type TypeRule =
  | { readonly kind: 'const'; readonly value: FeedType }
  | { readonly kind: 'column'; readonly columns: readonly string[]; readonly map: ReadonlyMap<string, FeedType>; readonly fallback: FeedType };

/** One preset, validated. Column names are lower case. */
export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  /** Every entry must be in the header (an entry lists alternatives). */
  readonly detectAll: readonly (readonly string[])[];
  /** When not empty, at least one must be in the header. */
  readonly detectAny: readonly string[];
  /** Per field, the column names that can hold it, in order of preference. */
  readonly columns: ReadonlyMap<FeedField, readonly string[]>;
  readonly required: readonly FeedField[];
  readonly type: TypeRule;
  readonly timestamp: readonly TimestampFormat[];
  readonly family: FamilyRule;
}

/** All presets, by name. */
export interface PresetCatalog {
  readonly dir: string;
  readonly presets: ReadonlyMap<string, Preset>;
}

/** What the normaliser reads: a preset applied to one header. */
export interface Layout {
  /** The preset's name; with a `--map`, `map+<base preset>`. */
  readonly preset: string;
  readonly header: readonly string[];
  /** Fields a row must have (the header's length). */
  readonly columns: number;
  /** Per `FEED_FIELDS` entry, the header index holding it, or -1. */
  readonly index: Int32Array;
  /** Per `FEED_FIELDS` entry, the column as the header spells it (for reject reasons). */
  readonly names: readonly (string | null)[];
  /** Per `FEED_FIELDS` entry, the keys a JSON object may hold it under, in order (the mapped one, or the preset's). */
  readonly keys: readonly (readonly string[])[];
  readonly typeConst: FeedType | null;
  readonly types: TypeMapper;
  readonly timestampFormats: readonly TimestampFormat[];
  readonly timestampMask: number;
  readonly family: FamilyNormaliser;
}

type Json = Record<string, unknown>;
const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const PRESET_MEMBERS = ['name', 'description', 'detect', 'columns', 'required', 'type', 'timestamp', 'family'];
const FAMILY_MEMBERS = ['none', 'strip', 'aliases', 'description'];
const COLUMN_FIELDS = FEED_FIELDS.filter((f) => f !== 'type');

class Checker {
  constructor(readonly file: string) {}

  bad(path: string, problem: string): never {
    return fail('preset_invalid', `${this.file}: ${path === '' ? '' : `${path}: `}${problem}`, { file: this.file, path });
  }

  object(v: unknown, path: string, allowed: readonly string[] | null): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.bad(path, 'must be a JSON object');
    if (allowed !== null) for (const k of Object.keys(v)) if (!allowed.includes(k)) this.bad(path === '' ? k : `${path}.${k}`, `is not a known member; use ${allowed.join(', ')}`);
    return v as Json;
  }

  names(v: unknown, path: string, min = 1): string[] {
    if (!Array.isArray(v) || v.length < min || v.some((x) => typeof x !== 'string' || x.trim() === '')) {
      this.bad(path, `must be a list of ${min > 0 ? 'at least one ' : ''}non-empty string${min > 1 ? 's' : ''}`);
    }
    return (v as string[]).map((x) => x.trim().toLowerCase());
  }

  feedType(v: unknown, path: string): FeedType {
    if (!(FEED_TYPES as readonly unknown[]).includes(v)) this.bad(path, `must be one of ${FEED_TYPES.join(', ')}`);
    return v as FeedType;
  }

  family(v: unknown, path: string): FamilyRule {
    const at = (member: string): string => (path === '' ? member : `${path}.${member}`);
    const o = this.object(v ?? {}, path, FAMILY_MEMBERS);
    const strip = this.names(o.strip ?? [], at('strip'), 0).map((src, i) => {
      try {
        return new RegExp((o.strip as string[])[i] ?? src);
      } catch (e) {
        return this.bad(at(`strip[${i}]`), `is not a regular expression: ${(e as Error).message}`);
      }
    });
    const aliases = new Map<string, string>();
    for (const [from, to] of Object.entries(this.object(o.aliases ?? {}, at('aliases'), null))) {
      if (typeof to !== 'string' || to.trim() === '') this.bad(at(`aliases.${from}`), 'must be a non-empty string (the family)');
      aliases.set(from.trim().toLowerCase(), to.trim().toLowerCase());
    }
    return { none: new Set(this.names(o.none ?? [], at('none'), 0)), strip, aliases };
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return fail('preset_invalid', `${file}: cannot be read`, { file, path: '' });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('preset_invalid', `${file}: is not valid JSON: ${(e as Error).message}`, { file, path: '' });
  }
}

function loadPreset(dir: string, file: string, common: FamilyRule): Preset {
  const c: Checker = new Checker(join(dir, file));
  const o = c.object(readJson(c.file), '', PRESET_MEMBERS);
  if (typeof o.name !== 'string' || !NAME.test(o.name)) c.bad('name', 'must be lower-case letters, digits and -');
  if (`${o.name}.json` !== file) c.bad('name', `must equal the file's name (${file.slice(0, -5)})`);
  if (typeof o.description !== 'string' || o.description.trim() === '') c.bad('description', 'must be a non-empty string');
  const detect = c.object(o.detect, 'detect', ['all', 'any']);
  const all = detect.all;
  if (!Array.isArray(all) || all.length === 0) c.bad('detect.all', 'must be a list of column names (or lists of alternatives)');
  const detectAll = all.map((e: unknown, i: number) => c.names(typeof e === 'string' ? [e] : e, `detect.all[${i}]`));
  const detectAny = c.names(detect.any ?? [], 'detect.any', 0);
  const columns = new Map<FeedField, readonly string[]>();
  for (const [field, names] of Object.entries(c.object(o.columns, 'columns', COLUMN_FIELDS))) columns.set(field as FeedField, c.names(names, `columns.${field}`));
  const required = c.names(o.required ?? ['ip'], 'required') as FeedField[];
  required.forEach((f, i) => {
    if (!columns.has(f)) c.bad(`required[${i}]`, `names ${f}, which has no entry in columns`);
  });
  if (!required.includes('ip')) c.bad('required', 'must include ip');
  const t = c.object(o.type, 'type', ['const', 'column', 'map', 'default']);
  let type: TypeRule;
  if (t.const !== undefined) {
    if (t.column !== undefined || t.map !== undefined || t.default !== undefined) c.bad('type', 'is either {"const": TYPE} or {"column": [...], "map": {...}, "default": TYPE}');
    type = { kind: 'const', value: c.feedType(t.const, 'type.const') };
  } else {
    const map = new Map<string, FeedType>(FEED_TYPES.map((x) => [x, x]));
    for (const [k, v] of Object.entries(c.object(t.map ?? {}, 'type.map', null))) map.set(k.trim().toLowerCase(), c.feedType(v, `type.map.${k}`));
    type = { kind: 'column', columns: c.names(t.column, 'type.column'), map, fallback: c.feedType(t.default ?? 'other', 'type.default') };
  }
  const timestamp = c.names(o.timestamp ?? TIMESTAMP_FORMATS, 'timestamp') as TimestampFormat[];
  timestamp.forEach((f, i) => {
    if (!(TIMESTAMP_FORMATS as readonly string[]).includes(f)) c.bad(`timestamp[${i}]`, `must be one of ${TIMESTAMP_FORMATS.join(', ')}`);
  });
  const own = c.family(o.family, 'family');
  const family: FamilyRule = {
    none: new Set([...own.none, ...common.none]),
    strip: [...own.strip, ...common.strip],
    aliases: new Map([...common.aliases, ...own.aliases]),
  };
  return Object.freeze({ name: o.name as string, description: o.description as string, file: c.file, detectAll, detectAny, columns, required, type, timestamp, family });
}

/** Reads and checks `dir`'s presets and families.json; any problem is an error naming the file and member. */
export function readPresets(dir: string): PresetCatalog {
  const fc: Checker = new Checker(join(dir, FAMILIES_FILE));
  const common = fc.family(fc.object(readJson(fc.file), '', FAMILY_MEMBERS), '');
  const presets = new Map<string, Preset>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== FAMILIES_FILE).sort()) {
    const p = loadPreset(dir, file, common);
    presets.set(p.name, p);
  }
  if (!presets.has('generic')) fail('preset_invalid', `${dir}: has no generic.json (the base of a --map)`, { file: dir });
  return Object.freeze({ dir, presets });
}

/** The repository's `presets/` directory: the nearest one above this module holding families.json. */
export function defaultPresetsDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(d, 'presets');
    if (existsSync(join(candidate, FAMILIES_FILE))) return candidate;
    const up = dirname(d);
    if (up === d) return fail('invalid_argument', `No presets directory with ${FAMILIES_FILE} above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
}

let cached: PresetCatalog | undefined;

/** The repository's presets, read and checked once. */
export function presetCatalog(): PresetCatalog {
  cached ??= readPresets(defaultPresetsDir());
  return cached;
}

// ---------------------------------------------------------------------------------------------

function listed(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}

/** Where each field's column is in `lower` (the header, trimmed, lower case), for a preset. */
function locate(p: Preset, lower: readonly string[]): { index: Int32Array; score: number; missing: FeedField | null } {
  const index = new Int32Array(FEED_FIELDS.length).fill(-1);
  let score = 0;
  FEED_FIELDS.forEach((f, i) => {
    const names = f === 'type' ? (p.type.kind === 'column' ? p.type.columns : []) : (p.columns.get(f) ?? []);
    for (const n of names) {
      const at = lower.indexOf(n);
      if (at >= 0) {
        index[i] = at;
        score++;
        break;
      }
    }
  });
  const missing = p.required.find((f) => index[FEED_FIELDS.indexOf(f)] === -1) ?? null;
  return { index, score, missing };
}

function fits(p: Preset, lower: readonly string[]): boolean {
  return p.detectAll.every((alts) => alts.some((n) => lower.includes(n))) && (p.detectAny.length === 0 || p.detectAny.some((n) => lower.includes(n)));
}

const TYPE_WORDS: ReadonlyMap<string, FeedType> = new Map([
  ...FEED_TYPES.map((t) => [t, t] as const),
  ['c2', 'c2-server'], ['cc', 'c2-server'], ['infected', 'infected-host'], ['bot', 'infected-host'],
]);

/** What `resolveLayout` needs: the header, and optionally a preset name and/or a column mapping. */
export interface LayoutRequest {
  header: readonly string[];
  preset?: string | undefined;
  /** `field=column,...`, e.g. `ip=src,port=sport,timestamp=time,family=malware,type=c2`. */
  mapping?: string | undefined;
  catalog?: PresetCatalog;
}

function mappingError(message: string, details: Json): never {
  return fail('feed_mapping', `--map: ${message}`, { ...details });
}

/**
 * Picks the layout for a header: the named preset, or the one that recognises the header (its
 * `detect` holds and its required columns are there; the most columns mapped plus `detect`
 * entries matched wins; a tie is refused), or, with a mapping, the named preset (default `generic`)
 * with the mapped columns in place of its own. `type=X` in a mapping is a column when the header has
 * one called X, else a type (`infected-host`, `c2-server`, `other`, or `c2`, `cc`, `infected`, `bot`)
 * given to every record. Refuses an unknown preset, a header the preset does not fit, and a mapping
 * naming a missing column, listing what there is.
 */
export function resolveLayout(req: LayoutRequest): Layout {
  const catalog = req.catalog ?? presetCatalog();
  const header = req.header.map((h) => detached(h.trim()));
  const lower = header.map((h) => h.toLowerCase());
  const known = [...catalog.presets.keys()];
  let preset: Preset;
  if (req.preset !== undefined) {
    const p = catalog.presets.get(req.preset);
    if (p === undefined) fail('unknown_preset', `Unknown preset '${req.preset}'; the presets are: ${listed(known)}`, { preset: req.preset, presets: known });
    preset = p;
  } else if (req.mapping !== undefined) {
    preset = catalog.presets.get('generic') as Preset;
  } else {
    const ranked = [...catalog.presets.values()]
      .filter((p) => fits(p, lower))
      .map((p) => {
        const at = locate(p, lower);
        return { p, missing: at.missing, score: at.score + p.detectAll.length + p.detectAny.filter((n) => lower.includes(n)).length };
      })
      .filter((x) => x.missing === null)
      .sort((a, b) => b.score - a.score);
    const [top, second] = ranked;
    if (top === undefined) {
      fail('unknown_preset', `No preset fits the header (${listed(header)}); name one with --preset (${listed(known)}) or map the columns, e.g. --map ip=COLUMN,timestamp=COLUMN`, { header, presets: known });
    }
    if (second !== undefined && second.score === top.score) {
      const tied = [top.p.name, second.p.name].sort();
      fail('unknown_preset', `The header fits presets '${tied[0]}' and '${tied[1]}' equally; name one with --preset`, { header, presets: tied });
    }
    preset = top.p;
  }
  const { index } = locate(preset, lower);
  const keys: (readonly string[])[] = FEED_FIELDS.map((f) => (f === 'type' ? (preset.type.kind === 'column' ? preset.type.columns : []) : (preset.columns.get(f) ?? [])));
  let typeConst: FeedType | null = preset.type.kind === 'const' ? preset.type.value : null;
  if (req.mapping !== undefined) {
    const seen = new Set<string>();
    for (const entry of req.mapping.split(',')) {
      const eq = entry.indexOf('=');
      const field = entry.slice(0, eq).trim().toLowerCase();
      const column = entry.slice(eq + 1).trim();
      if (eq < 0 || field === '' || column === '') mappingError(`'${entry.trim()}' is not field=column`, { entry });
      const f = FEED_FIELDS.indexOf(field as FeedField);
      if (f < 0) mappingError(`'${field}' is not a record field; use ${FEED_FIELDS.join(', ')}`, { field, fields: [...FEED_FIELDS] });
      if (seen.has(field)) mappingError(`'${field}' is mapped twice`, { field });
      seen.add(field);
      const at = lower.indexOf(column.toLowerCase());
      if (field === 'type' && at < 0) {
        const t = TYPE_WORDS.get(column.toLowerCase());
        if (t === undefined) mappingError(`type=${column}: there is no column '${column}' and it is not a type (${[...TYPE_WORDS.keys()].join(', ')}); the header has: ${listed(header)}`, { field, column, header });
        typeConst = t;
        index[f] = -1;
        keys[f] = [];
        continue;
      }
      if (at < 0) mappingError(`${field}=${column}: there is no column '${column}'; the header has: ${listed(header)}`, { field, column, header });
      index[f] = at;
      keys[f] = [header[at] ?? column];
      if (field === 'type') typeConst = null;
    }
  }
  for (const f of preset.required) {
    const i = FEED_FIELDS.indexOf(f);
    if (index[i] !== -1) continue;
    const alts = preset.columns.get(f) ?? [];
    if (req.mapping !== undefined) mappingError(`no column for ${f}: map one (${f}=COLUMN); the header has: ${listed(header)}`, { field: f, header });
    fail('feed_mapping', `The header does not fit preset '${preset.name}': no column for ${f} (one of: ${listed(alts)}); the header has: ${listed(header)}`, { preset: preset.name, field: f, header });
  }
  const rule = preset.type.kind === 'column' ? preset.type : { map: TYPE_WORDS, fallback: 'other' as FeedType };
  return Object.freeze({
    preset: req.mapping === undefined ? preset.name : `map+${preset.name}`,
    header,
    columns: header.length,
    index,
    names: FEED_FIELDS.map((_, i) => {
      const at = index[i] ?? -1;
      return at < 0 ? null : (header[at] ?? null);
    }),
    keys,
    typeConst,
    types: new TypeMapper(new Map([...TYPE_WORDS, ...rule.map]), rule.fallback),
    timestampFormats: preset.timestamp,
    timestampMask: timestampMask(preset.timestamp),
    family: new FamilyNormaliser(preset.family),
  });
}
