import { writeFileSync } from 'node:fs';
import { PRIVATE_FILE } from '../../../shared/files.js';
import type { Command } from 'commander';
import { EXIT } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli } from '../actor.js';
import { readJson } from './peer.js';

export function register(program: Command, cli: Cli): void {
  program.command('export')
    .description('write the envelopes not yet receipted by a peer to a file, for offline carriage')
    .requiredOption('--to <party>', 'the peer')
    .requiredOption('--out <file>', 'the file to write')
    .option('--from-seq <n>', 'start at this seq (e.g. the one a peer reports missing)')
    .action((o: { to: string; out: string; fromSeq?: string }) => withNode(cli.home(), async (ctx) => {
      const { exportEnvelopes } = await import('../../../modules/federation/federation.carriage.js');
      const file = await exportEnvelopes(ctx, o.to, o.fromSeq === undefined ? {} : { fromSeq: Number(o.fromSeq) });
      writeFileSync(o.out, `${JSON.stringify(file, null, 2)}\n`, { mode: PRIVATE_FILE });
      const seqs = file.envelopes.map((e) => e.seq);
      await auditCli(ctx, { action: 'export', subject: o.to, details: { envelopes: seqs.length, ...(seqs.length > 0 ? { from_seq: seqs[0], to_seq: seqs.at(-1) } : {}) } });
      cli.out.print(
        `Wrote ${file.envelopes.length} envelope(s) for ${o.to}${seqs.length > 0 ? ` (seq ${seqs[0]}..${seqs.at(-1)})` : ''} to ${o.out}`,
        { to: o.to, out: o.out, envelopes: file.envelopes.length, seqs },
      );
    }));

  program.command('import')
    .description('import a carriage file: envelopes from a peer (answering with receipts) or receipts for ours')
    .argument('<file>')
    .option('--receipts-out <file>', 'where to write the receipts to carry back (envelope files only)')
    .action((path: string, o: { receiptsOut?: string }) => withNode(cli.home(), async (ctx) => {
      const { importCarriage } = await import('../../../modules/federation/federation.carriage.js');
      const r = await importCarriage(ctx, readJson(path, 'the carriage file'));
      const refused = r.results.filter((x) => !x.ok);
      if (r.type === 'envelopes' && o.receiptsOut !== undefined) writeFileSync(o.receiptsOut, `${JSON.stringify(r.receipts, null, 2)}\n`, { mode: PRIVATE_FILE });
      const lines = [`Imported ${r.type}: ${r.results.length - refused.length} accepted, ${refused.length} refused`];
      // Each refusal by its place in the file (0-based, as in the file's array), its id and its code.
      for (const [i, x] of r.results.entries()) {
        if (x.ok) continue;
        const err = 'error' in x ? x.error : undefined;
        lines.push(`  ${r.type}[${i}] ${x.id ?? '(no id)'}: ${err?.code ?? ''}: ${err?.message ?? ''}`);
      }
      if (r.type === 'envelopes' && o.receiptsOut !== undefined) lines.push(`Receipts for the sender written to ${o.receiptsOut}`);
      cli.out.print(lines.join('\n'), r);
      if (refused.length > 0) cli.setExitCode(EXIT.failure);
    }));
}
