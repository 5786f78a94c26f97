/**
 * The replay's decoding stage: records in, compact frame events out, one at a time (nothing
 * is kept here; the analysis streams). Decodes each LLDP / ECP22 / draft-ECP frame once
 * (other ethertypes and link types are only counted), keeps what the analysis needs
 * (sender, ECP op/seq/payload, VDP TLVs as interned items, the EVB TLV) and turns every
 * decoding failure into a `malformed` finding. Never throws.
 *
 * ECP22 frames, nearly all of a VDP capture, take a fast path that reads the headers in
 * place and gets the VDP items from the intern table (items.ts); whatever that path does
 * not accept (other protocols, anything malformed) goes through the general decoder
 * pdu/frame.ts, which also words the errors.
 */
import { macToString } from '../../pdu/bytes.js';
import { decodeEcp22, decodeEcpDraft } from '../../pdu/ecp.js';
import { decodeEthernet, MAX_FRAME } from '../../pdu/ethernet.js';
import { PduError } from '../../pdu/errors.js';
import { tryDecodeFrame } from '../../pdu/frame.js';
import { ethernetOf, LINKTYPE_ETHERNET } from '../../pdu/pcap.js';
import {
  ECP22_HDR_LEN,
  ECP22_OP_ACK,
  ECP22_OP_REQUEST,
  ECP22_SUBTYPE_VDP,
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_ECP22,
  ETH_P_ECP_DRAFT,
  ETH_P_LLDP,
  type Ecp22Pdu,
  type EcpDraftPdu,
  type EvbTlv,
} from '../../pdu/types.js';
import { vdpEntries } from '../../pdu/vdp.js';
import { draftItem, VdpItems, vsiItem, type VdpItem } from './items.js';
import type { ErrorView, Finding, FrameCounts } from './types.js';
import { errorView, finding, round3 } from './util.js';

export type { VdpItem } from './items.js';

/** One record handed to the analysis: timestamp in ns since the epoch, frame bytes. */
export interface ReplayInput {
  ts: bigint | number;
  bytes: Uint8Array;
  /** 1-based frame number in the file; counted when absent */
  frame?: number;
  /** pcap link type; absent = Ethernet. Linux cooked (SLL/SLL2) is converted, others are skipped. */
  linktype?: number;
}

interface EvBase {
  frame: number;
  t: number;
  src: string;
  /** decoding failed above the ECP layer (the frame is also reported as malformed) */
  partial: boolean;
}

export interface LldpEv extends EvBase {
  kind: 'lldp';
  ttl: number | undefined;
  evb: EvbTlv | undefined;
}

export type EcpProto = 'ecp22' | 'ecp-draft';

export interface EcpEv extends EvBase {
  kind: 'ecp';
  proto: EcpProto;
  op: 'req' | 'ack' | 'other';
  seq: number;
  subtype: number;
  /** the ECP payload (ULPDU); a view into the record, which the drivers (analyze.ts) hand over as a private copy */
  payload: Uint8Array;
  vdp: readonly VdpItem[];
}

export type FrameEv = LldpEv | EcpEv;

/** A frame that could not be decoded at all (drawn as a mark, not an arrow). */
export interface MalformedEv {
  kind: 'malformed';
  frame: number;
  t: number;
  src: string | undefined;
  message: string;
}

export type ReplayEv = FrameEv | MalformedEv;

const ANALYSED = new Set([ETH_P_LLDP, ETH_P_ECP22, ETH_P_ECP_DRAFT]);
const NO_ITEMS: readonly VdpItem[] = [];

/** ethertype after at most one VLAN tag; undefined when the frame is too short to tell */
function peekEthertype(b: Uint8Array): number | undefined {
  if (b.length < 14) return undefined;
  const et = (b[12]! << 8) | b[13]!;
  if (et !== ETH_P_8021Q && et !== ETH_P_8021AD) return et;
  if (b.length < 18) return undefined;
  return (b[16]! << 8) | b[17]!;
}

