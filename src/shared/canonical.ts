import { createHash } from 'node:crypto';
import { fail } from './errors.js';

declare global {
  interface String {
    /** ES2024: false when the string holds a lone surrogate (Node 20 has it; TypeScript's ES2023 lib does not). */
    isWellFormed(): boolean;
  }
}

/**
 * The deepest nesting {@link canonicalJson} writes by default: arrays and objects, the outermost
 * value being level 1. A guard against exhausting the stack, well above what any protocol
 * object needs (an envelope is limited to 64, see `MAX_ENVELOPE_DEPTH`; a transcript adds 4).
 */
export const MAX_CANONICAL_DEPTH = 128;

/** Thrown inside the fast writer; {@link canonicalJson} then walks the value again to say where and why. */
class NotCanonical extends Error {}

/**
 * RFC 8785 (JCS) canonical JSON text of a value: members sorted by name in UTF-16 code units,
 * numbers in the ECMAScript form, strings escaped as JCS says, no whitespace. Reads own
 * enumerable properties only and never calls `toJSON`, so members named `toJSON`, `__proto__`
 * or `constructor` are ordinary members. A member whose value is `undefined` is left out and
 * `undefined` in an array is `null` (as `JSON.stringify` does, for objects built in code).
 *
 * Refuses what JCS cannot write, with a {@link HotlineError} whose message names the place
 * (`$.body.a[2]`): a string with a lone surrogate (`invalid_unicode`); a number that is not finite,
 * nesting deeper than `maxDepth`, or a value that is not JSON — a function, a bigint, a symbol,
 * an object that is not a plain object or array, such as a Date (`invalid_argument`).
 */
export function canonicalJson(value: unknown, maxDepth = MAX_CANONICAL_DEPTH): string {
  try {
    return write(value, maxDepth);
  } catch (e) {
    if (e instanceof NotCanonical || e instanceof RangeError) explain(value, maxDepth);
    throw e;
  }
}

/** The fast path: no path bookkeeping; any problem throws NotCanonical and is explained by {@link explain}. */
function write(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw new NotCanonical();
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new NotCanonical();
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth === 0) throw new NotCanonical();
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ',';
          const x: unknown = v[i];
          s += x === undefined ? 'null' : write(x, depth - 1);
        }
        return `${s}]`;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new NotCanonical();
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let s = '{';
      let first = true;
      for (const k of keys) {
        const x = o[k];
        if (x === undefined) continue;
        if (!k.isWellFormed()) throw new NotCanonical();
        s += `${first ? '' : ','}${JSON.stringify(k)}:${write(x, depth - 1)}`;
        first = false;
      }
      return `${s}}`;
    }
    default:
      throw new NotCanonical();
  }
}

/** The slow path after a failure: finds the first offending place, depth first, and fails with its code. */
function explain(root: unknown, maxDepth: number): never {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: root, path: '$', depth: maxDepth }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (!v.isWellFormed()) fail('invalid_unicode', `${path} holds a lone surrogate (${loneSurrogate(v)}): the text is not Unicode`);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail('invalid_argument', `${path} is a number that is not finite (${String(v)}); JSON numbers must be finite doubles`);
    } else if (typeof v === 'object' && v !== null) {
      if (depth === 0) fail('invalid_argument', `${path} is nested deeper than ${maxDepth} levels of objects and arrays`);
      const children: { v: unknown; path: string; depth: number }[] = [];
      if (Array.isArray(v)) {
        v.forEach((x: unknown, i) => children.push({ v: x, path: `${path}[${i}]`, depth: depth - 1 }));
      } else {
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) fail('invalid_argument', `${path} is not a plain JSON object`);
        for (const k of Object.keys(v).sort()) {
          const where = `${path}${/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}`;
          if (!k.isWellFormed()) fail('invalid_unicode', `${where}: the member name holds a lone surrogate (${loneSurrogate(k)}); the text is not Unicode`);
          children.push({ v: (v as Record<string, unknown>)[k], path: where, depth: depth - 1 });
        }
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    } else if (v !== undefined && v !== null && typeof v !== 'boolean') {
      fail('invalid_argument', `${path} is a ${typeof v}, which JSON cannot hold`);
    }
  }
  return fail('invalid_argument', 'The value is not JSON');
}

/** The first lone surrogate of a string that has one, as `U+D800` (for messages). */
export function loneSurrogate(s: string): string {
  const m = /\p{Surrogate}/u.exec(s);
  return m === null ? '' : `U+${m[0].charCodeAt(0).toString(16).toUpperCase()}`;
}

/** Lower-case hex SHA-256 of a string's UTF-8 bytes or of raw bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of the canonical JSON of a value. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
