/**
 * Issue 10 item 6 as a person types it (the CLI in-process, one node home, the system clock):
 * contacts linked to users and named by short id or name; `rota set` changes one position alone;
 * shifts, "I take the duty now" with an end, and `hotline rota` showing who is on duty now and
 * next; bad input exits 2 and changes nothing; refusals exit 1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DutyView } from '../src/modules/directory/directory.types.js';
import { exits, json, ok } from './helpers/cli.js';
import { makeHome, type TestHome } from './helpers/nodes.js';

let ru: TestHome;
const ids: Record<string, string> = {};

beforeAll(async () => {
  ru = await makeHome('ru');
  await ok(ru.home, 'user', 'add', 'ivan', '--channels', 'crisis,cert', '--display-name', 'Ivan Petrov');
  await ok(ru.home, 'user', 'add', 'anna', '--channels', 'crisis');
  for (const [name, channel, extra] of [['Ivan Petrov', 'crisis', ['--user', 'ivan']], ['Anna Orlova', 'crisis', []], ['Desk', 'crisis', []], ['Desk', 'cert', []]] as const) {
    ids[`${name}/${channel}`] = (await json<{ id: string }>(ru.home, 'contact', 'add', '--channel', channel, '--function', 'Duty officer', '--name', name, ...extra)).id;
  }
});

const duty = async (): Promise<DutyView> => (await json<{ duty: DutyView[] }>(ru.home, 'rota', 'now', '--channel', 'crisis')).duty[0]!;

describe('hotline rota and contacts by name or short id', () => {
  it('contacts are named by an unambiguous name, user or id prefix; an ambiguous one is exit 2 listing the candidates', async () => {
    expect(await ok(ru.home, 'contact', 'link', 'anna orlova', 'anna')).toMatch(/Anna Orlova\) on crisis is user anna/);
    expect(await ok(ru.home, 'contact', 'list')).toMatch(/crisis +anna +Duty officer +Anna Orlova/);
    const before = await ok(ru.home, 'contact', 'list', '--json');
    await exits(2, /ambiguous_id.*"Desk" names several contacts; give the id\. Candidates: [0-9a-f-]{8,} \(Desk, cert\), [0-9a-f-]{8,} \(Desk, crisis\)/, ru.home, 'contact', 'remove', 'Desk');
    // Contacts added in the same minute share their first 8 characters (UUIDv7).
    await exits(2, /ambiguous_id/, ru.home, 'contact', 'remove', ids['Desk/cert']!.slice(0, 8));
    await exits(1, /not_found/, ru.home, 'contact', 'remove', 'Nobody');
    await exits(2, /invalid_argument.*does not hold the channel cert/, ru.home, 'contact', 'link', ids['Desk/cert']!, 'anna');
    expect(await ok(ru.home, 'contact', 'list', '--json')).toBe(before);
  });

  it('rota set changes one position alone; "none" empties one; a name on the channel resolves there', async () => {
    await ok(ru.home, 'rota', 'set', '--channel', 'crisis', '--primary', 'ivan', '--backup', 'Desk', '--supervisor', 'Anna Orlova');
    const chain = await ok(ru.home, 'rota', 'set', '--channel', 'crisis', '--backup', 'none');
    expect(chain).toMatch(/primary +Ivan Petrov[^\n]*\n +supervisor +Anna Orlova/);
    expect(chain).not.toMatch(/backup/);
    await ok(ru.home, 'rota', 'set', '--channel', 'crisis', '--backup', ids['Desk/crisis']!);
    expect((await duty()).now.map((s) => [s.position, s.contact.name])).toEqual([['primary', 'Ivan Petrov'], ['backup', 'Desk'], ['supervisor', 'Anna Orlova']]);
    await exits(2, /Give at least one position/, ru.home, 'rota', 'set', '--channel', 'crisis');
    await exits(2, /One contact can hold only one position/, ru.home, 'rota', 'set', '--channel', 'crisis', '--backup', 'Ivan Petrov');
  });

  it('a shift puts its contact on duty in its hours; rota take overrides it until its end; rota remove ends it; hotline rota shows now and next', async () => {
    const shift = await json<{ id: string; days: string[]; hours: string }>(ru.home, 'rota', 'shift', '--channel', 'crisis', '--contact', 'anna', '--days', 'daily', '--hours', '00:00-24:00', '--position', 'primary');
    expect(shift).toMatchObject({ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], hours: '00:00-24:00' });
    expect((await duty()).now[0]).toMatchObject({ position: 'primary', contact: { name: 'Anna Orlova' }, source: 'shift', entry: shift.id });
    for (const [args, pattern] of [
      [['--days', 'someday', '--hours', '08:00-18:00'], /--days: "someday" is not a weekday/],
      [['--days', 'mon-fri', '--hours', '8-18'], /--hours must be two times of day/],
      [['--days', 'mon-fri', '--hours', '08:00-08:00'], /does not end when it starts/],
    ] as const) await exits(2, pattern, ru.home, 'rota', 'shift', '--channel', 'crisis', '--contact', 'anna', ...args);
    await exits(2, /not linked to a contact on cert/, ru.home, 'rota', 'take', '--channel', 'cert', '--as', 'anna');
    await exits(2, /--for must be a duration/, ru.home, 'rota', 'take', '--channel', 'crisis', '--for', 'soon', '--as', 'ivan');
    await exits(2, /must end in the future/, ru.home, 'rota', 'take', '--channel', 'crisis', '--until', '2020-01-01T00:00:00Z', '--as', 'ivan');

    const taken = await json<{ id: string; until: string }>(ru.home, 'rota', 'take', '--channel', 'crisis', '--for', '2h', '--as', 'ivan');
    const now = await duty();
    expect(now.now[0]).toMatchObject({ position: 'primary', contact: { name: 'Ivan Petrov' }, source: 'override', until: taken.until });
    expect(now.next).toMatchObject({ at: taken.until, contact: { name: 'Anna Orlova' }, source: 'shift' });
    const text = await ok(ru.home, 'rota');
    expect(text).toMatch(new RegExp(`crisis +\\(shifts in UTC; times below in UTC\\)\\n +primary +Ivan Petrov \\(ivan\\) +\\(took the duty, until ${taken.until}`));
    expect(text).toContain(`next: Anna Orlova from ${taken.until} (shift)`);
    expect(await ok(ru.home, 'rota', 'shifts')).toContain(taken.id);
    await exits(1, /contact_in_rota.*Anna Orlova/, ru.home, 'contact', 'remove', 'Anna Orlova');
    await ok(ru.home, 'rota', 'shift', '--channel', 'cert', '--contact', ids['Desk/cert']!, '--days', 'sat,sun', '--hours', '22:00-06:00');
    await exits(1, /contact_in_rota.*\(Desk\) has a primary shift/, ru.home, 'contact', 'remove', ids['Desk/cert']!);
    expect(await ok(ru.home, 'rota', 'remove', taken.id.slice(0, 13))).toBe(`Ended override ${taken.id}\n`);
    expect((await duty()).now[0]).toMatchObject({ contact: { name: 'Anna Orlova' }, source: 'shift' });
    expect(await ok(ru.home, 'rota', 'remove', shift.id)).toBe(`Removed shift ${shift.id}\n`);
    expect((await duty()).now[0]).toMatchObject({ contact: { name: 'Ivan Petrov' }, source: 'rota' });
  });

  it('time_zone in hotline.json must be a time zone Intl knows (config_invalid, exit 2); a known one is used for shifts', async () => {
    const file = join(ru.home, 'hotline.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, time_zone: 'Mars/Olympus_Mons' }));
    await exits(2, /config_invalid.*"time_zone" must be an IANA time zone/, ru.home, 'rota');
    writeFileSync(file, JSON.stringify({ ...config, time_zone: 'Asia/Vladivostok' }));
    expect((await duty()).time_zone).toBe('Asia/Vladivostok');
    writeFileSync(file, JSON.stringify(config));
  });
});
