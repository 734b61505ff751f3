import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, MAX_CANONICAL_DEPTH } from './canonical.js';

/** Rebuilds a value with every object's keys in a random order. */
function shuffleKeys(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rnd));
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v).sort(() => rnd() - 0.5);
    // Object.fromEntries defines own properties, so "__proto__" stays an ordinary member.
    return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, rnd)]));
  }
  return v;
}

/** The code of the HotlineError `fn` throws, or "ok". */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? `not a HotlineError: ${String(e)}`;
  }
}

/** A double from its IEEE 754 bit pattern in hex (RFC 8785 Appendix B writes them so). */
function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

// RFC 8785 Appendix B: IEEE 754 bit pattern → the JCS text of that number.
const APPENDIX_B: [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

// The sample inputs and outputs of the RFC 8785 reference implementations' test data (input text → JCS text).
const SAMPLES: [string, string, string][] = [
  ['arrays', '[\n  56,\n  {\n    "d": true,\n    "10": null,\n    "1": [ ]\n  }\n]', '[56,{"1":[],"10":null,"d":true}]'],
  ['french', '{\n  "peach": "This sorting order",\n  "péché": "is wrong according to French",\n  "pêche": "but canonicalization MUST",\n  "sin":   "ingnore locale"\n}',
    '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ingnore locale"}'],
  ['structures', '{\n  "1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0},\n  "10": { },\n  "": "empty",\n  "a": { },\n  "111": [ { } ],\n  "A": { }\n}',
    '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}'],
  ['unicode', '{\n  "Unnormalized Unicode":"\\u1e0d\\u0307"\n}', '{"Unnormalized Unicode":"\u1e0d\u0307"}'],
  ['values', '{\n  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],\n  "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}'],
  ['weird', '{\n  "\\u20ac": "Euro Sign",\n  "1": "One",\n  "\\u0080": "Control\\u007f",\n  "\\ud83d\\ude02": "Smiley",\n  "\\u00f6": "Latin Small Letter O With Diaeresis",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "</script>": "Browser Challenge"\n}',
    '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'],
];

describe('canonical JSON (RFC 8785)', () => {
  it('writes every number of RFC 8785 Appendix B as the RFC does', () => {
    for (const [bits, text] of APPENDIX_B) {
      expect(canonicalJson(fromBits(bits)), bits).toBe(text);
      expect(canonicalJson([fromBits(bits)]), bits).toBe(`[${text}]`);
    }
  });

  it('refuses the non-finite numbers of Appendix B (NaN, Infinity) with invalid_argument', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      expect(codeOf(() => canonicalJson({ n: fromBits(bits) })), bits).toBe('invalid_argument');
    }
    expect(() => canonicalJson({ a: { n: JSON.parse('1e400') as number } })).toThrow(/\$\.a\.n is a number that is not finite \(Infinity\)/);
  });

  it('matches the RFC 8785 sample objects (arrays, french, structures, unicode, values, weird)', () => {
    for (const [name, input, output] of SAMPLES) expect(canonicalJson(JSON.parse(input)), name).toBe(output);
  });

  it('sorts keys by UTF-16 code units', () => {
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, '1': 4, 'ö': 5, '\uffff': 6 })).toBe('{"\\r":2,"1":4,"ö":5,"€":1,"😀":3,"\uffff":6}');
  });

  it('members named toJSON, __proto__ and constructor are ordinary members, sorted like any other', () => {
    expect(canonicalJson(JSON.parse('{"toJSON":"x","b":1,"a":2}'))).toBe('{"a":2,"b":1,"toJSON":"x"}');
    expect(canonicalJson(JSON.parse('{"b":{"toJSON":"x","a":1}}'))).toBe('{"b":{"a":1,"toJSON":"x"}}');
    const hostile = JSON.parse('{"z":0,"__proto__":{"y":1,"x":2},"constructor":{"prototype":{"b":1,"a":2}},"toString":"s","hasOwnProperty":1}') as unknown;
    expect(canonicalJson(hostile)).toBe('{"__proto__":{"x":2,"y":1},"constructor":{"prototype":{"a":2,"b":1}},"hasOwnProperty":1,"toString":"s","z":0}');
    // A callable toJSON is not called either: an object built in code is written as its members.
    expect(codeOf(() => canonicalJson({ toJSON: () => 'x' }))).toBe('invalid_argument');
  });

  it('refuses lone surrogates in strings and member names with invalid_unicode, naming the place', () => {
    expect(codeOf(() => canonicalJson(JSON.parse('{"a":["ok","\\ud800"]}')))).toBe('invalid_unicode');
    expect(() => canonicalJson(JSON.parse('{"a":["ok","\\ud800"]}'))).toThrow(/\$\.a\[1\] holds a lone surrogate \(U\+D800\)/);
    expect(codeOf(() => canonicalJson(JSON.parse('{"\\udc00x":1}')))).toBe('invalid_unicode');
    expect(codeOf(() => canonicalJson('\ude00\ud83d'))).toBe('invalid_unicode');
    expect(canonicalJson('\ud83d\ude00')).toBe('"😀"');
  });

  it('refuses nesting deeper than the limit (no stack overflow at any depth JSON.parse accepts)', () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(canonicalJson(JSON.parse(nest(MAX_CANONICAL_DEPTH)))).toBe(nest(MAX_CANONICAL_DEPTH));
    expect(codeOf(() => canonicalJson(JSON.parse(nest(MAX_CANONICAL_DEPTH + 1))))).toBe('invalid_argument');
    expect(codeOf(() => canonicalJson(JSON.parse(nest(100_000))))).toBe('invalid_argument');
    expect(canonicalJson({ a: { b: {} } }, 3)).toBe('{"a":{"b":{}}}');
    expect(() => canonicalJson({ a: { b: { c: [] } } }, 3)).toThrow(/\$\.a\.b\.c is nested deeper than 3 levels/);
  });

  it('refuses values JSON cannot hold, and leaves out undefined members as JSON.stringify does', () => {
    for (const v of [{ d: new Date(0) }, { f: () => 1 }, { b: 1n }, { s: Symbol('s') }, new Map(), Buffer.from('x'), undefined]) {
      expect(codeOf(() => canonicalJson(v))).toBe('invalid_argument');
    }
    expect(canonicalJson({ b: undefined, a: [undefined, 1] })).toBe('{"a":[null,1]}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });

  it('is independent of member order (every JSON value, hostile member names included), idempotent, and round-trips', () => {
    const hostileKey = fc.constantFrom('toJSON', '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', '1', '10', '\u20ac', '\ud83d\ude00');
    const key = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), hostileKey);
    const { json } = fc.letrec((tie) => ({
      json: fc.oneof({ depthSize: 'small', maxDepth: 5 },
        fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.string({ unit: 'grapheme' }),
        fc.array(tie('json')), fc.dictionary(key, tie('json'), { maxKeys: 6 })),
    }));
    fc.assert(fc.property(json, fc.integer(), (v, seed) => {
      let s = seed;
      const rnd = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const c = canonicalJson(v);
      expect(canonicalJson(shuffleKeys(v, rnd))).toBe(c);
      expect(canonicalJson(JSON.parse(c))).toBe(c);
      expect(canonicalJson(JSON.parse(JSON.stringify(v, null, 2)))).toBe(c);
    }), { numRuns: 1000 });
  });
});
