/**
 * Issue 10 item 10, the CLI says what happened: `peer add` without --fingerprint asks on a
 * terminal (showing the fingerprint) and is refused without one unless --trust-on-first-use; a
 * template error lists every bad field at once; `indicators send --skip-invalid` sends the valid
 * objects of a bundle and lists the refused ones.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withNode } from '../src/adapters/cli/home.js';
import { TLP_MARKINGS } from '../src/modules/stix/stix.tlp.js';
import { BIN, ROOT, ensureBuilt, hl, json } from './helpers/cli.js';
import { makeHome, makePair, tempDir, type TestHome } from './helpers/nodes.js';
import { indicator } from './helpers/taxii.js';

const pinned = (home: TestHome): Promise<string[]> => withNode(home.home, async (ctx) => (await ctx.peers.list()).map((p) => p.party));
const queued = (home: TestHome): Promise<number> => withNode(home.home, async (ctx) =>
  Number((await ctx.db.selectFrom('messages').select((e) => e.fn.countAll<number>().as('n')).where('direction', '=', 'out').executeTakeFirstOrThrow()).n));

/** Two homes, not peered; ru's descriptor in a file. */
async function unpeered(): Promise<{ us: TestHome; ru: TestHome; file: string }> {
  const dir = tempDir();
  const us = await makeHome('us', {}, dir);
  const ru = await makeHome('ru', {}, dir);
  const file = join(dir, 'ru.json');
  writeFileSync(file, JSON.stringify(ru.descriptor));
  return { us, ru, file };
}

