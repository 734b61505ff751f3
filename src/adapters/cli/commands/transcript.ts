import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { PRIVATE_FILE } from '../../../shared/files.js';
import type { TranscriptReport } from '../../../modules/transcripts/transcripts.types.js';
import { EXIT, table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli } from '../actor.js';
import { actingAs } from './user.js';

/** `hotline transcript --case ID --out FILE [--as USER] [--include-red]`. */
export function register(program: Command, cli: Cli): void {
  program.command('transcript')
    .description('write the signed transcript of a case (envelopes, receipts, keys) for "hotline verify FILE" anywhere')
    .requiredOption('--case <id>', 'the case id')
    .requiredOption('--out <file>', 'the file to write')
    .option('--as <user>', 'the user it is for: their channels and TLP:RED recipiency apply (default: the node administrator)')
    .option('--include-red', 'include the TLP:RED messages the user (--as) may read as a named recipient or their writer; the others, and all of them for the node administrator unless it wrote them, are listed as withheld')
    .action((o: { case: string; out: string; as?: string; includeRed?: boolean }) => withNode(cli.home(), async (ctx) => {
      const { buildTranscript, transcriptText } = await import('../../../modules/transcripts/transcripts.service.js');
      const t = await buildTranscript(ctx, o.case, { viewer: await actingAs(ctx, o.as), includeRed: o.includeRed === true });
      writeFileSync(o.out, transcriptText(t), { mode: PRIVATE_FILE });
      await auditCli(ctx, { action: 'transcript', subject: t.case, details: { messages: t.messages.length, withheld: t.withheld.length, include_red: o.includeRed === true } }, o.as);
      const own = t.keys.find((k) => k.public_key === t.exporter_key);
      const summary = {
        out: o.out, case: t.case, messages: t.messages.length, withheld: t.withheld.length,
        exported_by: t.exported_by, exported_for: t.exported_for, exported_at: t.exported_at, fingerprint: own?.fingerprint ?? null,
      };
      cli.out.print(() => [
        `Wrote the transcript of case ${t.case} to ${o.out}: ${t.messages.length} message(s)`
          + (t.withheld.length === 0 ? '' : `, ${t.withheld.length} withheld (TLP:RED; listed in the file)`),
        `Signed by ${t.exported_by}, fingerprint ${summary.fingerprint ?? '?'}; check it anywhere with "hotline verify ${o.out}"`,
      ].join('\n'), summary);
    }));
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * `hotline verify FILE`: checks a transcript with nothing but the file (no home, no store),
 * prints the keys to compare out of band and the timeline, and sets exit 1 if anything fails.
 */
export async function verifyTranscriptFile(cli: Cli, file: string, expectations: readonly string[]): Promise<void> {
  const { parseExpectations, verifyTranscriptBytes } = await import('../../../modules/transcripts/transcripts.verify.js');
  const expect = parseExpectations(expectations);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return fail('invalid_argument', `Cannot read the transcript ${file}`);
  }
  const report = verifyTranscriptBytes(bytes, { expect }, file);
  cli.out.print(() => describe(report), report);
  if (!report.ok) cli.setExitCode(EXIT.failure);
}

function describe(r: TranscriptReport): string {
  const keys = table(['PARTY', 'FINGERPRINT', 'VALID FROM', 'VALID UNTIL', 'REVOKED SINCE', 'EXPECTED'], r.keys.map((k) => [
    k.party, k.fingerprint, k.valid_from ?? '-', k.valid_until ?? '-', k.revoked_since ?? '-', k.expected === 'unchecked' ? 'not checked' : k.expected,
  ]));
  const timeline = table([' SENT', 'FROM → TO', 'SEQ', 'KIND', 'PRIORITY', 'TLP', 'RECEIPTED', 'TEXT'], r.timeline.map((e) => [
    `${e.verified ? ' ' : '!'}${e.sent_at}`, `${e.from} → ${e.to}`, String(e.seq), e.kind, e.priority.toUpperCase(), `TLP:${e.tlp.toUpperCase()}`,
    e.received_at ?? 'not receipted', e.later_revoked ? `[signed by a key later revoked] ${e.text}` : e.text,
  ]));
  const lines = [
    `Transcript of case ${r.case ?? '?'}, exported by ${r.exported_by ?? '?'} for ${r.exported_for ?? '?'} at ${r.exported_at ?? '?'}`,
    `Signed with the key of fingerprint ${r.exporter_fingerprint ?? '?'}`,
    '',
    'Keys in the file. They prove the file is intact and consistent; they prove WHO signed only if',
    'each fingerprint is the one you know for the party (compare out of band, or use --expect-fingerprint):',
    keys,
    '',
    'Timeline (sent: the sender\'s clock; receipted: the receiver\'s signed receipt; ! marks a problem):',
    timeline,
  ];
  if (r.withheld.length > 0) {
    lines.push('', `Withheld from this file (${r.withheld.length}): listed by the exporter, content not included`);
    lines.push(table(['SENT', 'FROM → TO', 'SEQ', 'KIND', 'TLP', 'ID', 'REASON'], r.withheld.map((w) => [
      w.sent_at, `${w.from} → ${w.to}`, String(w.seq), w.kind, `TLP:${w.tlp.toUpperCase()}`, w.id, w.reason,
    ])));
  }
  lines.push('');
  if (r.ok) {
    const receipts = r.timeline.filter((e) => e.received_at !== null).length;
    lines.push(`OK: the transcript signature, ${r.timeline.length} envelope signature(s) and ${receipts} receipt(s) verify against the keys in the file.`);
  } else {
    lines.push(`FAILED: ${r.problems.length} problem(s)`, ...r.problems.map((p) => `  ${p.where}: ${p.code}: ${p.message}`));
  }
  return lines.join('\n');
}
