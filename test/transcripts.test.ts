/**
 * Issue 3, transcripts: two real nodes exchange a case both ways over loopback HTTP; `us` exports
 * the case's signed transcript (CLI and REST); the file is moved to a fresh directory and checked
 * there by the `hotline` binary with no home at all; any one-byte change, and a wrong expected
 * fingerprint, make it fail; TLP:RED is withheld (and listed) unless it may be included.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { send, show } from '../src/modules/messaging/messaging.service.js';
import type { Transcript, TranscriptReport } from '../src/modules/transcripts/transcripts.types.js';
import { verifyTranscriptBytes } from '../src/modules/transcripts/transcripts.verify.js';
import { eventually, makePair, tempDir, type TestHome, type TestStore } from './helpers/nodes.js';
import { describePg } from './helpers/pg.js';
import { ensureBuilt, runCli } from './helpers/cli.js';
import { publishRedRecipients } from './helpers/red.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'hotline.js');
const STACK = '    at ';

interface Run { code: number | null; stdout: string; stderr: string }

/**
 * Runs `hotline ARGS` with a clean environment (no HOTLINE_HOME): in this process (runCli), or,
 * given a `cwd`, as the real binary started there.
 */
function hl(args: readonly string[], cwd?: string): Promise<Run> {
  if (cwd === undefined) return runCli(args);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      });
  });
}

async function exit(p: Promise<Run>, code: number): Promise<Run> {
  const r = await p;
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  expect(r.stderr + r.stdout).not.toContain(STACK);
  return r;
}

