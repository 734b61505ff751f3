import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffMs, DEFAULT_DELIVERY } from './federation.delivery.js';

describe('backoffMs', () => {
  it('waits between half and all of base·2^(n-1), never more than the cap', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
      const ms = backoffMs(n, DEFAULT_DELIVERY, () => r);
      const ceiling = Math.min(DEFAULT_DELIVERY.backoffMaxMs, DEFAULT_DELIVERY.backoffBaseMs * 2 ** Math.min(n - 1, 30));
      expect(ms).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
      expect(ms).toBeLessThanOrEqual(ceiling);
    }));
  });

  it('grows exponentially before the cap', () => {
    const mid = () => 0.5;
    expect(backoffMs(1, DEFAULT_DELIVERY, mid)).toBe(375);
    expect(backoffMs(2, DEFAULT_DELIVERY, mid)).toBe(750);
    expect(backoffMs(3, DEFAULT_DELIVERY, mid)).toBe(1500);
    expect(backoffMs(40, DEFAULT_DELIVERY, mid)).toBe(45_000);
  });
});
