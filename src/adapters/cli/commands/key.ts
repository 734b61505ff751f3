import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { readPassphrase, withNode } from '../home.js';
import type { Cli } from '../main.js';
import { cliActor } from '../actor.js';

const DURATION = /^(\d+)\s*(s|m|h|d)$/;

/** `--overlap 7d`: a duration in s, m, h or d. */
function parseDuration(v: string): number {
  const m = DURATION.exec(v.trim());
  if (m === null) return fail('invalid_argument', `--overlap must be a duration such as 7d, 36h or 30m (got "${v}")`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export function register(program: Command, cli: Cli): void {
  const key = program.command('key').description("this node's signing key: rotate, revoke after a compromise, export the public key");

  key.command('rotate')
    .description('make a new key and send every peer a key-change signed by both keys; the old key stays valid for --overlap')
    .option('--overlap <duration>', 'how long peers still accept the old key (e.g. 7d, 36h)', '7d')
    .option('--passphrase-stdin', 'the passphrase of the (encrypted) key on standard input; the new key is encrypted with it')
    .action((o: { overlap: string; passphraseStdin?: boolean }) => run(cli, o.passphraseStdin === true, async (passphrase) => {
      const overlapMs = parseDuration(o.overlap);
      return withNode(cli.home(), async (ctx) => {
        const { changeOwnKey } = await import('../../../modules/federation/federation.ownkeys.js');
        const r = await changeOwnKey({ db: ctx.db, keys: ctx.keys, self: ctx.self, clock: ctx.clock, limits: ctx.limits, peers: ctx.peers, hooks: ctx.hooks },
          { change: 'rotation', overlapMs, actor: cliActor(), ...(passphrase === undefined ? {} : { passphrase }) });
        cli.out.print(`Rotated. New fingerprint ${r.fingerprint} (read it to each peer)\nPrevious    ${r.previous}, valid until ${r.overlap_until}\nKey-change queued to ${r.peers.join(', ') || '(no peers)'}`,
          { fingerprint: r.fingerprint, previous: r.previous, overlap_until: r.overlap_until, public_key: r.public_key, peers: r.peers });
      }, passphrase === undefined ? {} : { passphrase });
    }));

  key.command('revoke')
    .description('after a compromise: a new key, the old one revoked since --since; peers re-pin the new key out of band (hotline peer repin)')
    .requiredOption('--compromised', 'confirms the old key is (or may be) in other hands')
    .requiredOption('--since <time>', 'RFC 3339 time from which the old key may have been used by someone else')
    .option('--passphrase-stdin', 'the passphrase of the (encrypted) key on standard input; the new key is encrypted with it')
    .action((o: { since: string; passphraseStdin?: boolean }) => run(cli, o.passphraseStdin === true, async (passphrase) => {
      const { parseIsoTime } = await import('../../../shared/clock.js');
      const since = parseIsoTime(o.since);
      if (Number.isNaN(since)) fail('invalid_argument', `--since must be an RFC 3339 UTC time such as 2026-01-15T08:00:00Z (got "${o.since}")`);
      return withNode(cli.home(), async (ctx) => {
        const { changeOwnKey } = await import('../../../modules/federation/federation.ownkeys.js');
        const r = await changeOwnKey({ db: ctx.db, keys: ctx.keys, self: ctx.self, clock: ctx.clock, limits: ctx.limits, peers: ctx.peers, hooks: ctx.hooks },
          { change: 'revocation', since, actor: cliActor(), ...(passphrase === undefined ? {} : { passphrase }) });
        cli.out.print(`Revoked ${r.previous} as compromised since ${r.revoked_since}.\nNew fingerprint ${r.fingerprint}\n`
          + 'Peers cannot trust a message about this signed by the lost key: call each one, read them the new fingerprint, and have them run\n'
          + `  hotline peer repin ${ctx.self.party} --descriptor <this node's descriptor> --fingerprint "${r.fingerprint}" --since ${r.revoked_since}`,
        { fingerprint: r.fingerprint, previous: r.previous, revoked_since: r.revoked_since, public_key: r.public_key, peers: r.peers });
      }, passphrase === undefined ? {} : { passphrase });
    }));

  key.command('export-public')
    .description("print this node's public key (base64url, 43 characters) and its fingerprint")
    .action(() => withNode(cli.home(), async (ctx) => {
      const { fingerprint } = await import('../../../modules/identity/identity.keys.js');
      const fp = fingerprint(ctx.keys.publicKeyB64);
      cli.out.print(`${ctx.keys.publicKeyB64}\n${fp}`, { party: ctx.self.party, public_key: ctx.keys.publicKeyB64, fingerprint: fp });
    }));
}

async function run(_cli: Cli, stdin: boolean, fn: (passphrase: string | undefined) => Promise<void>): Promise<void> {
  await fn(stdin ? await readPassphrase(0) : undefined);
}
