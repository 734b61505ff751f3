/**
 * The STIX 2.1 pattern checker: the patterns of the specification and of the OASIS pattern
 * validator's tests are accepted; broken patterns are refused with the offset of the fault; the
 * checker never throws and accepts every pattern generated from the grammar.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPattern } from './stix.pattern.js';

const VALID = [
  // STIX 2.1 specification, section 9 examples
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
  "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
  "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008']",
  "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
  "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
  "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
  "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
  "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
  "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
  "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
  "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
  "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
  "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
  "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer$'] WITHIN 300 SECONDS",
  "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
  "([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
  "[network-traffic:src_port = 37020 AND user-account:user_id = 'root'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR [ipv4-addr:value = '192.168.122.83'] START t'2016-06-01T03:55:00.123Z' STOP t'2016-06-01T04:30:24.743Z'",
  // the OASIS pattern validator's passing cases (stix2patterns/test/v21/test_validator.py)
  '[file:size = 1280]', '[file:size != 1280]', '[file:size < 1024]', '[file:size <= 1024]', '[file:size > 1024]', '[file:size >= 1024]',
  "[file:extended_properties.'ntfs-ext'.sid = '234']",
  "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']",
  "[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
  '[file:size IN (1024, 2048, 4096)]',
  "[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']",
  "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
  "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
  '[foo:bar=1] REPEATS 9 TIMES',
  '( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])',
  "([win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar']) WITHIN 5 SECONDS WITHIN 6 SECONDS",
  "([win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar'] REPEATS 2 TIMES) REPEATS 2 TIMES",
  // the rest of the language
  "[file:name LIKE 'inv%' AND file:size NOT = 0]",
  "[file:name NOT LIKE 'inv%'] OR [file:name NOT MATCHES '^a' ] OR [ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']",
  '[EXISTS file:hashes.MD5 AND file:size > -1 AND file:x < -0.5 AND file:y <> +3]',
  "[x:flag = true OR x:flag != false OR x:when > t'2020-02-29T23:59:60Z']",
  "[x:empty IN ()] AND [x:hex = h'' OR x:bin = b'']",
  "[file:name = 'it\\'s'] /* a comment */ AND // another\n [file:size = 1] WITHIN 2.5 SECONDS",
  "\t[ file : name = 'a' ]\r\n",
  "[file:parent_directory_ref.'path' = 'x' AND file:'name' = 'y']",
];

describe('checkPattern accepts', () => {
  it.each(VALID)('%s', (p) => {
    expect(checkPattern(p)).toBeNull();
  });
});

