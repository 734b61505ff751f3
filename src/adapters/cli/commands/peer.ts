import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail, isHotlineError } from '../../../shared/errors.js';
import { parseJsonBytes } from '../../../shared/json.js';
import type { Peer } from '../../../modules/federation/federation.peers.js';
import { lastErrorCode, type Channel } from '../../../modules/federation/federation.types.js';
import type { LinksTable } from '../../../modules/federation/federation.tables.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli, cliActor } from '../actor.js';

/**
 * Reads a JSON file (or standard input for "-"): UTF-8 only, so a file that is not is refused
 * (`invalid_unicode`) instead of read with U+FFFD in place of its bad bytes. Lone surrogates in
 * strings are left to the caller's checks (a carriage file's envelopes are judged one by one).
 */
function readJson(source: string, what: string): unknown {
  const where = source === '-' ? 'standard input' : source;
  let bytes: Buffer;
  try {
    bytes = readFileSync(source === '-' ? 0 : source);
  } catch {
    return fail('invalid_argument', `Cannot read ${what} from ${where}`);
  }
  try {
    return parseJsonBytes(bytes, { what: `${what} in ${where}`, wellFormed: false });
  } catch (e) {
    if (isHotlineError(e) && e.code === 'malformed_json') return fail('invalid_argument', `${what} in ${where} is not JSON`);
    throw e;
  }
}

/** Shows a descriptor's fingerprint on the terminal and asks whether the peer read the same; true only for "yes". */
async function confirmFingerprint(d: { party: string; name: string; url: string; fingerprint: string }): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write(`Pinning ${d.party} (${d.name}) at ${d.url}\nFingerprint: ${d.fingerprint}\nHas ${d.party} read you exactly this fingerprint (by phone, in person)?\n`);
    const a = await rl.question('Type "yes" to pin it: ');
    return a.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

/** Delivery on the link to a peer, as `peer list` shows it. */
interface LinkState {
  /** Messages queued and not yet receipted. */
  pending: number;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  /** The stable code in front of `last_error`, e.g. redirect_refused. */
  last_error_code: string | null;
}

function linkState(link: LinksTable | undefined): LinkState {
  if (link === undefined) return { pending: 0, attempts: 0, next_attempt_at: null, last_error: null, last_error_code: null };
  return {
    pending: Math.max(0, link.last_seq - link.acked_seq), attempts: link.attempts,
    next_attempt_at: link.next_attempt_at === null ? null : new Date(link.next_attempt_at).toISOString(),
    last_error: link.last_error, last_error_code: lastErrorCode(link.last_error),
  };
}

function describeLink(l: LinkState, p: Peer): string {
  if (p.lifecycle === 'removed') return `removed (${l.pending} never sent)`;
  if (p.lifecycle === 'suspended') return `suspended (${l.pending} queued)`;
  if (l.attempts > 0) return `failing: ${l.last_error_code ?? 'error'} (${l.attempts} attempts, ${l.pending} pending)`;
  return l.pending > 0 ? `${l.pending} pending` : 'ok';
}

const iso = (t: number): string => new Date(t).toISOString();

/** One line of a key's history: its fingerprint and validity. */
function describeKey(k: Peer['keys'][number]): string {
  const parts = [k.valid_from === null ? null : `from ${iso(k.valid_from)}`, k.valid_until === null ? null : `valid until ${iso(k.valid_until)}`,
    k.revoked_since === null ? null : `REVOKED since ${iso(k.revoked_since)}`].filter((x) => x !== null);
  return `  ${k.fingerprint}${parts.length === 0 ? '' : ` (${parts.join(', ')})`}`;
}

/** A peer as `peer list --json` and `peer show --json` print it (federation.keys peerView, shared with the REST API). */
async function peerView(p: Peer, state?: string): Promise<Record<string, unknown> & { fingerprint: string; key_changed_at: string | null }> {
  const { peerView: view } = await import('../../../modules/federation/federation.keys.js');
  return view(p, state);
}

function describePeer(p: Peer): string {
  const keys = p.keys.map(describeKey);
  const deadlines = Object.entries(p.deadlines).map(([k, v]) => `${k} ${v} min`).join(', ');
  return [`${p.party}  ${p.name}${p.lifecycle === 'active' ? '' : `  (${p.lifecycle})`}`, `URL        ${p.url}`, `Channels   ${p.channels.join(', ')}`, `Ack due    ${deadlines}`, 'Keys', ...keys].join('\n');
}

