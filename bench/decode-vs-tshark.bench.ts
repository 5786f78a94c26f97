/**
 * `vdpctl decode --json` against `tshark -T json` on the same generated 100,000-frame
 * capture, in the same run: wall time and frames/s of each, and the ratio.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../src/pcap/file.js';
import type { BenchResult } from './types.js';
import { ackFrame, ecpFrame, entry, lldpFrame } from './frames.js';

const FRAMES = 100_000;

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString().slice(0, 300)}`);
  return ms;
}

export default async function decodeVsTshark(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vdpd-bench-'));
  try {
    const w = new PcapWriter({ path: join(dir, 'mix') });
    let t = 1_700_000_000_000_000_000n;
    const lldp = lldpFrame();
    let seq = 1;
    // a realistic mix: per 100 frames 2 LLDPDUs, then REQs with 1..8 VSI TLVs each followed by an ACK
    for (let i = 0; i < FRAMES; ) {
      if (i % 100 === 0) {
        w.write((t += 1000n), lldp);
        i++;
        continue;
      }
      const n = 1 + (i % 8);
      w.write((t += 50_000n), ecpFrame(seq, Array.from({ length: n }, (_, k) => entry(i * 8 + k))));
      w.write((t += 60_000n), ackFrame(seq));
      seq = seq === 0xffff ? 1 : seq + 1;
      i += 2;
    }
    w.close();
    const file = w.files[0]!;
    const cli = join(import.meta.dirname, '..', 'src', 'cli', 'vdpctl.cjs');
    // run as a user runs it: the file itself, so its `#!` line (Node's flags, glibc's tunables) applies
    const vdpctlMs = timed(cli, ['decode', '--json', file]);
    const tsharkMs = timed('tshark', ['-r', file, '-T', 'json']);
    const tsharkVMs = timed('tshark', ['-r', file, '-V']);
    return [
      { name: `vdpctl decode --json, ${w.frames} frames`, value: vdpctlMs, unit: 'ms', note: `${Math.round(w.frames / (vdpctlMs / 1000))} frames/s` },
      { name: `tshark -T json, same file`, value: tsharkMs, unit: 'ms', note: `${Math.round(w.frames / (tsharkMs / 1000))} frames/s` },
      { name: `tshark -V, same file`, value: tsharkVMs, unit: 'ms', note: `${Math.round(w.frames / (tsharkVMs / 1000))} frames/s` },
      { name: 'speed-up of vdpctl over tshark -T json', value: tsharkMs / vdpctlMs, unit: '×' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
