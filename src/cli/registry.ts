/**
 * vdpctl's subcommands by module, for loading only the one being run (src/cli/vdpctl.ts).
 * The modules pull in very different things (the replay engine, the netlink client, the
 * lab driver with its logger and state machines); loading all of them cost more start-up
 * time than `vdpctl replay` spends on a small capture. test/unit/cli/registry.test.ts checks
 * that each module registers exactly the names listed here.
 */
import type { Command } from 'commander';

export type Register = (program: Command) => void;

export interface CommandModule {
  /** the top-level subcommands the module registers */
  names: readonly string[];
  load: () => Promise<Register[]>;
}

/** in the order the top-level help lists them */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['decode'], load: async () => [(await import('./commands/decode.js')).registerDecodeCommand] },
  { names: ['replay'], load: async () => [(await import('./commands/replay.js')).registerReplayCommand] },
  { names: ['capture'], load: async () => [(await import('./commands/capture.js')).registerCaptureCommand] },
  {
    names: ['preassoc', 'preassoc-rr', 'assoc', 'deassoc', 'status', 'list', 'interfaces', 'counters', 'watch'],
    load: async () => [(await import('./commands/vsi.js')).registerVsiCommands],
  },
  {
    names: ['iov', 'nl-raw'],
    load: async () => {
      const m = await import('./commands/netlink.js');
      return [m.registerIovCommands, m.registerNlRawCommand];
    },
  },
  { names: ['lab'], load: async () => [(await import('./commands/lab.js')).registerLabCommand] },
];

/**
 * The registrations a command line needs: when its first argument names a subcommand, that
 * subcommand's module only; for `-V`/`--version` alone, none; otherwise (top-level help,
 * `help CMD`, an option, an unknown command and the suggestions for it) every module, in
 * help order, so the output is the same.
 */
export async function registrationsFor(argv: readonly string[]): Promise<Register[]> {
  const name = argv[2];
  // the version is the program's own: no subcommand is needed to print it
  if (argv.length === 3 && (name === '-V' || name === '--version')) return [];
  const one = name === undefined ? undefined : COMMAND_MODULES.find((m) => m.names.includes(name));
  if (one) return one.load();
  const all: Register[] = [];
  for (const m of COMMAND_MODULES) all.push(...(await m.load()));
  return all;
}
