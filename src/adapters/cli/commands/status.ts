import type { Command } from 'commander';
import type { NodeStatus } from '../../../modules/health/health.service.js';
import { PRIORITIES } from '../../../modules/federation/federation.types.js';
import { table } from '../output.js';
import { withNodeBase } from '../home.js';
import type { NodeBase } from '../../../context.js';
import type { Cli } from '../main.js';

/** "45s", "12m", "3h 5m", "2d 4h". */
function ago(s: number | null): string {
  if (s === null) return 'never';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A running process of the node: its pid, address and (several processes on PostgreSQL) host. */
export interface NodeProcessInfo {
  pid: number;
  address: string | null;
  host?: string;
}

function runningLine(processes: readonly NodeProcessInfo[]): string {
  if (processes.length === 0) return 'NOT RUNNING: nothing is delivered, received or escalated (hotline start)';
  const one = (p: NodeProcessInfo): string => `(pid ${p.pid}${p.host === undefined ? '' : ` on host ${p.host}`}) on ${p.address ?? '(starting)'}`;
  if (processes.length === 1) return `running ${one(processes[0]!)}`;
  return `running: ${processes.length} processes share the store\n${processes.map((p) => `          ${one(p)}`).join('\n')}`;
}

/** The one screen of `hotline status`. */
export function describeStatus(s: NodeStatus, processes: readonly NodeProcessInfo[], redact: (t: string) => string): string {
  const out: string[] = [];
  out.push(`Node      ${s.party} (${s.name}), ${runningLine(processes)}`);
  out.push(`At        ${s.at}`, '');
  out.push('Links');
  out.push(table(['PEER', 'BACKLOG', 'LAST RECEIPT', 'LAST RECEIVED', 'DELIVERY'], s.links.map((l) => [
    l.party, String(l.backlog),
    l.last_receipt_at === null ? 'never' : `${l.last_receipt_at} (${ago(l.last_receipt_age_s)} ago)`,
    l.last_received_at ?? 'never',
    l.last_error_code === null ? (l.attempts > 0 ? `failing (${l.attempts} attempts)` : 'ok')
      : `failing: ${l.last_error_code} (${l.attempts} attempts)${l.last_error_code === 'key_mismatch' ? ': it did not prove it holds the pinned key, or its receipts do not verify with it (hotline peer list; docs/protocol.md 9.4)' : ''}`,
  ])).replace(/^/gm, '  '));
  const q = s.queue;
  out.push('', 'Queue     received, waiting for a person\'s acknowledgement');
  out.push(`  ${PRIORITIES.map((p) => `${p.toUpperCase()} ${q.by_priority[p]}`).join('  ')}`);
  out.push(`  total ${q.total}, overdue ${q.overdue}${q.oldest_age_s === null ? '' : `, oldest ${ago(q.oldest_age_s)} old (sent ${q.oldest_sent_at})`}`);
  out.push(`  sent by us and overdue at the peer: ${q.overdue_sent} (hotline overdue)`);
  out.push('', 'Sinks');
  if (s.sinks.length === 0) out.push('  no failed deliveries');
  for (const f of s.sinks) {
    out.push(`  ${f.sink} ${redact(f.target)}: ${f.failed} failed, ${f.retrying} retrying; last ${f.last_type ?? 'notification'} at ${f.last_at}${f.last_error === null ? '' : `: ${redact(f.last_error)}`}`);
  }
  out.push('', 'Last feed run');
  const r = s.last_feed_run;
  out.push(r === null ? '  none' : `  ${r.id} ${r.source} ${r.state}, started ${r.started_at}${r.finished_at === null ? '' : `, finished ${r.finished_at}`}, ${r.records} records${r.error === null ? '' : `: ${r.error}`}`);
  out.push('', `Store     ${s.store.path}: ${bytes(s.store.bytes)}${/^postgres(ql)?:/.test(s.store.path) ? '' : ` (+ ${bytes(s.store.wal_bytes)} write-ahead log)`}`);
  return out.join('\n');
}

/** `hotline status`: the node's health on one screen (also GET /api/v1/status). */
export function register(program: Command, cli: Cli): void {
  program.command('status')
    .description('the node on one screen: running or not, each link (last receipt, backlog, last error), the queue by priority, overdue, sinks\' failures, the last feed run, the store\'s size')
    .action(() => withNodeBase(cli.home(), async (ctx) => {
      const [{ nodeStatus }, { runningProcesses }, { redactUrls }, { storeName }] = await Promise.all([
        import('../../../modules/health/health.service.js'), import('../../../pidfile.js'), import('../../../shared/redact.js'), import('../../storage/store.js'),
      ]);
      const s = await nodeStatus({ db: ctx.db, self: ctx.self, now: ctx.clock.now(), storePath: storeName(ctx.config.store) });
      const processes = ctx.config.store.driver === 'postgres'
        // Several processes may share a PostgreSQL store, on this machine or others: each holds a lease saying it runs (main.ts).
        ? await liveProcesses(ctx)
        : await runningProcesses(ctx.config.home).then((rs) => rs.map((r) => ({ pid: r.pid, address: r.address })));
      const first = processes[0];
      cli.out.print(() => describeStatus(s, processes, redactUrls), { ...s, running: first !== undefined, pid: first?.pid ?? null, address: first?.address ?? null, processes });
    }));
}

/**
 * The processes of a node on PostgreSQL, from their live `process:<host>:<pid>:<tag> <address>`
 * leases, less those of this machine that have ended (killed with -9: their leases lapse later).
 */
async function liveProcesses(ctx: NodeBase): Promise<NodeProcessInfo[]> {
  const { endedHere, liveProcesses: live } = await import('../../../shared/leases.js');
  return (await live(ctx.db, ctx.clock.now())).filter((p) => !endedHere(p));
}
