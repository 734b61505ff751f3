import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/pg.js';
import type { LeasesTables } from '../../shared/leases.js';
import { claimJob, jobInput, markInterrupted, MAX_TAKEOVERS, requeueJobs, spoolUpload } from './feeds.jobs.js';
import { feedRunRetention } from './feeds.retention.js';
import type { FeedsTables } from './feeds.tables.js';

/**
 * Feed jobs in the store (feeds.jobs.ts), on every dialect: an upload spooled in chunks and read
 * back whole; a job claimed by one process of two; a running job left to a live holder and taken
 * over from a gone one (PostgreSQL: its `process:` lease); what `markInterrupted` judges, and
 * what it must not (a CLI run on another machine); retention leaves no chunks behind.
 */

type Db = Kysely<FeedsTables>;
const T0 = Date.UTC(2026, 11, 1);

async function* pieces(text: string, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
}

async function spool(db: Db, id: string, holder: string, text: string): Promise<number> {
  return spoolUpload(db, { id, holder, source: 's', now: T0 }, pieces(text, 700_000), (n) => ({
    inputName: `upload (${n} bytes)`, source: 's', format: 'auto', tlp: 'amber', windowMinutes: 60, keepDays: 2,
  }));
}

async function row(db: Db, id: string): Promise<{ state: string; holder: string | null }> {
  return db.selectFrom('feed_runs').select(['state', 'holder']).where('id', '=', id).executeTakeFirstOrThrow();
}

const chunks = async (db: Db, id: string): Promise<number> =>
  Number((await db.selectFrom('feed_inputs').select((e) => e.fn.countAll<number>().as('n')).where('run_id', '=', id).executeTakeFirstOrThrow()).n);

