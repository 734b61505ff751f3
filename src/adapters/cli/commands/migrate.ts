import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { table } from '../output.js';
import type { Cli } from '../main.js';

/** Where the SQLite configuration is kept after `hotline migrate` rewrote hotline.json. */
export const SQLITE_CONFIG_BACKUP = 'hotline.json.sqlite';

export interface MigrateOptions {
  home: string;
  /** postgres://user@host:5432/database, no password in it. */
  to: string;
  /** The password's file (first line); otherwise PGPASSWORD, or none. */
  passwordFile?: string;
}

export interface MigrateResult {
  home: string;
  from: string;
  to: string;
  tables: { table: string; rows: number }[];
  skipped: string[];
  backup: string;
}

/**
 * Moves a home's store from its SQLite file to PostgreSQL (issue 13): while no node runs on the
 * home (the home is claimed as `start` claims it, so none starts meanwhile), copies every table
 * into the empty database `to` in one transaction (storage/copy.ts), then points hotline.json at
 * it, keeping the SQLite configuration as hotline.json.sqlite. The SQLite file is left in the home,
 * unchanged: moving back is restoring the backup. A failure before the rewrite leaves the home as
 * it was and the target without rows.
 */
export async function migrateHome(o: MigrateOptions): Promise<MigrateResult> {
  const [{ CONFIG_FILE, loadConfig, parseConfig }, { claimHome }, { copySqliteToPostgres }] = await Promise.all([
    import('../../../config.js'), import('../../../pidfile.js'), import('../../storage/copy.js'),
  ]);
  const home = resolve(o.home);
  const config = loadConfig(home);
  if (config.store.driver !== 'sqlite') fail('invalid_argument', `This home's store is already PostgreSQL (${config.store.url}); migrate moves an SQLite home`);
  const file = join(home, CONFIG_FILE);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const next: Record<string, unknown> = { ...raw, store: { driver: 'postgres', url: o.to, ...(o.passwordFile === undefined ? {} : { password_file: resolve(o.passwordFile) }) } };
  delete next.database_url;
  // The new configuration is checked before anything is copied (a URL with a password in it, a bad scheme).
  const target = parseConfig(next, home).store;
  if (target.driver !== 'postgres') return fail('internal', 'the migrated configuration is not PostgreSQL');
  const claim = await claimHome(home, config.party);
  try {
    const report = await copySqliteToPostgres(config.store.path, target);
    const backup = join(home, SQLITE_CONFIG_BACKUP);
    copyFileSync(file, backup);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
    return { home, from: config.store.path, to: target.url, tables: report.tables, skipped: report.skipped, backup };
  } finally {
    claim.release();
  }
}

export function register(program: Command, cli: Cli): void {
  program.command('migrate')
    .description('move this home\'s store from its SQLite file to an empty PostgreSQL database (the node must be stopped)')
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://user@host:5432/database (no password in it; created with the C.UTF-8 collation)')
    .option('--database-password-file <file>', 'the PostgreSQL password\'s file (first line); otherwise PGPASSWORD, or none')
    .action(async (o: { to: string; databasePasswordFile?: string }) => {
      const r = await migrateHome({ home: cli.home(), to: o.to, ...(o.databasePasswordFile === undefined ? {} : { passwordFile: o.databasePasswordFile }) });
      const total = r.tables.reduce((n, t) => n + t.rows, 0);
      cli.out.print(() => [
        `Copied ${total} row(s) in ${r.tables.length} table(s) from ${r.from} to ${r.to} (one transaction; counts checked per table):`,
        table(['TABLE', 'ROWS'], r.tables.filter((t) => t.rows > 0).map((t) => [t.table, String(t.rows)])),
        ...(r.skipped.length === 0 ? [] : [`Not copied (SQLite's own full-text index tables; the index itself was copied): ${r.skipped.join(', ')}`]),
        `hotline.json now names the PostgreSQL store; the SQLite configuration is kept as ${r.backup} and ${r.from} is unchanged.`,
        `Next: hotline verify --home ${r.home}, then hotline start --home ${r.home}`,
      ].join('\n'), r);
    });
}
