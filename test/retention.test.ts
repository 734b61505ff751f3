/**
 * Issue 9: TAXII statuses, notifications and feed runs are pruned after their retention, by the
 * node's loop and by `hotline prune`; messages, receipts, acknowledgements and cases never are.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/adapters/storage/schema.js';
import { DEFAULT_RETENTION, retentionRules } from '../src/retention.js';
import { pruneAll, RetentionProcessor } from '../src/shared/retention.js';
import { withNode } from '../src/adapters/cli/home.js';
import { hl } from './helpers/cli.js';
import { makeHome } from './helpers/nodes.js';
import { describeEachStore } from './helpers/pg.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');

let db: Store | undefined;
afterEach(async () => {
  await db?.destroy();
  db = undefined;
});

/** Rows of every prunable kind, some past the default retention, some not, and evidence that is older still. */
async function seed(s: Store, now: number): Promise<void> {
  const status = (id: string, daysAgo: number, state: string) => ({
    id, collection_id: 'c', principal: 'user:admin', status: state, request_timestamp: (now - daysAgo * DAY) * 1000,
    total_count: 1, success_count: 1, failure_count: 0, pending_count: state === 'pending' ? 1 : 0, message_id: null,
  });
  await s.insertInto('taxii_status').values([status('status-old', 31, 'complete'), status('status-old-pending', 31, 'pending'), status('status-new', 29, 'complete')]).execute();
  await s.insertInto('taxii_status_parts').values([
    { status_id: 'status-old', part: 0, successes: '[]', failures: '[]' }, { status_id: 'status-new', part: 0, successes: '[]', failures: '[]' },
  ]).execute();
  const notification = (id: string, daysAgo: number) => ({ id, message_id: `m-${id}`, step: '0', payload: '{}', created_at: now - daysAgo * DAY });
  await s.insertInto('notifications').values([
    notification('n-old-sent', 91), notification('n-old-pending', 91), notification('n-old-none', 91), notification('n-new', 89),
  ]).execute();
  const delivery = (id: string, state: string) => ({ notification_id: id, sink: 'webhook', target: 'http://127.0.0.1:1/', state, attempts: 1, next_attempt_at: null, last_error: null, sent_at: null });
  await s.insertInto('notification_deliveries').values([delivery('n-old-sent', 'sent'), delivery('n-old-pending', 'pending'), delivery('n-new', 'sent')]).execute();
  const run = (id: string, daysAgo: number, state: string) => ({
    id, source: 'test', input: '-', state, pid: null, started_at: now - daysAgo * DAY, updated_at: now - daysAgo * DAY, finished_at: null, report: '{}', error: null,
  });
  await s.insertInto('feed_runs').values([run('run-old', 91, 'complete'), run('run-old-running', 91, 'running'), run('run-new', 89, 'failed')]).execute();
  // Evidence, far older than any retention.
  await s.insertInto('messages').values({
    id: 'msg-old', direction: 'in', from_party: 'ru', to_party: 'fi', seq: 1, hash: 'h', kind: 'notification', channel: 'cert', case_id: 'msg-old',
    in_reply_to: null, priority: 'routine', tlp: 'green', sent_at: '2020-01-01T00:00:00.000Z', envelope: '{}', stored_at: now - 2000 * DAY,
    receipt: '{}', receipted_at: now - 2000 * DAY,
  }).execute();
  await s.insertInto('acks').values({ message_id: 'msg-old', officer: 'duty', acked_at: now - 2000 * DAY, ack_message_id: 'ack-old' }).execute();
  await s.insertInto('cases').values({
    id: 'msg-old', channel: 'cert', peer: 'ru', kind: 'notification', priority: 'routine', state: 'closed', opened_by: 'in', opened_at: now - 2000 * DAY,
    updated_at: now - 2000 * DAY, subject: null, last_message_id: 'msg-old', closed_by: 'duty', closed_at: now - 2000 * DAY,
  }).execute();
}

async function everything(s: Store): Promise<Record<string, unknown[]>> {
  return {
    taxii_status: (await s.selectFrom('taxii_status').select('id').orderBy('id').execute()).map((r) => r.id),
    taxii_status_parts: (await s.selectFrom('taxii_status_parts').select('status_id').orderBy('status_id').execute()).map((r) => r.status_id),
    notifications: (await s.selectFrom('notifications').select('id').orderBy('id').execute()).map((r) => r.id),
    notification_deliveries: (await s.selectFrom('notification_deliveries').select('notification_id').orderBy('notification_id').execute()).map((r) => r.notification_id),
    feed_runs: (await s.selectFrom('feed_runs').select('id').orderBy('id').execute()).map((r) => r.id),
    messages: await s.selectFrom('messages').selectAll().execute(),
    acks: await s.selectFrom('acks').selectAll().execute(),
    cases: await s.selectFrom('cases').selectAll().execute(),
  };
}