/** [pattern, the message, at path `pattern`] */
const INVALID: [string, string][] = [
  ['file:size = 1280', "expected '[' or '(' to begin an observation expression at offset 0, found 'file'"],
  ['[file:size = ]', "expected a literal value after '=' at offset 13, found ']'"],
  ['[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]', "expected a literal value after '=' at offset 19, found 'cead3f77f6cda6ec00f57d76c9a6879f'"],
  ['[file.size = 1280]', "expected ':' after the object type 'file' at offset 5, found '.'"],
  ['[file:name MATCHES /.*\\.dll/]', "unexpected character '/' at offset 19"],
  ["[x:key = 'a'] WITHIN ]", "expected a positive number of seconds after WITHIN at offset 21, found ']'"],
  ["[x:key = 'a'] WITHIN 5 HOURS", "expected SECONDS at offset 23, found 'HOURS'"],
  ["[x:key = 'a'] WITHIN -5 SECONDS", "expected a positive number of seconds after WITHIN at offset 21, found '-5'"],
  ['[network-traffic:dst_ref.value ISSUBSET ]', "expected a string literal after ISSUBSET at offset 40, found ']'"],
  ["[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']", "unexpected character '?' at offset 18"],
  ["[x_whatever:detected == t'2457-73-22T32:81:84.1Z']", "invalid timestamp literal at offset 24: expected t'YYYY-MM-DDTHH:MM:SS[.s]Z' on a real date"],
  ["[x:when = t'2021-02-29T00:00:00Z']", "invalid timestamp literal at offset 10: expected t'YYYY-MM-DDTHH:MM:SS[.s]Z' on a real date"],
  ["[artifact:payload_bin = b'====']", 'invalid binary literal at offset 24: expected base64 (RFC 4648) with its padding'],
  ["[x:hex = h'abc']", 'invalid hex literal at offset 9: expected an even number of hex digits'],
  ['[foo:bar=1] within 2 seconds', "unexpected 'within' at offset 12: expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern"],
  ["[x:k = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS", 'duplicate WITHIN qualifier at offset 29: the observation expression at offset 0 takes each qualifier once (parenthesize it to apply another)'],
  ["[x:k = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES", 'duplicate REPEATS qualifier at offset 28: the observation expression at offset 0 takes each qualifier once (parenthesize it to apply another)'],
  ["[x:k = 'a'] START t'2016-06-01T02:20:00Z' STOP t'2016-06-01T01:30:00Z'", 'the STOP timestamp at offset 47 must be later than the START timestamp'],
  ["[x:k = 'a'] START '2016-06-01T02:20:00Z' STOP t'2016-06-01T01:30:00Z'", "expected a timestamp literal t'…' after START at offset 18, found ''2016-06-01T02:20:00Z''"],
  ["[x:k = 'a]", 'unterminated string literal starting at offset 7'],
  ["[x:k MATCHES '\\d+']", "invalid escape '\\d' at offset 14: in a string only \\' and \\\\ may follow a backslash"],
  ['[x:k = 1', "expected ']' to close the observation expression opened at offset 0 at offset 8, found the end of the pattern"],
  ['([x:k = 1]', "expected ')' to close the parenthesis opened at offset 0 at offset 10, found the end of the pattern"],
  ['', 'the pattern is empty'],
  ['   /* nothing */ ', 'the pattern is empty'],
  ['[x:k = 1] AND', "expected '[' or '(' to begin an observation expression at offset 13, found the end of the pattern"],
  ['[x:k = 1] [x:k = 2]', "unexpected '[' at offset 10: expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern"],
  ['[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]', "the property name 'windows-pebinary-ext' at offset 17 contains '-': quote it ('windows-pebinary-ext')"],
  ['[x:k > true]', "expected an orderable value after '>' (not a boolean) at offset 7, found 'true'"],
  ['[x:k = 007]', 'an integer must not have leading zeros, at offset 7'],
  ['[x:k = 1 and x:j = 2]', "expected ']' to close the observation expression opened at offset 0 at offset 9, found 'and'"],
  ['[x:k = 1 /* open', 'unterminated comment starting at offset 9'],
  ['[x:k IN 1]', "expected '(' to begin the set after IN at offset 8, found '1'"],
  ['[x:k IN (1 2)]', "expected ',' or ')' in the set opened at offset 8 at offset 11, found '2'"],
  ['[x:k[x] = 1]', "expected a list index or '*' at offset 5, found 'x'"],
  ['[x:k = 1 AND]', "expected a comparison (object-type:property operator value), '(' or EXISTS at offset 12, found ']'"],
  ['[x:k NOT (1)]', "expected a comparison operator after NOT at offset 9, found '('"],
  ["[x:k 'a']", "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) at offset 5, found ''a''"],
  ['[x: = 1]', "expected a property name after the colon at offset 4, found '='"],
  ['[EXISTS 5]', 'expected an object type (such as file or ipv4-addr) at offset 8, found \'5\''],
  ['[x:k = 1] REPEATS 2.5 TIMES', "expected a positive integer after REPEATS at offset 18, found '2.5'"],
  ['[x:k = 1] REPEATS 2 TIME', "expected TIMES at offset 20, found 'TIME'"],
  ['[x:k = 1] \u00e9', "unexpected character '\u00e9' at offset 10"],
  [`${'('.repeat(150)}[x:k = 1]${')'.repeat(150)}`, 'expressions nest deeper than 100 levels at offset 100'],
];

describe('checkPattern refuses', () => {
  it.each(INVALID)('%s', (p, message) => {
    expect(checkPattern(p)).toEqual({ path: 'pattern', message });
  });
});

// ---- properties ----

