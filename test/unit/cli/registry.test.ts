/** vdpctl loads only the module of the subcommand run: the name table must match what each module registers. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, registrationsFor } from '../../../src/cli/registry.js';

describe('vdpctl command registry', () => {
  it('each module registers exactly the names listed for it', async () => {
    for (const m of COMMAND_MODULES) {
      const program = new Command();
      for (const register of await m.load()) register(program);
      expect(program.commands.map((c) => c.name())).toEqual(m.names);
    }
  });

  it('a named subcommand loads its module only; anything else loads all, in order', async () => {
    const names = async (argv: string[]): Promise<string[]> => {
      const program = new Command();
      for (const register of await registrationsFor(argv)) register(program);
      return program.commands.map((c) => c.name());
    };
    expect(await names(['node', 'vdpctl', 'replay', 'x.pcap'])).toEqual(['replay']);
    expect(await names(['node', 'vdpctl', 'nl-raw', '00'])).toEqual(['iov', 'nl-raw']);
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    for (const argv of [[], ['--help'], ['help', 'replay'], ['nosuch'], ['-V']]) expect(await names(['node', 'vdpctl', ...argv])).toEqual(all);
  }, 60_000);
});
