/**
 * Who is the station and who the bridge: `--station MAC`, else the EVB TLV's mode, else
 * the direction of VDP traffic (responses come from the bridge, Assoc/PreAssoc requests
 * from the station), else the sender of the first ECP request.
 *
 * The answer depends on the whole capture, but only through a few counters per sender:
 * `RoleEvidence` takes the frame events one at a time and can be asked at any point. The
 * replay guesses from the evidence of the first frames and checks the guess at the end
 * (pass.ts).
 */
import { EVB_MODE_BRIDGE, EVB_MODE_STATION } from '../../pdu/types.js';
import type { FrameEv } from './collect.js';
import type { Finding, LadderEnd, Stations } from './types.js';
import { finding } from './util.js';

/** The two principal senders; the analysis depends on nothing else of the roles. */
export interface RolePair {
  station: string | null;
  bridge: string | null;
}

export function sameRoles(a: RolePair, b: RolePair): boolean {
  return a.station === b.station && a.bridge === b.bridge;
}

/** Each sender's end of the ladder. */
export class Ends {
  constructor(private readonly pair: RolePair) {}

  endOf(mac: string): LadderEnd {
    return mac === this.pair.station ? 'station' : mac === this.pair.bridge ? 'bridge' : 'other';
  }

  /** the other principal side of `mac` (station ↔ bridge) */
  peerOf(mac: string): string | undefined {
    const { station, bridge } = this.pair;
    return mac === station ? (bridge ?? undefined) : mac === bridge ? (station ?? undefined) : undefined;
  }
}

function argmax(m: Map<string, number>, not?: string | null): string | undefined {
  let best: string | undefined;
  let n = 0;
  for (const [k, v] of m) if (k !== not && v > n) [best, n] = [k, v];
  return best;
}

function bump(m: Map<string, number>, k: string, by: number): void {
  if (by > 0) m.set(k, (m.get(k) ?? 0) + by);
}

export class RoleEvidence {
  private frames = new Map<string, number>();
  private evbStation: string[] = [];
  private evbBridge: string[] = [];
  private responses = new Map<string, number>();
  private requests = new Map<string, number>();
  private firstReq: string | undefined;

  add(e: FrameEv): void {
    bump(this.frames, e.src, 1);
    if (e.kind === 'lldp') {
      if (e.evb?.evbMode === EVB_MODE_STATION && !this.evbStation.includes(e.src)) this.evbStation.push(e.src);
      if (e.evb?.evbMode === EVB_MODE_BRIDGE && !this.evbBridge.includes(e.src)) this.evbBridge.push(e.src);
    } else if (e.op === 'req') {
      this.firstReq ??= e.src;
      let responses = 0;
      let requests = 0;
      for (const v of e.vdp) {
        if (v.responseBit === true) responses++;
        else if (v.responseBit === false && v.mode !== 'deassoc') requests++;
      }
      bump(this.responses, e.src, responses);
      bump(this.requests, e.src, requests);
    }
  }

  /** The roles the evidence so far gives, and the findings about them. */
  resolve(stationOpt: string | undefined): { stations: Stations; findings: Finding[] } {
    const { frames, evbStation, evbBridge, responses, requests, firstReq } = this;
    const findings: Finding[] = [];
    let station: string | null = null;
    let from = 'none';
    if (stationOpt) {
      station = stationOpt;
      from = 'option';
      if (!frames.has(stationOpt)) findings.push(finding('station-not-seen', 'info', null, 0, `--station ${stationOpt} sent no LLDP/ECP frame in this capture`));
    } else if (evbStation.length > 0) {
      station = evbStation[0]!;
      from = 'evb-mode';
    } else if (argmax(requests)) {
      station = argmax(requests)!;
      from = 'vdp-direction';
    }
    let bridge: string | null = evbBridge.find((m) => m !== station) ?? argmax(responses, station) ?? null;
    if (station === null && bridge !== null) {
      station = argmax(frames, bridge) ?? null;
      if (station) from = 'vdp-direction';
    }
    if (station === null && firstReq) {
      station = firstReq;
      from = 'first-request';
    }
    bridge ??= argmax(frames, station) ?? null;
    const others = [...frames.keys()].filter((m) => m !== station && m !== bridge).sort();
    return { stations: { station, bridge, inferredFrom: from, others }, findings };
  }
}
