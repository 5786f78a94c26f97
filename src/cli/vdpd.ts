#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --expose-gc --no-turbo-inlining
/** vdpd — the IEEE 802.1Qbg VDP daemon. */
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../log.js';

const program = new Command();
program
  .name('vdpd')
  .description('IEEE 802.1Qbg EVB/ECP/VDP daemon (station, or bridge emulator with role: bridge)')
  .requiredOption('-c, --config <file>', 'configuration file (YAML); never rewritten')
  .option('--capture <dir>', 'record every frame sent and received to pcap files in DIR (per interface, rotated by size)')
  .option('--socket <path>', 'client API socket (overrides the config)')
  .option('--state <file>', 'state file (overrides the config)')
  .option('--log-format <f>', 'json | pretty (overrides the config)')
  .option('--log-level <l>', 'trace | debug | info | warn | error (overrides the config)')
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
  .parse();

const o = program.opts<{ config: string; capture?: string; socket?: string; state?: string; logFormat?: string; logLevel?: string }>();

let cfg;
try {
  cfg = loadConfig(o.config);
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`vdpd: bad config: ${e.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw e;
}
if (o.socket) cfg.socket = o.socket;
if (o.state) cfg.stateFile = o.state;
if (o.logFormat === 'json' || o.logFormat === 'pretty') cfg.log.format = o.logFormat;
if (o.logLevel && ['trace', 'debug', 'info', 'warn', 'error'].includes(o.logLevel)) cfg.log.level = o.logLevel as typeof cfg.log.level;

const log = createLogger(cfg.log);
const daemon = new Daemon(cfg, log, o.capture ? { captureDir: o.capture } : {});

process.on('uncaughtException', (e) => {
  // never take the VSIs down for a bug in one handler: log it and carry on
  log.error({ err: e.stack ?? String(e) }, 'uncaught exception');
});

let stopping = false;
const shutdown = (sig: string): void => {
  if (stopping) return;
  stopping = true;
  log.info({ signal: sig }, 'shutting down');
  daemon.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      log.error({ err: String(e) }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => log.info('SIGHUP ignored: the config is read at start only'));

try {
  await daemon.start();
} catch (e) {
  log.error({ err: (e as Error).message }, 'vdpd failed to start');
  process.stderr.write(`vdpd: ${(e as Error).message}\n`);
  process.exit(1);
}
