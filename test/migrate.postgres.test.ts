/**
 * Issue 13: `hotline migrate --to postgres://...` moves an SQLite home that has lived (messages
 * both ways, an acknowledged and answered case, a published directory, TAXII objects received as
 * indicators, audit records) to PostgreSQL. Refused while the node runs and into a database that
 * holds rows; a copy that fails leaves the target without rows and the home as it was. After it,
 * `verify` gives the same links (head hashes) and audit chain, every table the same count,
 * messages in the same storing order, and the node starts on PostgreSQL and goes on exchanging
 * with its peer (seq numbers continue, chains equal on both sides).
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { copySqliteToPostgres } from '../src/adapters/storage/copy.js';
import type { VerifyReport } from '../src/modules/federation/federation.verify.js';
import { ensureBuilt, exits, json, ok } from './helpers/cli.js';
import { eventually, makePair, tempDir } from './helpers/nodes.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/pg.js';
import { queryStore, readStore, startProcesses, type NodeProcess } from './helpers/processes.js';
import { indicator, ipv4, malware } from './helpers/taxii.js';

const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');

const nodes: NodeProcess[] = [];
const dbs: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  await Promise.all(dbs.map((d) => d.drop()));
});

/** Rows per table of an SQLite store (its own tables and Kysely's aside). */
function sqliteCounts(home: string): Record<string, number> {
  return readStore(home, (db) => {
    const tables = (db.prepare("select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'").all() as { name: string; sql: string }[])
      .filter((t) => !/^message_search_/.test(t.name));
    return Object.fromEntries(tables.map((t) => [t.name, (db.prepare(`select count(*) as n from "${t.name}"`).get() as { n: number }).n]));
  });
}

/** Rows per table of a PostgreSQL database (Kysely's tables aside). */
async function pgCounts(url: string): Promise<Record<string, number>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>("select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_%'")).rows;
    const out: Record<string, number> = {};
    for (const { t } of tables) out[t] = Number((await c.query<{ n: string }>(`select count(*) as n from "${t}"`)).rows[0]!.n);
    return out;
  } finally {
    await c.end();
  }
}

async function delivered(home: string, id: string): Promise<void> {
  await eventually(async () => (/State +delivered/.test(await ok(home, 'show', id)) ? true : undefined));
}

type Link = VerifyReport['links'][number];
const link = (r: VerifyReport, from: string, to: string): Link => r.links.find((l) => l.from === from && l.to === to)!;

