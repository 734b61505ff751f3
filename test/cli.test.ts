/**
 * Issue 2, CLI side: bad arguments and broken config files give a clear message, exit 2 and no
 * stack trace; operations that fail give exit 1 and a stable code; the offline-carriage round trip
 * works end to end. Commands run in this process through the CLI's entry point (`run`, what
 * bin/hotline.js calls; see runCli in helpers/cli.ts); those marked `binary` run the real
 * `hotline` binary (bin/hotline.js → dist/) as a child process: init, --help, exit codes through
 * process.exitCode, the environment (HOTLINE_HOME) and standard input.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ensureBuilt, runCli } from './helpers/cli.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/pg.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'hotline.js');
const FINGERPRINT = /\b\d{5}(?: \d{5}){7}\b/;
const STACK = '    at ';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `hotline ARGS` with a clean environment (no HOTLINE_HOME unless given): in this process,
 * or with `binary` (and always when there is `input` for stdin) as a child process.
 */
function hl(args: readonly string[], opts: { env?: Record<string, string>; input?: string; binary?: boolean } = {}): Promise<Run> {
  if (opts.binary !== true && opts.input === undefined) return runCli(args, opts.env);
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...opts.env },
      encoding: 'utf8',
    }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** Expects exit `code`, no stack trace, and stderr matching every pattern. */
async function expectExit(p: Promise<Run>, code: number, ...patterns: (RegExp | string)[]): Promise<Run> {
  const r = await p;
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  expect(r.stderr).not.toContain(STACK);
  expect(r.stdout).not.toContain(STACK);
  for (const p of patterns) {
    if (typeof p === 'string') expect(r.stderr).toContain(p);
    else expect(r.stderr).toMatch(p);
  }
  return r;
}

async function ok(p: Run | Promise<Run>): Promise<Run> {
  const r = await p;
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  expect(r.stderr).not.toContain(STACK);
  return r;
}

async function json<T = Record<string, unknown>>(p: Promise<Run>): Promise<T> {
  const r = await ok(p);
  return JSON.parse(r.stdout) as T;
}

let nextPort = 17_100 + Math.floor(Math.random() * 20_000);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'hotline-cli-'));
}

/** `hotline init` in a fresh directory; returns the home and the printed fingerprint. */
async function init(party: string, dir = tmp(), binary = false, extra: readonly string[] = []): Promise<{ home: string; fingerprint: string; run: Run }> {
  const home = join(dir, party);
  const run = await ok(hl(['init', '--home', home, '--party', party, '--name', `${party.toUpperCase()} CERT`, '--listen', `127.0.0.1:${nextPort++}`, ...extra], { binary }));
  const fp = FINGERPRINT.exec(run.stdout);
  expect(fp, run.stdout).not.toBeNull();
  return { home, fingerprint: fp![0], run };
}

/** Pins b on a from b's `descriptor` output, checking the fingerprint as an operator would. */
async function pin(a: string, b: { home: string; fingerprint: string }, viaStdin = false): Promise<void> {
  const descriptor = (await ok(hl(['descriptor', '--home', b.home]))).stdout;
  if (viaStdin) {
    await ok(hl(['peer', 'add', '--home', a, '--descriptor', '-', '--fingerprint', b.fingerprint], { input: descriptor }));
  } else {
    const file = join(tmp(), 'descriptor.json');
    writeFileSync(file, descriptor);
    await ok(hl(['peer', 'add', '--home', a, '--descriptor', file, '--fingerprint', b.fingerprint]));
  }
}

type Messages = { messages: { id: string; state: string; text: string | null; from: string; to: string }[] };

beforeAll(() => {
  ensureBuilt();
});

