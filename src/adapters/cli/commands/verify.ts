import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { EXIT, table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { collect, verifyTranscriptFile } from './transcript.js';

export function register(program: Command, cli: Cli): void {
  program.command('verify')
    .description("check every stored envelope's signature, every link's hash chain and sequence, and the audit trail's chain; "
      + 'with FILE, check a case transcript instead (no home needed)')
    .argument('[file]', 'a transcript written by "hotline transcript"')
    .option('--expect-fingerprint <party=digits>', 'with FILE: the fingerprint you know for a party (repeatable); any other key fails', collect)
    .action(async (file: string | undefined, o: { expectFingerprint?: string[] }) => {
      if (file !== undefined) return verifyTranscriptFile(cli, file, o.expectFingerprint ?? []);
      if (o.expectFingerprint !== undefined) fail('invalid_argument', '--expect-fingerprint checks a transcript: give the FILE to verify');
      return verifyHome(cli);
    });
}

function verifyHome(cli: Cli): Promise<void> {
  return withNode(cli.home(), async (ctx) => {
    const { verifyStore } = await import('../../../modules/federation/federation.verify.js');
    const report = await verifyStore(ctx);
    cli.out.print(() => {
      const links = table(['LINK', 'MESSAGES', 'LAST SEQ', 'HEAD HASH'],
        report.links.map((l) => [`${l.from}→${l.to}`, String(l.messages), String(l.last_seq), l.head_hash]));
      const verdict = report.ok ? `OK: every signature, hash chain and receipt verifies, and the audit trail (${report.audit.records} record(s)) is whole and unchanged.`
        : `FAILED: ${report.problems.length + report.omitted} problem(s)\n${report.problems.map((p) => `  ${p.where}: ${p.code}: ${p.message}`).join('\n')}`;
      const marked = report.later_revoked.length === 0 ? ''
        : `\n\nVerified, but ${report.later_revoked.length} signed by a key later revoked (before its compromise):\n${report.later_revoked.map((m) => `  ${m.where}: ${m.message}`).join('\n')}`;
      return `${links}\n\n${verdict}${marked}`;
    }, report);
    if (!report.ok) cli.setExitCode(EXIT.failure);
  });
}
