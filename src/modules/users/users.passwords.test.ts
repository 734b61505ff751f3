import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword, verifyPassword } from './users.passwords.js';

describe('console passwords (scrypt)', () => {
  it('records scrypt, its parameters and a per-user salt with the hash; verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b); // salted
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('verifies a hash made with other (older) parameters, as recorded', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('an older password', salt, 32, { N: 1024, r: 8, p: 1 });
    const stored = `scrypt$N=1024,r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword('an older password', stored)).toBe(true);
    expect(await verifyPassword('another password', stored)).toBe(false);
  });

  it('no stored hash (unknown user, none set) or a malformed one: false, after the same work', async () => {
    expect(await verifyPassword('whatever it is here', null)).toBe(false);
    expect(await verifyPassword('whatever it is here', 'plain')).toBe(false);
  });

  it('refuses fewer than 12 characters with password_too_short', () => {
    expect(() => checkPassword('eleven char')).toThrow(expect.objectContaining({ code: 'password_too_short' }) as Error);
    expect(checkPassword('twelve chars')).toBe('twelve chars');
  });
});
