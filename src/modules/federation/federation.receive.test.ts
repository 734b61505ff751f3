import { afterEach, expect, it } from 'vitest';
import { FakeClock } from '../../shared/clock.js';
import { describeEachDialect, makeStorePair, send, snapshot, type StorePair } from '../../../test/helpers/stores.js';
import { receiveBatch } from './federation.receive.js';

let pair: StorePair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describeEachDialect('receiveBatch', () => {
  it('answers a byte-identical replay with the original receipt even after the age limit has passed', async () => {
    pair = await makeStorePair();
    const [env] = await send(pair.a, pair.b, 1);
    const clock = new FakeClock(Date.now());
    const b = { ...pair.b, clock };
    const [first] = await receiveBatch(b, [env]);
    expect(first!.ok).toBe(true);
    clock.advance(b.limits.maxEnvelopeAgeMs + 60_000);
    const before = await snapshot(b.db);
    const [again] = await receiveBatch(b, [JSON.parse(JSON.stringify(env))]);
    expect(again).toEqual(first);
    expect(await snapshot(b.db)).toEqual(before);
    // A new envelope that old is refused as stale.
    const [late] = await send(pair.a, pair.b, 1);
    const [stale] = await receiveBatch(b, [late]);
    expect(stale!.ok ? 'ok' : stale!.error.code).toBe('stale_envelope');
  });

  it('refuses a signature re-spelt in non-canonical base64url', async () => {
    pair = await makeStorePair();
    const [env] = await send(pair.a, pair.b, 1);
    const last = env!.sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last character carries 2 padding bits: a different character with the same top 4 bits decodes the same.
    const twin = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)]!;
    const respelt = { ...env!, sig: env!.sig.slice(0, -1) + twin };
    expect(Buffer.from(respelt.sig, 'base64url')).toEqual(Buffer.from(env!.sig, 'base64url'));
    const [r] = await receiveBatch(pair.b, [respelt]);
    expect(r!.ok ? 'ok' : r!.error.code).toBe('bad_signature');
  });
});
