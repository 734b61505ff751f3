import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import type { Receipt } from '../../../modules/federation/federation.types.js';
import { withNode } from '../home.js';
import { acknowledger } from './ack.js';
import { initHome } from './init.js';
import type { Cli } from '../main.js';

/**
 * The demo's duty officers, one per node, with console passwords (loopback only: a demo, not a
 * deployment). ru's officer acknowledges the crisis alert; both sign in to their node's console.
 */
export const DEMO_OFFICERS: Readonly<Record<string, { name: string; display_name: string; password: string }>> = {
  us: { name: 'john', display_name: 'John Smith', password: 'hotline-demo-john' },
  ru: { name: 'ivan', display_name: 'Ivan Petrov', password: 'hotline-demo-ivan' },
};

const BIN = fileURLToPath(new URL('../../../../../bin/hotline.js', import.meta.url));

/** Ports {@link freePort} has handed out in this process: a node given one may not listen on it yet. */
const handedOut = new Set<number>();

/** A free TCP port on loopback, released for the node to take; never the same one twice in a process. */
export async function freePort(): Promise<number> {
  // Below the kernel's ephemeral range (Linux: 32768-60999), so no outbound connection can be given
  // the port between this check and the node's listen (a race tests running side by side did hit).
  // Two homes made one after the other, before either node listens, were once given the same port.
  for (let i = 0; i < 64; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    if ((await listenOnce(port)) !== undefined) return take(port);
  }
  const any = await listenOnce(0);
  if (any === undefined) throw new Error('no free port on 127.0.0.1');
  return take(any);
}

function take(port: number): number {
  handedOut.add(port);
  return port;
}

/** Listens on `port` of 127.0.0.1 and closes again: the port it got, or undefined when it is taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => res(typeof a === 'object' && a !== null ? a.port : undefined));
    });
  });
}

interface DemoNode {
  party: string;
  home: string;
  url: string;
  token: string;
  fingerprint: string;
  publicKey: string;
  child?: ChildProcess;
}

async function api(n: DemoNode, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${n.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? n.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) fail('internal', `${n.party} ${path}: ${String(json.detail ?? res.status)}`);
  return json;
}

async function waitHealthy(n: DemoNode): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (n.child?.exitCode !== null && n.child?.exitCode !== undefined) fail('internal', `node ${n.party} exited; see ${join(n.home, 'node.log')}`);
    try {
      if ((await fetch(`${n.url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail('internal', `node ${n.party} did not become ready; see ${join(n.home, 'node.log')}`);
}

function startChild(n: DemoNode): ChildProcess {
  const log = openSync(join(n.home, 'node.log'), 'a', 0o600);
  return spawn(process.execPath, [BIN, 'start', '--home', n.home], { stdio: ['ignore', log, log] });
}

async function poll<T>(what: () => Promise<T | undefined>): Promise<T | undefined> {
  for (let i = 0; i < 150; i++) {
    const v = await what();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/**
 * The hotline's main job: a FLASH crisis alert from a template, rendered on the receiving side in
 * its own language from the same codes, acknowledged by a named officer; the sender then sees the
 * machine receipt and the human acknowledgement as two different things.
 */
async function crisisAlert(us: DemoNode, ru: DemoNode, say: (s: string) => void): Promise<{ id: string; acknowledged: boolean }> {
  say('\nA FLASH crisis alert from a template, us → ru:');
  const sent = await api(us, '/api/v1/messages', {
    method: 'POST',
    body: {
      to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber',
      text: 'Significant incident affecting the energy sector, apparently from your networks; we request clarification.',
      fields: {
        incident_category: 'intrusion', affected_sectors: ['energy'], requested_actions: ['clarify', 'investigate'], confidence: 'medium',
        observed_window: { from: '2026-11-23T08:55:00Z', to: '2026-11-23T09:25:00Z' }, indicators: ['198.51.100.7'],
      },
    },
  });
  const id = String(sent.id);
  say('  on ru, rendered in Russian from the same codes:');
  const onRu = await poll(async () => {
    try {
      return (await api(ru, `/api/v1/messages/${id}?lang=ru`)) as { rendered?: { label: string; value: string }[] };
    } catch {
      return undefined;
    }
  });
  for (const line of onRu?.rendered ?? []) say(`    ${line.label}: ${line.value}`);
  // The ack names whoever acknowledges: ru's duty officer, by the user record's display name.
  // (ivan was added with a console password before the nodes started: DEMO_OFFICERS.)
  const ivan = String((await api(ru, '/api/v1/tokens', { method: 'POST', body: { user: 'ivan' } })).secret);
  await api(ru, `/api/v1/messages/${id}/ack`, { method: 'POST', body: {}, token: ivan });
  const shown = await poll(async () => {
    const m = (await api(us, `/api/v1/messages/${id}`)).message as { receipt: Receipt | null; acknowledged: { officer: string; user: string | null; at: string } | null };
    return m.acknowledged === null ? undefined : m;
  });
  if (shown?.receipt != null && shown.acknowledged !== null) {
    say(`  on us: receipted by node ${shown.receipt.from} at ${shown.receipt.received_at}; acknowledged by ${acknowledger(shown.acknowledged)} at ${shown.acknowledged.at}`);
  } else {
    say('  on us: NOT acknowledged');
  }
  return { id, acknowledged: shown !== undefined };
}