const KEYWORD_LIKE = new Set(['true', 'false']);
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/).filter((s) => !KEYWORD_LIKE.has(s));
const objectType = fc.constantFrom('file', 'ipv4-addr', 'domain-name', 'network-traffic', 'x-acme-thing', 'email-message');
const quoted = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const stringLiteral = fc.string({ maxLength: 12 }).map(quoted);
const step = fc.oneof(
  name.map((n) => `.${n}`),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/).map((n) => `.${quoted(n)}`),
  fc.oneof(fc.nat({ max: 99 }).map(String), fc.constant('*')).map((i) => `[${i}]`),
);
const path = fc.tuple(objectType, fc.oneof(name, stringLiteral), fc.array(step, { maxLength: 3 })).map(([t, first, steps]) => `${t}:${first}${steps.join('')}`);
const instant = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) });
const timestamp = instant.map((ms) => `t'${new Date(ms).toISOString()}'`);
const orderable = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.tuple(fc.nat(999), fc.nat(999)).map(([a, b]) => `${a}.${b}`),
  stringLiteral,
  timestamp,
  fc.uint8Array({ maxLength: 8 }).map((b) => `h'${Buffer.from(b).toString('hex')}'`),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => `b'${Buffer.from(b).toString('base64')}'`),
);
const primitive = fc.oneof(orderable, fc.constantFrom('true', 'false'));
const not = fc.constantFrom('', 'NOT ');
const comparison = fc.oneof(
  fc.tuple(path, not, fc.constantFrom('=', '==', '!=', '<>'), primitive).map(([p, n, op, v]) => `${p} ${n}${op} ${v}`),
  fc.tuple(path, not, fc.constantFrom('<', '<=', '>', '>='), orderable).map(([p, n, op, v]) => `${p} ${n}${op} ${v}`),
  fc.tuple(path, not, fc.array(primitive, { maxLength: 4 })).map(([p, n, vs]) => `${p} ${n}IN (${vs.join(', ')})`),
  fc.tuple(path, not, fc.constantFrom('LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'), stringLiteral).map(([p, n, op, v]) => `${p} ${n}${op} ${v}`),
  path.map((p) => `EXISTS ${p}`),
);
const qualifier = fc.oneof(
  fc.nat(100_000).map((n) => `WITHIN ${n} SECONDS`),
  fc.tuple(fc.nat(999), fc.nat(9)).map(([a, b]) => `WITHIN ${a}.${b} SECONDS`),
  fc.integer({ min: 1, max: 100 }).map((n) => `REPEATS ${n} TIMES`),
  fc.tuple(instant, fc.integer({ min: 1, max: 1e9 })).map(([a, d]) => `START t'${new Date(a).toISOString()}' STOP t'${new Date(a + d).toISOString()}'`),
);

const { pattern } = fc.letrec<{ cmp: string; obs: string; pattern: string }>((tie) => ({
  cmp: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.tuple(tie('cmp'), fc.constantFrom('AND', 'OR'), tie('cmp')).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie('cmp').map((c) => `(${c})`)),
  obs: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    tie('cmp').map((c) => `[${c}]`),
    fc.tuple(tie('cmp'), qualifier).map(([c, q]) => `[${c}] ${q}`),
    fc.tuple(tie('obs'), fc.constantFrom('AND', 'OR', 'FOLLOWEDBY'), tie('obs')).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie('obs'), fc.array(qualifier, { maxLength: 2 })).map(([o, qs]) => `(${o}) ${qs.join(' ')}`)),
  pattern: tie('obs'),
}));

const tokenSoup = fc.array(fc.constantFrom(
  '[', ']', '(', ')', ':', '.', ',', '*', '=', '!=', '<', '>=', 'AND', 'OR', 'NOT', 'IN', 'LIKE', 'EXISTS', 'FOLLOWEDBY', 'WITHIN', 'SECONDS',
  'REPEATS', 'TIMES', 'START', 'STOP', 'file', 'name', "'x'", '1', '-2.5', "t'2020-01-01T00:00:00Z'", "h'ff'", "b'AA=='", 'true', '/*', '*/', '\\', "'",
), { maxLength: 30 }).map((ts) => ts.join(' '));

describe('checkPattern (properties)', () => {
  it('accepts every pattern generated from the grammar', () => {
    fc.assert(fc.property(pattern, (p) => {
      expect(checkPattern(p)).toBeNull();
    }), { numRuns: 2000 });
  });

  it('never throws, and a refusal names the pattern and gives an offset', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), tokenSoup), (p) => {
      const r = checkPattern(p);
      if (r !== null) {
        expect(r.path).toBe('pattern');
        expect(r.message).toMatch(/offset \d+|the pattern is empty/);
      }
    }), { numRuns: 5000 });
  });

  it('refuses a generated pattern cut short', () => {
    fc.assert(fc.property(pattern, (p) => {
      // dropping the final ']' or ')' (or a qualifier's last word) always leaves it unfinished
      const cut = p.replace(/\s*(?:\]|\)|SECONDS|TIMES|'[^']*')\s*$/, '');
      fc.pre(cut !== p);
      expect(checkPattern(cut)).not.toBeNull();
    }), { numRuns: 500 });
  });
});
