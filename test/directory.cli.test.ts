/**
 * Issue 3, the directory and ping tests as a person runs them: the real `hotline` binary
 * (bin/hotline.js → dist/) against two node processes on loopback. Human output and --json, exit
 * codes 0 / 1 (the operation was refused) / 2 (bad usage), no stack traces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcesses, type NodeProcess } from './helpers/processes.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';
import { ensureBuilt, exits, json, ok } from './helpers/cli.js';


let us: TestHome;
let ru: TestHome;
const nodes: NodeProcess[] = [];

beforeAll(async () => {
  ensureBuilt();
  [us, ru] = await makePair();
  nodes.push(...(await startProcesses([us, ru])));
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

type Directory = { parties: { party: string; version: number | null; updated_at: string | null; channels: { channel: string; contacts: { id: string; name: string }[] }[] }[] };

describe('hotline contact, rota, directory', () => {
  it('adds contacts, sets the rota, publishes; the peer shows them; refusals exit 1 or 2 and change nothing', async () => {
    const added = await json<{ id: string }>(us.home, 'contact', 'add', '--channel', 'crisis', '--function', 'Crisis desk duty officer', '--name', 'Jane Smith',
      '--languages', 'en,ru', '--hours', '24/7', '--phone', '+1 202 555 0100', '--email', 'duty@us.example');
    const human = await ok(us.home, 'contact', 'add', '--channel', 'cert', '--function', 'CERT duty officer', '--name', 'SOC desk');
    expect(human).toMatch(/^Added contact [0-9a-f-]{36} on cert: SOC desk \| CERT duty officer/);
    expect(await ok(us.home, 'rota', 'set', '--channel', 'crisis', '--primary', added.id, '--primary-webhook', 'http://127.0.0.1:9/duty'))
      .toMatch(/Rota on crisis:\n {2}primary +Jane Smith .*notify http:\/\/127\.0\.0\.1:9\/duty/);
    expect(await ok(us.home, 'contact', 'list')).toMatch(/crisis +primary +Crisis desk duty officer +Jane Smith +en,ru +24\/7/);

    const before = await ok(us.home, 'contact', 'list', '--json');
    await exits(2, /error: required option '--name <name>' not specified/, us.home, 'contact', 'add', '--channel', 'crisis', '--function', 'x');
    await exits(2, /error \[unknown_channel\]/, us.home, 'contact', 'add', '--channel', 'spam', '--function', 'x', '--name', 'y');
    await exits(2, /error \[invalid_argument\]: email must be an e-mail address/, us.home, 'contact', 'add', '--channel', 'crisis', '--function', 'x', '--name', 'y', '--email', 'nobody');
    await exits(1, /error \[contact_in_rota\]: .* is the primary on the crisis rota/, us.home, 'contact', 'remove', added.id);
    await exits(1, /error \[not_found\]/, us.home, 'contact', 'remove', '01a2a2a2-0000-7000-8000-000000000000');
    await exits(2, /error \[invalid_argument\]: --primary .* is not one of this node's contacts/, us.home, 'rota', 'set', '--channel', 'crisis', '--primary', '01a2a2a2-0000-7000-8000-000000000000');
    expect(await ok(us.home, 'contact', 'list', '--json')).toBe(before);

    expect(await ok(us.home, 'directory', 'publish')).toMatch(/^Directory version 1 queued for:\n {2}ru on crisis: 2 contact\(s\), message [0-9a-f-]{36}/);
    const shown = await eventually(async () => {
      const d = await json<Directory>(ru.home, 'directory', '--party', 'us');
      return d.parties[0]?.version === 1 ? d.parties[0] : undefined;
    });
    expect(shown.channels.find((c) => c.channel === 'crisis')!.contacts).toMatchObject([{ id: added.id, name: 'Jane Smith' }]);
    const text = await ok(ru.home, 'directory', '--party', 'us', '--channel', 'crisis');
    expect(text).toMatch(/^us {2}US test node: version 1, last confirmed \d{4}-\d\d-\d\dT[\d:.]+Z\n {2}crisis {2}\(last answered ping: never\)\n {4}primary +Jane Smith \| Crisis desk duty officer \| en,ru \| 24\/7 \| \+1 202 555 0100 \| duty@us\.example/);
    await exits(1, /error \[not_found\]: This node knows no directory entry for "fr"/, ru.home, 'directory', '--party', 'fr');
  });
});

describe('hotline ping, pong, pings, reachability', () => {
  it('us pings ru; ru\'s officer answers; us\'s reachability shows it; a pong for no ping is refused', async () => {
    const id = (await ok(us.home, 'ping', '--to', 'ru', '--channel', 'crisis')).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(async () => {
      const p = await json<{ pings: { id: string }[] }>(ru.home, 'pings', '--pending', '--direction', 'in');
      return p.pings.some((x) => x.id === id) ? true : undefined;
    });
    expect(await ok(ru.home, 'pings', '--pending')).toMatch(new RegExp(`${id} +received +us +crisis +\\S+ +not yet`));
    await ok(ru.home, 'user', 'add', 'ivan', '--role', 'officer', '--channels', 'crisis', '--display-name', 'Ivan Petrov');
    await exits(2, /error: unknown option '--officer'/, ru.home, 'pong', id, '--officer', 'Anyone');
    await exits(2, /error \[invalid_argument\]: "x" is not a ping id/, ru.home, 'pong', 'x', '--as', 'ivan');
    await exits(1, /error \[pong_without_ping\]/, ru.home, 'pong', '01a2a2a2-0000-7000-8000-000000000000', '--as', 'ivan');
    await exits(2, /error \[unknown_channel\]/, us.home, 'ping', '--to', 'ru', '--channel', 'spam');
    await exits(1, /error \[unknown_peer\]/, us.home, 'ping', '--to', 'fr', '--channel', 'crisis');
    const pong = (await ok(ru.home, 'pong', id, '--as', 'ivan')).trim();
    expect(pong).toMatch(/^[0-9a-f-]{36}$/);
    await exits(1, /error \[ping_already_answered\]: Ping .* was already answered by Ivan Petrov/, ru.home, 'pong', id, '--as', 'ivan');

    const row = await eventually(async () => {
      const r = await json<{ reachability: { peer: string; channel: string; sent: number; answered: number; median_ms: number | null }[] }>(us.home, 'reachability', '--channel', 'crisis');
      return r.reachability[0]?.answered === 1 ? r.reachability[0] : undefined;
    });
    expect(row).toMatchObject({ peer: 'ru', channel: 'crisis', sent: 1, answered: 1 });
    expect(await ok(us.home, 'reachability')).toMatch(/PEER +CHANNEL +SENT +ANSWERED +MEDIAN +WORST +LAST SUCCESS +BY\n(.*\n)*ru +crisis +1 +1 +\d+s +\d+s +\S+Z +Ivan Petrov/);
  });
});