/** Runs the built CLI on a pseudo-terminal (util-linux `script`), typing `input`. */
function onTerminal(args: string[], input: string): { code: number | null; out: string } {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tempDir(), TERM: 'dumb' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('peer add without --fingerprint', () => {
  it('no terminal: refused with fingerprint_required (exit 2), the fingerprint and the advice shown, nothing pinned', async () => {
    const { us, ru, file } = await unpeered();
    const r = await hl(us.home, 'peer', 'add', '--descriptor', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [fingerprint_required]');
    expect(r.stderr).toContain(`--fingerprint "${ru.fingerprint}"`);
    expect(r.stderr).toContain('--trust-on-first-use');
    expect(await pinned(us)).toEqual([]);
  });

  it('--trust-on-first-use pins it and says the fingerprint was not confirmed; --fingerprint pins it as before', async () => {
    const { us, ru, file } = await unpeered();
    const r = await hl(us.home, 'peer', 'add', '--descriptor', file, '--trust-on-first-use');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Fingerprint ${ru.fingerprint}: NOT confirmed (trust on first use)`);
    expect(await pinned(us)).toEqual(['ru']);
    const { us: us2, ru: ru2, file: file2 } = await unpeered();
    const fp = await hl(us2.home, 'peer', 'add', '--descriptor', file2, '--fingerprint', ru2.fingerprint);
    expect(fp.code, fp.stderr).toBe(0);
    expect(fp.stdout).toContain(`Fingerprint ${ru2.fingerprint}: matches the one given`);
    expect(await pinned(us2)).toEqual(['ru']);
  });

  it('on a terminal: shows the fingerprint and pins it when the person types yes; anything else refuses', async () => {
    ensureBuilt();
    const { us, ru, file } = await unpeered();
    const no = onTerminal(['peer', 'add', '--home', us.home, '--descriptor', file], 'no\n');
    expect(no.out).toContain(`Fingerprint: ${ru.fingerprint}`);
    expect(no.out).toContain('Type "yes" to pin it');
    expect(no.out).toContain('error [fingerprint_required]');
    expect(no.code).toBe(2);
    expect(await pinned(us)).toEqual([]);
    const yes = onTerminal(['peer', 'add', '--home', us.home, '--descriptor', file], 'yes\n');
    expect(yes.out).toContain(`Fingerprint ${ru.fingerprint}: confirmed at the terminal`);
    expect(yes.code).toBe(0);
    expect(await pinned(us)).toEqual(['ru']);
  });

  it('over REST: without "fingerprint" nor "trust_on_first_use", 400 fingerprint_required; indicators with skip_invalid', async () => {
    const { us, ru } = await unpeered();
    const a = await us.start({ runDelivery: false, runPings: false, runReminders: false, runDeadlines: false, runRetention: false });
    try {
      const post = (body: Record<string, unknown>): Promise<Response> => fetch(`${a.address}/api/v1/peers`, {
        method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const refused = await post({ descriptor: ru.descriptor });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: 'fingerprint_required', details: { party: 'ru', fingerprint: ru.fingerprint } });
      expect(await pinned(us)).toEqual([]);
      expect((await post({ descriptor: ru.descriptor, trust_on_first_use: true })).status).toBe(201);

      // And indicators over REST with skip_invalid: 202, the valid objects queued, the refused listed.
      const bad: Record<string, unknown> = { ...indicator(), pattern_type: undefined };
      const r = await fetch(`${a.address}/api/v1/indicators`, {
        method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: 'ru', skip_invalid: true, bundle: { type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [indicator(), bad] } }),
      });
      expect(r.status).toBe(202);
      const sent = await r.json() as { messages: { objects: number }[]; refused: { index: number; id: string; reason: string }[] };
      expect(sent.messages.map((m) => m.objects)).toEqual([1]);
      expect(sent.refused).toEqual([{ index: 1, id: bad.id, reason: expect.stringContaining('pattern_type') }]);
    } finally {
      await a.stop();
    }
  });
});

describe('a template error lists every bad field at once', () => {
  it('send with four bad fields: exit 2, each field named with its problem, nothing queued', async () => {
    const [us] = await makePair();
    const r = await hl(us.home, 'send', '--to', 'ru', '--channel', 'crisis', '--kind', 'crisis-alert',
      '--field', 'incident_category=malware', '--field', 'affected_sectors=energy', '--field', 'requested_actions=clarify',
      '--field', 'confidence=certain', '--field', 'affected_systems=many', '--field', 'severity=high');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [template_mismatch]');
    expect(r.stderr).toContain('4 problems:');
    expect(r.stderr).toContain('- field "severity" is not a field of crisis-alert@1');
    expect(r.stderr).toContain('- field "observed_window" is required and missing');
    expect(r.stderr).toMatch(/- field "confidence": "certain" is not a code of confidence; allowed: /);
    expect(r.stderr).toMatch(/- field "affected_systems": .*whole number, not "many"/);
    expect(await queued(us)).toBe(0);
  });
});

describe('indicators send --skip-invalid', () => {
  const red = TLP_MARKINGS.find((m) => (m as { name?: string }).name === 'TLP:RED')!.id;

  it('sends the valid objects and lists the refused ones (index, id, reason); without it the bundle is refused whole', async () => {
    const [us] = await makePair();
    const good = [indicator(), indicator()];
    const broken: Record<string, unknown> = { ...indicator(), pattern: undefined };
    const marked = indicator({ object_marking_refs: [red] });
    const file = join(tempDir(), 'bundle.json');
    writeFileSync(file, JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [good[0], broken, good[1], marked] }));

    const whole = await hl(us.home, 'indicators', 'send', '--to', 'ru', '--file', file);
    expect(whole.code).toBe(1);
    expect(whole.stderr).toContain('error [stix_invalid]: 2 of 4 objects cannot be sent');
    expect(whole.stderr).toContain('--skip-invalid sends the others');
    expect(await queued(us)).toBe(0);

    const r = await hl(us.home, 'indicators', 'send', '--to', 'ru', '--file', file, '--skip-invalid');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Queued 2 objects to ru in 1 indicators message(s)');
    expect(r.stdout).toContain('Refused 2 object(s), not sent:');
    expect(r.stdout).toMatch(new RegExp(`objects\\[1\\] ${broken.id as string}: .*pattern`));
    expect(r.stdout).toContain(`objects[3] ${marked.id as string}: marked TLP:RED, more restrictive than the message's TLP:AMBER; send it with --tlp red`);
    expect(await queued(us)).toBe(1);

    const j = await json<{ objects: number; refused: { index: number; id: string; reason: string }[] }>(us.home, 'indicators', 'send', '--to', 'ru', '--file', file, '--skip-invalid');
    expect(j.objects).toBe(2);
    expect(j.refused.map((x) => [x.index, x.id])).toEqual([[1, broken.id], [3, marked.id]]);

    const none = join(tempDir(), 'none.json');
    writeFileSync(none, JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [broken, marked] }));
    const empty = await hl(us.home, 'indicators', 'send', '--to', 'ru', '--file', none, '--skip-invalid');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('error [stix_invalid]: None of the 2 objects can be sent');
    expect(await queued(us)).toBe(2);
  });
});
