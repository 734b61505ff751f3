/**
 * Issue 3, cases and acknowledgement as a person runs them: the real `hotline` binary
 * (bin/hotline.js → dist/) against two node processes on loopback. The sender's `hotline show`
 * says "receipted by node ru at T1" and, once ru's officer has run `hotline ack`, "acknowledged
 * by <officer> at T2"; `hotline reply`, `close`, `cases` and `case show` move and show the case.
 * Exit codes 0 / 1 (refused) / 2 (bad usage), no stack traces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcesses, type NodeProcess } from './helpers/processes.js';
import { eventually, makePair, type TestHome, type TestStore } from './helpers/nodes.js';
import { describePg } from './helpers/pg.js';
import { ensureBuilt, exits, json, ok } from './helpers/cli.js';

const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';


type Case = { id: string; state: string };

async function stateOn(home: string, id: string, state: string): Promise<void> {
  await eventually(async () => ((await json<{ cases: Case[] }>(home, 'cases')).cases.find((c) => c.id === id)?.state === state ? true : undefined));
}

/** The same exchange on each store: SQLite files, and (describePg) each node on its own PostgreSQL database. */
function caseDrills(store: TestStore): void {
  let us: TestHome;
  let ru: TestHome;
  const nodes: NodeProcess[] = [];

  beforeAll(async () => {
    ensureBuilt('src/adapters/cli/commands/cases.js');
    [us, ru] = await makePair({}, { store });
    nodes.push(...(await startProcesses([us, ru])));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('an inquiry is receipted, acknowledged by a named officer, answered and closed; show never confuses receipt and acknowledgement', async () => {
    const id = (await ok(us.home, 'send', '--to', 'ru', '--channel', 'crisis', '--kind', 'inquiry', '--priority', 'flash', '--text', 'Please clarify the scanning.')).trim();
    const receipted = await eventually(async () => {
      const out = await ok(us.home, 'show', id);
      return /State +delivered/.test(out) ? out : undefined;
    });
    expect(receipted).toMatch(new RegExp(`State +delivered: receipted by node ru at ${TIME}\\n`));
    expect(receipted).not.toMatch(/acknowledged/);
    await stateOn(ru.home, id, 'open');
    // Listed by its short id: the shortest prefix of at least 8 characters that names one case.
    expect(await ok(ru.home, 'cases', '--state', 'open')).toMatch(new RegExp(`${id.slice(0, 8)}[0-9a-f-]* +open +inquiry +crisis +us +flash +us +${TIME} +Please clarify the scanning\\.`));

    // The ack names the user it acts as, from the user record; --officer is gone.
    await ok(ru.home, 'user', 'add', 'ivan', '--channels', 'crisis', '--display-name', 'Ivan Petrov');
    await exits(2, /error: unknown option '--officer'/, ru.home, 'ack', id, '--officer', 'anyone');
    await exits(1, /error \[ack_invalid\]: Message .* was sent by this node/, us.home, 'ack', id);
    await exits(1, /error \[ack_invalid\]: No message/, ru.home, 'ack', '01a2a2a2-0000-7000-8000-000000000000', '--as', 'ivan');
    expect(await ok(ru.home, 'ack', id, '--as', 'ivan')).toMatch(new RegExp(`^Acknowledged ${id} as Ivan Petrov \\(ivan\\) at (${TIME}): ack [0-9a-f-]{36} queued`));
    expect(await ok(ru.home, 'ack', id)).toMatch(/^Already acknowledged by Ivan Petrov \(ivan\) at .*; nothing sent/);
    await stateOn(us.home, id, 'acknowledged');
    const shown = await ok(us.home, 'show', id);
    const m = new RegExp(`State +delivered: receipted by node ru at (${TIME}); acknowledged by Ivan Petrov \\(ivan\\) at (${TIME})\\n`).exec(shown);
    expect(m, shown).not.toBeNull();
    expect(m![1]).toBe(/State +delivered: receipted by node ru at (\S+)\n/.exec(receipted)![1]);

    const answer = (await ok(ru.home, 'reply', id, '--text', 'The hosts are compromised; cleaning them.')).trim();
    expect(answer).toMatch(/^[0-9a-f-]{36}$/);
    await stateOn(us.home, id, 'answered');
    expect(await ok(us.home, 'close', id, '--reason', 'answered')).toMatch(new RegExp(`^Case ${id} closed: case-close [0-9a-f-]{36} queued for ru`));
    await stateOn(ru.home, id, 'closed');
    await exits(1, /error \[case_closed\]/, ru.home, 'reply', id, '--text', 'too late');
    await exits(1, /error \[case_closed\]/, us.home, 'close', id);

    const thread = await ok(us.home, 'case', 'show', id);
    expect(thread).toMatch(new RegExp(`^Case +${id}\\nKind +inquiry on crisis with ru, FLASH\\nState +closed +\\(open → acknowledged → answered → \\[closed\\]\\)`));
    expect(thread).toMatch(/Opened +\S+ by this node \(us\)/);
    expect(thread).toMatch(/Thread \(4 messages/);
    expect(thread).toMatch(new RegExp(`1\\. ${TIME} +us → ru +inquiry +${id}\\n +delivered: receipted by node ru at ${TIME}; acknowledged by Ivan Petrov \\(ivan\\) at ${TIME}\\n +Please clarify the scanning\\.`));
    expect(thread).toMatch(/2\. \S+ +ru → us +ack +\S+, in reply to \S+\n +received \S+\n +acknowledges: \S+; officer: Ivan Petrov/);
    expect(thread).toMatch(new RegExp(`3\\. \\S+ +ru → us +response +${answer}, in reply to ${id}`));
    expect(thread).toMatch(/4\. \S+ +us → ru +case-close/);
    const onRu = await json<{ case: { state: string; opened_by: string }; messages: { kind: string }[] }>(ru.home, 'case', 'show', id);
    expect(onRu.case).toMatchObject({ state: 'closed', opened_by: 'in' });
    expect(onRu.messages.map((x) => x.kind)).toEqual(['inquiry', 'ack', 'response', 'case-close']);
  });

  it('bad usage exits 2; a case or message that does not exist exits 1', async () => {
    await exits(2, /error \[invalid_argument\]: Unknown case state "pending"/, us.home, 'cases', '--state', 'pending');
    await exits(2, /error \[unknown_channel\]/, us.home, 'cases', '--channel', 'spam');
    await exits(2, /error \[invalid_argument\]: "nope" is not a case id/, us.home, 'case', 'show', 'nope');
    await exits(1, /error \[not_found\]: No case/, us.home, 'case', 'show', '01a2a2a2-0000-7000-8000-000000000000');
    await exits(1, /error \[not_found\]: No message/, us.home, 'reply', '01a2a2a2-0000-7000-8000-000000000000', '--text', 'x');
    await exits(1, /error \[not_found\]: No case/, us.home, 'close', '01a2a2a2-0000-7000-8000-000000000000');
  });

  it('messages both ways, then verify passes on both nodes with the same link hashes on each side', async () => {
    const there = (await ok(us.home, 'send', '--to', 'ru', '--channel', 'cert', '--text', 'One more from us')).trim();
    const back = (await ok(ru.home, 'send', '--to', 'us', '--channel', 'cert', '--text', 'One more from ru')).trim();
    for (const [home, id] of [[us.home, there], [ru.home, back]] as const) {
      await eventually(async () => (/State +delivered/.test(await ok(home, 'show', id)) ? true : undefined));
    }
    type Report = { ok: boolean; links: { from: string; to: string; last_seq: number; head_hash: string }[] };
    const [a, b] = [await json<Report>(us.home, 'verify'), await json<Report>(ru.home, 'verify')];
    expect(a.ok && b.ok).toBe(true);
    const byLink = (r: Report): Record<string, unknown> => Object.fromEntries(r.links.map((l) => [`${l.from}→${l.to}`, [l.last_seq, l.head_hash]]));
    expect(Object.keys(byLink(a)).sort()).toEqual(['ru→us', 'us→ru']);
    expect(byLink(a)).toEqual(byLink(b));
    expect(a.links.every((l) => l.last_seq >= 2)).toBe(true);
    expect(await ok(us.home, 'verify')).toMatch(/OK: every signature, hash chain and receipt verifies/);
  });
}

describe('hotline ack, reply, close, cases, case show', () => caseDrills('sqlite'));
describePg('hotline ack, reply, close, cases, case show on PostgreSQL', () => caseDrills('postgres'));
