import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { auditCli } from '../actor.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';

/** The secret from a file (its first line); not with --secret as well. */
function readSecret(file: string, given: string | undefined): string {
  if (given !== undefined) fail('invalid_argument', 'Give the secret once: --secret or --secret-file, not both');
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim();
  } catch {
    return fail('invalid_argument', `Cannot read the secret from ${file}`);
  }
}

const alerts = (): Promise<typeof import('../../../modules/alerts/alerts.sinks.js')> => import('../../../modules/alerts/alerts.sinks.js');

/** `hotline sink add|list|remove|test`: where alerts go (signed webhooks, Slack-style webhooks, e-mail). Secrets are never shown. */
export function register(program: Command, cli: Cli): void {
  const sink = program.command('sink').description('alert sinks: where escalations, overdue alerts and reminders go (webhooks, e-mail)');
  const add = sink.command('add').description('add a sink; every alert goes to every sink');

  add.command('webhook')
    .description('a webhook: the alert as JSON signed per Standard Webhooks (docs/alerts.schema.json), or {"text"} with --format slack')
    .argument('<url>', 'the receiver\'s http(s) URL')
    .option('--secret <whsec>', 'the signing secret the receiver verifies with: whsec_ and the base64 of 24 to 64 random bytes (required unless --format slack)')
    .option('--secret-file <file>', 'read the secret from this file instead (keeps it out of the shell history)')
    .option('--format <format>', 'standard (signed JSON) or slack (for Slack, Mattermost, Rocket.Chat incoming webhooks)', 'standard')
    .option('--name <name>', 'what to call it (default: the URL\'s host)')
    .action((url: string, o: { secret?: string; secretFile?: string; format: string; name?: string }) => withNode(cli.home(), async (ctx) => {
      const secret = o.secretFile === undefined ? o.secret : readSecret(o.secretFile, o.secret);
      const s = await (await alerts()).addSink(ctx.db, ctx.clock, {
        type: 'webhook', target: url, format: o.format, ...(secret === undefined ? {} : { secret }), ...(o.name === undefined ? {} : { name: o.name }),
      });
      await auditCli(ctx, { action: 'sink.add', subject: s.name, details: { type: s.type, format: s.format } });
      cli.out.print(`Added sink ${s.name}: webhook ${s.target} (${s.format}${s.signed ? ', signed' : ''}). Try it: hotline sink test ${s.name}`, s);
    }));

  add.command('email')
    .description('an e-mail address: the alert as text and HTML, through the SMTP relay of "notify.smtp" in hotline.json')
    .argument('<address>', 'where the mail goes')
    .option('--name <name>', 'what to call it (default: the address)')
    .action((address: string, o: { name?: string }) => withNode(cli.home(), async (ctx) => {
      const s = await (await alerts()).addSink(ctx.db, ctx.clock, { type: 'email', target: address, ...(o.name === undefined ? {} : { name: o.name }) });
      await auditCli(ctx, { action: 'sink.add', subject: s.name, details: { type: s.type } });
      const relay = ctx.config.notify.smtp === undefined ? '\nNo SMTP relay is configured: set "notify.smtp" in hotline.json, or nothing is mailed to it.' : '';
      cli.out.print(`Added sink ${s.name}: e-mail to ${s.target}. Try it: hotline sink test ${s.name}${relay}`, s);
    }));

  sink.command('list')
    .description('list the sinks (never their secrets)')
    .action(() => withNode(cli.home(), async (ctx) => {
      const sinks = await (await alerts()).listSinks(ctx.db);
      const legacy = ctx.config.notify.webhook === undefined ? [] : [`Also: the webhook of "notify.webhook" in hotline.json (unsigned).`];
      cli.out.print(() => [sinks.length === 0 ? 'No sinks: add one with "hotline sink add webhook URL --secret whsec_..." or "hotline sink add email ADDRESS".'
        : table(['NAME', 'TYPE', 'TARGET', 'FORMAT', 'SIGNED', 'ADDED'], sinks.map((s) => [s.name, s.type, s.target, s.format, s.signed ? 'yes' : 'no', s.created_at])), ...legacy].join('\n'), { sinks });
    }));

  sink.command('remove')
    .description('remove a sink: nothing more goes to it')
    .argument('<name>')
    .action((name: string) => withNode(cli.home(), async (ctx) => {
      const s = await (await alerts()).removeSink(ctx.db, name);
      await auditCli(ctx, { action: 'sink.remove', subject: s.name, details: { type: s.type } });
      cli.out.print(`Removed sink ${s.name} (${s.type} ${s.target})`, s);
    }));

  sink.command('test')
    .description('send a test alert to a sink now, in the node\'s language, and show the outcome')
    .argument('<name>')
    .action((name: string) => withNode(cli.home(), async (ctx) => {
      const { sendTestAlert } = await import('../../sinks/test.js');
      const r = await sendTestAlert(ctx, name);
      await auditCli(ctx, { action: 'sink.test', subject: name, details: { outcome: r.outcome } });
      if (r.outcome !== 'delivered') cli.setExitCode(1);
      cli.out.print(r.outcome === 'delivered' ? `Delivered: the test alert ${r.id} reached sink ${name}.` : `Failed [${r.error_code ?? 'error'}]: ${r.error ?? ''}`, r);
    }));
}