describe.concurrent('hotline CLI (each test on its own homes; run concurrently)', () => {
  describe('hotline init', () => {
    it('creates a home: hotline.json, node.key (0600), admin.token, hotline.db; prints an 8×5-digit fingerprint', async () => {
      const { home, fingerprint, run } = await init('us', tmp(), true);
      for (const f of ['hotline.json', 'node.key', 'admin.token', 'hotline.db']) expect(existsSync(join(home, f)), f).toBe(true);
      expect(statSync(join(home, 'node.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'admin.token')).mode & 0o777).toBe(0o600);
      expect(run.stdout).toMatch(/Fingerprint\s+\d{5}( \d{5}){7}\n/);
      const config = JSON.parse(readFileSync(join(home, 'hotline.json'), 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({ party: 'us', key_file: 'node.key', store: { driver: 'sqlite', path: 'hotline.db' } });
      // The fingerprint printed at init is the node's fingerprint.
      expect((await ok(hl(['fingerprint', '--home', home], { binary: true }))).stdout.trim()).toBe(`us  ${fingerprint}`);
    });

    it('refuses to initialise the same home twice: exit 2, "refusing to overwrite", files unchanged', async () => {
      const { home } = await init('us');
      const files = ['hotline.json', 'node.key', 'admin.token', 'hotline.db'];
      const before = files.map((f) => readFileSync(join(home, f)));
      const r = hl(['init', '--home', home, '--party', 'ru', '--name', 'Other', '--listen', '127.0.0.1:1']);
      await expectExit(r, 2, /home_exists/, /refusing to overwrite/, home);
      expect(files.map((f) => readFileSync(join(home, f)))).toEqual(before);
    });

    it('a bad --party or --listen: exit 2, names the problem, leaves no half-made home', async () => {
      const dir = tmp();
      await expectExit(hl(['init', '--home', join(dir, 'a'), '--party', 'US!', '--name', 'x', '--listen', '127.0.0.1:7001']), 2, '"party"');
      expect(existsSync(join(dir, 'a'))).toBe(false);
      await expectExit(hl(['init', '--home', join(dir, 'b'), '--party', 'us', '--name', 'x', '--listen', 'nowhere']), 2, '--listen');
      await expectExit(hl(['init', '--home', join(dir, 'c'), '--party', 'us', '--name', 'x', '--listen', '127.0.0.1:70000']), 2, /--listen port 70000/);
      expect(existsSync(join(dir, 'b'))).toBe(false);
      expect(existsSync(join(dir, 'c'))).toBe(false);
    });

    it('a --name, --url or --channels a peer would refuse in the descriptor: exit 2, names the problem, no home (protocol 3.1)', async () => {
      const dir = tmp();
      const init = (sub: string, ...more: string[]): Promise<Run> =>
        hl(['init', '--home', join(dir, sub), '--party', 'us', '--listen', '127.0.0.1:7001', ...more]);
      await expectExit(init('a', '--name', 'US CERT '), 2, /config_invalid/, '"name" must not begin or end with whitespace');
      await expectExit(init('b', '--name', 'x'.repeat(201)), 2, /"name" is 201 characters; at most 200/);
      await expectExit(init('c', '--name', 'US', '--url', 'https://cert.example/?a=1'), 2, /"url".*query/);
      await expectExit(init('d', '--name', 'US', '--url', 'https://u:p@cert.example/'), 2, /"url".*user name or password/);
      await expectExit(init('e', '--name', 'US', '--url', 'https://cert.example/#f'), 2, /"url".*fragment/);
      await expectExit(init('f', '--name', 'US', '--channels', 'crisis,crisis'), 2, /"channels" lists "crisis" more than once/);
      for (const sub of ['a', 'b', 'c', 'd', 'e', 'f']) expect(existsSync(join(dir, sub))).toBe(false);
    });
  });

  describe('bad arguments: exit 2, a message, no stack trace', () => {
    let home: string;
    beforeAll(async () => {
      home = (await init('us')).home;
    });

    it('an unknown option', async () => {
      await expectExit(hl(['fingerprint', '--home', home, '--bogus'], { binary: true }), 2, /unknown option '--bogus'/);
    });

    it('a missing required option', async () => {
      await expectExit(hl(['init', '--home', join(tmp(), 'x'), '--party', 'us', '--listen', '127.0.0.1:7001']), 2, /required option '--name <name>' not specified/);
      // (--text is optional since templates: whether a kind needs it is its template's call, test/templates.exchange.test.ts)
      await expectExit(hl(['send', '--home', home, '--channel', 'crisis', '--text', 'hello']), 2, /required option '--to <party>' not specified/);
    });

    it('an unknown command', async () => {
      await expectExit(hl(['frobnicate', '--home', home]), 2, /unknown command 'frobnicate'/);
    });

    it('no --home and no HOTLINE_HOME', async () => {
      await expectExit(hl(['fingerprint'], { binary: true }), 2, /--home/, /HOTLINE_HOME/);
      await expectExit(hl(['inbox', '--json']), 2, /--home/, /HOTLINE_HOME/);
    });

    it('a --home where there is no node: exit 2, home_missing, says how to create one', async () => {
      const nowhere = join(tmp(), 'nothing-here');
      await expectExit(hl(['fingerprint', '--home', nowhere]), 2, /home_missing/, nowhere, /hotline init/);
    });

    it('HOTLINE_HOME works in place of --home; --home wins over it', async () => {
      const viaEnv = await ok(hl(['fingerprint'], { env: { HOTLINE_HOME: home }, binary: true }));
      expect(viaEnv.stdout).toMatch(new RegExp(`^us  ${FINGERPRINT.source}\\n$`));
      const other = (await init('ru')).home;
      const viaOpt = await ok(hl(['fingerprint', '--home', other], { env: { HOTLINE_HOME: home }, binary: true }));
      expect(viaOpt.stdout).toMatch(/^ru {2}/);
      // --home before the verb works too.
      expect((await ok(hl(['--home', home, 'fingerprint']))).stdout).toBe(viaEnv.stdout);
    });

    it('--help exits 0 and lists the commands', async () => {
      const r = await ok(hl(['--help'], { binary: true }));
      for (const c of ['init', 'send', 'inbox', 'outbox', 'export', 'import', 'verify', 'descriptor']) expect(r.stdout).toContain(c);
    });
  });

  describe('a broken config file: exit 2, names the file and the field', () => {
    /** A fresh home whose hotline.json is then rewritten by `edit`. */
    async function broken(edit: (config: Record<string, unknown>) => string): Promise<string> {
      const { home } = await init('us');
      const file = join(home, 'hotline.json');
      writeFileSync(file, edit(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>));
      return home;
    }

    it('invalid JSON', async () => {
      const home = await broken((c) => JSON.stringify(c).slice(0, -5));
      await expectExit(hl(['fingerprint', '--home', home], { binary: true }), 2, /config_invalid/, join(home, 'hotline.json'), /not valid JSON/);
    });

    it('"party": "US!"', async () => {
      const home = await broken((c) => JSON.stringify({ ...c, party: 'US!' }));
      await expectExit(hl(['inbox', '--home', home]), 2, /config_invalid/, join(home, 'hotline.json'), '"party"', 'US!');
    });

    it('listen port 70000', async () => {
      const home = await broken((c) => JSON.stringify({ ...c, listen: { host: '127.0.0.1', port: 70000 } }));
      await expectExit(hl(['fingerprint', '--home', home]), 2, /config_invalid/, join(home, 'hotline.json'), '"listen"', /0\.\.65535/);
    });

    it('an unknown limit, a bad channel, a missing field', async () => {
      const a = await broken((c) => JSON.stringify({ ...c, limits: { maxEnvelopeBites: 10 } }));
      await expectExit(hl(['fingerprint', '--home', a]), 2, join(a, 'hotline.json'), '"limits.maxEnvelopeBites" is not a setting');
      const b = await broken((c) => JSON.stringify({ ...c, channels: ['crisis', 'gossip'] }));
      await expectExit(hl(['fingerprint', '--home', b]), 2, join(b, 'hotline.json'), '"channels"');
      const d = await broken(({ url: _url, ...c }) => JSON.stringify(c));
      await expectExit(hl(['fingerprint', '--home', d]), 2, join(d, 'hotline.json'), '"url"');
    });

    it('an unreadable key file', async () => {
      const home = await broken((c) => JSON.stringify({ ...c, key_file: 'missing.key' }));
      await expectExit(hl(['fingerprint', '--home', home]), 2, /config_invalid/, 'missing.key');
    });
  });

  describe('commands on a pair of peered homes', () => {
    let us: { home: string; fingerprint: string };
    let ru: { home: string; fingerprint: string };
    beforeAll(async () => {
      const dir = tmp();
      us = await init('us', dir);
      ru = await init('ru', dir);
      await pin(us.home, ru);
      await pin(ru.home, us, true);
    });

    it('descriptor prints JSON with party, url, public_key, fingerprint', async () => {
      const d = await json(hl(['descriptor', '--home', us.home]));
      expect(d).toMatchObject({ type: 'hotline-descriptor', party: 'us', fingerprint: us.fingerprint });
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(d.public_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(typeof d.sig).toBe('string');
    });

    it('--json gives parseable JSON for fingerprint, peer list, outbox, inbox', async () => {
      const fp = await json(hl(['fingerprint', '--home', us.home, '--json']));
      expect(fp).toMatchObject({ party: 'us', fingerprint: us.fingerprint });
      const peers = await json<{ peers: { party: string; channels: string[] }[] }>(hl(['peer', 'list', '--home', us.home, '--json']));
      expect(peers.peers.map((p) => p.party)).toEqual(['ru']);
      expect(peers.peers[0]!.channels).toEqual(['crisis', 'cert', 'law']);
      expect(Array.isArray((await json<Messages>(hl(['outbox', '--home', us.home, '--json']))).messages)).toBe(true);
      expect(Array.isArray((await json<Messages>(hl(['--json', 'inbox', '--home', us.home]))).messages)).toBe(true);
    });

    it('send with an unknown kind / priority / TLP / channel → exit 2, naming the allowed values; nothing queued', async () => {
      const before = (await json<Messages>(hl(['outbox', '--home', us.home, '--json']))).messages;
      const base = ['send', '--home', us.home, '--to', 'ru', '--text', 'hello'];
      await expectExit(hl([...base, '--channel', 'crisis', '--kind', 'gossip']), 2, /unknown_kind/, '"gossip"', 'notification', 'crisis-alert');
      await expectExit(hl([...base, '--channel', 'crisis', '--priority', 'urgent']), 2, /unknown_priority/, '"urgent"', 'flash, immediate, priority, routine');
      await expectExit(hl([...base, '--channel', 'crisis', '--tlp', 'white']), 2, /unknown_tlp/, '"white"', 'clear, green, amber, amber+strict, red');
      await expectExit(hl([...base, '--channel', 'press']), 2, /unknown_channel/, '"press"', 'crisis, cert, law');
      expect((await json<Messages>(hl(['outbox', '--home', us.home, '--json']))).messages).toEqual(before);
    });

    it('send to a peer that is not pinned → exit 1, unknown_peer', async () => {
      await expectExit(hl(['send', '--home', us.home, '--to', 'cn', '--channel', 'crisis', '--text', 'hello'], { binary: true }), 1, /unknown_peer/, '"cn"');
    });

    it('peer add with a tampered descriptor (url changed after signing) → exit 2, self-signature', async () => {
      const cn = await init('cn');
      const d = JSON.parse((await ok(hl(['descriptor', '--home', cn.home]))).stdout) as Record<string, unknown>;
      const file = join(tmp(), 'cn.json');
      writeFileSync(file, JSON.stringify({ ...d, url: 'https://evil.example' }));
      await expectExit(hl(['peer', 'add', '--home', us.home, '--descriptor', file]), 2, /invalid_argument/, 'self-signature');
      expect((await json<{ peers: { party: string }[] }>(hl(['peer', 'list', '--home', us.home, '--json']))).peers.map((p) => p.party)).toEqual(['ru']);
    });

    it('peer add with a wrong --fingerprint → refused, nothing pinned', async () => {
      const cn = await init('cn');
      const file = join(tmp(), 'cn.json');
      writeFileSync(file, (await ok(hl(['descriptor', '--home', cn.home]))).stdout);
      const wrong = '11111 22222 33333 44444 55555 66666 77777 88888';
      await expectExit(hl(['peer', 'add', '--home', us.home, '--descriptor', file, '--fingerprint', wrong]), 2, /invalid_argument/, wrong, 'do not pin it');
      expect((await json<{ peers: { party: string }[] }>(hl(['peer', 'list', '--home', us.home, '--json']))).peers.map((p) => p.party)).toEqual(['ru']);
    });

    it('peer add of a descriptor file that is missing or not JSON → exit 2', async () => {
      const file = join(tmp(), 'nope.json');
      await expectExit(hl(['peer', 'add', '--home', us.home, '--descriptor', file]), 2, /invalid_argument/, file);
      writeFileSync(file, 'not json');
      await expectExit(hl(['peer', 'add', '--home', us.home, '--descriptor', file]), 2, /invalid_argument/, /not JSON/);
    });

    it('peer add of a peer already pinned → exit 1, peer_exists', async () => {
      const file = join(tmp(), 'ru.json');
      writeFileSync(file, (await ok(hl(['descriptor', '--home', ru.home]))).stdout);
      await expectExit(hl(['peer', 'add', '--home', us.home, '--descriptor', file, '--trust-on-first-use']), 1, /peer_exists/);
    });

    it('show of an unknown id → exit 1, not_found; of something that is not an id → exit 2', async () => {
      await expectExit(hl(['show', '--home', us.home, '01890a5d-ac96-774b-bcce-b302099a8057']), 1, /not_found/, '01890a5d-ac96-774b-bcce-b302099a8057');
      await expectExit(hl(['show', '--home', us.home, 'nonsense']), 2, /invalid_argument/, '"nonsense"');
    });

    it('import of a file that is not a carriage file → exit 2, carriage_invalid; nothing changes', async () => {
      const file = join(tmp(), 'junk.json');
      writeFileSync(file, JSON.stringify({ format: 'something-else', v: 1 }));
      const before = await json<Messages>(hl(['inbox', '--home', ru.home, '--json']));
      await expectExit(hl(['import', '--home', ru.home, file]), 2, /carriage_invalid/, '"format"');
      expect(await json<Messages>(hl(['inbox', '--home', ru.home, '--json']))).toEqual(before);
    });

    it('export to a peer that is not pinned → exit 1, unknown_peer', async () => {
      await expectExit(hl(['export', '--home', us.home, '--to', 'cn', '--out', join(tmp(), 'x.json')]), 1, /unknown_peer/);
    });
  });

  // Dropped after the file's tests: these tests run concurrently, where the global onTestFinished
  // may belong to another test (one finishing early dropped a database still in use).
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.splice(0).map((d) => d.drop()));
  });

  /** The carriage round trip on a store: SQLite files, or each home on a PostgreSQL database of its own (`init --database`). */
  const carriage = (store: 'sqlite' | 'postgres') => async (): Promise<void> => {
    const dir = tmp();
    const database = async (): Promise<string[]> => {
      if (store === 'sqlite') return [];
      const db = await createTestDatabase('hotline_cli');
      databases.push(db);
      return ['--database', db.url];
    };
    const us = await init('us', dir, false, await database());
    const ru = await init('ru', dir, false, await database());
    await pin(us.home, ru);
    await pin(ru.home, us, true);

    const sent = await json<{ id: string; seq: number; state: string }>(
      hl(['send', '--home', us.home, '--to', 'ru', '--channel', 'crisis', '--priority', 'flash', '--text', 'Grid outage in sector 7', '--json']),
    );
    expect(sent).toMatchObject({ seq: 1, state: 'queued' });
    const out1 = (await json<Messages>(hl(['outbox', '--home', us.home, '--json']))).messages;
    expect(out1.map((m) => [m.id, m.state])).toEqual([[sent.id, 'queued']]);

    const f = join(dir, 'to-ru.json');
    const r = join(dir, 'receipts-for-us.json');
    await ok(hl(['export', '--home', us.home, '--to', 'ru', '--out', f]));
    expect(JSON.parse(readFileSync(f, 'utf8'))).toMatchObject({ format: 'hotline-carriage', type: 'envelopes', from: 'us', to: 'ru', envelopes: [{ id: sent.id }] });

    const imported = await ok(hl(['import', '--home', ru.home, f, '--receipts-out', r]));
    expect(imported.stdout).toMatch(/1 accepted, 0 refused/);
    expect(JSON.parse(readFileSync(r, 'utf8'))).toMatchObject({ type: 'receipts', from: 'ru', to: 'us', receipts: [{ id: sent.id, seq: 1 }] });
    const inbox1 = (await json<Messages>(hl(['inbox', '--home', ru.home, '--json']))).messages;
    expect(inbox1.map((m) => [m.id, m.text, m.from])).toEqual([[sent.id, 'Grid outage in sector 7', 'us']]);

    // The same file again: idempotent, nothing new.
    await ok(hl(['import', '--home', ru.home, f]));
    expect((await json<Messages>(hl(['inbox', '--home', ru.home, '--json']))).messages).toEqual(inbox1);

    // The receipts carried back: the message is delivered; importing them twice changes nothing.
    await ok(hl(['import', '--home', us.home, r]));
    const out2 = (await json<Messages>(hl(['outbox', '--home', us.home, '--json']))).messages;
    expect(out2.map((m) => [m.id, m.state])).toEqual([[sent.id, 'delivered']]);
    await ok(hl(['import', '--home', us.home, r]));
    expect((await json<Messages>(hl(['outbox', '--home', us.home, '--json']))).messages).toEqual(out2);
    expect((await json<{ message: { receipt: { from: string } } }>(hl(['show', '--home', us.home, sent.id, '--json']))).message.receipt.from).toBe('ru');

    // A second message, its export tampered with in transit: refused, ru's inbox unchanged.
    const second = await json<{ id: string; seq: number }>(hl(['send', '--home', us.home, '--to', 'ru', '--channel', 'cert', '--text', 'Pay the ransom to account A', '--json']));
    expect(second.seq).toBe(2);
    const f2 = join(dir, 'to-ru-2.json');
    await ok(hl(['export', '--home', us.home, '--to', 'ru', '--out', f2]));
    const text = readFileSync(f2, 'utf8');
    expect(text).toContain('account A');
    writeFileSync(f2, text.replace('account A', 'account B'));
    const before = (await json<Messages>(hl(['inbox', '--home', ru.home, '--json']))).messages;
    const refused = await hl(['import', '--home', ru.home, f2, '--receipts-out', join(dir, 'r2.json')]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).not.toContain(STACK);
    expect(refused.stdout).toMatch(/0 accepted, 1 refused/);
    expect(refused.stdout).toMatch(/bad_signature/);
    expect((await json<Messages>(hl(['inbox', '--home', ru.home, '--json']))).messages).toEqual(before);

    // The untampered file still goes through afterwards.
    writeFileSync(f2, text);
    await ok(hl(['import', '--home', ru.home, f2]));
    expect((await json<Messages>(hl(['inbox', '--home', ru.home, '--json']))).messages).toHaveLength(2);

    for (const h of [us.home, ru.home]) {
      const v = await ok(hl(['verify', '--home', h]));
      expect(v.stdout).toMatch(/OK: every signature/);
      expect((await json<{ ok: boolean }>(hl(['verify', '--home', h, '--json']))).ok).toBe(true);
    }
  };
  const title = 'send → export → import (receipts) → import again (nothing new) → import receipts → delivered; a tampered file is refused; verify passes';
  describe('offline carriage round trip through the CLI', () => {
    it(title, carriage('sqlite'));
  });
  describePg('offline carriage round trip through the CLI on PostgreSQL', () => {
    it(title, carriage('postgres'));
  });
});
