/**
 * The IP database's npm packages are date-stamped data: a caret range would let `npm update`
 * silently change which party an address routes to. They are pinned exactly, and
 * `hotline ipdb status` says which date the data in use is from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageDataDate } from '../src/modules/feeds/feeds.ipsources.js';
import { ensureBuilt, json, ROOT } from './helpers/cli.js';
import { makeHome } from './helpers/nodes.js';

beforeAll(() => ensureBuilt());

describe('the IP database packages', () => {
  it('are pinned to exact versions in package.json, the ones installed', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const pkg of ['@ip-location-db/asn', '@ip-location-db/geo-whois-asn-country']) {
      const installed = (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
      expect(manifest.dependencies[pkg], pkg).toBe(installed);
      expect(packageDataDate(installed), pkg).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('reads the data date from a date-stamped version', () => {
    expect(packageDataDate('2.3.2026061719')).toBe('2026-06-17');
    expect(packageDataDate('2.3.20260617')).toBe('2026-06-17');
    expect(packageDataDate('1.0.0')).toBeNull();
  });

  it('hotline ipdb status shows the date of the data in use', async () => {
    const us = await makeHome('us');
    const status = await json<{ sources: { kind: string; origin: string; data_of: string }[] }>(us.home, 'ipdb', 'status');
    expect(status.sources.map((s) => s.kind).sort()).toEqual(['asn-ipv4', 'asn-ipv6', 'country-ipv4', 'country-ipv6']);
    for (const s of status.sources) expect(s.data_of).toMatch(/^\d{4}-\d{2}-\d{2} \(@ip-location-db\/[a-z-]+@\d+\.\d+\.\d+\)$/);
  });
});
