/**
 * `vdpctl replay --json` against `tshark -V` on the same generated 100,000-frame capture of a
 * whole station ↔ bridge exchange (LLDP with EVB both ways, station requests, ECP acks,
 * bridge responses, keep-alives), in the same run. tshark only prints each frame; replay
 * also runs the EVB/ECP/VDP analysis, the per-VSI timelines and the findings.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VDP_STATUS_RESPONSE } from '../pdu/types.js';
import { percentile } from '../src/lab/bench-helpers.js';
import { PcapWriter } from '../src/pcap/file.js';
import type { BenchResult } from './types.js';
import { ackFrame, BRIDGE, bridgeLldpFrame, ecpFrame, entry, lldpFrame, STATION } from './frames.js';

const FRAMES = 100_000;
/** rounds of the 100,000-frame pair (5 left the speed-up swinging by ±20 % between runs here) */
const ROUNDS = 9;
const VSIS_PER_PDU = 8;

/** Wall time of one run with its output going to /dev/null: piping tshark -V's ~480 MB of text into this process would time this process's reading, not tshark. */
function once(cmd: string, args: string[]): number {
  const out = openSync('/dev/null', 'w');
  try {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.slice(0, 300)}`);
    return ms;
  } finally {
    closeSync(out);
  }
}

/**
 * The two commands in turn, `rounds` times each: each one's median, and the ratio b/a of
 * each round's pair (run back to back). On a shared machine whose speed drifts over seconds
 * (±20 % within minutes here), alternating keeps both measured under the same conditions;
 * the ratio within a pair cancels the drift that the ratio of two medians still carries.
 */
function alternating(a: [string, string[]], b: [string, string[]], rounds = 5): { a: number; b: number; ratios: number[] } {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ta.push(once(...a));
    tb.push(once(...b));
  }
  return { a: percentile(ta, 50), b: percentile(tb, 50), ratios: ta.map((x, i) => tb[i]! / x) };
}

/** The generated exchange, `frames` long (one round and its LLDP at least). */
function generate(path: string, frames: number): PcapWriter {
  const w = new PcapWriter({ path });
  let t = 1_700_000_000_000_000_000n;
  let sSeq = 1;
  let bSeq = 1;
  let vsi = 0;
  const st = lldpFrame();
  const br = bridgeLldpFrame();
  const next = (s: number) => (s === 0xffff ? 1 : s + 1);
  // each round: station REQ (8 VSIs), bridge ACK, bridge REQ (8 responses), station ACK;
  // LLDP from both sides every 400 frames; VSIs cycle through 2,000 so most requests are keep-alives
  while (w.frames < frames) {
    if (w.frames % 400 === 0) {
      w.write((t += 1_000_000n), st);
      w.write((t += 1_000_000n), br);
    }
    const ids = Array.from({ length: VSIS_PER_PDU }, () => vsi++ % 2000);
    w.write((t += 200_000n), ecpFrame(sSeq, ids.map((i) => entry(i))));
    w.write((t += 60_000n), ackFrame(sSeq, BRIDGE));
    w.write((t += 2_000_000n), ecpFrame(bSeq, ids.map((i) => entry(i, VDP_STATUS_RESPONSE)), BRIDGE));
    w.write((t += 60_000n), ackFrame(bSeq, STATION));
    sSeq = next(sSeq);
    bSeq = next(bSeq);
  }
  w.close();
  return w;
}

export default async function (): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vdpd-replay-bench-'));
  try {
    const w = generate(join(dir, 'exchange'), FRAMES);
    const file = w.files[0]!;
    // one round of the same exchange: each command's start-up and fixed costs
    const small = generate(join(dir, 'one-round'), 1);
    const smallFile = small.files[0]!;
    const cli = join(import.meta.dirname, '..', 'src', 'cli', 'vdpctl.cjs');
    // what replay found (an untimed run: the timed ones write to /dev/null like tshark's)
    // run as a user runs it: the file itself, so its `#!` line (Node, glibc tunables) applies
    const r = spawnSync(cli, ['replay', '--json', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
    const report = JSON.parse(r.stdout) as { vsis: unknown[]; findings: unknown[] };
    const big = alternating([cli, ['replay', '--json', file]], ['tshark', ['-r', file, '-V']], ROUNDS);
    const { a: replayMs, b: tsharkMs } = big;
    const speedup = percentile(big.ratios, 50);
    const { a: replay0, b: tshark0 } = alternating([cli, ['replay', '--json', smallFile]], ['tshark', ['-r', smallFile, '-V']]);
    const extra = w.frames - small.frames;
    const replayUs = ((replayMs - replay0) * 1000) / extra;
    const tsharkUs = ((tsharkMs - tshark0) * 1000) / extra;
    return [
      { name: `vdpctl replay --json, ${w.frames} frames`, value: replayMs, unit: 'ms', note: `median of ${ROUNDS} alternating with tshark's, output to /dev/null; ${Math.round(w.frames / (replayMs / 1000))} frames/s; ${report.vsis.length} VSI timelines, ${report.findings.length} findings` },
      { name: 'tshark -V, same file', value: tsharkMs, unit: 'ms', note: `median of ${ROUNDS}, output to /dev/null; ${Math.round(w.frames / (tsharkMs / 1000))} frames/s` },
      {
        name: 'speed-up of replay over tshark -V',
        value: speedup,
        unit: '×',
        note: `median of the ${ROUNDS} rounds' ratios (each a replay and a tshark run back to back; lowest ${Math.min(...big.ratios).toFixed(2)}, highest ${Math.max(...big.ratios).toFixed(2)}; of the two medians ${(tsharkMs / replayMs).toFixed(2)}); aim: ≥ 10× (${speedup >= 10 ? 'met' : 'NOT met'}); whole commands, start-up included`,
      },
      { name: `vdpctl replay --json, ${small.frames} frames (one round: start-up)`, value: replay0, unit: 'ms', note: 'median of 5 alternating with tshark\'s: Node start-up, module loading, output' },
      { name: `tshark -V, ${small.frames} frames (one round: start-up)`, value: tshark0, unit: 'ms', note: 'median of 5: tshark start-up (dissector registration), output' },
      { name: 'replay per frame beyond start-up', value: replayUs, unit: 'µs', note: `(100,000-frame run − one-round run) / ${extra} frames` },
      { name: 'tshark -V per frame beyond start-up', value: tsharkUs, unit: 'µs', note: `the same for tshark; ratio ${(tsharkUs / replayUs).toFixed(2)}× (for information: the aim is on whole commands, above)` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
