/** Codec throughput: decode and encode of an LLDPDU with an EVB TLV and of ECPDUs with 1 and 25 VSI TLVs. */
import { decodeFrame, encodeFrame } from '../pdu/frame.js';
import type { BenchResult } from './types.js';
import { ecpFrame, entry, lldpFrame } from './frames.js';

function rate(fn: () => void, minMs = 400): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

export default async function codecBench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const cases: [string, Uint8Array, number][] = [
    ['LLDPDU with EVB TLV', lldpFrame(), 0],
    ['ECPDU, 1 VSI TLV', ecpFrame(1, [entry(1)]), 1],
    ['ECPDU, 25 VSI TLVs', ecpFrame(2, Array.from({ length: 25 }, (_, i) => entry(i + 1))), 25],
  ];
  let sink = 0;
  for (const [name, frame, vsis] of cases) {
    const dec = rate(() => {
      sink += decodeFrame(frame).kind.length;
    });
    const decoded = decodeFrame(frame);
    const enc = rate(() => {
      sink += encodeFrame(decoded).length;
    });
    out.push({ name: `decode ${name} (${frame.length} B)`, value: dec, unit: 'frames/s', note: `${(1e9 / dec).toFixed(0)} ns/frame` });
    if (vsis > 1) out.push({ name: `decode cost per VSI TLV (${name})`, value: 1e9 / dec / vsis, unit: 'ns', note: 'aim: well under 1000 ns' });
    out.push({ name: `encode ${name}`, value: enc, unit: 'frames/s', note: `${(1e9 / enc).toFixed(0)} ns/frame` });
  }
  if (sink === 42) console.log('');
  return out;
}
