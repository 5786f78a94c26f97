/**
 * vdpctl lab run: load and conformance driver. Runs vdpd's station engine in this process
 * on an interface facing the device under test (an 802.1Qbg bridge) and reports what the
 * bridge does. Exit 0 when the load had no failures and every scenario passed (or did not
 * apply), 1 otherwise, 2 for bad usage.
 */
import { writeFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../config.js';
import { UnknownInterfaceError } from '../../io/packet-socket.js';
import { createLogger } from '../../log.js';
import { renderHtml, renderText } from '../../lab/driver/report.js';
import { LabUsageError, parseScenarios, runLab } from '../../lab/driver/run.js';
import type { ScenarioName } from '../../lab/driver/types.js';
import { EXIT } from '../../api/protocol.js';
import { BufferedOut } from '../output.js';

interface LabOpts {
  iface: string;
  vsis: string;
  rate: string;
  hold: string;
  typeIds?: string;
  scenario?: string;
  load?: boolean;
  json?: boolean;
  report?: string;
  html?: string;
  capture?: string;
  config?: string;
  evbTimeout: string;
  settle: string;
  logLevel: string;
  quiet?: boolean;
}

/** stderr progress: redrawn in place on a terminal, one line a second otherwise. */
class Progress {
  private latest = '';
  private printed = '';
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly quiet: boolean) {
    if (!quiet && !this.tty) {
      this.timer = setInterval(() => this.flushLine(), 1000);
      this.timer.unref();
    }
  }

  set = (line: string): void => {
    this.latest = line;
    if (this.quiet || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const cols = process.stderr.columns || 120;
    process.stderr.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
    this.printed = line;
  };

  private flushLine(): void {
    if (this.latest) writeSync(2, `${this.latest}\n`);
    this.printed = this.latest;
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.quiet) return;
    if (this.tty) {
      if (this.printed || this.latest) process.stderr.write(`\r\x1b[K${this.latest}\n`);
    } else if (this.latest && this.latest !== this.printed) this.flushLine();
  }
}

function usage(msg: string): never {
  process.stderr.write(`vdpctl lab run: ${msg}\n`);
  process.exit(EXIT.usage);
}

function num(name: string, v: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) usage(`${name} must be ${integer ? 'an integer' : 'a number'} ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function registerLabCommand(program: Command): void {
  const lab = program.command('lab').description('lab tools: load and conformance testing against a bridge');
  lab
    .command('run')
    .description('run the station engine on IFACE against the bridge: a load (default) or conformance scenarios, with a report')
    .requiredOption('-i, --iface <name>', 'interface facing the bridge under test')
    .option('--vsis <n>', 'load: number of VSIs', '100')
    .option('--rate <r>', 'load: associations (and then de-associations) per second; 0 = as fast as the engine packs them', '0')
    .option('--hold <seconds>', 'load: hold the VSIs this long through keep-alives', '10')
    .option('--type-ids <list>', 'load: VSI type IDs, comma-separated, used in turn (default 1193046)')
    .option('--scenario <name>', 'conformance: a scenario, a comma-separated list, or all')
    .option('--load', 'with --scenario: run the load first as well')
    .option('--json', 'print the JSON report on stdout instead of the text summary')
    .option('--report <file.json>', 'write the JSON report')
    .option('--html <file.html>', 'write an HTML report (latency histogram, ladder diagrams of failed scenarios)')
    .option('--capture <file.pcap>', 'record every frame sent and received (frame numbers in the report refer to it)')
    .option('--config <station.yaml>', "station settings in vdpd's config format (the entry for IFACE, or the only one)")
    .option('--evb-timeout <seconds>', 'wait this long for EVB negotiation', '30')
    .option('--settle <seconds>', 'pause after EVB before the first request (lldpad needs ~2 s)', '2')
    .option('--log-level <level>', 'engine log on stderr: trace | debug | info | warn | error', 'error')
    .option('--quiet', 'no progress line')
    .action(async (o: LabOpts) => {
      let scenarios: ScenarioName[] | undefined;
      try {
        if (o.scenario !== undefined) scenarios = parseScenarios(o.scenario);
      } catch (e) {
        usage((e as Error).message);
      }
      const levels = ['trace', 'debug', 'info', 'warn', 'error'] as const;
      const level = levels.find((l) => l === o.logLevel) ?? usage(`--log-level must be one of ${levels.join(', ')}`);
      const typeIds = o.typeIds === undefined ? [] : o.typeIds.split(',').map((t) => num('--type-ids', t.trim(), 0, 0xffffff, true));
      const withLoad = scenarios === undefined || o.load === true;
      const load = withLoad
        ? { vsis: num('--vsis', o.vsis, 1, 1_000_000, true), rate: num('--rate', o.rate, 0, 1_000_000), holdS: num('--hold', o.hold, 0, 86_400), typeIds }
        : undefined;
      const progress = new Progress(o.quiet === true);
      let report;
      try {
        report = await runLab(
          {
            iface: o.iface,
            ...(o.config !== undefined ? { configPath: o.config } : {}),
            ...(load ? { load } : {}),
            ...(scenarios ? { scenarios } : {}),
            ...(o.capture !== undefined ? { capturePath: o.capture.replace(/\.pcap$/, '') } : {}),
            evbTimeoutMs: num('--evb-timeout', o.evbTimeout, 0, 3600) * 1000,
            settleMs: num('--settle', o.settle, 0, 600) * 1000,
            log: createLogger({ level, format: 'json', fd: 2 }, 'vdpctl-lab'),
            onStarted: (stop) => {
              const interrupted = (sig: NodeJS.Signals): void => {
                progress.end();
                stop();
                process.stderr.write(`vdpctl lab run: ${sig}: stopped (shutdown LLDPDU sent; the bridge drops the VSIs left)\n`);
                process.exit(130);
              };
              process.once('SIGINT', interrupted);
              process.once('SIGTERM', interrupted);
            },
          },
          progress.set,
        );
      } catch (e) {
        progress.end();
        if (e instanceof LabUsageError || e instanceof ConfigError || e instanceof UnknownInterfaceError) usage(e.message);
        process.stderr.write(`vdpctl lab run: ${(e as Error).message}\n`);
        process.exit(1);
      }
      progress.end();
      const json = JSON.stringify(report, null, 2) + '\n';
      try {
        if (o.report) writeFileSync(o.report, json);
        if (o.html) writeFileSync(o.html, renderHtml(report));
      } catch (e) {
        process.stderr.write(`vdpctl lab run: cannot write the report: ${(e as Error).message}\n`);
        process.exit(1);
      }
      const out = new BufferedOut();
      out.write(o.json ? json : renderText(report));
      out.flush();
      process.exit(report.passed ? 0 : 1);
    });
}
