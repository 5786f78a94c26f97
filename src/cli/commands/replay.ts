/**
 * vdpctl replay FILE [--station MAC] [--json] [--strict] [--svg OUT.svg]: the pcap replay
 * debugger. Replays a capture in capture time and reports EVB negotiation, ECP acks and
 * retransmissions, VDP timelines per VSI and findings (src/replay/).
 * Exit codes: 0 done; 1 with --strict when a finding of severity warning or error exists;
 * 2 unreadable file (cannot open, not a capture, empty), bad option, or SVG not writable.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isMac, normalizeMac } from '../../../pdu/bytes.js';
import { analyzeFile } from '../../replay/analyze.js';
import { renderSvg } from '../../replay/svg.js';
import { renderText } from '../../replay/text.js';
import type { ReplayResult } from '../../replay/types.js';
import { BufferedOut, writeJsonLines } from '../output.js';

export interface ReplayCliOptions {
  station?: string;
  full?: boolean;
  json?: boolean;
  strict?: boolean;
  svg?: string;
}

/** Nothing in the file could be read as a capture (truncation after the header is a finding, not this). */
export function unreadable(r: ReplayResult): string | undefined {
  const e = r.report.frames.captureError;
  if (!e || r.report.frames.total > 0) return undefined;
  if (e.code === 'truncated' && e.field === 'record') return undefined;
  return e.message;
}

export async function runReplay(file: string, o: ReplayCliOptions): Promise<number> {
  let station: string | undefined;
  if (o.station !== undefined) {
    if (!isMac(o.station)) {
      process.stderr.write(`vdpctl replay: --station ${JSON.stringify(o.station)} is not a MAC address\n`);
      return 2;
    }
    station = normalizeMac(o.station);
  }
  let result: ReplayResult;
  try {
    result = await analyzeFile(file, { ...(station ? { station } : {}), ...(o.full ? { full: true } : {}), ladder: o.svg !== undefined });
  } catch (e) {
    process.stderr.write(`vdpctl replay: cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  const bad = unreadable(result);
  if (bad) {
    process.stderr.write(`vdpctl replay: cannot read ${file}: ${bad}\n`);
    return 2;
  }
  const out = new BufferedOut();
  if (o.json) writeJsonLines(out, result.report);
  else out.write(renderText(result.report));
  out.flush();
  if (o.svg) {
    try {
      writeFileSync(o.svg, renderSvg(result));
    } catch (e) {
      process.stderr.write(`vdpctl replay: cannot write ${o.svg}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  if (o.strict && result.report.findings.some((f) => f.severity !== 'info')) return 1;
  return 0;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay a pcap/pcapng/gzip capture: EVB negotiation, ECP acks and retransmissions, VDP timelines per VSI, findings')
    .argument('<file>', 'capture file')
    .option('--station <mac>', 'MAC address of the station (default: inferred from EVB mode / VDP direction)')
    .option('--json', 'one JSON document (stable, golden-file friendly)')
    .option('--strict', 'exit 1 when there is a finding of severity warning or error')
    .option('--svg <file>', 'also write a ladder diagram of the exchange as SVG')
    .option('--full', 'list every keep-alive and every ECPDU (default: uneventful keep-alive runs are one line, only eventful ECPDUs are listed)')
    .action(async (file: string, o: ReplayCliOptions) => {
      // everything has been written synchronously: exit now instead of letting Node wait for
      // V8's background work to drain (compilations of code that will not run again; a
      // 100,000-frame replay ended ~20 ms sooner)
      process.exit(await runReplay(file, o));
    });
}