function isoOf(ns: bigint): string | null {
  const ms = Number(ns / 1_000_000n);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

/** ratified op field and draft mode octet alike: 0 request, 1 ack */
function opOf(code: number): EcpEv['op'] {
  return code === ECP22_OP_REQUEST ? 'req' : code === ECP22_OP_ACK ? 'ack' : 'other';
}

/** What the analysis takes from a ratified or a draft ECP header. */
interface EcpHeader {
  proto: EcpProto;
  op: EcpEv['op'];
  seq: number;
  subtype: number;
  payload: Uint8Array;
}

function header22(e: Ecp22Pdu): EcpHeader {
  return { proto: 'ecp22', op: opOf(e.op), seq: e.sequence, subtype: e.subtype, payload: e.ulpdu };
}

function headerDraft(e: EcpDraftPdu): EcpHeader {
  return { proto: 'ecp-draft', op: opOf(e.mode), seq: e.sequence, subtype: e.subtype, payload: e.payload };
}

/**
 * MAC address text of the few senders in a capture, reused instead of made per frame.
 * A linear scan: there are a handful of senders; past the limit the text is made each time.
 */
class MacTexts {
  private hi: number[] = [];
  private lo: number[] = [];
  private text: string[] = [];

  of(b: Uint8Array, o: number): string {
    const hi = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
    const lo = (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!;
    for (let i = 0; i < this.text.length; i++) if (this.hi[i] === hi && this.lo[i] === lo) return this.text[i]!;
    const s = macToString(b, o);
    if (this.text.length < 64) {
      this.hi.push(hi);
      this.lo.push(lo);
      this.text.push(s);
    }
    return s;
  }
}

export class Collector {
  private readonly items = new VdpItems();
  private readonly macs = new MacTexts();
  /** decoding findings (malformed frames, a damaged file) */
  readonly findings: Finding[] = [];
  readonly counts: FrameCounts = { total: 0, analysed: 0, lldp: 0, ecp: 0, ecpDraft: 0, other: 0, malformed: 0, startTime: null, durationMs: 0 };
  private firstNs: bigint | undefined;
  private lastFrame = 0;
  private maxT = 0;
  captureError: ErrorView | undefined;

  get endT(): number {
    return this.maxT;
  }

  /** The record's event, or undefined when it is not analysed (other ethertype, not Ethernet, decoder bug). */
  push(input: ReplayInput): ReplayEv | undefined {
    const frame = input.frame ?? this.lastFrame + 1;
    this.lastFrame = frame;
    let ns: bigint;
    if (typeof input.ts === 'bigint') ns = input.ts;
    else ns = Number.isFinite(input.ts) ? BigInt(Math.round(input.ts)) : 0n;
    if (this.firstNs === undefined) {
      this.firstNs = ns;
      this.counts.startTime = isoOf(ns);
    }
    const t = round3(Number(ns - this.firstNs) / 1e6);
    if (t > this.maxT) this.maxT = t;
    this.counts.total++;
    let bytes = input.bytes;
    if (input.linktype !== undefined && input.linktype !== LINKTYPE_ETHERNET) {
      const e = ethernetOf({ index: frame, time: 0, ns, caplen: bytes.length, origLen: bytes.length, linktype: input.linktype, data: bytes });
      if (!e) {
        this.counts.other++;
        return undefined;
      }
      bytes = e;
    }
    const et = peekEthertype(bytes);
    if (et !== undefined && !ANALYSED.has(et)) {
      this.counts.other++;
      return undefined;
    }
    try {
      const ev = (et === ETH_P_ECP22 ? this.fastEcp22(frame, t, bytes) : undefined) ?? this.decode(frame, t, bytes);
      if (ev !== undefined && ev.kind !== 'malformed') this.counts.analysed++;
      return ev;
    } catch (e) {
      // the decoders only throw PduError (tryDecodeFrame catches those); anything else is a replay bug
      this.findings.push(finding('internal-error', 'error', frame, t, `frame ${frame}: replay failed on this frame: ${(e as Error).message}`));
      return undefined;
    }
  }

  /**
   * A well-formed ECP22 frame, untagged or with one tag, read in place; undefined for
   * anything else (then decode() takes it). Accepts only what pdu/frame.ts decodeFrame
   * accepts, with the same result.
   */
  private fastEcp22(frame: number, t: number, b: Uint8Array): EcpEv | undefined {
    if (b.length > MAX_FRAME || b.length < 14) return undefined;
    let o = 12;
    const tpid = (b[o]! << 8) | b[o + 1]!;
    if (tpid === ETH_P_8021Q || tpid === ETH_P_8021AD) o += 4;
    if (b.length < o + 2 || ((b[o]! << 8) | b[o + 1]!) !== ETH_P_ECP22) return undefined;
    o += 2;
    if (b.length - o < ECP22_HDR_LEN) return undefined;
    const word = (b[o]! << 8) | b[o + 1]!;
    const op = (word >> 10) & 3;
    const subtype = word & 0x3ff;
    let vdp = NO_ITEMS;
    // decodeFrame decodes VDP only in version-1 VDP requests
    if (op === ECP22_OP_REQUEST && subtype === ECP22_SUBTYPE_VDP && word >> 12 === 1) {
      const items = this.items.ofUlpdu(b, o + ECP22_HDR_LEN, b.length);
      if (items === undefined) return undefined;
      vdp = items;
    }
    this.counts.ecp++;
    return {
      kind: 'ecp',
      frame,
      t,
      src: this.macs.of(b, 6),
      partial: false,
      proto: 'ecp22',
      op: opOf(op),
      seq: (b[o + 2]! << 8) | b[o + 3]!,
      subtype,
      payload: b.subarray(o + ECP22_HDR_LEN),
      vdp,
    };
  }

  /** The general decoder: LLDP, draft ECP, and every frame the fast path declined. */
  private decode(frame: number, t: number, bytes: Uint8Array): ReplayEv | undefined {
    const f = tryDecodeFrame(bytes);
    if (f instanceof PduError) {
      this.counts.malformed++;
      this.findings.push(finding('malformed', 'error', frame, t, `frame ${frame}: ${f.message}`, { error: errorView(f) }));
      return this.partialEcp(frame, t, bytes) ?? { kind: 'malformed', frame, t, src: bytes.length >= 12 ? macToString(bytes, 6) : undefined, message: f.message };
    }
    switch (f.kind) {
      case 'lldp': {
        let ttl: number | undefined;
        let evb: EvbTlv | undefined;
        for (const tlv of f.lldpdu.tlvs) {
          if (tlv.kind === 'ttl' && ttl === undefined) ttl = tlv.seconds;
          else if (tlv.kind === 'evb' && evb === undefined) evb = tlv;
        }
        this.counts.lldp++;
        return { kind: 'lldp', frame, t, src: f.eth.src, partial: false, ttl, evb };
      }
      case 'ecp22': {
        const vdp = f.vdp ? vdpEntries(f.vdp).map((e) => vsiItem(e.vsi, this.items.managerText(e.managerId))) : NO_ITEMS;
        return this.ecpEv(frame, t, f.eth.src, header22(f.ecp), vdp, false);
      }
      case 'ecp-draft': {
        const vdp: VdpItem[] = [];
        for (const d of f.vdp ?? []) {
          const it = draftItem(d);
          if (it) vdp.push(it);
        }
        return this.ecpEv(frame, t, f.eth.src, headerDraft(f.ecp), vdp, false);
      }
      case 'other':
        this.counts.other++;
        return undefined;
    }
  }

  private ecpEv(frame: number, t: number, src: string, h: EcpHeader, vdp: readonly VdpItem[], partial: boolean): EcpEv {
    if (h.proto === 'ecp22') this.counts.ecp++;
    else this.counts.ecpDraft++;
    return { kind: 'ecp', frame, t, src, partial, proto: h.proto, op: h.op, seq: h.seq, subtype: h.subtype, payload: h.payload, vdp };
  }

  /** A frame whose VDP content is damaged still has a valid ECP header: keep it for ECP sequence/ack analysis. */
  private partialEcp(frame: number, t: number, bytes: Uint8Array): EcpEv | undefined {
    try {
      const { eth, payload, headerLength } = decodeEthernet(bytes);
      let h: EcpHeader | undefined;
      if (eth.ethertype === ETH_P_ECP22) h = header22(decodeEcp22(payload, headerLength));
      else if (eth.ethertype === ETH_P_ECP_DRAFT) h = headerDraft(decodeEcpDraft(payload, headerLength));
      if (h) return this.ecpEv(frame, t, eth.src, { ...h, payload: h.payload.slice() }, NO_ITEMS, true);
    } catch {
      // not even the ECP header: a plain malformed frame
    }
    return undefined;
  }

  /** The record source failed (truncated or damaged file, gzip error): keep what was read, report it. */
  fail(err: unknown): void {
    if (this.captureError) return;
    let view: ErrorView;
    let truncated: boolean;
    if (err instanceof PduError) {
      view = errorView(err);
      truncated = err.code === 'truncated';
    } else {
      const e = err as { code?: unknown; message?: unknown };
      const code = typeof e?.code === 'string' ? e.code : '';
      const message = typeof e?.message === 'string' ? e.message : String(err);
      truncated = code === 'Z_BUF_ERROR' || /unexpected end/i.test(message);
      view = { layer: code.startsWith('Z_') ? 'gzip' : 'file', code: truncated ? 'truncated' : code || 'error', field: 'file', offset: -1, message };
    }
    this.captureError = view;
    this.counts.captureError = view;
    const next = this.lastFrame + 1;
    const msg = truncated
      ? `capture truncated: the file ends inside ${view.field === 'header' ? 'the file header' : `frame ${next}`} (${view.message}); ${this.counts.total} complete frame(s) analysed`
      : `capture damaged at frame ${next}: ${view.message}; ${this.counts.total} frame(s) before it analysed`;
    this.findings.push(finding('truncated-capture', 'warning', this.counts.total > 0 || view.field !== 'header' ? next : null, this.maxT, msg, { error: view }));
  }
}
