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
import type { FrameEv, VdpItem } from './collect.js';
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

/** what one sender showed: frames, VDP responses and Assoc/PreAssoc requests sent */
interface Sent {
  mac: string;
  frames: number;
  responses: number;
  requests: number;
}

type CountOf = 'frames' | 'responses' | 'requests';

/** the sender with the most `what` but `not`; a tie goes to the one listed first */
function argmax(senders: Iterable<Sent>, what: CountOf, not?: string | null): string | undefined {
  let best: string | undefined;
  let n = 0;
  for (const v of senders) if (v.mac !== not && v[what] > n) [best, n] = [v.mac, v[what]];
  return best;
}

export class RoleEvidence {
  /** by sender, in order of first frame */
  private sent = new Map<string, Sent>();
  /** senders in order of their first VDP response, and of their first request (the ties of argmax) */
  private responders: Sent[] = [];
  private requesters: Sent[] = [];
  /** the latest sender's record: frames come in runs from few senders, so most frames skip the map */
  private lastSrc: string | undefined;
  private last: Sent | undefined;
  private evbStation: string[] = [];
  private evbBridge: string[] = [];
  private firstReq: string | undefined;
  private counts = new WeakMap<readonly VdpItem[], number>();

  private of(src: string): Sent {
    if (src === this.lastSrc) return this.last!;
    let s = this.sent.get(src);
    if (!s) {
      s = { mac: src, frames: 0, responses: 0, requests: 0 };
      this.sent.set(src, s);
    }
    this.lastSrc = src;
    this.last = s;
    return s;
  }

  add(e: FrameEv): void {
    const s = this.of(e.src);
    s.frames++;
    if (e.kind === 'lldp') {
      if (e.evb?.evbMode === EVB_MODE_STATION && !this.evbStation.includes(e.src)) this.evbStation.push(e.src);
      if (e.evb?.evbMode === EVB_MODE_BRIDGE && !this.evbBridge.includes(e.src)) this.evbBridge.push(e.src);
    } else if (e.op === 'req') {
      this.firstReq ??= e.src;
      if (e.vdp.length === 0) return;
      const c = this.countsOf(e.vdp);
      const responses = c & 0xffff;
      const requests = c >>> 16;
      if (responses > 0) {
        if (s.responses === 0) this.responders.push(s);
        s.responses += responses;
      }
      if (requests > 0) {
        if (s.requests === 0) this.requesters.push(s);
        s.requests += requests;
      }
    }
  }

  /**
   * VDP responses (low 16 bits) and Assoc/PreAssoc requests (high 16 bits) among `items`,
   * counted once per array: an ECPDU's items are the same interned array for every repeat
   * of its ULPDU (items.ts), and this runs for every frame
   */
  private countsOf(items: readonly VdpItem[]): number {
    let c = this.counts.get(items);
    if (c === undefined) {
      let responses = 0;
      let requests = 0;
      for (const v of items) {
        if (v.responseBit === true) responses++;
        else if (v.responseBit === false && v.mode !== 'deassoc') requests++;
      }
      c = responses | (requests << 16);
      this.counts.set(items, c);
    }
    return c;
  }

  /** The roles the evidence so far gives, and the findings about them. */
  resolve(stationOpt: string | undefined): { stations: Stations; findings: Finding[] } {
    const { sent, responders, requesters, evbStation, evbBridge, firstReq } = this;
    const findings: Finding[] = [];
    let station: string | null = null;
    let from = 'none';
    if (stationOpt) {
      station = stationOpt;
      from = 'option';
      if (!sent.has(stationOpt)) findings.push(finding('station-not-seen', 'info', null, 0, `--station ${stationOpt} sent no LLDP/ECP frame in this capture`));
    } else if (evbStation.length > 0) {
      station = evbStation[0]!;
      from = 'evb-mode';
    } else if (argmax(requesters, 'requests')) {
      station = argmax(requesters, 'requests')!;
      from = 'vdp-direction';
    }
    let bridge: string | null = evbBridge.find((m) => m !== station) ?? argmax(responders, 'responses', station) ?? null;
    if (station === null && bridge !== null) {
      station = argmax(sent.values(), 'frames', bridge) ?? null;
      if (station) from = 'vdp-direction';
    }
    if (station === null && firstReq) {
      station = firstReq;
      from = 'first-request';
    }
    bridge ??= argmax(sent.values(), 'frames', station) ?? null;
    const others = [...sent.keys()].filter((m) => m !== station && m !== bridge).sort();
    return { stations: { station, bridge, inferredFrom: from, others }, findings };
  }
}