export function register(program: Command, cli: Cli): void {
  const peer = program.command('peer').description('pin and list peer nodes');

  peer.command('add')
    .description('pin a peer from its descriptor (compare its fingerprint out of band first)')
    .requiredOption('--descriptor <file|->', 'the peer\'s descriptor JSON, or - for standard input')
    .option('--fingerprint <digits>', 'the fingerprint the peer read to you (what hotline fingerprint prints on its node, with or without the party); refused if it differs')
    .option('--trust-on-first-use', 'pin without a fingerprint read out of band (the key is trusted as received)')
    .option('--channels <list>', 'channels agreed with this peer (default: all in common)')
    .action((o: { descriptor: string; fingerprint?: string; trustOnFirstUse?: boolean; channels?: string }) => withNode(cli.home(), async (ctx) => {
      const { parseDescriptor } = await import('../../../modules/federation/federation.peers.js');
      const d = parseDescriptor(readJson(o.descriptor, 'the descriptor'));
      let expectFingerprint = o.fingerprint;
      if (expectFingerprint === undefined && o.trustOnFirstUse !== true) {
        // Nobody compared the fingerprint: ask the person at the terminal, or refuse.
        const answer = o.descriptor !== '-' && process.stdin.isTTY === true ? await confirmFingerprint(d) : undefined;
        if (answer === undefined) {
          fail('fingerprint_required', `Not pinned: no --fingerprint, and no terminal to confirm it. Ask ${d.party} to read you its fingerprint (hotline fingerprint, on its node) and pass it: --fingerprint "${d.fingerprint}" if that is what they read; or pass --trust-on-first-use to pin this key unchecked.`,
            { party: d.party, fingerprint: d.fingerprint });
        }
        if (!answer) fail('fingerprint_required', `Not pinned: the fingerprint of ${d.party} was not confirmed. Compare it with ${d.party} by phone, then run peer add again.`, { party: d.party, fingerprint: d.fingerprint });
        expectFingerprint = d.fingerprint;
      }
      const p = await ctx.peers.add(d, {
        ...(expectFingerprint === undefined ? {} : { expectFingerprint }),
        ...(o.channels === undefined ? {} : { channels: o.channels.split(',').map((s) => s.trim()) as Channel[] }),
      });
      const epoch = (p as { epoch_start_seq?: number }).epoch_start_seq;
      await auditCli(ctx, { action: 'peer.add', subject: p.party, details: { url: p.url, channels: p.channels, fingerprint: d.fingerprint, ...(epoch === undefined ? {} : { readded: true, epoch_start_seq: epoch }) } });
      const note = o.fingerprint !== undefined ? 'matches the one given' : expectFingerprint !== undefined ? 'confirmed at the terminal' : 'NOT confirmed (trust on first use): compare it with ' + p.party + ' by phone';
      const again = epoch === undefined ? '' : `\nPinned again after its removal: the link to ${p.party} begins a new epoch at seq ${epoch}.`;
      cli.out.print(`Pinned ${p.party} (${p.name}) at ${p.url}\nFingerprint ${d.fingerprint}: ${note}.${again}`, p);
    }));

  peer.command('list')
    .description('list pinned peers')
    .action(() => withNode(cli.home(), async (ctx) => {
      const { getLink } = await import('../../../modules/federation/federation.links.js');
      const { peerState } = await import('../../../modules/federation/federation.peers.js');
      const peers = await ctx.peers.list();
      const links = await Promise.all(peers.map(async (p) => linkState(await getLink(ctx.db, ctx.self.party, p.party))));
      const views = await Promise.all(peers.map((p, i) => peerView(p, peerState(p, links[i]!.last_error_code))));
      cli.out.print(() => table(['PARTY', 'NAME', 'URL', 'CHANNELS', 'FINGERPRINT', 'KEY CHANGED', 'DELIVERY'],
        peers.map((p, i) => [p.party, p.name, p.url, p.channels.join(','), views[i]!.fingerprint, views[i]!.key_changed_at ?? '', describeLink(links[i]!, p)])),
      { peers: views.map((v, i) => ({ ...v, delivery: links[i] })) });
    }));

  peer.command('update')
    .description("move a pinned peer to its new descriptor (URL, name, channels), accepted only if signed by the peer's pinned key")
    .argument('<party>')
    .requiredOption('--descriptor <file|->', "the peer's new self-signed descriptor JSON, or - for standard input")
    .option('--channels <list>', 'channels agreed with this peer from now on (default: those agreed that it still offers)')
    .action((party: string, o: { descriptor: string; channels?: string }) => withNode(cli.home(), async (ctx) => {
      const { parseDescriptor } = await import('../../../modules/federation/federation.peers.js');
      const d = parseDescriptor(readJson(o.descriptor, 'the descriptor'));
      const { before, after } = await ctx.peers.update(party, d, o.channels === undefined ? {} : { channels: o.channels.split(',').map((s) => s.trim()) as Channel[] });
      await auditCli(ctx, {
        action: 'peer.update', subject: party,
        details: { fingerprint: d.fingerprint, url: { from: before.url, to: after.url }, name: { from: before.name, to: after.name }, channels: { from: before.channels, to: after.channels } },
      });
      cli.out.print(`Updated ${party}: ${after.url} (${after.name}), channels ${after.channels.join(', ')}; signed by its pinned key ${d.fingerprint}.`, after);
    }));

  for (const [name, to, said] of [
    ['suspend', 'suspended', 'Suspended %s: messages to it queue and are not delivered; what it sends is still received. "hotline peer resume %s" delivers them in order.'],
    ['resume', 'active', 'Resumed %s: what was queued is delivered in order.'],
    ['remove', 'removed', 'Removed %s: nothing more is sent to it or accepted from it. Its links, messages and receipts stay as evidence; "hotline peer add" pins it again (a new link epoch).'],
  ] as const) {
    peer.command(name)
      .description(name === 'suspend' ? 'stop delivering to a peer, keeping its link (its messages queue)'
        : name === 'resume' ? 'deliver to a suspended peer again' : 'stop all traffic with a peer, either way; its evidence stays')
      .argument('<party>')
      .action((party: string) => withNode(cli.home(), async (ctx) => {
        const { before, after } = await ctx.peers.setLifecycle(party, to);
        await auditCli(ctx, { action: `peer.${name}`, subject: party, details: { from: before.lifecycle, to: after.lifecycle } });
        cli.out.print(said.replaceAll('%s', party), after);
      }));
  }

  peer.command('show')
    .description('show one peer')
    .argument('<party>')
    .action((party: string) => withNode(cli.home(), async (ctx) => {
      const p = await ctx.peers.require(party);
      cli.out.print(() => describePeer(p), await peerView(p));
    }));

  peer.command('repin')
    .description("re-pin a peer's new key after its old one was compromised (hotline key revoke on its node); compare the fingerprint out of band, as at first pinning")
    .argument('<party>')
    .requiredOption('--descriptor <file|->', "the peer's new descriptor JSON, or - for standard input")
    .requiredOption('--fingerprint <digits>', 'the fingerprint the peer read to you (hotline fingerprint on its node); refused if it differs')
    .option('--since <time>', 'RFC 3339: since when the old key is compromised, as the peer said (default: now; its revocation statement may set it earlier)')
    .action((party: string, o: { descriptor: string; fingerprint: string; since?: string }) => withNode(cli.home(), async (ctx) => {
      const [{ parseDescriptor }, { repinPeer }, { parseIsoTime }] = await Promise.all([
        import('../../../modules/federation/federation.peers.js'), import('../../../modules/federation/federation.repin.js'), import('../../../shared/clock.js'),
      ]);
      const d = parseDescriptor(readJson(o.descriptor, 'the descriptor'));
      if (d.party !== party) fail('invalid_argument', `The descriptor is for "${d.party}", not "${party}"`);
      const since = o.since === undefined ? undefined : parseIsoTime(o.since);
      const r = await repinPeer(ctx, d, { expectFingerprint: o.fingerprint, actor: cliActor(), ...(since === undefined ? {} : { since }) });
      cli.out.print(`Re-pinned ${r.party}: ${r.fingerprint}
Revoked since ${r.revoked_since}: ${r.revoked.join(', ') || '(none)'}`, r);
    }));

  peer.command('deadlines')
    .description('record the acknowledgement deadlines (minutes per priority) agreed with a peer; applies to messages stored from now on')
    .argument('<party>')
    .option('--flash <min>', 'minutes to acknowledge a FLASH message (default 10)')
    .option('--immediate <min>', 'minutes for IMMEDIATE (default 60)')
    .option('--priority <min>', 'minutes for PRIORITY (default 1440)')
    .option('--routine <min>', 'minutes for ROUTINE (default 4320)')
    .action((party: string, o: Record<string, string | undefined>) => withNode(cli.home(), async (ctx) => {
      const { setPeerDeadlines } = await import('../../../modules/deadlines/deadlines.service.js');
      const deadlines = await setPeerDeadlines(ctx, party, o);
      await auditCli(ctx, { action: 'peer.deadlines', subject: party, details: { ...deadlines } });
      cli.out.print(`Ack deadlines agreed with ${party}: ${Object.entries(deadlines).map(([k, v]) => `${k} ${v} min`).join(', ')}`, { party, deadlines });
    }));

  peer.command('ack-policy')
    .description("which kinds wait for a person's acknowledgement with a peer (templates/ack-policy.json unless agreed otherwise); with options, record what was agreed: applies to messages stored from now on")
    .argument('<party>')
    .option('--person <kinds>', 'these kinds wait for a person: deadline, escalation, queue (comma-separated)')
    .option('--none <kinds>', 'these kinds never wait for anyone and never page')
    .option('--default <kinds>', 'these kinds follow templates/ack-policy.json again')
    .action((party: string, o: { person?: string; none?: string; default?: string }) => withNode(cli.home(), async (ctx) => {
      const { peerAckPolicy, setPeerAckPolicy } = await import('../../../modules/deadlines/deadlines.policy.js');
      await ctx.peers.require(party);
      const change: Record<string, string> = {};
      for (const policy of ['person', 'none', 'default'] as const) {
        for (const k of (o[policy] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) change[k] = policy;
      }
      const kinds = Object.keys(change).length === 0 ? await peerAckPolicy(ctx.db, party) : await setPeerAckPolicy(ctx, party, change);
      cli.out.print(() => table(['KIND', 'ACKNOWLEDGED BY', 'SOURCE'], kinds.map((k) => [k.kind, k.policy === 'person' ? 'a person' : 'nobody (machine traffic)', k.source === 'agreed' ? `agreed with ${party}` : 'ack-policy.json'])), { party, kinds });
    }));
}

export { readJson };
