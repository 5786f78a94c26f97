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
 * VSIs are private to this function (the daemon collects its garbage before it serves).
 * An option (`warmUpVsis`, off by default): it costs ~0.5 s of start-up and memory for
 * ~0.2 s off that burst (BENCHMARKS.md, vs-lldpad, "Start-up warm-up").
 */
import { BackToBack, simVsi } from '../../fsm/sim/b2b.js';
import type { VsiWire } from '../../fsm/vsi.js';

export interface WarmUpReport {
  vsis: number;
  associated: number;
  deassociated: number;
  wallMs: number;
}

/**
 * Associates and de-associates `vsis` VSIs in memory; stops early (each phase) once
 * `budgetMs` of wall time is spent.
 */
export function warmUp(vsis: number, budgetMs: number): WarmUpReport {
  const t0 = performance.now();
  const over = (): boolean => performance.now() - t0 > budgetMs;
  let associated = 0;
  let deassociated = 0;
  const lab = new BackToBack({
    keepTransitions: false,
    stationEngine: {
      onOutcome: (_rec, o) => {
        if (o.kind !== 'success') return;
        if (o.mode === 'deassoc') deassociated++;
        else associated++;
      },
    },
  }).start();
  const mgr = new Uint8Array(16);
  const wires: VsiWire[] = [];
  for (let i = 1; i <= vsis; i++) wires.push(simVsi(i, mgr));
  for (const w of wires) lab.station.command('assoc', w);
  lab.runUntil(() => associated === vsis || over(), 600_000);
  for (const w of wires) lab.station.command('deassoc', w);
  lab.runUntil(() => deassociated === associated || over(), 600_000);
  return { vsis, associated, deassociated, wallMs: performance.now() - t0 };
}
