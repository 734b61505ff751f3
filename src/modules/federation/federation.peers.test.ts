import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDialect, makeStorePair, type StorePair } from '../../../test/helpers/stores.js';
import { canonicalJson } from '../../shared/canonical.js';
import { HotlineError } from '../../shared/errors.js';
import { generateKeys, signText } from '../identity/identity.keys.js';
import { checkFingerprint, makeDescriptor, parseDescriptor } from './federation.peers.js';
import type { Self } from './federation.types.js';

const { keys } = generateKeys();
const self: Self = { party: 'cn', name: 'CN CERT', url: 'https://cert.example/hotline/', channels: ['crisis', 'cert'] };

/** A descriptor of `self` with `change` applied, then signed again: refused, if at all, for `change` alone. */
function signed(change: Record<string, unknown>): unknown {
  const { sig: _sig, ...body } = { ...makeDescriptor(self, keys), ...change };
  return { ...body, sig: signText(keys.privateKey, canonicalJson(body)) };
}

function refusal(d: unknown): string {
  try {
    parseDescriptor(d);
  } catch (e) {
    if (e instanceof HotlineError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'accepted';
}

describe('a descriptor (protocol section 3.1)', () => {
  it('is accepted as made, with a path in its URL, a name of 200 characters and inner spaces', () => {
    expect(refusal(signed({}))).toBe('accepted');
    expect(refusal(signed({ name: `${'é'.repeat(99)} ${'😀'.repeat(100)}` }))).toBe('accepted');
  });

  it.each([
    ['https://u:p@cert.example/', /user name or password/],
    ['https://u@cert.example/', /user name or password/],
    ['https://@cert.example/', /user name or password/],
    ['https://cert.example/?a=1', /query \(the part from "\?"\)/],
    ['https://cert.example/?', /query/],
    ['https://cert.example/hotline?x', /query/],
    ['https://cert.example/?a=1#f', /fragment \(the part from "#"\)/],
    ['https://cert.example/#', /fragment/],
  ])('refuses the URL %s, naming the part', (url, message) => {
    const r = refusal(signed({ url }));
    expect(r).toMatch(/^invalid_argument: /);
    expect(r).toMatch(message);
  });

  it.each([
    [['crisis', 'crisis'], /"channels" lists "crisis" more than once/],
    [['crisis', 'cert', 'law', 'cert'], /"channels" lists "cert" more than once/],
    [['crisis', 'gossip'], /"channels" must list some of crisis, cert, law/],
  ])('refuses the channels %j', (channels, message) => {
    expect(refusal(signed({ channels }))).toMatch(message);
  });

  it.each([
    [' CN CERT', /must not begin or end with whitespace/],
    ['CN CERT ', /must not begin or end with whitespace/],
    ['CN CERT\t', /must not begin or end with whitespace/],
    ['\u00a0CN CERT', /must not begin or end with whitespace/],
    ['   ', /must not begin or end with whitespace/],
    ['', /must be a non-empty string/],
    [7, /must be a non-empty string/],
    ['x'.repeat(201), /"name" is 201 characters; at most 200/],
    ['😀'.repeat(201), /"name" is 201 characters; at most 200/],
  ])('refuses the name %j', (name, message) => {
    const r = refusal(signed({ name }));
    expect(r).toMatch(/^invalid_argument: /);
    expect(r).toMatch(message);
  });
});

describe('the fingerprint a person was given (peer add, peer repin)', () => {
  const d = parseDescriptor(signed({}));
  const check = (given: string): string => {
    try {
      checkFingerprint(d, given);
      return 'pinned';
    } catch (e) {
      if (e instanceof HotlineError) return `${e.code}: ${e.message}`;
      throw e;
    }
  };

  it('matches as read aloud, however spaced, and as `hotline fingerprint` prints it (party first)', () => {
    expect(check(d.fingerprint)).toBe('pinned');
    expect(check(d.fingerprint.replace(/ /g, ''))).toBe('pinned');
    expect(check(`  ${d.fingerprint.replace(/ /g, '\t')}\n`)).toBe('pinned');
    expect(check(`cn  ${d.fingerprint}`)).toBe('pinned');
  });

  it('refuses other digits, and the right digits named for another party, saying which', () => {
    const wrong = '11111 22222 33333 44444 55555 66666 77777 88888';
    expect(check(wrong)).toBe(`invalid_argument: The descriptor's fingerprint ${d.fingerprint} is not the one you were given (${wrong}); do not pin it`);
    expect(check(`cn  ${wrong}`)).toMatch(/^invalid_argument: .*is not the one you were given \(cn {2}11111/);
    expect(check(`ru  ${d.fingerprint}`)).toBe('invalid_argument: The fingerprint you were given is named for "ru", but the descriptor is "cn"\'s; do not pin it');
    expect(check(`${d.fingerprint} 1`)).toMatch(/is not the one you were given/);
    expect(check('')).toMatch(/is not the one you were given/);
  });
});

describeEachDialect('pinning a party already pinned', () => {
  let pair: StorePair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('is refused with peer_exists, saying what an administrator can do (a key-change, or a re-pin)', async () => {
    pair = await makeStorePair();
    const again = parseDescriptor(JSON.parse(JSON.stringify(makeDescriptor(pair.b.self, generateKeys().keys))));
    const error = await pair.a.peers.add(again).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'peer_exists' });
    const message = (error as Error).message;
    expect(message).not.toMatch(/keys change only by a signed key-change message/);
    expect(message).toMatch(/key-change/);
    expect(message).toMatch(/hotline peer repin/);
  });
});
