/**
 * The string → string steps of normalisation that presets configure (family names, type values),
 * cached, and `detached` for strings kept beyond their batch.
 */
import type { FeedType } from './feeds.types.js';

/** How a layout turns a family value into a normalised name. */
export interface FamilyRule {
  /** Exact values (after trim and lower case) that mean no family, e.g. `unknown`, `-`. */
  none: ReadonlySet<string>;
  /** Removed from the value, in order, e.g. a Malpedia platform prefix `^(win|elf)\.`. */
  strip: readonly RegExp[];
  /** Value (after stripping) → family. */
  aliases: ReadonlyMap<string, string>;
}

const CACHE_LIMIT = 4096;

/**
 * A copy of `s` that shares no memory with the string it was cut from: V8 keeps a slice of 13 or
 * more characters as a view of its parent (here, a whole batch of text), so whatever is kept
 * beyond a batch is copied.
 */
export function detached(s: string): string {
  return (' ' + s).slice(1);
}

/** Normalises family names with a rule, remembering up to 4096 distinct raw values. */
export class FamilyNormaliser {
  private readonly cache = new Map<string, string | null>();

  constructor(readonly rule: FamilyRule) {}

  /** The family for a raw value: trimmed, lower case, `none` → null, stripped, aliased. */
  normalise(raw: string): string | null {
    if (raw === '') return null;
    const hit = this.cache.get(raw);
    if (hit !== undefined) return hit;
    let s = raw.trim().toLowerCase();
    if (!this.rule.none.has(s)) {
      for (const re of this.rule.strip) s = s.replace(re, '');
      s = (this.rule.aliases.get(s) ?? s).trim();
    }
    const out = s === '' || this.rule.none.has(s) ? null : detached(s);
    if (this.cache.size < CACHE_LIMIT) this.cache.set(detached(raw), out);
    return out;
  }
}

/** Maps a type column's values (lower case) to record types, with a default; cached like families. */
export class TypeMapper {
  private readonly cache = new Map<string, FeedType>();

  constructor(
    readonly map: ReadonlyMap<string, FeedType>,
    readonly fallback: FeedType,
  ) {}

  type(raw: string): FeedType {
    if (raw === '') return this.fallback;
    const hit = this.cache.get(raw);
    if (hit !== undefined) return hit;
    const out = this.map.get(raw.trim().toLowerCase()) ?? this.fallback;
    if (this.cache.size < CACHE_LIMIT) this.cache.set(detached(raw), out);
    return out;
  }
}
