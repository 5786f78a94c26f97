/**
 * Warm-up before the daemon serves: a station and a bridge engine back to back in memory
 * (fsm/sim/b2b.ts: frames as bytes through the real codecs, virtual time, no socket)
 * associate and then de-associate `vsis` VSIs, and are thrown away.
 *
 * Why: a fresh daemon's first burst is also the first run of its code, and V8 compiles the
 * hot functions while the burst waits. After a host boots, libvirt starts every VM at once
 * and a restarted vdpd re-associates every VSI of its state file: the first burst is the one
 * that matters: ~135 optimising compilations ran inside a fresh 10,000-VSI burst, which the
 * warm-up moves before the daemon is ready. Nothing of it is kept: its engines, timers and
 * VSIs are private to this function, its VSIs go BATCH at a time and each record is reaped
 * as soon as it ends, and the daemon collects the garbage and gives the pages back before
 * it serves (daemon.ts start, MemoryTrim.collectNow). An option (`warmUpVsis`, off by default): ~0.4–0.5 s
 * of start-up for ~0.1 s off that burst (BENCHMARKS.md, vs-lldpad, "Start-up warm-up").
 */
import { BackToBack, simVsi } from '../../fsm/sim/b2b.js';
import type { VsiWire } from '../../fsm/vsi.js';

export interface WarmUpReport {
  vsis: number;
  associated: number;
  deassociated: number;
  /** the most VSIs associated at once (a batch) */
  maxAssociated: number;
  /** VSI records the engines still held at the end (reaped: none) */
  held: number;
  wallMs: number;
}

/** VSIs associated at once: the warm-up's memory is a batch's, not all of them at once */
const BATCH = 1000;

/**
 * Associates and de-associates `vsis` VSIs in memory, BATCH at a time (what compiles the
 * code is how often it runs, not how many VSIs exist at once); stops early (each phase)
 * once `budgetMs` of wall time is spent.
 */
export function warmUp(vsis: number, budgetMs: number): WarmUpReport {
  const t0 = performance.now();
  const over = (): boolean => performance.now() - t0 > budgetMs;
  let associated = 0;
  let deassociated = 0;
  let maxAssociated = 0;
  const lab = new BackToBack({
    keepTransitions: false,
    stationEngine: {
      // an ended VSI's record is reaped at once (the daemon keeps it a minute for status polls)
      endedRetentionMs: 0,
      onOutcome: (_rec, o) => {
        if (o.kind !== 'success') return;
        if (o.mode === 'deassoc') deassociated++;
        else associated++;
      },
    },
  }).start();
  const mgr = new Uint8Array(16);
  for (let first = 1; first <= vsis && !over(); first += BATCH) {
    const wires: VsiWire[] = [];
    for (let i = first; i < first + BATCH && i <= vsis; i++) wires.push(simVsi(i, mgr));
    const want = associated + wires.length;
    maxAssociated = Math.max(maxAssociated, wires.length);
    for (const w of wires) lab.station.command('assoc', w);
    lab.runUntil(() => associated === want || over(), 600_000);
    for (const w of wires) lab.station.command('deassoc', w);
    lab.runUntil(() => deassociated === associated || over(), 600_000);
  }
  // the reaping of the last batch's records
  lab.advance(1);
  return { vsis, associated, deassociated, maxAssociated, held: lab.station.size + lab.bridge.size, wallMs: performance.now() - t0 };
}
