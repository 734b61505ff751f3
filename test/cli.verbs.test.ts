/**
 * The CLI loads only the command file of the verb it runs (src/adapters/cli/main.ts COMMAND_FILES):
 * the table must name every verb each file adds, and every file.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_FILES, commandFiles, verbOf, type Cli } from '../src/adapters/cli/main.js';
import { output } from '../src/adapters/cli/output.js';
import { ROOT } from './helpers/cli.js';

const cli: Cli = { home: () => '/nowhere', out: output(false), setExitCode: () => undefined };

describe('the verbs table', () => {
  it('lists the top-level verbs each command file registers, and every command file', async () => {
    for (const [verbs, load] of COMMAND_FILES) {
      const program = new Command('hotline');
      (await load()).register(program, cli);
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...verbs].sort());
    }
    const files = readdirSync(join(ROOT, 'src', 'adapters', 'cli', 'commands')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(COMMAND_FILES.length).toBe(files.length);
    const all = COMMAND_FILES.flatMap(([verbs]) => verbs);
    expect(new Set(all).size).toBe(all.length);
  });

  it('finds the verb past global options and --home\'s value', () => {
    expect(verbOf(['inbox', '--home', 'H'])).toBe('inbox');
    expect(verbOf(['--home', 'inbox', 'status'])).toBe('status');
    expect(verbOf(['--json', '--home=H', 'queue'])).toBe('queue');
    expect(verbOf(['--help'])).toBeUndefined();
  });

  it('loads one file for a known verb, all of them for help or an unknown verb', async () => {
    expect(await commandFiles(['inbox', '--home', 'H'])).toHaveLength(1);
    expect(await commandFiles(['--help'])).toHaveLength(COMMAND_FILES.length);
    expect(await commandFiles(['help', 'inbox'])).toHaveLength(COMMAND_FILES.length);
    expect(await commandFiles(['inboks'])).toHaveLength(COMMAND_FILES.length);
  });
});
