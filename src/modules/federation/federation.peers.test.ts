import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDialect, makeStorePair, type StorePair } from '../../../test/helpers/stores.js';
import { canonicalJson } from '../../shared/canonical.js';
import { HotlineError } from '../../shared/errors.js';
import { generateKeys, signText } from '../identity/identity.keys.js';
import { makeDescriptor, parseDescriptor } from './federation.peers.js';
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
