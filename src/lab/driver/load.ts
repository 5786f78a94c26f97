/**
 * The load run: N numbered VSIs associated at R per second (R = 0: all at once, packed
 * by the engine), held through keep-alives, de-associated; latency, throughput, ECP and
 * VDP retries, responses by reason, VSIs lost during the hold, and the bridge's timers as
 * seen on the wire.
 */
import { reasonText } from '../../../pdu/describe.js';
import { vsiKey } from '../../../fsm/vsi.js';
import { evbTimerMs } from '../../../fsm/ulp.js';
import { vsiSpecToWire, type VsiSpec } from '../../api/vsi-spec.js';
import { labVsi } from '../vsis.js';
import type { CmdResult, LabStation } from './station.js';
import { histogram, percentiles } from './stats.js';
import type { LoadReport, ObservedTimers, TimerObservation } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadOptions {
  vsis: number;
  /** associations per second; 0 = as fast as the engine packs them */
  rate: number;
  holdS: number;
  /** VSI i gets typeIds[(i-1) % n] (default: the lab type 1193046) */
  typeIds: number[];
  /** first lab VSI number */
  first?: number;
}

export type ProgressSink = (line: string) => void;

function observation(samples: number[], negotiatedMs: number, note: string): TimerObservation {
  return { negotiatedMs: Math.round(negotiatedMs * 1000) / 1000, observed: percentiles(samples), within: samples.filter((s) => s <= negotiatedMs).length, note };
}

/** The bridge's timers as the tap saw them from sample index `from` on, against the negotiated values. */
export function observedTimers(st: LabStation, from: { ack: number; cmd: number; ka: number; lldp: number } = { ack: 0, cmd: 0, ka: 0, lldp: 0 }): ObservedTimers {
  const op = st.rt.port.operative;
  const tap = st.tap;
  return {
    ecpAck: observation(tap.ecpAckMs.slice(from.ack), evbTimerMs(op.rte), 'ECPDU (last transmission) to its ACK; the bridge should ACK within the ack timer 10 µs·2^RTE'),
    commandResponse: observation(tap.cmdResponseMs.slice(from.cmd), evbTimerMs(op.rwd), 'first transmission of a command to the VDP response; the bridge should answer within resourceWaitDelay 10 µs·2^RWD'),
    keepAliveResponse: observation(tap.kaResponseMs.slice(from.ka), evbTimerMs(op.rwd), 'keep-alive request to its response, against resourceWaitDelay'),
    lldpInterval: { observed: percentiles(tap.lldpGapMs.slice(from.lldp)), ttlS: st.rt.port.lldp.current?.ttl ?? null },
  };
}

export function tapMarks(st: LabStation): { ack: number; cmd: number; ka: number; lldp: number } {
  return { ack: st.tap.ecpAckMs.length, cmd: st.tap.cmdResponseMs.length, ka: st.tap.kaResponseMs.length, lldp: st.tap.lldpGapMs.length };
}

const ALIVE = new Set(['ASSOCIATED', 'TXMIT_KA']);

