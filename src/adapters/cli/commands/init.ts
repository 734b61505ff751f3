import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ConfigFile } from '../../../config.js';
import { fail } from '../../../shared/errors.js';
import { makePrivateDir, PRIVATE_FILE } from '../../../shared/files.js';
import { CHANNELS } from '../../../modules/federation/federation.types.js';
import type { Cli } from '../main.js';

export interface InitOptions {
  home: string;
  party: string;
  name: string;
  listen: string;
  url?: string;
  channels?: string[];
  /** Extra config sections (limits, delivery, log_level) to write; tests use this. */
  extra?: Partial<ConfigFile>;
  /** Keeps the private key encrypted with this passphrase (PKCS#8, node:crypto). */
  passphrase?: string;
  /** A PostgreSQL store (postgres://user@host/db) instead of the SQLite file; its password from this file or PGPASSWORD. */
  database?: string;
  databasePasswordFile?: string;
}

/**
 * Creates a node home: config, Ed25519 key, admin token, and the store (SQLite in the home, or
 * PostgreSQL) with migrations applied. When the store cannot be opened, nothing is left behind.
 */
export async function initHome(o: InitOptions): Promise<{ home: string; fingerprint: string; token: string; url: string }> {
  const [{ CONFIG_FILE, loadConfig, parseConfig }, { openContext }, { sha256Hex }, { silentLogger }, { fingerprint, generateKeys, privateKeyPem }] = await Promise.all([
    import('../../../config.js'), import('../../../context.js'), import('../../../shared/canonical.js'), import('../../../shared/logger.js'),
    import('../../../modules/identity/identity.keys.js'),
  ]);
  const home = resolve(o.home);
  if (existsSync(join(home, CONFIG_FILE))) fail('home_exists', `${home} already holds a node; refusing to overwrite it`);
  const m = /^(.+):(\d{1,5})$/.exec(o.listen);
  if (m === null) fail('invalid_argument', `--listen must be HOST:PORT, e.g. 127.0.0.1:7001 (got "${o.listen}")`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = Number(m[2]);
  if (port > 65535) fail('invalid_argument', `--listen port ${port} is out of range`);
  const url = o.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const { keys } = generateKeys();
  const token = randomBytes(32).toString('base64url');
  const file: ConfigFile = {
    party: o.party, name: o.name, url, listen: { host, port },
    channels: o.channels ?? [...CHANNELS],
    key_file: 'node.key',
    store: o.database === undefined
      ? { driver: 'sqlite', path: 'hotline.db' }
      : { driver: 'postgres', url: o.database, ...(o.databasePasswordFile === undefined ? {} : { password_file: resolve(o.databasePasswordFile) }) },
    admin_token_sha256: sha256Hex(token),
    ...o.extra,
  };
  // Validate before writing anything, so a bad --party or --url leaves no half-made home behind.
  parseConfig(file, home);
  const made = !existsSync(home);
  makePrivateDir(home);
  const written = ['node.key', 'node.key.pub', 'admin.token', CONFIG_FILE].map((f) => join(home, f));
  writeFileSync(join(home, 'node.key'), privateKeyPem(keys.privateKey, o.passphrase), { mode: PRIVATE_FILE });
  // The public key beside it: what a CLI verb shows without the passphrase of an encrypted key.
  writeFileSync(join(home, 'node.key.pub'), `${keys.publicKeyB64}\n`);
  writeFileSync(join(home, 'admin.token'), `${token}\n`, { mode: PRIVATE_FILE });
  writeFileSync(join(home, CONFIG_FILE), `${JSON.stringify(file, null, 2)}\n`, { mode: PRIVATE_FILE });
  try {
    const ctx = await openContext(loadConfig(home), { log: silentLogger, ...(o.passphrase === undefined ? {} : { passphrase: o.passphrase }) });
    await ctx.close();
  } catch (e) {
    // The store could not be opened (PostgreSQL down, a refused login): leave no half-made home.
    if (made) rmSync(home, { recursive: true, force: true });
    else for (const f of [...written, join(home, 'hotline.db'), join(home, 'hotline.db-wal'), join(home, 'hotline.db-shm')]) rmSync(f, { force: true });
    throw e;
  }
  return { home, fingerprint: fingerprint(keys.publicKeyB64), token, url };
}

export function register(program: Command, cli: Cli): void {
  program.command('init')
    .description('create a node home: config, key pair, store')
    .requiredOption('--party <id>', 'this party\'s id, e.g. us')
    .requiredOption('--name <name>', 'display name, e.g. "US CERT"')
    .requiredOption('--listen <host:port>', 'address to listen on')
    .option('--url <url>', 'public URL peers use (default http://<listen>)')
    .option('--channels <list>', `channels this node offers (default ${CHANNELS.join(',')})`)
    .option('--database <url>', 'keep the store in PostgreSQL (postgres://user@host:5432/database, no password in it) instead of an SQLite file in the home')
    .option('--database-password-file <file>', 'the PostgreSQL password\'s file (first line); otherwise PGPASSWORD, or none')
    .option('--passphrase-stdin', 'keep the private key encrypted with the passphrase read from standard input (start then needs --passphrase-fd or the systemd credential)')
    .action(async (o: { party: string; name: string; listen: string; url?: string; channels?: string; passphraseStdin?: boolean; database?: string; databasePasswordFile?: string }) => {
      let passphrase: string | undefined;
      if (o.passphraseStdin === true) {
        const { readPassphrase } = await import('../home.js');
        passphrase = await readPassphrase(0);
      }
      const r = await initHome({
        ...(passphrase === undefined ? {} : { passphrase }),
        home: cli.home(), party: o.party, name: o.name, listen: o.listen,
        ...(o.url === undefined ? {} : { url: o.url }),
        ...(o.database === undefined ? {} : { database: o.database }),
        ...(o.databasePasswordFile === undefined ? {} : { databasePasswordFile: o.databasePasswordFile }),
        ...(o.channels === undefined ? {} : { channels: o.channels.split(',').map((s) => s.trim()) }),
      });
      cli.out.print(
        `Created node "${o.party}" in ${r.home}\nURL          ${r.url}\nFingerprint  ${r.fingerprint}\nAdmin token  ${join(r.home, 'admin.token')}\n`
          + `Next: hotline start --home ${r.home}; give peers the output of "hotline descriptor --home ${r.home}"`,
        { home: r.home, party: o.party, url: r.url, fingerprint: r.fingerprint },
      );
    });
}
