/** `hotline user passwd`, `user add --password-stdin`, `user totp --reset` (issue 11): the binary, password on stdin. */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { withNode } from '../src/adapters/cli/home.js';
import { BIN, ROOT, ensureBuilt } from './helpers/cli.js';
import { makeHome, type TestHome } from './helpers/nodes.js';

function hotline(home: string, input: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--home', home], { cwd: ROOT, input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function stored(home: string, name: string): Promise<{ hash: string | null; audit: string[] }> {
  return withNode(home, async (ctx) => {
    const u = await ctx.db.selectFrom('users').select(['password_hash']).where('name', '=', name).executeTakeFirst();
    const audit = await ctx.db.selectFrom('audit').select(['action', 'details']).where('subject', '=', name).orderBy('seq').execute();
    return { hash: u?.password_hash ?? null, audit: audit.map((a) => `${a.action} ${a.details}`) };
  });
}

describe('console passwords from the CLI', () => {
  let h: TestHome;
  beforeAll(async () => {
    ensureBuilt();
    h = await makeHome('us');
  });

  it('user add --password-stdin and user passwd read one line from stdin; the hash records scrypt and its parameters; audited without the password', async () => {
    const add = hotline(h.home, 'first password of olga\n', 'user', 'add', 'olga', '--channels', 'crisis', '--password-stdin');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('with a console password');
    const first = await stored(h.home, 'olga');
    expect(first.hash).toMatch(/^scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const set = hotline(h.home, 'second password of olga\nignored\n', 'user', 'passwd', 'olga');
    expect(set.code, set.stderr).toBe(0);
    const second = await stored(h.home, 'olga');
    expect(second.hash).not.toBe(first.hash);
    expect(second.audit.filter((a) => a.startsWith('user.password'))).toHaveLength(2);
    expect(JSON.stringify(second.audit)).not.toContain('password of olga');
    // The new password signs in; the old one does not.
    await withNode(h.home, async (ctx) => {
      await expect(ctx.sessions.signIn({ user: 'olga', password: 'first password of olga' }, '127.0.0.9')).rejects.toMatchObject({ code: 'bad_credentials' });
      expect((await ctx.sessions.signIn({ user: 'olga', password: 'second password of olga' }, '127.0.0.9')).session.user).toBe('olga');
    });
  });

  it('refuses a short password with password_too_short and leaves no user behind; no stdin, no change', () => {
    const short = hotline(h.home, 'short\n', 'user', 'add', 'pavel', '--channels', 'crisis', '--password-stdin');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('password_too_short');
    expect(short.stderr).toMatch(/at least 12 characters/);
    expect(hotline(h.home, '', 'user', 'list').stdout).not.toContain('pavel');
    const none = hotline(h.home, '', 'user', 'passwd', 'olga');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/No password on standard input/);
    const unknown = hotline(h.home, 'a long enough password\n', 'user', 'passwd', 'nobody');
    expect(unknown.stderr).toContain('unknown_user');
  });

  it('user totp --reset removes the second factor (audited)', async () => {
    await withNode(h.home, (ctx) => ctx.db.updateTable('users').set({ totp_secret: 'JBSWY3DPEHPK3PXP' }).where('name', '=', 'olga').execute());
    expect(hotline(h.home, '', 'user', 'totp', 'olga').stdout).toContain('TOTP enrolled');
    const r = hotline(h.home, '', 'user', 'totp', 'olga', '--reset');
    expect(r.code, r.stderr).toBe(0);
    expect(hotline(h.home, '', 'user', 'totp', 'olga').stdout).toContain('no TOTP');
    expect((await stored(h.home, 'olga')).audit.some((a) => a.startsWith('user.totp_reset'))).toBe(true);
  });
});
