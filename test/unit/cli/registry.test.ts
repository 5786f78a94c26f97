/** vdpctl loads only the module of the subcommand run: the name table must match what each module registers. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, registrationsFor } from '../../../src/cli/registry.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'vdpctl.cjs');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('vdpctl command registry', () => {
  it('each module registers exactly the names listed for it', async () => {
    for (const m of COMMAND_MODULES) {
      const program = new Command();
      for (const register of await m.load()) register(program);
      expect(program.commands.map((c) => c.name())).toEqual(m.names);
    }
  });

  it('a named subcommand loads its module only; the version alone none; anything else loads all, in order', async () => {
    const names = async (argv: string[]): Promise<string[]> => {
      const program = new Command();
      for (const register of await registrationsFor(argv)) register(program);
      return program.commands.map((c) => c.name());
    };
    expect(await names(['node', 'vdpctl', 'replay', 'x.pcap'])).toEqual(['replay']);
    expect(await names(['node', 'vdpctl', 'nl-raw', '00'])).toEqual(['iov', 'nl-raw']);
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    for (const argv of [[], ['--help'], ['help', 'replay'], ['nosuch'], ['-V', 'replay']]) expect(await names(['node', 'vdpctl', ...argv])).toEqual(all);
    for (const argv of [['-V'], ['--version']]) expect(await names(['node', 'vdpctl', ...argv])).toEqual([]);
  }, 60_000);

  it('vdpctl --version prints the version (with no subcommand loaded)', () => {
    for (const flag of ['-V', '--version']) {
      const r = spawnSync(CLI, [flag], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(VERSION);
    }
  });

  it('the executable is a CommonJS file that requires a CommonJS file per subcommand: the same output as the ES-module build, and the subcommands left as ES modules (lab, capture) load from it', () => {
    // scripts in strict mode, as the ES modules they are made of
    const exe = readFileSync(CLI, 'utf8');
    expect(exe).toMatch(/^#![^\n]*\n'use strict';\n/);
    for (const sub of ['decode', 'replay', 'vsi', 'netlink']) {
      expect(readFileSync(join(ROOT, 'dist', 'src', 'cli', 'commands', `${sub}.cjs`), 'utf8')).toMatch(/^'use strict';\n/);
      expect(exe).toContain(`require("./commands/${sub}.cjs")`);
    }
    // the replay engine is compiled only by a replay, not by every start
    expect(readFileSync(join(ROOT, 'dist', 'src', 'cli', 'commands', 'replay.cjs'), 'utf8')).toContain('VdpTracker = class');
    expect(exe).not.toContain('VdpTracker');
    const capture = join(ROOT, 'captures', 'lldpad-vdp22-assoc-keepalive-deassoc.pcap');
    const cjs = spawnSync(CLI, ['replay', '--json', capture], { encoding: 'utf8' });
    const esm = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'vdpctl.js'), 'replay', '--json', capture], { encoding: 'utf8' });
    expect(cjs.status).toBe(0);
    expect(cjs.stdout.length).toBeGreaterThan(1000);
    expect(cjs.stdout).toBe(esm.stdout);
    for (const sub of ['lab', 'capture', 'decode', 'status', 'iov']) {
      const r = spawnSync(CLI, [sub, '--help'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: vdpctl ${sub}`);
    }
  });
});
