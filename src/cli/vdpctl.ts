#!/usr/bin/env node
/** vdpctl: client and tools for vdpd. Each subcommand lives in src/cli/commands/; only the one run is loaded (registry.ts). */
import { Command } from 'commander';
import { registrationsFor } from './registry.js';

const program = new Command();
program.name('vdpctl').description('client and tools for vdpd, the IEEE 802.1Qbg VDP engine').version('0.1.0');
program.exitOverride((err) => {
  // commander's own errors (unknown option, missing argument) are usage errors: exit 2
  process.exit(err.exitCode === 0 ? 0 : 2);
});
for (const register of await registrationsFor(process.argv)) register(program);

await program.parseAsync(process.argv);