const counts = (r: { kind: string; count: number }[]): Record<string, number> => Object.fromEntries(r.map((x) => [x.kind, x.count]));

describeEachStore('retention', (open) => {
  it('a dry run counts what would go and changes nothing; a pass deletes exactly that; evidence stays', async () => {
    db = await open();
    await seed(db, NOW);
    const rules = retentionRules(db, DEFAULT_RETENTION);
    const before = await everything(db);
    const dry = await pruneAll(rules, NOW, true);
    expect(counts(dry)).toEqual({ taxii_statuses: 1, notifications: 2, feed_runs: 1 });
    expect(dry[0]).toMatchObject({ kind: 'taxii_statuses', older_than_days: 30, before: new Date(NOW - 30 * DAY).toISOString() });
    expect(await everything(db)).toEqual(before);

    const processor = new RetentionProcessor({ rules, now: () => NOW, onPass: () => undefined, onError: (e) => { throw e; } });
    expect(counts(await processor.runOnce())).toEqual({ taxii_statuses: 1, notifications: 2, feed_runs: 1 });
    expect(await everything(db)).toEqual({
      ...before,
      taxii_status: ['status-new', 'status-old-pending'],
      taxii_status_parts: ['status-new'],
      notifications: ['n-new', 'n-old-pending'],
      notification_deliveries: ['n-new', 'n-old-pending'],
      feed_runs: ['run-new', 'run-old-running'],
    });
    expect(counts(await processor.runOnce())).toEqual({ taxii_statuses: 0, notifications: 0, feed_runs: 0 });
  });

  it('deletes a large backlog in several transactions', async () => {
    db = await open();
    const rows = Array.from({ length: 2_345 }, (_, i) => ({
      id: `run-${String(i).padStart(5, '0')}`, source: 'test', input: '-', state: 'complete', pid: null,
      started_at: NOW - 100 * DAY, updated_at: NOW - 100 * DAY, finished_at: null, report: '{}', error: null,
    }));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('feed_runs').values(rows.slice(i, i + 500)).execute();
    expect(counts(await pruneAll(retentionRules(db, DEFAULT_RETENTION), NOW, false)).feed_runs).toBe(2_345);
    expect(await db.selectFrom('feed_runs').select('id').execute()).toEqual([]);
  });
});

// The CLI acts on a node home made by makeHome, whose store is an SQLite file.
describe('retention in hotline.json and hotline prune', () => {

  it('hotline prune: --dry-run lists counts per kind and changes nothing; then deletes; retention days come from hotline.json', async () => {
    const node = await makeHome('fi', { retention: { taxiiStatusesDays: 10 } });
    const now = Date.now();
    await withNode(node.home, (ctx) => seed(ctx.db, now));
    const snapshot = await withNode(node.home, (ctx) => everything(ctx.db));
    const dry = await hl(node.home, 'prune', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    const parsed = JSON.parse(dry.stdout) as { dry_run: boolean; pruned: { kind: string; older_than_days: number; count: number }[] };
    expect(parsed.dry_run).toBe(true);
    expect(parsed.pruned.map((p) => [p.kind, p.older_than_days, p.count])).toEqual([['taxii_statuses', 10, 2], ['notifications', 90, 2], ['feed_runs', 90, 1]]);
    expect(await withNode(node.home, (ctx) => everything(ctx.db))).toEqual(snapshot);
    const human = await hl(node.home, 'prune', '--dry-run');
    expect(human.stdout).toMatch(/WOULD DELETE\s+KIND/);
    expect(human.stdout).toMatch(/2\s+notifications\s+90 days/);

    const done = await hl(node.home, 'prune');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/DELETED\s+KIND/);
    const after = await withNode(node.home, (ctx) => everything(ctx.db));
    expect(after.taxii_status).toEqual(['status-old-pending']);
    expect(after.messages).toEqual(snapshot.messages);
    expect(after.acks).toEqual(snapshot.acks);
    expect(after.cases).toEqual(snapshot.cases);
  });

  it('refuses a retention that is not a positive number of days', async () => {
    await expect(makeHome('fi', { retention: { feedRunsDays: 0 } })).rejects.toThrow(/retention\.feedRunsDays/);
  });
});