describeEachStore('feed jobs in the store', (open, dialect) => {
  it('an upload is spooled in chunks, read back as it came, and claimed by one process of two', async () => {
    const db = (await open()) as unknown as Db;
    const text = 'ip\n' + Array.from({ length: 200_000 }, (_, i) => `198.51.100.${i % 256}`).join('\n') + '\n';
    expect(await spool(db, 'j1', 'h:1:a', text)).toBe(Buffer.byteLength(text));
    expect(await chunks(db, 'j1')).toBeGreaterThan(1);
    const back: Buffer[] = [];
    for await (const c of jobInput(db, 'j1')) back.push(c);
    expect(Buffer.concat(back).toString()).toBe(text);
    expect(await row(db, 'j1')).toMatchObject({ state: 'queued', holder: 'h:1:a' });
    // Its receiver claims it; a second claim finds nothing left.
    expect(await claimJob(db, 'h:1:a', T0, { id: 'j1' })).toBe('j1');
    expect(await claimJob(db, 'h:1:a', T0)).toBeNull();
    // Given back (a clean stop): anyone takes it; of two live processes (PostgreSQL) claiming it together, one.
    await requeueJobs(db, 'h:1:a', ['j1'], T0);
    expect(await row(db, 'j1')).toMatchObject({ state: 'queued', holder: null });
    if (dialect === 'postgres') {
      await (db as unknown as Kysely<LeasesTables>).insertInto('leases').values(['h:2:b', 'h:3:c'].map((h) => ({ name: `process:${h} 127.0.0.1:1`, holder: h, expires_at: T0 + 10_000 }))).execute();
      const both = await Promise.all([claimJob(db, 'h:2:b', T0), claimJob(db, 'h:3:c', T0)]);
      expect(both.filter((x) => x === 'j1')).toHaveLength(1);
    } else {
      expect(await claimJob(db, 'h:2:b', T0)).toBe('j1');
    }
  });

  it('a running job is left to a live holder and taken over from a gone one', async () => {
    const db = (await open()) as unknown as Db;
    await spool(db, 'j2', 'h:1:a', 'ip\n198.51.100.1\n');
    expect(await claimJob(db, 'h:1:a', T0)).toBe('j2');
    if (dialect === 'postgres') {
      // h:1:a's process lease is live: another process leaves its job alone; lapsed, it takes it over.
      await (db as unknown as Kysely<LeasesTables>).insertInto('leases').values({ name: 'process:h:1:a 127.0.0.1:1', holder: 'h:1:a', expires_at: T0 + 10_000 }).execute();
      expect(await claimJob(db, 'h:2:b', T0)).toBeNull();
      expect(await claimJob(db, 'h:2:b', T0 + 20_000)).toBe('j2');
    } else {
      // SQLite runs one node process per home: a holder that is not this process is gone.
      expect(await claimJob(db, 'h:2:b', T0)).toBe('j2');
    }
    expect(await row(db, 'j2')).toMatchObject({ state: 'running', holder: 'h:2:b' });
    // A running job is never marked interrupted: it is resumed.
    await markInterrupted(db, T0 + 20_000);
    expect((await row(db, 'j2')).state).toBe('running');
  });

  it('a job its own process holds as running but no longer runs (its end was not recorded) is claimed again by it; one it runs is not', async () => {
    const db = (await open()) as unknown as Db;
    await spool(db, 'j3', 'h:1:a', 'ip\n198.51.100.1\n');
    expect(await claimJob(db, 'h:1:a', T0, { running: new Set() })).toBe('j3');
    expect(await claimJob(db, 'h:1:a', T0, { running: new Set(['j3']) })).toBeNull();
    expect(await claimJob(db, 'h:1:a', T0, { running: new Set() })).toBe('j3');
    expect(await row(db, 'j3')).toMatchObject({ state: 'running', holder: 'h:1:a' });
  });

  it(`a job taken over from stopped processes ${MAX_TAKEOVERS} times is failed at the next (feed_abandoned), its input deleted; a clean stop does not count`, async () => {
    const db = (await open()) as unknown as Db;
    await spool(db, 'j4', 'h:0:z', 'ip\n198.51.100.1\n');
    expect(await claimJob(db, 'h:0:z', T0, { id: 'j4' })).toBe('j4');
    // Given back by a clean stop and claimed again: not a takeover.
    await requeueJobs(db, 'h:0:z', ['j4'], T0);
    expect(await claimJob(db, 'h:1:a', T0)).toBe('j4');
    // No process lease is live (PostgreSQL) and each claimer is another process (SQLite): each holder before is gone.
    for (let i = 2; i < 2 + MAX_TAKEOVERS; i++) expect(await claimJob(db, `h:${i}:x`, T0)).toBe('j4');
    expect(await db.selectFrom('feed_runs').select('attempts').where('id', '=', 'j4').executeTakeFirstOrThrow()).toEqual({ attempts: MAX_TAKEOVERS });
    expect(await claimJob(db, 'h:9:y', T0)).toBeNull();
    const r = await db.selectFrom('feed_runs').select(['state', 'holder', 'error']).where('id', '=', 'j4').executeTakeFirstOrThrow();
    expect(r).toMatchObject({ state: 'failed', holder: null });
    expect(r.error).toContain('[feed_abandoned]');
    expect(await chunks(db, 'j4')).toBe(0);
  });

  it('markInterrupted: a CLI run by a dead pid on this machine, not one on another machine; an upload cut off, its chunks deleted', async () => {
    const db = (await open()) as unknown as Db;
    const dead = 2 ** 22 + 12345; // above any pid this machine gives out
    const cli = (id: string, holder: string) => db.insertInto('feed_runs').values({
      id, source: 's', input: 'f.csv', state: 'running', pid: dead, started_at: T0, updated_at: T0, finished_at: null, report: '{}', error: null, options: null, holder,
    }).execute();
    await cli('here', `${hostname()}:${dead}`);
    await cli('elsewhere', `not-${hostname()}.example:${dead}`);
    await db.insertInto('feed_runs').values({
      id: 'cut', source: 's', input: 'upload', state: 'receiving', pid: dead, started_at: T0, updated_at: T0, finished_at: null, report: '{}', error: null, options: '{}', holder: `${hostname()}:${dead}:ab`,
    }).execute();
    await db.insertInto('feed_inputs').values({ run_id: 'cut', seq: 0, data: Buffer.from('ip\n') }).execute();
    await markInterrupted(db, T0 + 20_000);
    expect((await row(db, 'here')).state).toBe('interrupted');
    expect((await row(db, 'elsewhere')).state).toBe('running');
    expect((await row(db, 'cut')).state).toBe('interrupted');
    expect(await chunks(db, 'cut')).toBe(0);
  });

  it('retention keeps the runs not ended, and deletes a pruned run\'s chunks with it', async () => {
    const db = (await open()) as unknown as Db;
    await spool(db, 'queued', 'h:1:a', 'ip\n198.51.100.1\n');
    await spool(db, 'ended', 'h:1:a', 'ip\n198.51.100.2\n');
    await db.updateTable('feed_runs').set({ state: 'failed' }).where('id', '=', 'ended').execute();
    const rule = feedRunRetention(db);
    await rule.prune(T0 + 1, 1000);
    expect((await db.selectFrom('feed_runs').select('id').execute()).map((r) => r.id)).toEqual(['queued']);
    expect(await chunks(db, 'ended')).toBe(0);
    expect(await chunks(db, 'queued')).toBe(1);
  });
});
