/**
 * Issue 3, deadlines as a person runs them: the real `hotline` binary (bin/hotline.js → dist/)
 * agrees per-peer deadlines, lists what is overdue and shows a message's deadline. Exit codes
 * 0 / 1 (refused) / 2 (bad usage), nothing changed by a refusal.
 */
import { describe, expect, it } from 'vitest';
import { withNode } from '../src/adapters/cli/home.js';
import { makePair } from './helpers/nodes.js';
import { hl } from './helpers/cli.js';



describe('hotline peer deadlines / overdue / show', () => {
  it('agrees deadlines, refuses bad ones unchanged, lists an overdue message and shows its deadline', async () => {
    const [us] = await makePair();
    const set = await hl(us.home, 'peer', 'deadlines', 'ru', '--flash', '5', '--immediate', '30', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ party: 'ru', deadlines: { flash: 5, immediate: 30, priority: 1440, routine: 4320 } });
    expect((await hl(us.home, 'peer', 'show', 'ru')).stdout).toContain('flash 5 min, immediate 30 min');

    const bad = await hl(us.home, 'peer', 'deadlines', 'ru', '--flash', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid_argument|whole number of minutes/);
    const unknown = await hl(us.home, 'peer', 'deadlines', 'xx', '--flash', '5');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No peer "xx"/);
    expect(JSON.parse((await hl(us.home, 'peer', 'show', 'ru', '--json')).stdout).deadlines).toEqual({ flash: 5, immediate: 30, priority: 1440, routine: 4320 });

    expect((await hl(us.home, 'overdue')).stdout).toMatch(/Nothing overdue/);
    const sent = await hl(us.home, 'send', '--to', 'ru', '--channel', 'crisis', '--kind', 'inquiry', '--priority', 'flash', '--text', 'Please clarify the scanning.', '--json');
    expect(sent.code, sent.stderr).toBe(0);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    const due = JSON.parse((await hl(us.home, 'show', id, '--json')).stdout).deadline as { due_at: string; overdue: boolean };
    expect(due.overdue).toBe(false);
    // As if it had been sent 7 minutes ago: its 5-minute deadline passed 2 minutes ago.
    await withNode(us.home, (ctx) => ctx.db.updateTable('deadlines').set((eb) => ({ sent_at: eb('sent_at', '-', 7 * 60_000), due_at: eb('due_at', '-', 7 * 60_000) })).where('message_id', '=', id).execute());
    const listed = await hl(us.home, 'overdue');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id.slice(0, 8)}[0-9a-f-]*\\s+ru\\s+flash\\s+inquiry\\s+crisis`));
    expect(listed.stdout).toMatch(/2m \d+s/);
    const json = JSON.parse((await hl(us.home, 'overdue', '--json')).stdout) as { overdue: { message_id: string; late_ms: number }[] };
    expect(json.overdue.map((o) => o.message_id)).toEqual([id]);
    expect(json.overdue[0]!.late_ms).toBeGreaterThanOrEqual(2 * 60_000);
    const shown = await hl(us.home, 'show', id);
    expect(shown.stdout).toMatch(/Ack due +\S+; OVERDUE by 2m/);
    expect(shown.stdout).toMatch(/next: overdue alert at/);
  });
});
