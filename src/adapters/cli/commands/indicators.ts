import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail, isHotlineError } from '../../../shared/errors.js';
import { parseJsonBytes } from '../../../shared/json.js';
import { deliveryNote, withNode } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

/** Reads a JSON file (or stdin for "-"); a clear error when it is missing, not UTF-8 (`invalid_unicode`) or not JSON. */
export function readJsonFile(file: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    return fail('invalid_argument', `Cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return parseJsonBytes(bytes, { what: file });
  } catch (e) {
    if (isHotlineError(e) && e.code === 'malformed_json') return fail('bundle_invalid', `${file} is not JSON (${e.message})`);
    throw e;
  }
}

/** `hotline indicators send`: a STIX bundle to a peer as `indicators` messages (receipted like any message). */
export function register(program: Command, cli: Cli): void {
  const indicators = program.command('indicators').description('STIX 2.1 indicator bundles over the federation');
  indicators.command('send')
    .description('validate a STIX 2.1 bundle and queue it to a peer on the cert channel (split into several messages if it is large)')
    .requiredOption('--to <party>', 'the peer')
    .requiredOption('--file <file>', 'the bundle (JSON; "-" reads stdin)')
    .option('--tlp <tlp>', 'the messages\' TLP; no object may be marked more restrictively', 'amber')
    .option('--priority <priority>', 'flash | immediate | priority | routine', 'routine')
    .option('--text <text>', 'a note for the receiving officer')
    .option('--case <id>', 'add to an existing case')
    .option('--recipients <names>', 'TLP:RED only: user names at the peer who may read it')
    .option('--as <user>', 'act as this user (default: the node administrator)')
    .option('--skip-invalid', 'send the valid objects and list the refused ones (default: one invalid object refuses the bundle)')
    .action((o: { to: string; file: string; tlp: string; priority: string; text?: string; case?: string; recipients?: string; as?: string; skipInvalid?: boolean }) =>
      withNode(cli.home(), async (ctx) => {
        const bundle = readJsonFile(o.file);
        const { sendIndicatorsReport } = await import('../../../modules/taxii/taxii.indicators.js');
        const { sent, refused } = await sendIndicatorsReport(ctx, {
          to: o.to, bundle, tlp: o.tlp, priority: o.priority,
          ...(o.text === undefined ? {} : { text: o.text }), ...(o.case === undefined ? {} : { case: o.case }),
          ...(o.recipients === undefined ? {} : { recipients: o.recipients.split(',').map((r) => r.trim()).filter((r) => r !== '') }),
          skipInvalid: o.skipInvalid === true,
        }, await actingAs(ctx, o.as));
        const n = sent.reduce((a, e) => a + Number((e.body.stix as { objects: number }).objects), 0);
        const running = await deliveryNote(cli.home(), 'The messages wait');
        const skipped = refused.length === 0 ? [] : [`Refused ${refused.length} object(s), not sent:`, ...refused.map((r) => `  objects[${r.index}] ${r.id ?? '(no id)'}: ${r.reason}`)];
        cli.out.print([`Queued ${n} objects to ${o.to} in ${sent.length} indicators message(s), case ${sent[0]!.case}:`, ...sent.map((e) => `  ${e.id}  seq ${e.seq}`), ...skipped].join('\n'),
          { case: sent[0]!.case, objects: n, messages: sent.map((e) => ({ id: e.id, seq: e.seq, objects: (e.body.stix as { objects: number }).objects })), refused, node_running: running });
      }));
}