/** The same tests on each store: SQLite files, and (describePg) each node on its own PostgreSQL database. */
function transcriptTests(store: TestStore): void {
  let us: TestHome;
  let ru: TestHome;
  const nodes: RunningNode[] = [];
  let caseId: string;
  let redId: string;
  const texts: string[] = [];

  beforeAll(async () => {
    ensureBuilt('src/modules/transcripts/transcripts.verify.js');
    [us, ru] = await makePair({}, { store });
    const a = await us.start();
    const b = await ru.start();
    nodes.push(a, b);
    // ru publishes that alice may receive TLP:RED on cert (else sending it to her is unknown_recipient).
    await b.ctx.users.add({ name: 'alice', role: 'officer', channels: 'cert' });
    await publishRedRecipients(b, a, 'cert', ['alice']);
    const say = async (n: RunningNode, to: string, text: string, extra: { tlp?: string; recipients?: string[] } = {}): Promise<string> => {
      const env = await send(n.ctx, {
        to, channel: 'cert', kind: 'notification', priority: 'immediate', tlp: extra.tlp ?? 'amber', text,
        ...(caseId === undefined ? {} : { case: caseId }), ...(extra.recipients === undefined ? {} : { recipients: extra.recipients }),
      });
      caseId ??= env.case;
      n.delivery.wake();
      await eventually(async () => ((await show(n.ctx.db, env.id)).message.state === 'delivered' ? true : undefined));
      return env.id;
    };
    const conversation: [RunningNode, string, string][] = [
      [a, 'ru', 'Botnet C2 at 192.0.2.10 in your networks; please act'],
      [b, 'us', 'Received; our CERT is looking at 192.0.2.10'],
      [a, 'us', ''],
      [b, 'us', 'The host is taken down'],
      [a, 'ru', 'Thank you; closing on our side'],
    ];
    for (const [n, to, text] of conversation) {
      if (text === '') {
        redId = await say(a, 'ru', 'Source: a liaison officer, for alice only', { tlp: 'red', recipients: ['alice'] });
        continue;
      }
      texts.push(text);
      await say(n, to, text);
    }
    // Another case on the same links: not in the transcript.
    await send(a.ctx, { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'unrelated matter' });
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  /** `hotline transcript` on us into a file, then a copy of it alone in a fresh directory. */
  async function exported(extra: string[] = [], home = us.home): Promise<{ file: string; dir: string }> {
    const out = join(tempDir('hotline-transcript-out-'), 'case.json');
    await exit(hl(['transcript', '--home', home, '--case', caseId, '--out', out, ...extra]), 0);
    const dir = tempDir('hotline-elsewhere-');
    copyFileSync(out, join(dir, 'case.json'));
    return { file: join(dir, 'case.json'), dir };
  }

  it('export on us, verify with the CLI in a fresh directory with no home: exit 0, keys and the timeline printed', async () => {
    const { file, dir } = await exported();
    const r = await exit(hl(['verify', 'case.json'], dir), 0);
    expect(r.stdout).toContain(`Transcript of case ${caseId}, exported by us for admin`);
    expect(r.stdout).toContain(us.fingerprint);
    expect(r.stdout).toContain(ru.fingerprint);
    for (const text of texts) expect(r.stdout).toContain(text);
    expect(r.stdout).toMatch(/us → ru\s+1\s+notification\s+IMMEDIATE\s+TLP:AMBER\s+\d{4}-\d\d-\d\dT/);
    expect(r.stdout).toMatch(/OK: the transcript signature, 4 envelope signature\(s\) and 4 receipt\(s\) verify/);
    expect(r.stdout).toContain(`Withheld from this file (1)`);
    expect(r.stdout).toContain(redId);
    expect(r.stdout).not.toContain('liaison officer');
    expect(r.stdout).not.toContain('unrelated matter');
    const report = JSON.parse((await exit(hl(['verify', file, '--json']), 0)).stdout) as TranscriptReport;
    expect(report).toMatchObject({ ok: true, case: caseId, exported_by: 'us', problems: [] });
    expect(report.timeline.map((e) => [`${e.from}→${e.to}`, e.text, e.verified])).toEqual([
      ['us→ru', texts[0], true], ['ru→us', texts[1], true], ['ru→us', texts[2], true], ['us→ru', texts[3], true],
    ]);
    expect(report.withheld).toEqual([expect.objectContaining({ id: redId, from: 'us', to: 'ru', seq: 2, tlp: 'red', reason: 'tlp-red' })]);
  });

  it('--expect-fingerprint: the known ones pass; a wrong one exits 1 naming the key; a malformed one exits 2', async () => {
    const { file } = await exported();
    await exit(hl(['verify', file, '--expect-fingerprint', `us=${us.fingerprint}`, '--expect-fingerprint', `ru=${ru.fingerprint}`]), 0);
    const wrong = await exit(hl(['verify', file, '--expect-fingerprint', `ru=${us.fingerprint}`]), 1);
    expect(wrong.stdout).toContain('FAILED: 1 problem(s)');
    expect(wrong.stdout).toMatch(/keys\[1\] \(ru\): fingerprint_mismatch: .*not the one you expected/);
    const bad = await exit(hl(['verify', file, '--expect-fingerprint', 'ru']), 2);
    expect(bad.stderr).toContain('error [invalid_argument]: --expect-fingerprint takes PARTY=DIGITS');
  });

  it('property: one byte changed anywhere in the file → exit 1, with a clear error or the problems located (50 changes)', async () => {
    const { file, dir } = await exported();
    const bytes = readFileSync(file);
    const change = fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }));
    // 10 runs of 5 changed files each, each checked by `hotline verify`.
    await fc.assert(fc.asyncProperty(fc.array(change, { minLength: 5, maxLength: 5 }), async (changes) => {
      await Promise.all(changes.map(async ([pos, xor], k) => {
        const changed = Buffer.from(bytes);
        changed[pos] = changed[pos]! ^ xor;
        writeFileSync(join(dir, `changed-${k}.json`), changed);
        const r = await exit(hl(['verify', join(dir, `changed-${k}.json`)]), 1);
        const clear = /^error \[transcript_invalid\]: \S*changed-\d\.json is not (valid UTF-8|valid JSON|a case transcript)/.test(r.stderr);
        const located = /FAILED: \d+ problem\(s\)\n {2}\S/.test(r.stdout);
        expect(clear || located, `byte ${pos} ^ ${xor}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(true);
      }));
    }), { numRuns: 10 });
  });

  it('TLP:RED: --include-red includes it for a named recipient only; the administrator and --as a stranger get it withheld', async () => {
    const ids = async (extra: string[], home = us.home): Promise<[string[], string[], string]> => {
      const { file } = await exported(extra, home);
      await exit(hl(['verify', file]), 0);
      const t = JSON.parse(readFileSync(file, 'utf8')) as Transcript;
      return [t.messages.map((m) => m.envelope.id), t.withheld.map((w) => w.id), t.exported_for];
    };
    const [forAdmin, withheldAdmin] = await ids(['--include-red']);
    expect([forAdmin.includes(redId), withheldAdmin]).toEqual([false, [redId]]);
    await exit(hl(['user', 'add', 'bob', '--home', ru.home, '--role', 'officer', '--channels', 'cert']), 0);
    const [forAlice, , alice] = await ids(['--as', 'alice', '--include-red'], ru.home);
    expect([forAlice.includes(redId), alice]).toEqual([true, 'alice']);
    const [forBob, withheldBob] = await ids(['--as', 'bob', '--include-red'], ru.home);
    expect([forBob.includes(redId), withheldBob]).toEqual([false, [redId]]);
  });

  it('REST: GET /api/v1/cases/:id/transcript gives the same file, byte-layout included; refusals keep their codes', async () => {
    const get = (path: string, token: string | null = us.token): Promise<Response> =>
      fetch(`${nodes[0]!.address}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
    const res = await get(`/api/v1/cases/${caseId}/transcript`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(verifyTranscriptBytes(Buffer.from(text)).problems).toEqual([]);
    const { file } = await exported();
    const strip = (t: Transcript): Partial<Transcript> => ({ ...t, exported_at: '', sig: '' });
    expect(strip(JSON.parse(text) as Transcript)).toEqual(strip(JSON.parse(readFileSync(file, 'utf8')) as Transcript));
    const red = JSON.parse(await (await get(`/api/v1/cases/${caseId}/transcript?include_red=true`)).text()) as Transcript;
    // The administrator's token does not read TLP:RED bodies, include_red or not (section 5.6).
    expect([red.messages.some((m) => m.envelope.id === redId), red.withheld.map((w) => w.id)]).toEqual([false, [redId]]);
    const problem = async (r: Promise<Response>, status: number, code: string): Promise<void> => {
      const x = await r;
      expect(x.status).toBe(status);
      expect(((await x.json()) as { code: string }).code).toBe(code);
    };
    await problem(get(`/api/v1/cases/${caseId}/transcript`, null), 401, 'unauthorized');
    await problem(get('/api/v1/cases/00000000-0000-7000-8000-000000000000/transcript'), 404, 'not_found');
    await problem(get('/api/v1/cases/nope/transcript'), 400, 'invalid_argument');
    // The channel wall: a token for `law` does not learn that a `cert` case exists.
    await nodes[0]!.ctx.users.add({ name: 'lena', role: 'officer', channels: 'law' });
    const law = await nodes[0]!.ctx.users.createToken('lena');
    await problem(get(`/api/v1/cases/${caseId}/transcript`, law.secret), 404, 'not_found');
  });

  it('CLI refusals: unknown case exit 1 (not_found); bad case id and unreadable file exit 2', async () => {
    const out = join(tempDir(), 'x.json');
    expect((await exit(hl(['transcript', '--home', us.home, '--case', '00000000-0000-7000-8000-000000000000', '--out', out]), 1)).stderr).toContain('error [not_found]');
    expect(existsSync(out)).toBe(false);
    expect((await exit(hl(['transcript', '--home', us.home, '--case', 'nope', '--out', out]), 2)).stderr).toContain('error [invalid_argument]');
    const dir = mkdtempSync(join(tmpdir(), 'hotline-elsewhere-'));
    expect((await exit(hl(['verify', 'missing.json'], dir), 2)).stderr).toContain('error [invalid_argument]: Cannot read the transcript missing.json');
  });
}

describe('case transcripts between two real nodes', () => transcriptTests('sqlite'));
describePg('case transcripts between two real nodes on PostgreSQL', () => transcriptTests('postgres'));