/**
 * The CERT exchange: a STIX bundle (a C2 indicator, its address, the malware family) sent as an
 * `indicators` message, read on the other side over TAXII 2.1 from the collection `inbound-us`.
 */
async function indicatorsExchange(us: DemoNode, ru: DemoNode, say: (s: string) => void): Promise<{ objects: number }> {
  say('\nBotnet indicators as STIX 2.1, us → ru, read on ru over TAXII 2.1:');
  const at = '2026-11-23T09:00:00.000Z';
  const mw = { type: 'malware', spec_version: '2.1', id: `malware--${randomUUID()}`, created: at, modified: at, name: 'QakBot', is_family: true, malware_types: ['bot'] };
  const ind = {
    type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`, created: at, modified: at, name: 'QakBot C2 198.51.100.7',
    indicator_types: ['malicious-activity'], pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: at,
  };
  const rel = { type: 'relationship', spec_version: '2.1', id: `relationship--${randomUUID()}`, created: at, modified: at, relationship_type: 'indicates', source_ref: ind.id, target_ref: mw.id };
  await api(us, '/api/v1/indicators', { method: 'POST', body: { to: 'ru', tlp: 'green', text: 'C2 seen in our sinkhole', bundle: { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [ind, mw, rel] } } });
  const got = await poll(async () => {
    const res = await fetch(`${ru.url}/taxii2/api/collections/inbound-us/objects/`, { headers: { authorization: `Bearer ${ru.token}`, accept: 'application/taxii+json;version=2.1' } });
    const j = (await res.json()) as { objects?: { type: string; id: string; name?: string }[] };
    return res.ok && (j.objects ?? []).length === 3 ? j.objects : undefined;
  });
  for (const o of got ?? []) say(`  ${o.type.padEnd(12)} ${o.name ?? o.id}`);
  say(got === undefined ? '  NOT received' : `  GET ${ru.url}/taxii2/api/collections/inbound-us/objects/ → ${got.length} objects`);
  return { objects: got?.length ?? 0 };
}

export function register(program: Command, cli: Cli): void {
  program.command('demo')
    .description('start two real nodes (us, ru) on loopback, peer them, send a notification each way')
    .option('--once', 'exit after the exchange: 0 only if every message was receipted')
    .option('--dir <dir>', 'where to put the two node homes (recreated)', '.demo')
    .action(async (o: { once?: boolean; dir: string }) => {
      const [{ verifyReceipt }, { makeDescriptor, parseDescriptor }, { publicKeyFromB64 }] = await Promise.all([
        import('../../../modules/federation/federation.envelope.js'), import('../../../modules/federation/federation.peers.js'), import('../../../modules/identity/identity.keys.js'),
      ]);
      const dir = resolve(o.dir);
      const say = (s: string): void => {
        if (!cli.out.json) process.stdout.write(`${s}\n`);
      };
      const nodes: DemoNode[] = [];
      for (const [party, name] of [['us', 'United States CERT'], ['ru', 'Russian Federation CERT']] as const) {
        const home = join(dir, party);
        rmSync(home, { recursive: true, force: true });
        const port = await freePort();
        const r = await initHome({ home, party, name, listen: `127.0.0.1:${port}` });
        const publicKey = await withNode(home, async (ctx) => ctx.keys.publicKeyB64);
        nodes.push({ party, home, url: r.url, token: r.token, fingerprint: r.fingerprint, publicKey });
      }
      const [us, ru] = nodes as [DemoNode, DemoNode];
      say('Hotline demo: two nodes on loopback, each with its own SQLite store and Ed25519 key.\n');
      for (const n of nodes) say(`  ${n.party}  ${n.url}  fingerprint ${n.fingerprint}`);
      say('\nPeering: each node pins the other\'s descriptor, checking the fingerprint read aloud.');
      for (const [a, b] of [[us, ru], [ru, us]] as const) {
        const d = await withNode(b.home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
        await withNode(a.home, (ctx) => ctx.peers.add(parseDescriptor(d), { expectFingerprint: b.fingerprint }));
        say(`  ${a.party} pinned ${b.party} (${b.fingerprint})`);
      }
      // Each node's duty officer, with a console password: sign in at the node's URL right away.
      for (const n of nodes) {
        const o = DEMO_OFFICERS[n.party]!;
        await withNode(n.home, async (ctx) => {
          await ctx.users.add({ name: o.name, role: 'officer', channels: ['crisis', 'cert'], display_name: o.display_name });
          await ctx.users.setPassword(o.name, o.password);
        });
      }
      const stopAll = async (): Promise<void> => {
        await Promise.all(nodes.map((n) => new Promise<void>((res) => {
          if (n.child === undefined || n.child.exitCode !== null) return res();
          n.child.once('exit', () => res());
          n.child.kill('SIGTERM');
        })));
      };
      try {
        for (const n of nodes) n.child = startChild(n);
        await Promise.all(nodes.map(waitHealthy));
        say('\nBoth nodes are running. Their web consoles (sign in with these user names and passwords):');
        for (const n of nodes) say(`  ${n.party}  ${n.url}/  user ${DEMO_OFFICERS[n.party]!.name}  password ${DEMO_OFFICERS[n.party]!.password}`);
        say('\nSending a notification each way...\n');
        const sent: { from: DemoNode; to: DemoNode; id: string }[] = [];
        const texts: Record<string, string> = {
          us: 'Scheduled maintenance of the US CERT federation link on 2026-12-01 02:00-03:00 UTC.',
          ru: 'Уведомление: плановые работы на узле 2026-12-02 01:00-02:00 UTC. / Planned maintenance 2026-12-02 01:00-02:00 UTC.',
        };
        for (const [from, to] of [[us, ru], [ru, us]] as const) {
          const r = await api(from, '/api/v1/messages', {
            method: 'POST',
            body: { to: to.party, channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: texts[from.party] },
          });
          sent.push({ from, to, id: String(r.id) });
        }
        const results: { id: string; from: string; to: string; receipt: Receipt | null; verified: boolean }[] = [];
        for (const s of sent) {
          let receipt: Receipt | null = null;
          for (let i = 0; i < 150 && receipt === null; i++) {
            const m = (await api(s.from, `/api/v1/messages/${s.id}`)).message as { receipt: Receipt | null };
            receipt = m.receipt;
            if (receipt === null) await new Promise((r) => setTimeout(r, 100));
          }
          const verified = receipt !== null && verifyReceipt(receipt, [publicKeyFromB64(s.to.publicKey)]);
          results.push({ id: s.id, from: s.from.party, to: s.to.party, receipt, verified });
          say(`  ${s.from.party} → ${s.to.party}  message ${s.id}`);
          if (receipt === null) say('    NOT receipted yet');
          else {
            say(`    receipt: received by node ${receipt.from} at ${receipt.received_at}, seq ${receipt.seq}`);
            say(`    link hash ${receipt.link_hash}`);
            say(`    receipt signature ${verified ? 'verifies' : 'DOES NOT VERIFY'} against ${receipt.from}'s pinned key`);
          }
        }
        const alert = await crisisAlert(us, ru, say);
        const stix = await indicatorsExchange(us, ru, say);
        const ok = results.every((r) => r.verified) && alert.acknowledged && stix.objects === 3;
        if (cli.out.json) cli.out.print('', { ok, nodes: nodes.map(({ party, home, url, fingerprint }) => ({ party, home, url, fingerprint, console: { url: `${url}/`, user: DEMO_OFFICERS[party]!.name, password: DEMO_OFFICERS[party]!.password } })), messages: results, crisis_alert: alert, indicators: stix });
        if (o.once === true) {
          say(ok ? '\nEvery message was receipted, the crisis alert acknowledged by an officer, and the indicators served over TAXII.' : '\nSome messages were not receipted or acknowledged, or the indicators did not arrive.');
          cli.setExitCode(ok ? 0 : 1);
          return;
        }
        const bin = 'npx hotline';
        say(`\nThe nodes keep running (logs in ${us.home}/node.log and ${ru.home}/node.log). Drive them from another terminal:`);
        say(`  export HOTLINE_HOME=${us.home}`);
        say(`  ${bin} send --to ru --channel crisis --priority flash --tlp amber --text "Please call the duty officer"`);
        say(`  ${bin} outbox          # queued / retrying / delivered, with receipt times`);
        say(`  ${bin} inbox --home ${ru.home}`);
        say(`  ${bin} show <id>       # one message with its signed receipt`);
        say(`  ${bin} verify          # signatures and hash chains of every link`);
        say(`Consoles: ${nodes.map((n) => `${n.url}/ (${DEMO_OFFICERS[n.party]!.name} / ${DEMO_OFFICERS[n.party]!.password})`).join(', ')}`);
        say(`REST API: ${us.url}/docs (token in ${us.home}/admin.token). Press Ctrl-C to stop both nodes.`);
        await new Promise<void>((res) => {
          process.once('SIGINT', res);
          process.once('SIGTERM', res);
        });
      } finally {
        await stopAll();
      }
    });
}

