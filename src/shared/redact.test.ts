import { describe, expect, it } from 'vitest';
import { redactUrls } from './redact.js';

describe('redactUrls', () => {
  it.each([
    ['https://hooks.example/T0/B1?token=s3cret', 'https://hooks.example/T0/B1?***'],
    ['https://user:pa55@hooks.example/x', 'https://***@hooks.example/x'],
    ['POST https://u:p@hooks.example:8443/a/b?x=1&y=2#frag failed: 500', 'POST https://***@hooks.example:8443/a/b?***#*** failed: 500'],
    ['connect ECONNREFUSED 127.0.0.1:9', 'connect ECONNREFUSED 127.0.0.1:9'],
    ['duty@example.org', 'duty@example.org'],
    ['two: http://a.example/?k=1 and http://b.example/p', 'two: http://a.example/?*** and http://b.example/p'],
  ])('%s → %s', (given, want) => {
    expect(redactUrls(given)).toBe(want);
    expect(redactUrls(given)).not.toMatch(/s3cret|pa55|k=1|x=1/);
  });
});
