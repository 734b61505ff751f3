/**
 * Users, tokens and TLP:RED from the CLI, as the node operator runs it: each command goes through
 * the CLI's entry point (`run`, what bin/hotline.js calls) in this process. `--as USER` exercises the same visibility rule as
 * the REST API; the red message crosses between the nodes by offline carriage (export/import).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/adapters/cli/commands/demo.js';
import { ensureBuilt, runCli } from './helpers/cli.js';

const STACK = '    at ';
const FINGERPRINT = /\b\d{5}(?: \d{5}){7}\b/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hotline ARGS` with a clean environment, in this process (runCli: the CLI's entry point, output captured). */
function hl(args: readonly string[]): Promise<Run> {
  return runCli(args);
}

async function exits(p: Promise<Run>, code: number, ...patterns: RegExp[]): Promise<Run> {
  const r = await p;
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  expect(r.stderr + r.stdout).not.toContain(STACK);
  for (const pattern of patterns) expect(code === 0 ? r.stdout : r.stderr).toMatch(pattern);
  return r;
}

const ok = (args: readonly string[], ...patterns: RegExp[]): Promise<Run> => exits(hl(args), 0, ...patterns);
const json = async <T>(args: readonly string[]): Promise<T> => JSON.parse((await ok([...args, '--json'])).stdout) as T;

type Listed = { messages: { id: string; text: string | null; redacted?: string; channel: string }[] };

let dir: string;
let us: string;
let ru: string;

async function init(party: string): Promise<{ home: string; fingerprint: string }> {
  const home = join(dir, party);
  const r = await ok(['init', '--home', home, '--party', party, '--name', party.toUpperCase(), '--listen', `127.0.0.1:${await freePort()}`]);
  return { home, fingerprint: FINGERPRINT.exec(r.stdout)![0] };
}

beforeAll(async () => {
  ensureBuilt('src/adapters/cli/commands/user.js');
  dir = mkdtempSync(join(tmpdir(), 'hotline-users-cli-'));
  const a = await init('us');
  const b = await init('ru');
  us = a.home;
  ru = b.home;
  for (const [home, other] of [[us, b], [ru, a]] as const) {
    const file = join(dir, `${other.home === us ? 'us' : 'ru'}.descriptor.json`);
    writeFileSync(file, (await ok(['descriptor', '--home', other.home])).stdout);
    await ok(['peer', 'add', '--home', home, '--descriptor', file, '--fingerprint', other.fingerprint]);
  }
  for (const [home, name, channels] of [[us, 'carol', 'cert'], [us, 'dave', 'cert'], [ru, 'alice', 'cert'], [ru, 'bob', 'cert'], [ru, 'lena', 'law']] as const) {
    await ok(['user', 'add', name, '--role', 'officer', '--channels', channels, '--home', home], new RegExp(`Added ${name} +officer; channels ${channels}`));
  }
});

describe.sequential('hotline user and token', () => {
  it('user list shows roles and channels; user add refuses bad input with exit 2 and changes nothing', async () => {
    const listed = await json<{ users: { name: string; role: string; channels: string[] }[] }>(['user', 'list', '--home', ru]);
    expect(listed.users.map((u) => [u.name, u.role, u.channels])).toEqual([['alice', 'officer', ['cert']], ['bob', 'officer', ['cert']], ['lena', 'officer', ['law']]]);
    await exits(hl(['user', 'add', 'navy', '--channels', 'cert,navy', '--home', ru]), 2, /unknown_channel/, /"navy"/);
    await exits(hl(['user', 'add', 'nochan', '--home', ru]), 2, /invalid_argument/, /needs channels/);
    await exits(hl(['user', 'add', 'Bad!', '--channels', 'cert', '--home', ru]), 2, /invalid_argument/);
    await exits(hl(['user', 'add', 'alice', '--channels', 'law', '--home', ru]), 1, /user_exists/);
    expect(await json(['user', 'list', '--home', ru])).toEqual(listed);
  });

  it('token create prints the secret once; list never shows it; revoke marks it; an unknown user is exit 1', async () => {
    const created = await ok(['token', 'create', '--user', 'bob', '--home', ru], /Secret {2}[A-Za-z0-9_-]{43}\n/, /shown only now/);
    const secret = /Secret {2}(\S+)/.exec(created.stdout)![1]!;
    const id = /Token {3}(\S+)/.exec(created.stdout)![1]!;
    const list = await ok(['token', 'list', '--home', ru]);
    expect(list.stdout).toContain(id);
    expect(list.stdout).not.toContain(secret);
    expect(JSON.stringify(await json(['token', 'list', '--user', 'bob', '--home', ru]))).not.toContain(secret);
    await ok(['token', 'revoke', id, '--home', ru], /Revoked token/);
    const after = await json<{ tokens: { id: string; revoked_at: string | null }[] }>(['token', 'list', '--home', ru]);
    expect(after.tokens.find((t) => t.id === id)!.revoked_at).not.toBeNull();
    await exits(hl(['token', 'create', '--user', 'ghost', '--home', ru]), 1, /unknown_user/, /"ghost"/);
    await exits(hl(['token', 'revoke', '01a20000-0000-7000-8000-000000000000', '--home', ru]), 1, /not_found/);
    expect(await json(['token', 'list', '--home', ru])).toEqual(after);
  });
});

