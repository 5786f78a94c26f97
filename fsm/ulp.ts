/**
 * The contract between a port's ECP machine (fsm/ecp.ts) and the upper-layer protocol
 * it carries (VDP: fsm/vdp-*.ts). ECP keeps the one-outstanding-ECPDU rule and *pulls*
 * ULPDUs when it may send, so the ULP can pack as many VSI TLVs into one ECPDU as fit,
 * fairly across VSIs, at the last moment.
 */

import type { VdpUlpdu } from '../pdu/types.js';

/** Operative EVB values (max of both sides, reference §2.3.3) that ECP and VDP run with. */
export interface EvbOperative {
  /** ECP max retries R, 0..7 */
  r: number;
  /** ECP retransmission timer exponent: ackTimer = 10 µs × 2^rte */
  rte: number;
  /** resource-wait-delay exponent */
  rwd: number;
  /** reinit-keep-alive exponent */
  rka: number;
  /** group IDs usable: BGID && SGID */
  gpid: boolean;
  /** reflective relay enabled by the bridge (RRCTR) */
  rr: boolean;
}

/** lldpad's defaults, used before any EVB TLV has been received. */
export const EVB_DEFAULTS: EvbOperative = { r: 3, rte: 8, rwd: 20, rka: 20, gpid: false, rr: false };

/** 10 µs × 2^exp in milliseconds, in floating point (lldpad's 32-bit shift overflows at exp >= 28). */
export function evbTimerMs(exp: number): number {
  return 0.01 * 2 ** exp;
}

/** 1.5 × (u·2^RWD + (2R+1)·u·2^RTE): the station's wait for a VDP response (reference §5.1). */
export function respWaitDelayMs(op: EvbOperative): number {
  return 1.5 * (evbTimerMs(op.rwd) + (2 * op.r + 1) * evbTimerMs(op.rte));
}

/** toutKeepAlive = 1.5 × (u·2^RKA + (2R+1)·u·2^RTE): the bridge's wait for a keep-alive (reference §5.1). */
export function toutKeepAliveMs(op: EvbOperative): number {
  return 1.5 * (evbTimerMs(op.rka) + (2 * op.r + 1) * evbTimerMs(op.rte));
}

/** Something the ULP handed to ECP, identified by an opaque token chosen by the ULP. */
export interface UlpduOut {
  ulpdu: Uint8Array;
  token: unknown;
}

export interface EcpUlp {
  /** ECP is free to start a new ECPDU: return at most `maxLen` octets, or undefined when nothing waits. */
  pull(maxLen: number): UlpduOut | undefined;
  /** the ECPDU that carried `token` was acknowledged by the peer */
  delivered(token: unknown): void;
  /** the ECPDU that carried `token` went unacknowledged after R+1 transmissions (or the port went down) */
  abandoned(token: unknown, reason: 'retries-exhausted' | 'port-down'): void;
  /**
   * a new (not duplicate) ULPDU arrived from the peer; ECP has already sent the ACK.
   * `decoded`: the same ULPDU as the port already decoded it (it checks whole frames before
   * ECP sees them), so the ULP need not decode it a second time.
   */
  receive(ulpdu: Uint8Array, decoded?: VdpUlpdu): void;
}

/** What ECP offers the ULP. */
export interface EcpLower {
  /** the ULP has something to send: ECP pulls now if idle, or as soon as the outstanding ECPDU completes */
  kick(): void;
  /** largest ULPDU ECP will carry (from the MTU; lldpad: 1493) */
  readonly maxUlpdu: number;
}
