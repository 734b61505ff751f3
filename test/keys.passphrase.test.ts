import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { initHome } from '../src/adapters/cli/commands/init.js';
import { freePort } from '../src/adapters/cli/commands/demo.js';
import { withNode } from '../src/adapters/cli/home.js';
import { startNode, type RunningNode } from '../src/main.js';
import { changeOwnKey } from '../src/modules/federation/federation.ownkeys.js';
import { NODE_ACTOR } from '../src/modules/audit/audit.types.js';
import { silentLogger } from '../src/shared/logger.js';
import { hl } from './helpers/cli.js';
import { tempDir } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function encryptedHome(): Promise<{ home: string; fingerprint: string }> {
  const home = join(tempDir(), 'us');
  const r = await initHome({ home, party: 'us', name: 'US test node', listen: `127.0.0.1:${await freePort()}`, passphrase: 'correct horse battery staple' });
  return { home, fingerprint: r.fingerprint };
}

describe('the node key at rest, encrypted with a passphrase', () => {
  it('is written as encrypted PKCS#8; start refuses without the passphrase or with a wrong one (key_locked), and runs with it', async () => {
    const { home } = await encryptedHome();
    const pem = readFileSync(join(home, 'node.key'), 'utf8');
    expect(pem).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(pem).not.toContain('-----BEGIN PRIVATE KEY-----');
    const config = loadConfig(home);
    const refusal = async (passphrase?: string): Promise<string> => {
      try {
        const n = await startNode(config, { log: silentLogger, ...(passphrase === undefined ? {} : { passphrase }) });
        running.push(n);
        return 'started';
      } catch (e) {
        return `${(e as { code?: string }).code ?? '?'}: ${(e as Error).message}`;
      }
    };
    expect(await refusal()).toMatch(/^key_locked: .*--passphrase-fd/);
    expect(await refusal('wrong')).toMatch(/^key_locked: .*wrong passphrase/);
    const node = await startNode(config, { log: silentLogger, passphrase: 'correct horse battery staple' });
    running.push(node);
    expect(node.ctx.keys.unlocked).toBe(true);
  });

  it('reads the systemd credential; a CLI verb that only reads works without it, one that signs is refused', async () => {
    const { home, fingerprint } = await encryptedHome();
    // Public: no passphrase needed.
    const pub = await hl(home, 'key', 'export-public', '--json');
    expect(pub.code).toBe(0);
    expect(JSON.parse(pub.stdout)).toMatchObject({ fingerprint });
    // Signing (a descriptor is self-signed) needs it.
    const refused = await hl(home, 'descriptor');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/key_locked|encrypted/);
    const creds = tempDir();
    mkdirSync(creds, { recursive: true });
    writeFileSync(join(creds, 'hotline-passphrase'), 'correct horse battery staple\n');
    const previous = process.env.CREDENTIALS_DIRECTORY;
    process.env.CREDENTIALS_DIRECTORY = creds;
    try {
      const node = await startNode(loadConfig(home), { log: silentLogger });
      running.push(node);
      expect(node.ctx.keys.unlocked).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.CREDENTIALS_DIRECTORY;
      else process.env.CREDENTIALS_DIRECTORY = previous;
    }
  });

  it('a rotation keeps the new key encrypted with the same passphrase', async () => {
    const { home, fingerprint } = await encryptedHome();
    const r = await withNode(home, (ctx) => changeOwnKey({ ...ctx, keys: ctx.keys }, { change: 'rotation', overlapMs: 60_000, actor: NODE_ACTOR }), { passphrase: 'correct horse battery staple' });
    expect(r.previous).toBe(fingerprint);
    expect(readFileSync(join(home, 'node.key'), 'utf8')).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    const node = await startNode(loadConfig(home), { log: silentLogger, passphrase: 'correct horse battery staple' });
    running.push(node);
    expect(node.ctx.keys.publicKeyB64).toBe(r.public_key);
  });
});
