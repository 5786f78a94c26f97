/**
 * EVB TLV negotiation rules (802.1Qbg, reference §2.3.2/§2.3.3), station and bridge role,
 * as pure functions: `negotiate(policy, received)` is the rule lldpad applies on every
 * transmit and receive — echo the peer's status octet, RRSTAT 3 until anything is heard,
 * RRCTR granted when RRREQ && RRCAP, max() of R/RTE/RWD/RKA with ROL set unless the local
 * value is strictly larger. The transmitted values are the operative ones.
 * Kept apart from the xstate machine (fsm/evb.ts) so the replay tool loads no xstate.
 */
import { EVB_MODE_BRIDGE, EVB_MODE_STATION, type EvbTlv } from '../pdu/types.js';
import type { EvbOperative } from './ulp.js';

export type EvbRole = 'station' | 'bridge';

export interface EvbPolicy {
  role: EvbRole;
  /** station: request reflective relay */
  rrreq: boolean;
  /** bridge: reflective relay capable */
  rrcap: boolean;
  /** SGID (station) / BGID (bridge): group IDs supported */
  gpid: boolean;
  r: number;
  rte: number;
  rwd: number;
  rka: number;
}

/** The local "policy" TLV before any negotiation (reference §2.3.2). */
export function localTlv(p: EvbPolicy): EvbTlv {
  const station = p.role === 'station';
  return {
    bgid: !station && p.gpid,
    rrcap: !station && p.rrcap,
    rrctr: false,
    bridgeReserved: 0,
    sgid: station && p.gpid,
    rrreq: station && p.rrreq,
    rrstat: station ? 3 : 0,
    stationReserved: 0,
    r: p.r,
    rte: p.rte,
    evbMode: station ? EVB_MODE_STATION : EVB_MODE_BRIDGE,
    rolRwd: false,
    rwd: p.rwd,
    rkaReserved: 0,
    rolRka: false,
    rka: p.rka,
  };
}

/** The TLV to transmit given the peer's last EVB TLV (undefined: nothing heard). */
export function negotiate(p: EvbPolicy, recv: EvbTlv | undefined): EvbTlv {
  const mine = localTlv(p);
  if (!recv) return mine;
  const out: EvbTlv = { ...mine };
  if (p.role === 'station') {
    out.bgid = recv.bgid;
    out.rrcap = recv.rrcap;
    out.rrctr = recv.rrctr;
    out.bridgeReserved = recv.bridgeReserved;
    out.rrstat = recv.rrctr ? 1 : 0;
  } else {
    out.sgid = recv.sgid;
    out.rrreq = recv.rrreq;
    out.rrstat = recv.rrstat;
    out.stationReserved = recv.stationReserved;
    out.rrctr = recv.rrreq && p.rrcap;
  }
  out.r = Math.max(p.r, recv.r);
  out.rte = Math.max(p.rte, recv.rte);
  out.rwd = Math.max(p.rwd, recv.rwd);
  out.rolRwd = !(p.rwd > recv.rwd);
  out.rka = Math.max(p.rka, recv.rka);
  out.rolRka = !(p.rka > recv.rka);
  return out;
}

/** Operative parameters implied by a transmitted TLV. */
export function operativeOf(t: EvbTlv): EvbOperative {
  return { r: t.r, rte: t.rte, rwd: t.rwd, rka: t.rka, gpid: t.bgid && t.sgid, rr: t.rrctr };
}