describePg('hotline migrate: an SQLite home to PostgreSQL', () => {
  it('refused while running and into a non-empty database; a failed copy leaves nothing; after it verify gives the same hashes and the node goes on on PostgreSQL', async () => {
    ensureBuilt('src/adapters/cli/commands/migrate.js');
    const [us, ru] = await makePair();
    const [a, b] = await startProcesses([us, ru]);
    nodes.push(a!, b!);

    // A home that has lived: a case both ways with an acknowledgement and an answer, plain messages
    // both ways, a published directory, TAXII objects (indicators from ru), audit records (every verb).
    const inquiry = (await ok(us.home, 'send', '--to', 'ru', '--channel', 'crisis', '--kind', 'inquiry', '--priority', 'flash', '--text', 'Scanning from your networks')).trim();
    await delivered(us.home, inquiry);
    await ok(ru.home, 'user', 'add', 'ivan', '--channels', 'crisis');
    await ok(ru.home, 'ack', inquiry, '--as', 'ivan');
    const answer = (await ok(ru.home, 'reply', inquiry, '--text', 'Looking at it')).trim();
    const plain = (await ok(us.home, 'send', '--to', 'ru', '--channel', 'cert', '--text', 'FYI: sinkhole data attached later')).trim();
    await ok(us.home, 'user', 'add', 'olga', '--channels', 'cert');
    await ok(us.home, 'token', 'create', '--user', 'olga');
    await ok(us.home, 'contact', 'add', '--channel', 'crisis', '--function', 'duty officer', '--name', 'Duty desk');
    await ok(us.home, 'directory', 'publish');
    await ok(us.home, 'collection', 'add', 'intel');
    const bundle = join(tempDir(), 'b.json');
    writeFileSync(bundle, JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [indicator(), ipv4('198.51.100.9'), malware('qakbot')] }));
    const ind = await json<{ messages: { id: string }[] }>(ru.home, 'indicators', 'send', '--to', 'us', '--file', bundle, '--tlp', 'green', '--text', 'C2 seen');
    for (const [home, id] of [[ru.home, answer], [us.home, plain], [ru.home, ind.messages[0]!.id]] as const) await delivered(home, id);
    await eventually(async () => ((await json<{ cases: { id: string; state: string }[] }>(us.home, 'cases')).cases.find((c) => c.id === inquiry)?.state === 'answered' ? true : undefined));

    // A search fills the full-text index (SQLite's FTS5 table; rebuilt, not copied, on PostgreSQL).
    expect(await ok(us.home, 'inbox', '--search', 'looking')).toContain('Looking at it');

    const db = await createTestDatabase('hotline_migrate');
    dbs.push(db);
    const config = (): { store?: { driver: string } } => JSON.parse(readFileSync(join(us.home, 'hotline.json'), 'utf8')) as { store?: { driver: string } };

    // While the node runs: refused, naming the pid.
    await exits(1, /already_running.*pid \d+/, us.home, 'migrate', '--to', db.url);
    await a!.stop();

    const before = await json<VerifyReport>(us.home, 'verify');
    expect(before.ok).toBe(true);
    const counts = sqliteCounts(us.home);
    for (const t of ['messages', 'acks', 'cases', 'users', 'tokens', 'directory_contacts', 'directory_parties', 'stix_objects', 'taxii_collections', 'audit', 'key_history', 'message_search']) {
      expect(counts[t], t).toBeGreaterThan(0);
    }
    const order = readStore(us.home, (s) => s.prepare('select rowid as r, id from messages order by rowid').all());

    // A database holding rows (another application's): refused, nothing changed.
    const other = await createTestDatabase('hotline_migrate');
    dbs.push(other);
    const c = new Client({ connectionString: other.url });
    await c.connect();
    await c.query('create table notes (x int); insert into notes values (1)');
    await c.end();
    await exits(1, /store_not_empty.*notes/, us.home, 'migrate', '--to', other.url);
    expect(config().store?.driver).toBe('sqlite');
    // A URL holding the password: refused before anything is opened (the password belongs in a file or PGPASSWORD).
    const withPassword = new URL(db.url);
    withPassword.password = 'secret';
    await exits(2, /config_invalid.*must not hold the password/, us.home, 'migrate', '--to', withPassword.toString());
    expect(Object.values(await pgCounts(db.url)).length).toBe(0);

    // A copy that fails at its very end (every row written, counts checked): the target keeps no row, the home is as it was.
    await expect(copySqliteToPostgres(join(us.home, 'hotline.db'), { url: db.url, passwordFile: null, maxConnections: 2 }, {
      beforeCommit: async (r) => {
        expect(r.tables.find((t) => t.table === 'messages')?.rows).toBe(counts.messages);
        throw new Error('the disk filled up');
      },
    })).rejects.toThrow('the disk filled up');
    expect(Object.values(await pgCounts(db.url)).every((n) => n === 0)).toBe(true);
    expect(sqliteCounts(us.home)).toEqual(counts);
    expect(config().store?.driver).toBe('sqlite');

    // The migration.
    const out = await ok(us.home, 'migrate', '--to', db.url);
    expect(out).toMatch(/^Copied \d+ row\(s\) in \d+ table\(s\) from .*hotline\.db to postgres:\/\/.*\(one transaction; counts checked per table\)/);
    expect(out).toMatch(/\nmessages +\d+\n/);
    expect(out).toContain('hotline.json.sqlite');
    expect(config().store).toEqual({ driver: 'postgres', url: db.url });
    expect(JSON.parse(readFileSync(join(us.home, 'hotline.json.sqlite'), 'utf8'))).toMatchObject({ store: { driver: 'sqlite', path: 'hotline.db' } });
    expect(existsSync(join(us.home, 'hotline.db'))).toBe(true);
    // Migrating again: the home is on PostgreSQL now.
    await exits(2, /invalid_argument.*already PostgreSQL/, us.home, 'migrate', '--to', other.url);

    const after = await json<VerifyReport>(us.home, 'verify');
    expect(after.ok).toBe(true);
    expect(after.problems).toEqual([]);
    expect(after.links).toEqual(before.links);
    expect(after.audit).toEqual(before.audit);
    const onPg = await pgCounts(db.url);
    // Every table as it was, but the search index: rebuilt from the messages, not copied (copy.ts).
    for (const [t, n] of Object.entries(counts)) expect(onPg[t], t).toBe(t === 'message_search' ? 0 : n);
    expect(await queryStore(us.home, 'select rowid as r, id from messages order by rowid')).toEqual(order);
    // The search index is rebuilt on PostgreSQL: a search finds the messages stored before the move, as on SQLite.
    expect(await ok(us.home, 'outbox', '--search', 'sinkhole')).toContain('FYI: sinkhole data');
    expect(await ok(us.home, 'outbox', '--search', 'sinkhole')).not.toContain('Scanning from your networks');
    expect((await queryStore(us.home, 'select count(*) as n from message_search'))[0]).toEqual({ n: counts.message_search });
    expect(await json<{ store: { path: string } }>(us.home, 'status')).toMatchObject({ store: { path: db.url } });

    // The node starts on PostgreSQL and goes on with its peer, both ways.
    await a!.start();
    const next = (await ok(us.home, 'send', '--to', 'ru', '--channel', 'cert', '--text', 'First from PostgreSQL')).trim();
    const back = (await ok(ru.home, 'send', '--to', 'us', '--channel', 'cert', '--text', 'Received on SQLite')).trim();
    await delivered(us.home, next);
    await delivered(ru.home, back);
    expect(await ok(us.home, 'inbox')).toContain('Received on SQLite');
    const [vu, vr] = [await json<VerifyReport>(us.home, 'verify'), await json<VerifyReport>(ru.home, 'verify')];
    expect(vu.ok && vr.ok).toBe(true);
    expect(link(vu, 'us', 'ru').last_seq).toBe(link(before, 'us', 'ru').last_seq + 1);
    expect(link(vu, 'ru', 'us').last_seq).toBe(link(before, 'ru', 'us').last_seq + 1);
    for (const [from, to] of [['us', 'ru'], ['ru', 'us']] as const) expect(link(vu, from, to)).toEqual(link(vr, from, to));
  });
});