describe.sequential('TLP:RED and the channel wall from the CLI (--as)', () => {
  let id: string;

  it('send --tlp red needs --recipients (exit 2, nothing queued); --as records the sender; --as a user without the channel is refused', async () => {
    const before = await json(['outbox', '--home', us]);
    await exits(hl(['send', '--home', us, '--to', 'ru', '--channel', 'cert', '--tlp', 'red', '--text', 'x', '--as', 'carol']), 2, /tlp_red_needs_recipients/);
    await exits(hl(['send', '--home', us, '--to', 'ru', '--channel', 'cert', '--tlp', 'amber', '--text', 'x', '--recipients', 'alice']), 2, /TLP:RED messages only/);
    await exits(hl(['send', '--home', us, '--to', 'ru', '--channel', 'law', '--text', 'x', '--as', 'carol']), 1, /forbidden/, /"law"/);
    await exits(hl(['send', '--home', us, '--to', 'ru', '--channel', 'cert', '--text', 'x', '--as', 'ghost']), 1, /unknown_user/);
    // TLP:RED only to users ru has published as able to receive it on cert: none yet.
    await exits(hl(['send', '--home', us, '--to', 'ru', '--channel', 'cert', '--tlp', 'red', '--text', 'x', '--recipients', 'alice', '--as', 'carol']), 1, /unknown_recipient/, /ru has published no user who may receive TLP:RED on cert/);
    expect(await json(['outbox', '--home', us])).toEqual(before);
    // ru links alice to a contact on cert and publishes its directory; us imports it (carriage).
    await ok(['contact', 'add', '--home', ru, '--channel', 'cert', '--function', 'CERT officer', '--name', 'Alice', '--user', 'alice']);
    await ok(['directory', 'publish', '--home', ru]);
    const dirFile = join(dir, 'directory-to-us.json');
    await ok(['export', '--home', ru, '--to', 'us', '--out', dirFile]);
    await ok(['import', dirFile, '--home', us, '--receipts-out', join(dir, 'directory-receipts.json')]);
    await exits(hl(['send', '--home', us, '--to', 'ru', '--channel', 'cert', '--tlp', 'red', '--text', 'x', '--recipients', 'alice,bob', '--as', 'carol']), 1, /unknown_recipient/, /bob not in ru's directory: ru publishes on cert: alice/);
    const before2 = await json(['outbox', '--home', us]);
    expect(before2).toEqual(before);
    id = (await ok(['send', '--home', us, '--to', 'ru', '--channel', 'cert', '--tlp', 'red', '--text', 'red secret', '--recipients', 'alice', '--as', 'carol'])).stdout.trim();
  });

  it('on the sending node: the sender reads it; another cert user and the administrator see it redacted', async () => {
    expect((await json<Listed>(['outbox', '--home', us, '--as', 'carol'])).messages[0]).toMatchObject({ id, text: 'red secret' });
    expect((await ok(['show', id, '--home', us, '--as', 'carol'])).stdout).toContain('red secret');
    for (const as of [['--as', 'dave'], []]) {
      const shown = await ok(['show', id, '--home', us, ...as], /TLP:RED — visible only to its sender carol \(and, at ru, to alice\)/);
      expect(shown.stdout).not.toContain('red secret');
      expect((await ok(['outbox', '--home', us, ...as])).stdout).not.toContain('red secret');
    }
  });

  it('carried to ru: alice reads it, bob and the administrator see it redacted, lena (law) does not see it', async () => {
    const file = join(dir, 'to-ru.json');
    await ok(['export', '--home', us, '--to', 'ru', '--out', file]);
    await ok(['import', file, '--home', ru, '--receipts-out', join(dir, 'receipts.json')]);
    expect((await json<Listed>(['inbox', '--home', ru, '--as', 'alice'])).messages).toMatchObject([{ id, text: 'red secret' }]);
    for (const as of [['--as', 'bob'], []]) {
      const listed = await json<Listed>(['inbox', '--home', ru, ...as]);
      expect(listed.messages).toMatchObject([{ id, text: null, redacted: 'TLP:RED — visible only to alice' }]);
      expect(JSON.stringify(await json(['show', id, '--home', ru, ...as]))).not.toContain('red secret');
      expect((await ok(['inbox', '--home', ru, ...as])).stdout).toContain('TLP:RED — visible only to alice');
    }
    expect((await json<Listed>(['inbox', '--home', ru, '--as', 'lena'])).messages).toEqual([]);
    await exits(hl(['show', id, '--home', ru, '--as', 'lena']), 1, /not_found/);
    await exits(hl(['inbox', '--home', ru, '--as', 'ghost']), 1, /unknown_user/);
  });

  it('a disabled user can no longer act: --as is refused', async () => {
    await ok(['user', 'disable', 'bob', '--home', ru], /Disabled bob/);
    await exits(hl(['inbox', '--home', ru, '--as', 'bob']), 1, /unauthorized/, /disabled/);
  });
});
