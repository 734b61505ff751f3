import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import type { Peer } from '../../../modules/federation/federation.peers.js';
import type { Channel } from '../../../modules/federation/federation.types.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';

function readJson(source: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch {
    return fail('invalid_argument', `Cannot read ${what} from ${source === '-' ? 'standard input' : source}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    return fail('invalid_argument', `${what} in ${source === '-' ? 'standard input' : source} is not JSON`);
  }
}

function describePeer(p: Peer): string {
  const keys = p.keys.map((k) => `  ${k.fingerprint}${k.valid_until === null ? '' : ` (valid until ${new Date(k.valid_until).toISOString()})`}`);
  const deadlines = Object.entries(p.deadlines).map(([k, v]) => `${k} ${v} min`).join(', ');
  return [`${p.party}  ${p.name}`, `URL        ${p.url}`, `Channels   ${p.channels.join(', ')}`, `Ack due    ${deadlines}`, 'Keys', ...keys].join('\n');
}

export function register(program: Command, cli: Cli): void {
  const peer = program.command('peer').description('pin and list peer nodes');

  peer.command('add')
    .description('pin a peer from its descriptor (compare its fingerprint out of band first)')
    .requiredOption('--descriptor <file|->', 'the peer\'s descriptor JSON, or - for standard input')
    .option('--fingerprint <digits>', 'the fingerprint the peer read to you; refuse if it differs')
    .option('--channels <list>', 'channels agreed with this peer (default: all in common)')
    .action((o: { descriptor: string; fingerprint?: string; channels?: string }) => withNode(cli.home(), async (ctx) => {
      const { parseDescriptor } = await import('../../../modules/federation/federation.peers.js');
      const d = parseDescriptor(readJson(o.descriptor, 'the descriptor'));
      const p = await ctx.peers.add(d, {
        ...(o.fingerprint === undefined ? {} : { expectFingerprint: o.fingerprint }),
        ...(o.channels === undefined ? {} : { channels: o.channels.split(',').map((s) => s.trim()) as Channel[] }),
      });
      cli.out.print(`Pinned ${p.party} (${p.name}) at ${p.url}\nFingerprint ${d.fingerprint}: confirm it with ${p.party} by phone if you have not.`, p);
    }));

  peer.command('list')
    .description('list pinned peers')
    .action(() => withNode(cli.home(), async (ctx) => {
      const peers = await ctx.peers.list();
      cli.out.print(() => table(['PARTY', 'NAME', 'URL', 'CHANNELS', 'FINGERPRINT'],
        peers.map((p) => [p.party, p.name, p.url, p.channels.join(','), p.keys.at(-1)?.fingerprint ?? ''])), { peers });
    }));

  peer.command('show')
    .description('show one peer')
    .argument('<party>')
    .action((party: string) => withNode(cli.home(), async (ctx) => {
      const p = await ctx.peers.require(party);
      cli.out.print(() => describePeer(p), p);
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
      cli.out.print(`Ack deadlines agreed with ${party}: ${Object.entries(deadlines).map(([k, v]) => `${k} ${v} min`).join(', ')}`, { party, deadlines });
    }));
}

export { readJson };
