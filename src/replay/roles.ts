/**
 * Who is the station and who the bridge: `--station MAC`, else the EVB TLV's mode, else
 * the direction of VDP traffic (responses come from the bridge, Assoc/PreAssoc requests
 * from the station), else the sender of the first ECP request.
 */
import { EVB_MODE_BRIDGE, EVB_MODE_STATION } from '../../pdu/types.js';
import type { FrameEv } from './collect.js';
import type { Finding, LadderEnd, Stations } from './types.js';
import { finding } from './util.js';

export interface Roles extends Stations {
  endOf(mac: string): LadderEnd;
  /** the other principal side of `mac` (station ↔ bridge) */
  peerOf(mac: string): string | undefined;
}

function argmax(m: Map<string, number>, not?: string | null): string | undefined {
  let best: string | undefined;
  let n = 0;
  for (const [k, v] of m) if (k !== not && v > n) [best, n] = [k, v];
  return best;
}

export function inferRoles(evs: readonly FrameEv[], stationOpt: string | undefined): { roles: Roles; findings: Finding[] } {
  const frames = new Map<string, number>();
  const evbStation: string[] = [];
  const evbBridge: string[] = [];
  const responses = new Map<string, number>();
  const requests = new Map<string, number>();
  let firstReq: string | undefined;
  for (const e of evs) {
    frames.set(e.src, (frames.get(e.src) ?? 0) + 1);
    if (e.kind === 'lldp') {
      if (e.evb?.evbMode === EVB_MODE_STATION && !evbStation.includes(e.src)) evbStation.push(e.src);
      if (e.evb?.evbMode === EVB_MODE_BRIDGE && !evbBridge.includes(e.src)) evbBridge.push(e.src);
    } else if (e.op === 'req') {
      firstReq ??= e.src;
      for (const v of e.vdp) {
        if (v.responseBit === true) responses.set(e.src, (responses.get(e.src) ?? 0) + 1);
        else if (v.responseBit === false && v.mode !== 'deassoc') requests.set(e.src, (requests.get(e.src) ?? 0) + 1);
      }
    }
  }
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
  const roles: Roles = {
    station,
    bridge,
    inferredFrom: from,
    others,
    endOf: (mac) => (mac === station ? 'station' : mac === bridge ? 'bridge' : 'other'),
    peerOf: (mac) => (mac === station ? (bridge ?? undefined) : mac === bridge ? (station ?? undefined) : undefined),
  };
  return { roles, findings };
}
