/**
 * Every frame the station sends and receives, numbered as in the capture file. The
 * InterfaceRuntime's only frame hook is its PcapWriter, so the tap *is* a PcapWriter: it
 * writes the pcap file when --capture asks for one and, either way, keeps each frame with
 * its time and direction, and measures what the bridge does on the wire: ECP ack times,
 * VDP response times (commands and keep-alives), the bridge's LLDPDU interval.
 */
import { tryDecodeFrame } from '../../../pdu/frame.js';
import { summarizeFrame } from '../../../pdu/describe.js';
import { PduError } from '../../../pdu/errors.js';
import { toHex } from '../../../pdu/bytes.js';
import { ECP22_OP_ACK, ECP22_OP_REQUEST, ETH_P_ECP22, ETH_P_LLDP, VDP_STATUS_RESPONSE, type DecodedFrame, type VsiTlv } from '../../../pdu/types.js';
import { vsiKey } from '../../../fsm/vsi.js';
import { PcapWriter } from '../../pcap/file.js';
import type { FrameRef } from './types.js';

export interface TappedFrame {
  no: number;
  /** ms on the driver's clock */
  t: number;
  dir: 'tx' | 'rx';
  bytes: Uint8Array;
  decoded: DecodedFrame | PduError | undefined;
}

/** A VSI TLV seen in a frame (request or response), with the frame it came in. */
export interface VsiSeen {
  frame: TappedFrame;
  managerId: Uint8Array;
  vsi: VsiTlv;
  key: string;
  response: boolean;
}

export interface TapOptions {
  /** the station's MAC: frames from it are tx */
  mac: string;
  /** clock shared with the driver (ms) */
  now: () => number;
  /** pcap file name without .pcap; undefined = no file */
  capturePath?: string;
  /** frames kept for the report (the capture file keeps all) */
  maxKept?: number;
}

export class FrameTap extends PcapWriter {
  readonly kept: TappedFrame[] = [];
  count = 0;
  private readonly macBytes: number[];
  private readonly maxKept: number;
  private readonly file: boolean;

  /** seq → time of the latest transmission of our ECP request */
  private ecpOut = new Map<number, number>();
  readonly ecpAckMs: number[] = [];
  /**
   * VSI key → time of the latest request, whether it carried a command, and whether that
   * command's response was seen (later answers to its re-sends are not its latency)
   */
  private vdpOut = new Map<string, { t: number; cmd: boolean; answered: boolean }>();
  readonly cmdResponseMs: number[] = [];
  readonly kaResponseMs: number[] = [];
  kaRequests = 0;
  private lastLldpRx: number | undefined;
  readonly lldpGapMs: number[] = [];
  /** keys with a command in flight (beginCommand/endCommand) */
  private readonly commandKeys = new Set<string>();
  private listeners = new Set<(s: VsiSeen) => void>();

  constructor(private readonly t: TapOptions) {
    super({ path: t.capturePath ?? '/nonexistent/vdpctl-lab-no-capture' });
    this.file = t.capturePath !== undefined;
    this.macBytes = t.mac.split(':').map((h) => parseInt(h, 16));
    this.maxKept = t.maxKept ?? 200_000;
  }

  override write(ns: bigint, frame: Uint8Array): void {
    if (this.file) super.write(ns, frame);
    this.count++;
    const now = this.t.now();
    let tx = frame.length >= 12;
    for (let i = 0; i < 6 && tx; i++) if (frame[6 + i] !== this.macBytes[i]) tx = false;
    const f: TappedFrame = { no: this.count, t: now, dir: tx ? 'tx' : 'rx', bytes: frame.slice(), decoded: undefined };
    if (this.kept.length < this.maxKept) this.kept.push(f);
    const ethertype = frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : 0;
    if (ethertype === ETH_P_ECP22) this.ecp(f);
    else if (ethertype === ETH_P_LLDP && f.dir === 'rx') {
      if (this.lastLldpRx !== undefined) this.lldpGapMs.push(now - this.lastLldpRx);
      this.lastLldpRx = now;
    }
  }

  private decode(f: TappedFrame): DecodedFrame | PduError {
    if (f.decoded === undefined) f.decoded = tryDecodeFrame(f.bytes);
    return f.decoded;
  }

