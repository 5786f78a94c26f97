/**
 * Scale of the state machines in memory: N VSIs associated station ↔ bridge back to back
 * (frames as bytes through the codecs, virtual time), CPU time, frames on the wire per VSI
 * and heap per associated VSI (both engines). Run with --expose-gc for the heap figure.
 */
import { BackToBack, simVsi } from '../fsm/sim/b2b.js';
import type { BenchResult } from './types.js';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function run(n: number): Promise<BenchResult[]> {
  const mgr = new Uint8Array(16);
  mgr.set([0x76, 0x64, 0x70, 0x6c, 0x61, 0x62]);
  let done = 0;
  const lab = new BackToBack({ keepTransitions: false, stationEngine: { onOutcome: (_r, o) => void (o.kind === 'success' && done++) } }).start();
  const wires = Array.from({ length: n }, (_, i) => simVsi(i + 1, mgr));
  const h0 = heap();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sent0 = lab.link.counters.sent.a + lab.link.counters.sent.b;
  for (const w of wires) lab.station.command('assoc', w);
  lab.runUntil(() => done === n, 600_000);
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const frames = lab.link.counters.sent.a + lab.link.counters.sent.b - sent0;
  const virtualMs = lab.timers.now();
  const h1 = heap();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const out: BenchResult[] = [
    { name: `${n} VSIs: associated`, value: done, unit: 'VSIs' },
    { name: `${n} VSIs: CPU time for all associations`, value: cpuMs, unit: 'ms', note: n === 10_000 ? 'aim: < 1000 ms' : `${(cpuMs / n * 1000).toFixed(1)} µs per VSI` },
    { name: `${n} VSIs: wall time`, value: wall, unit: 'ms' },
    { name: `${n} VSIs: frames on the wire per VSI`, value: frames / n, unit: 'frames', note: `${frames} frames, ECPDUs packed (lldpad: 4 per VSI)` },
  ];
  if (gc) out.push({ name: `${n} VSIs: heap per associated VSI (station + bridge)`, value: (h1 - h0) / n, unit: 'bytes', note: 'aim: < 2048' });
  void virtualMs;
  return out;
}

export default async function fsmScale(): Promise<BenchResult[]> {
  return [...(await run(10_000)), ...(await run(100_000))];
}
