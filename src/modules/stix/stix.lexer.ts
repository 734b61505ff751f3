/**
 * The tokenizer of the STIX 2.1 patterning language (stix.pattern.ts holds the grammar): tokens
 * of the OASIS ANTLR grammar (STIXPattern.g4, 2.1), whitespace and comments skipped, literals
 * checked as they are read (strings with only \' and \\ escapes, t'…' a real timestamp, h'…'
 * hex, b'…' base64). Offsets count UTF-16 code units.
 */
import { isBase64, isTimestamp } from './stix.values.js';

/** Token kind: the end of the pattern. */
export const EOF: number = 0;
/** Token kind: '['. */
export const LBRACK: number = 1;
/** Token kind: ']'. */
export const RBRACK: number = 2;
/** Token kind: '('. */
export const LPAREN: number = 3;
/** Token kind: ')'. */
export const RPAREN: number = 4;
/** Token kind: ':'. */
export const COLON: number = 5;
/** Token kind: '.'. */
export const DOT: number = 6;
/** Token kind: ','. */
export const COMMA: number = 7;
/** Token kind: '*'. */
export const STAR: number = 8;
/** Token kind: = == != <>. */
export const EQUALITY: number = 9;
/** Token kind: < <= > >=. */
export const ORDER: number = 10;
/** Token kind: an identifier (object type or property name; may contain -). */
export const IDENT: number = 11;
/** Token kind: an upper-case keyword (AND, OR, WITHIN, …). */
export const KEYWORD: number = 12;
/** Token kind: true or false. */
export const BOOL: number = 13;
/** Token kind: an integer, optionally signed. */
export const INT: number = 14;
/** Token kind: a decimal number, optionally signed. */
export const FLOAT: number = 15;
/** Token kind: a quoted string '…'. */
export const STRING: number = 16;
/** Token kind: a timestamp t'…'. */
export const TIMESTAMP: number = 17;
/** Token kind: hex h'…'. */
export const HEX: number = 18;
/** Token kind: base64 b'…'. */
export const BINARY: number = 19;

/** The keywords (case-sensitive). */
export const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS', 'LAST', 'IN',
  'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES',
]);
const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/** A fault in a pattern, with its offset. */
export class PatternError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

function isWhitespace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0 || c === 0x1680
    || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 45;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The tokenizer: the current token lives in fields (no token objects are allocated); `lex()`
 * reads the next one. The parser extends it.
 */
export class Lexer {
  private pos = 0;
  /** The current token: kind, start, end, keyword text, minus sign, identifier has '-', timestamp body. */
  protected k = EOF;
  protected s = 0;
  protected e = 0;
  protected kw = '';
  protected neg = false;
  protected hyphen = false;
  protected ts = '';

  constructor(protected readonly src: string) {
    this.lex();
  }

  protected fail(offset: number, message: string): never {
    throw new PatternError(offset, message);
  }

  protected describe(): string {
    if (this.k === EOF) return 'the end of the pattern';
    const text = this.src.slice(this.s, Math.min(this.e, this.s + 40));
    return `'${text}${this.e - this.s > 40 ? '…' : ''}'`;
  }

  protected expected(what: string): never {
    this.fail(this.s, `expected ${what} at offset ${this.s}, found ${this.describe()}`);
  }

  private token(k: number, s: number, e: number): void {
    this.k = k;
    this.s = s;
    this.e = e;
    this.pos = e;
  }

