/**
 * Issue 3, the law channel as a person runs it: the real `hotline` binary (bin/hotline.js → dist/)
 * against two nodes on loopback. `hotline send --kind preservation-request` refuses a request
 * missing an Art. 29(2) field (exit 2, naming it); `hotline reply --kind preservation-response`
 * answers; `hotline preservation list|show|extend|mla` track it; a cert user gets exit 1 forbidden.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { isoTime } from '../src/shared/clock.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';
import { ART29_FIELDS } from './helpers/law.js';
import { hl } from './helpers/cli.js';




async function json<T>(home: string, ...args: string[]): Promise<T> {
  const r = await hl(home, ...args, '--json');
  expect(r.code, `hotline ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

function fieldArgs(fields: Record<string, unknown>): string[] {
  return Object.entries(fields).flatMap(([k, v]) => ['--field', `${k}=${String(v)}`]);
}

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false, runReminders: false });
  b = await ru.start({ runPings: false, runReminders: false });
});

afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
});

type View = { case: string; state: string; reference: string | null; expires_at: string | null; preserved_at: string | null; extensions: unknown[]; mla_request: { reference: string } | null };

describe('hotline preservation', () => {
  it('send, reply, list, show, extend, mla; refusals with their exit codes', async () => {
    const base = ['send', '--to', 'ru', '--channel', 'law', '--kind', 'preservation-request', '--priority', 'immediate', '--tlp', 'amber'];
    const { necessity: _n, ...missing } = ART29_FIELDS;
    const bad = await hl(us.home, ...base, ...fieldArgs(missing));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error \[template_mismatch\]: .*field "necessity" is required and missing/);

    const sent = await json<{ id: string }>(us.home, ...base, ...fieldArgs(ART29_FIELDS));
    a.delivery.wake();
    await eventually(async () => ((await b.ctx.db.selectFrom('preservations').select('case_id').where('case_id', '=', sent.id).executeTakeFirst()) ? true : undefined));
    const preservedAt = isoTime(Date.now());
    await json(ru.home, 'reply', sent.id, '--kind', 'preservation-response', '--field', 'outcome=preserved', '--field', 'reference=RU-MVD-1', '--field', `preserved_at=${preservedAt}`);
    b.delivery.wake();
    await eventually(async () => ((await json<{ preservations: View[] }>(us.home, 'preservation', 'list')).preservations[0]?.state === 'preserved' ? true : undefined));

    const list = await json<{ preservations: View[] }>(us.home, 'preservation', 'list');
    expect(list.preservations).toMatchObject([{ case: sent.id, state: 'preserved', reference: 'RU-MVD-1', preserved_at: preservedAt }]);
    expect(Date.parse(list.preservations[0]!.expires_at!) - Date.parse(preservedAt)).toBe(60 * 24 * 60 * 60 * 1000);
    expect((await json<{ preservations: View[] }>(us.home, 'preservation', 'list', '--due')).preservations).toEqual([]);
    const shown = await hl(us.home, 'preservation', 'show', sent.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/State\s+preserved \(preserved\)/);
    expect(shown.stdout).toMatch(/Reference\s+RU-MVD-1/);
    expect(shown.stdout).toMatch(/Expires\s+\S+ \(59 days left\)/);
    expect(shown.stdout).toMatch(/MLA request not recorded yet/);

    expect((await hl(us.home, 'preservation', 'extend', sent.id, '--days', 'many')).code).toBe(2);
    await json(us.home, 'preservation', 'extend', sent.id, '--days', '30');
    await json(us.home, 'preservation', 'mla', sent.id, '--reference', 'US-MLA-5', '--date', '2026-02-01T00:00:00Z');
    const after = await json<View>(us.home, 'preservation', 'show', sent.id);
    expect(after).toMatchObject({ mla_request: { reference: 'US-MLA-5' }, extensions: [{ days: 30 }] });
    const again = await hl(us.home, 'preservation', 'mla', sent.id, '--reference', 'US-MLA-6');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error [preservation_state]');

    expect((await hl(us.home, 'user', 'add', 'certo', '--channels', 'cert')).code).toBe(0);
    for (const args of [['preservation', 'list'], ['preservation', 'show', sent.id], ['preservation', 'extend', sent.id, '--days', '5']]) {
      const r = await hl(us.home, ...args, '--as', 'certo');
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain('error [forbidden]');
      expect(r.stdout).not.toContain('RU-MVD-1');
    }
  });
});