export async function runLoad(st: LabStation, o: LoadOptions, progress: ProgressSink): Promise<LoadReport> {
  const first = o.first ?? 1;
  const typeIds = o.typeIds.length > 0 ? o.typeIds : [labVsi(1).typeId];
  const specs: VsiSpec[] = Array.from({ length: o.vsis }, (_, i) => labVsi(first + i, { typeId: typeIds[i % typeIds.length]! }));
  const keys = specs.map((s) => vsiKey(vsiSpecToWire(s)));
  const ecp0 = { ...st.rt.port.ecp.counters };
  const vdp0 = { ...st.station.counters };
  const marks = tapMarks(st);

  // ---------------------------------------------------------------- associate
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  const associatedKeys = new Set<string>();
  let done = 0;
  let refused = 0;
  const tStart = st.timers.now();
  let tLast = tStart;
  const onAssoc = (i: number, r: CmdResult): void => {
    done++;
    tLast = st.timers.now();
    outcomes[r.kind] = (outcomes[r.kind] ?? 0) + 1;
    if (r.kind === 'refused') refused++;
    if (r.kind === 'success') {
      associatedKeys.add(keys[i]!);
      byReason[reasonText(0)] = (byReason[reasonText(0)] ?? 0) + 1;
      latencies.push(r.latencyMs);
    } else if (r.kind === 'bridge-error' && r.outcome.kind === 'bridge-error') {
      const k = reasonText(r.outcome.reason);
      byReason[k] = (byReason[k] ?? 0) + 1;
      latencies.push(r.latencyMs);
    }
  };
  const line = (phase: string): string => {
    const p = percentiles(latencies);
    const e = st.rt.port.ecp.counters;
    return `${phase} | assoc ${done}/${o.vsis} ok=${associatedKeys.size} fail=${done - associatedKeys.size} | p50 ${p.p50?.toFixed(2) ?? '-'} ms | ecp retx ${e.txRetransmit - ecp0.txRetransmit} | ${((st.timers.now() - tStart) / 1000).toFixed(1)} s`;
  };
  const waits: Promise<void>[] = [];
  for (let i = 0; i < specs.length; i++) {
    if (o.rate > 0) {
      const due = tStart + (i * 1000) / o.rate;
      const wait = due - st.timers.now();
      if (wait > 1) await sleep(wait);
    }
    waits.push(st.command('assoc', specs[i]!).then((r) => onAssoc(i, r)));
    if (i % 64 === 63) progress(line('associating'));
  }
  const ticker = setInterval(() => progress(line('associating')), 250);
  await Promise.all(waits);
  clearInterval(ticker);
  const assocPhaseMs = tLast - tStart;
  progress(line('associated'));

  // ---------------------------------------------------------------- hold
  const holdStart = st.timers.now();
  const holdEnd = holdStart + o.holdS * 1000;
  const lostNow = (): { vsiid: string; reason: string }[] =>
    st.ended.filter((e) => e.t >= tStart && associatedKeys.has(e.key)).map((e) => ({ vsiid: e.vsiid, reason: e.reason }));
  while (st.timers.now() < holdEnd) {
    const left = (holdEnd - st.timers.now()) / 1000;
    const alive = keys.filter((k) => ALIVE.has(st.station.get(k)?.state ?? '')).length;
    progress(`holding | ${alive} alive, ${lostNow().length} lost | keep-alives ${st.station.counters.keepAlives - vdp0.keepAlives} | ${left.toFixed(1)} s left`);
    await sleep(Math.min(250, Math.max(1, holdEnd - st.timers.now())));
  }
  const lostVsis = lostNow();
  const aliveAfterHold = keys.filter((k) => ALIVE.has(st.station.get(k)?.state ?? '')).length;

  // ---------------------------------------------------------------- de-associate
  const dLat: number[] = [];
  let deassociated = 0;
  let deassocFailed = 0;
  const dStart = st.timers.now();
  let dLast = dStart;
  const dWaits: Promise<void>[] = [];
  let issued = 0;
  for (let i = 0; i < specs.length; i++) {
    const rec = st.station.get(keys[i]!);
    if (!rec || rec.state === 'END') continue;
    if (o.rate > 0) {
      const due = dStart + (issued * 1000) / o.rate;
      const wait = due - st.timers.now();
      if (wait > 1) await sleep(wait);
    }
    issued++;
    dWaits.push(
      st.command('deassoc', specs[i]!).then((r) => {
        dLast = st.timers.now();
        if (r.kind === 'success') {
          deassociated++;
          dLat.push(r.latencyMs);
        } else deassocFailed++;
      }),
    );
  }
  const dTicker = setInterval(() => progress(`de-associating | ${deassociated + deassocFailed}/${issued} | fail=${deassocFailed}`), 250);
  await Promise.all(dWaits);
  clearInterval(dTicker);
  const deassocPhaseMs = dLast - dStart;
  progress(`done | ${associatedKeys.size} associated, ${lostVsis.length} lost, ${deassociated} de-associated`);

  const ecp = st.rt.port.ecp.counters;
  const vdp = st.station.counters;
  const ulpdus = vdp.ulpdusSent - vdp0.ulpdusSent;
  const kaAnswered = st.tap.kaResponseMs.length - marks.ka;
  return {
    vsis: o.vsis,
    rate: o.rate,
    holdS: o.holdS,
    typeIds,
    associated: associatedKeys.size,
    failed: o.vsis - associatedKeys.size,
    refused,
    lost: lostVsis.length,
    lostVsis: lostVsis.slice(0, 100),
    aliveAfterHold,
    deassociated,
    deassocFailed,
    latencyMs: percentiles(latencies),
    deassocLatencyMs: percentiles(dLat),
    histogram: histogram(latencies),
    throughput: {
      assocPerS: assocPhaseMs > 0 ? Math.round((associatedKeys.size / assocPhaseMs) * 1000 * 10) / 10 : null,
      assocPhaseMs: Math.round(assocPhaseMs),
      deassocPerS: deassocPhaseMs > 0 ? Math.round((deassociated / deassocPhaseMs) * 1000 * 10) / 10 : null,
      deassocPhaseMs: Math.round(deassocPhaseMs),
    },
    responsesByReason: byReason,
    outcomes,
    ecp: { requests: ecp.txReq - ecp0.txReq, retransmits: ecp.txRetransmit - ecp0.txRetransmit, abandoned: ecp.abandoned - ecp0.abandoned, acked: ecp.acked - ecp0.acked },
    vdp: {
      requestsSent: vdp.requestsSent - vdp0.requestsSent,
      resends: vdp.resends - vdp0.resends,
      keepAlives: vdp.keepAlives - vdp0.keepAlives,
      keepAliveResponses: kaAnswered,
      ecpAbandonedTlvs: vdp.ecpAbandoned - vdp0.ecpAbandoned,
      ulpdusSent: ulpdus,
      tlvsPerUlpdu: ulpdus > 0 ? Math.round(((vdp.tlvsSent - vdp0.tlvsSent) / ulpdus) * 100) / 100 : null,
    },
    timers: observedTimers(st, marks),
  };
}