  /** Skips whitespace and comments, then reads the next token into the fields. */
  protected lex(): void {
    const src = this.src;
    const n = src.length;
    let i = this.pos;
    this.kw = '';
    for (;;) {
      while (i < n && isWhitespace(src.charCodeAt(i))) i++;
      if (src.charCodeAt(i) === 47 && src.charCodeAt(i + 1) === 42) {
        const end = src.indexOf('*/', i + 2);
        if (end < 0) this.fail(i, `unterminated comment starting at offset ${i}`);
        i = end + 2;
      } else if (src.charCodeAt(i) === 47 && src.charCodeAt(i + 1) === 47) {
        while (i < n && src.charCodeAt(i) !== 10 && src.charCodeAt(i) !== 13) i++;
      } else break;
    }
    if (i >= n) return this.token(EOF, n, n);
    const c = src.charCodeAt(i);
    const next = src.charCodeAt(i + 1);
    switch (c) {
      case 91: return this.token(LBRACK, i, i + 1);
      case 93: return this.token(RBRACK, i, i + 1);
      case 40: return this.token(LPAREN, i, i + 1);
      case 41: return this.token(RPAREN, i, i + 1);
      case 58: return this.token(COLON, i, i + 1);
      case 44: return this.token(COMMA, i, i + 1);
      case 42: return this.token(STAR, i, i + 1);
      case 39: return this.token(STRING, i, this.stringEnd(i));
      case 61: return this.token(EQUALITY, i, next === 61 ? i + 2 : i + 1);
      case 33:
        if (next === 61) return this.token(EQUALITY, i, i + 2);
        break;
      case 60:
        if (next === 62) return this.token(EQUALITY, i, i + 2);
        return this.token(ORDER, i, next === 61 ? i + 2 : i + 1);
      case 62: return this.token(ORDER, i, next === 61 ? i + 2 : i + 1);
      case 46:
        if (!isDigit(next)) return this.token(DOT, i, i + 1);
        return this.number(i);
      case 43: case 45:
        if (isDigit(next) || (next === 46 && isDigit(src.charCodeAt(i + 2)))) return this.number(i);
        break;
      default:
        if (isDigit(c)) return this.number(i);
        if (next === 39 && (c === 116 || c === 104 || c === 98)) return this.typedLiteral(i, c);
        if (isIdentStart(c)) return this.identifier(i);
    }
    const ch = String.fromCodePoint(src.codePointAt(i) ?? c);
    return this.fail(i, `unexpected character '${ch}' at offset ${i}`);
  }

  private identifier(i: number): void {
    const src = this.src;
    const n = src.length;
    let j = i + 1;
    let hyphen = false;
    for (; j < n; j++) {
      const c = src.charCodeAt(j);
      if (c === 45) hyphen = true;
      else if (!isIdentPart(c)) break;
    }
    this.hyphen = hyphen;
    const c = src.charCodeAt(i);
    const len = j - i;
    if (c >= 65 && c <= 90 && len >= 2 && len <= 10 && !hyphen) {
      const text = src.slice(i, j);
      if (KEYWORDS.has(text)) {
        this.kw = text;
        return this.token(KEYWORD, i, j);
      }
    } else if ((c === 116 && len === 4 && src.startsWith('true', i)) || (c === 102 && len === 5 && src.startsWith('false', i))) {
      return this.token(BOOL, i, j);
    }
    this.token(IDENT, i, j);
  }

  /** The index after the closing quote of the string literal opening at `i`. */
  private stringEnd(i: number): number {
    const src = this.src;
    for (let j = i + 1; j < src.length; j++) {
      const c = src.charCodeAt(j);
      if (c === 39) return j + 1;
      if (c === 92) {
        const e = src.charCodeAt(j + 1);
        if (e !== 39 && e !== 92) {
          const shown = j + 1 < src.length ? `\\${src[j + 1] ?? ''}` : '\\';
          this.fail(j, `invalid escape '${shown}' at offset ${j}: in a string only \\' and \\\\ may follow a backslash`);
        }
        j++;
      }
    }
    return this.fail(i, `unterminated string literal starting at offset ${i}`);
  }

  private number(i: number): void {
    const src = this.src;
    let j = i;
    this.neg = src.charCodeAt(j) === 45;
    if (this.neg || src.charCodeAt(j) === 43) j++;
    const digitsAt = j;
    while (isDigit(src.charCodeAt(j))) j++;
    if (src.charCodeAt(j) === 46 && isDigit(src.charCodeAt(j + 1))) {
      j++;
      while (isDigit(src.charCodeAt(j))) j++;
      return this.token(FLOAT, i, j);
    }
    if (j - digitsAt > 1 && src.charCodeAt(digitsAt) === 48) this.fail(i, `an integer must not have leading zeros, at offset ${i}`);
    this.token(INT, i, j);
  }

  /** `t'…'`, `h'…'` or `b'…'` at `i`. */
  private typedLiteral(i: number, c: number): void {
    const src = this.src;
    const close = src.indexOf("'", i + 2);
    if (close < 0) this.fail(i, `unterminated literal starting at offset ${i}`);
    const body = src.slice(i + 2, close);
    if (c === 116) {
      if (!isTimestamp(body)) this.fail(i, `invalid timestamp literal at offset ${i}: expected t'YYYY-MM-DDTHH:MM:SS[.s]Z' on a real date`);
      this.ts = body;
      return this.token(TIMESTAMP, i, close + 1);
    }
    if (c === 104) {
      if (body.length % 2 !== 0 || !HEX_DIGITS.test(body)) this.fail(i, `invalid hex literal at offset ${i}: expected an even number of hex digits`);
      return this.token(HEX, i, close + 1);
    }
    if (body !== '' && !isBase64(body)) this.fail(i, `invalid binary literal at offset ${i}: expected base64 (RFC 4648) with its padding`);
    this.token(BINARY, i, close + 1);
  }
}