  private ecp(f: TappedFrame): void {
    const d = this.decode(f);
    if (d instanceof PduError || d.kind !== 'ecp22') return;
    const seq = d.ecp.sequence;
    if (d.ecp.op === ECP22_OP_ACK) {
      if (f.dir === 'rx') {
        const sent = this.ecpOut.get(seq);
        if (sent !== undefined) {
          this.ecpAckMs.push(f.t - sent);
          this.ecpOut.delete(seq);
        }
      }
      return;
    }
    if (d.ecp.op !== ECP22_OP_REQUEST) return;
    if (f.dir === 'tx') this.ecpOut.set(seq, f.t);
    if (!d.vdp) return;
    let mgr: Uint8Array | undefined;
    for (const tlv of d.vdp.tlvs) {
      if (tlv.kind === 'mgrid') mgr = tlv.managerId;
      if (tlv.kind !== 'vsi' || !mgr) continue;
      const key = vsiKey({ ...tlv, managerId: mgr });
      const response = (tlv.status & VDP_STATUS_RESPONSE) !== 0;
      if (f.dir === 'tx' && !response) {
        const cmd = this.commandKeys.has(key);
        const prev = this.vdpOut.get(key);
        // a command's latency runs from its first transmission; re-sends keep that time
        if (!(cmd && prev?.cmd)) this.vdpOut.set(key, { t: f.t, cmd, answered: false });
        if (!cmd) this.kaRequests++;
      } else if (f.dir === 'rx' && response) {
        const out = this.vdpOut.get(key);
        if (out && !out.answered) {
          if (out.cmd) {
            // kept until the command ends: a station that re-sent the request before it
            // read this answer gets a second one, which must not restart the clock
            this.cmdResponseMs.push(f.t - out.t);
            out.answered = true;
          } else {
            this.kaResponseMs.push(f.t - out.t);
            this.vdpOut.delete(key);
          }
        }
      }
      if (this.listeners.size > 0) for (const l of this.listeners) l({ frame: f, managerId: mgr, vsi: tlv, key, response });
    }
  }

  /** A command for `key` starts: its latency runs from its next transmission. */
  beginCommand(key: string): void {
    this.commandKeys.add(key);
    this.vdpOut.delete(key);
  }

  endCommand(key: string): void {
    this.commandKeys.delete(key);
    const out = this.vdpOut.get(key);
    if (out?.cmd) this.vdpOut.delete(key);
  }

  /** Called for every VSI TLV on the wire from now on; returns the unsubscribe function. */
  onVsi(l: (s: VsiSeen) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  summary(f: TappedFrame): string {
    const d = this.decode(f);
    if (d instanceof PduError) return `MALFORMED ${d.message}`;
    return summarizeFrame(d);
  }

  /** Frames as report entries; `t0` is the run's start. */
  refs(frames: TappedFrame[], t0: number): FrameRef[] {
    return frames.map((f) => ({ no: f.no, t: Math.round((f.t - t0) * 1000) / 1000, dir: f.dir, summary: this.summary(f) }));
  }

  /**
   * The frames of a scenario: ECP frames from `fromNo` on that carry one of `vsiids` (hex),
   * and the ACKs of those ECPDUs.
   */
  framesFor(fromNo: number, vsiids: ReadonlySet<string>): TappedFrame[] {
    const out: TappedFrame[] = [];
    const acks = { tx: new Set<number>(), rx: new Set<number>() };
    // kept[i] is frame i+1 (frames past maxKept are not kept at all)
    for (let i = Math.max(0, fromNo - 1); i < this.kept.length; i++) {
      const f = this.kept[i]!;
      const d = this.decode(f);
      if (d instanceof PduError || d.kind !== 'ecp22') continue;
      if (d.ecp.op === ECP22_OP_ACK) {
        // an ACK answers a request that went the other way
        const set = f.dir === 'rx' ? acks.tx : acks.rx;
        if (set.has(d.ecp.sequence)) {
          out.push(f);
          set.delete(d.ecp.sequence);
        }
        continue;
      }
      if (!d.vdp) continue;
      const mine = d.vdp.tlvs.some((x) => x.kind === 'vsi' && vsiids.has(toHex(x.vsiid)));
      if (!mine) continue;
      out.push(f);
      acks[f.dir].add(d.ecp.sequence);
    }
    return out;
  }

  get lastNo(): number {
    return this.count;
  }
}
