/**
 * The STIX 2.1 patterning language (section 9), checked structurally: a recursive-descent parser
 * (over the tokenizer of stix.lexer.ts) for the OASIS ANTLR grammar (STIXPattern.g4, 2.1):
 *
 *   pattern        := obsFollowedBy EOF
 *   obsFollowedBy  := obsOr (FOLLOWEDBY obsOr)*
 *   obsOr          := obsAnd (OR obsAnd)*
 *   obsAnd         := observation (AND observation)*
 *   observation    := ( '[' cmpOr ']' | '(' obsFollowedBy ')' ) qualifier*
 *   qualifier      := WITHIN number SECONDS | REPEATS int TIMES | START t'…' STOP t'…'
 *   cmpOr          := cmpAnd (OR cmpAnd)*
 *   cmpAnd         := propTest (AND propTest)*
 *   propTest       := '(' cmpOr ')' | EXISTS path | path NOT? op operand
 *   path           := type ':' (ident | 'string') ( '.' (ident | 'string') | '[' (int | '*') ']' )*
 *
 * Keywords are upper case, `true`/`false` lower case; whitespace and comments are skipped.
 * Beyond the grammar: timestamps must be real dates, a qualifier kind may appear only once directly
 * on a bracketed observation expression (as the OASIS pattern validator, cti-pattern-validator),
 * and STOP must be later than START.
 * Whether a property exists on an object type is not checked. Offsets count UTF-16 code units.
 */
import type { StixProblem } from './stix.types.js';
import { compareTimestamps } from './stix.values.js';
import {
  BINARY, BOOL, COLON, COMMA, DOT, EOF, EQUALITY, FLOAT, HEX, IDENT, INT, KEYWORD, LBRACK, Lexer, LPAREN, ORDER, PatternError,
  RBRACK, RPAREN, STAR, STRING, TIMESTAMP,
} from './stix.lexer.js';

/** Operators whose operand is one string literal. */
const STRING_OPERATORS = new Set(['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET']);

/** Deeper nesting of brackets and parentheses is refused rather than risking the stack. */
const MAX_DEPTH = 100;

/** Parses one pattern: a recursive-descent parser over the lexer's current token. */
class Parser extends Lexer {
  private depth = 0;

  private advance(): void {
    this.lex();
  }

  private isKeyword(word: string): boolean {
    return this.k === KEYWORD && this.kw === word;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(this.s, `expressions nest deeper than ${MAX_DEPTH} levels at offset ${this.s}`);
  }

  parse(): void {
    if (this.k === EOF) this.fail(0, 'the pattern is empty');
    this.followedBy();
    if (this.k !== EOF) {
      this.fail(this.s, `unexpected ${this.describe()} at offset ${this.s}: expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern`);
    }
  }

  private followedBy(): void {
    this.obsOr();
    while (this.isKeyword('FOLLOWEDBY')) {
      this.advance();
      this.obsOr();
    }
  }

  private obsOr(): void {
    this.obsAnd();
    while (this.isKeyword('OR')) {
      this.advance();
      this.obsAnd();
    }
  }

  private obsAnd(): void {
    this.observation();
    while (this.isKeyword('AND')) {
      this.advance();
      this.observation();
    }
  }

  private observation(): void {
    const open = this.s;
    if (this.k === LBRACK) {
      this.enter();
      this.advance();
      this.cmpOr();
      if (this.k !== RBRACK) this.expected(`']' to close the observation expression opened at offset ${open}`);
      this.advance();
      this.depth--;
    } else if (this.k === LPAREN) {
      this.enter();
      this.advance();
      this.followedBy();
      if (this.k !== RPAREN) this.expected(`')' to close the parenthesis opened at offset ${open}`);
      this.advance();
      this.depth--;
    } else {
      this.expected("'[' or '(' to begin an observation expression");
    }
    if (this.k === KEYWORD) this.qualifiers(open, this.src.charCodeAt(open) === 91);
  }

  /**
   * Qualifiers after the observation expression opened at `open`. On a bracketed expression each
   * kind may appear once (as the OASIS validator); on a parenthesized group they may repeat.
   */
  private qualifiers(open: number, simple: boolean): void {
    let seen = '';
    for (;;) {
      const q = this.kw;
      const at = this.s;
      if (this.k !== KEYWORD || (q !== 'WITHIN' && q !== 'REPEATS' && q !== 'START')) return;
      if (simple && seen.includes(q)) {
        this.fail(at, `duplicate ${q} qualifier at offset ${at}: the observation expression at offset ${open} takes each qualifier once (parenthesize it to apply another)`);
      }
      if (simple) seen += `${q} `;
      this.advance();
      if (q === 'WITHIN') {
        if ((this.k !== INT && this.k !== FLOAT) || this.neg) this.expected('a positive number of seconds after WITHIN');
        this.advance();
        if (!this.isKeyword('SECONDS')) this.expected('SECONDS');
        this.advance();
      } else if (q === 'REPEATS') {
        if (this.k !== INT || this.neg) this.expected('a positive integer after REPEATS');
        this.advance();
        if (!this.isKeyword('TIMES')) this.expected('TIMES');
        this.advance();
      } else {
        if (this.k !== TIMESTAMP) this.expected("a timestamp literal t'…' after START");
        const start = this.ts;
        this.advance();
        if (!this.isKeyword('STOP')) this.expected('STOP');
        this.advance();
        if (this.k !== TIMESTAMP) this.expected("a timestamp literal t'…' after STOP");
        const stopAt = this.s;
        if (compareTimestamps(this.ts, start) <= 0) {
          this.fail(stopAt, `the STOP timestamp at offset ${stopAt} must be later than the START timestamp`);
        }
        this.advance();
      }
    }
  }

