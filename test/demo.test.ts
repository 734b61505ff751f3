import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT } from './helpers/cli.js';
import { tempDir } from './helpers/nodes.js';

describe('npm run demo -- --once', () => {
  it('starts two real nodes, exchanges receipted notifications, an acknowledged FLASH alert and STIX indicators read over TAXII, exits 0', () => {
    const dir = join(tempDir('hotline-demo-'), 'demo');
    const r = spawnSync(process.execPath, [BIN, 'demo', '--once', '--dir', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/us {2}http:\/\/127\.0\.0\.1:\d+ {2}fingerprint (\d{5} ){7}\d{5}/);
    expect(r.stdout.match(/receipt signature verifies against/g)).toHaveLength(2);
    // The consoles and their officers' sign-in, printed for a newcomer (issue 11).
    expect(r.stdout).toMatch(/us {2}http:\/\/127\.0\.0\.1:\d+\/ {2}user john {2}password hotline-demo-john/);
    expect(r.stdout).toMatch(/ru {2}http:\/\/127\.0\.0\.1:\d+\/ {2}user ivan {2}password hotline-demo-ivan/);
    expect(r.stdout).toContain('Категория инцидента: Вторжение');
    expect(r.stdout).toMatch(/on us: receipted by node ru at \S+; acknowledged by Ivan Petrov \(ivan\) at \S+/);
    expect(r.stdout).toMatch(/indicator +QakBot C2 198\.51\.100\.7/);
    expect(r.stdout).toMatch(/inbound-us\/objects\/ → 3 objects/);
    expect(r.stdout).toContain('Every message was receipted, the crisis alert acknowledged by an officer, and the indicators served over TAXII.');
  });
});
