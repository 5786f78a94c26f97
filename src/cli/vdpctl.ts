#!/usr/bin/env node
/** vdpctl: client and tools for vdpd. Each subcommand lives in src/cli/commands/. */
import { Command } from 'commander';
import { registerCaptureCommand } from './commands/capture.js';
import { registerDecodeCommand } from './commands/decode.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerIovCommands, registerNlRawCommand } from './commands/netlink.js';
import { registerVsiCommands } from './commands/vsi.js';
import { registerLabCommand } from './commands/lab.js';

const program = new Command();
program.name('vdpctl').description('client and tools for vdpd, the IEEE 802.1Qbg VDP engine').version('0.1.0');
program.exitOverride((err) => {
  // commander's own errors (unknown option, missing argument) are usage errors: exit 2
  process.exit(err.exitCode === 0 ? 0 : 2);
});
registerDecodeCommand(program);
registerReplayCommand(program);
registerCaptureCommand(program);
registerVsiCommands(program);
registerIovCommands(program);
registerNlRawCommand(program);
registerLabCommand(program);

await program.parseAsync(process.argv);