  private cmpOr(): void {
    this.cmpAnd();
    while (this.isKeyword('OR')) {
      this.advance();
      this.cmpAnd();
    }
  }

  private cmpAnd(): void {
    this.propTest();
    while (this.isKeyword('AND')) {
      this.advance();
      this.propTest();
    }
  }

  private propTest(): void {
    if (this.k === LPAREN) {
      const open = this.s;
      this.enter();
      this.advance();
      this.cmpOr();
      if (this.k !== RPAREN) this.expected(`')' to close the parenthesis opened at offset ${open}`);
      this.advance();
      this.depth--;
      return;
    }
    if (this.isKeyword('EXISTS')) {
      this.advance();
      this.objectPath();
      return;
    }
    if (this.k !== IDENT) this.expected("a comparison (object-type:property operator value), '(' or EXISTS");
    this.objectPath();
    let negated = false;
    if (this.isKeyword('NOT')) {
      negated = true;
      this.advance();
    }
    const k = this.k;
    const kw = this.kw;
    if (k === EQUALITY) {
      this.advance();
      this.literal(true, '=');
    } else if (k === ORDER) {
      const op = this.src.slice(this.s, this.e);
      this.advance();
      this.literal(false, op);
    } else if (k === KEYWORD && kw === 'IN') {
      this.advance();
      this.set();
    } else if (k === KEYWORD && STRING_OPERATORS.has(kw)) {
      this.advance();
      if (this.k !== STRING) this.expected(`a string literal after ${kw}`);
      this.advance();
    } else {
      this.expected(negated
        ? 'a comparison operator after NOT'
        : 'a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)');
    }
  }

  private objectPath(): void {
    if (this.k !== IDENT) this.expected('an object type (such as file or ipv4-addr)');
    const typeStart = this.s;
    const typeEnd = this.e;
    this.advance();
    if (this.k !== COLON) this.expected(`':' after the object type '${this.src.slice(typeStart, typeEnd)}'`);
    this.advance();
    this.pathKey('a property name after the colon');
    for (;;) {
      if (this.k === DOT) {
        this.advance();
        this.pathKey("a property name after '.'");
      } else if (this.k === LBRACK) {
        this.advance();
        if (this.k !== INT && this.k !== STAR) this.expected("a list index or '*'");
        this.advance();
        if (this.k !== RBRACK) this.expected("']' to close the list index");
        this.advance();
      } else return;
    }
  }

  private pathKey(what: string): void {
    if (this.k === IDENT && this.hyphen) {
      const name = this.src.slice(this.s, this.e);
      this.fail(this.s, `the property name '${name}' at offset ${this.s} contains '-': quote it ('${name}')`);
    }
    if (this.k !== IDENT && this.k !== STRING) this.expected(what);
    this.advance();
  }

  private literal(allowBool: boolean, op: string): void {
    const k = this.k;
    if (k === INT || k === FLOAT || k === STRING || k === TIMESTAMP || k === HEX || k === BINARY || (allowBool && k === BOOL)) {
      this.advance();
      return;
    }
    this.expected(k === BOOL ? `an orderable value after '${op}' (not a boolean)` : `a literal value after '${op}'`);
  }

  private set(): void {
    const open = this.s;
    if (this.k !== LPAREN) this.expected("'(' to begin the set after IN");
    this.advance();
    if (this.k === RPAREN) {
      this.advance();
      return;
    }
    for (;;) {
      this.literal(true, 'IN (');
      if (this.k === RPAREN) break;
      if (this.k !== COMMA) this.expected(`',' or ')' in the set opened at offset ${open}`);
      this.advance();
    }
    this.advance();
  }
}

/**
 * Checks a STIX 2.1 pattern (an indicator's `pattern` when `pattern_type` is `stix`). Returns null
 * when it parses, else one problem at path `pattern` whose message gives the offset. Never throws.
 */
export function checkPattern(pattern: string): StixProblem | null {
  try {
    new Parser(pattern).parse();
    return null;
  } catch (e) {
    if (e instanceof PatternError) return { path: 'pattern', message: e.message };
    /* c8 ignore next 2: only a bug in the parser gets here */
    return { path: 'pattern', message: `the pattern could not be checked: ${e instanceof Error ? e.message : String(e)}` };
  }
}
