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
import { VdpItems, type VdpItem } from './items.js';
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
  /**
   * the ECP payload (ULPDU) is `bytes[payloadStart..payloadEnd)`: the record's octets, which
   * the drivers (analyze.ts, source.ts) hand over as a private copy or as a view nothing
   * writes to until it is released (`detach`)
   */
  bytes: Uint8Array;
  payloadStart: number;
  payloadEnd: number;
  vdp: readonly VdpItem[];
}

export type FrameEv = LldpEv | EcpEv;

/** If `ev`'s payload lies in `buffer`, which is about to be overwritten: a copy of the payload instead. */
export function detach(ev: EcpEv, buffer: ArrayBufferLike): void {
  if (ev.bytes.buffer !== buffer) return;
  const copy = new Uint8Array(ev.payloadEnd - ev.payloadStart);
  copy.set(ev.bytes.subarray(ev.payloadStart, ev.payloadEnd));
  ev.bytes = copy;
  ev.payloadStart = 0;
  ev.payloadEnd = copy.length;
}

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
function peekEthertype(b: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 14) return undefined;
  const et = (b[start + 12]! << 8) | b[start + 13]!;
  if (et !== ETH_P_8021Q && et !== ETH_P_8021AD) return et;
  if (end - start < 18) return undefined;
  return (b[start + 16]! << 8) | b[start + 17]!;
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
  /** the first record's time as numbers (NaN: it came as a bigint) */
  private firstSec = NaN;
  private firstNsec = 0;
  private lastFrame = 0;
  private maxT = 0;
  captureError: ErrorView | undefined;

  get endT(): number {
    return this.maxT;
  }

  /** The record's event, or undefined when it is not analysed (other ethertype, not Ethernet, decoder bug). */
  push(input: ReplayInput): ReplayEv | undefined {
    let ns: bigint;
    if (typeof input.ts === 'bigint') ns = input.ts;
    else ns = Number.isFinite(input.ts) ? BigInt(Math.round(input.ts)) : 0n;
    const b = input.bytes;
    return this.record(b, 0, b.length, input.linktype ?? LINKTYPE_ETHERNET, input.frame ?? this.lastFrame + 1, NaN, NaN, ns);
  }

  /**
   * push() for a record in place (pdu/pcap.ts PcapRecordSink): octets `buf[start..end)`,
   * timestamp `sec` s + `nsec` ns, or `ns` when the seconds are NaN.
   */
  record(buf: Uint8Array, start: number, end: number, linktype: number, frame: number, sec: number, nsec: number, ns: bigint | undefined): ReplayEv | undefined {
    this.lastFrame = frame;
    const t = this.timeOf(sec, nsec, ns);
    if (t > this.maxT) this.maxT = t;
    this.counts.total++;
    let bytes = buf;
    if (linktype !== LINKTYPE_ETHERNET) {
      const data = buf.subarray(start, end);
      const e = ethernetOf({ index: frame, time: 0, ns: ns ?? 0n, caplen: data.length, origLen: data.length, linktype, data });
      if (!e) {
        this.counts.other++;
        return undefined;
      }
      bytes = e;
      start = 0;
      end = e.length;
    }
    const et = peekEthertype(bytes, start, end);
    if (et !== undefined && !ANALYSED.has(et)) {
      this.counts.other++;
      return undefined;
    }
    try {
      let ev: ReplayEv | undefined = et === ETH_P_ECP22 ? this.fastEcp22(frame, t, bytes, start, end) : undefined;
      if (ev === undefined) ev = this.decode(frame, t, start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
      if (ev !== undefined && ev.kind !== 'malformed') this.counts.analysed++;
      return ev;
    } catch (e) {
      // the decoders only throw PduError (tryDecodeFrame catches those); anything else is a replay bug
      this.findings.push(finding('internal-error', 'error', frame, t, `frame ${frame}: replay failed on this frame: ${(e as Error).message}`));
      return undefined;
    }
  }

  /**
   * ms since the first record, rounded to the µs: the difference in ns as a number, exact
   * (so the same as with bigint) while it is below 2^53 ns, about 104 days
   */
  private timeOf(sec: number, nsec: number, ns: bigint | undefined): number {
    if (this.firstNs === undefined) {
      const first = ns ?? BigInt(sec) * 1_000_000_000n + BigInt(nsec);
      this.firstNs = first;
      this.counts.startTime = isoOf(first);
      if (ns === undefined) {
        this.firstSec = sec;
        this.firstNsec = nsec;
      }
    }
    const ds = sec - this.firstSec;
    const d = ds >= -9e6 && ds <= 9e6 ? ds * 1e9 + (nsec - this.firstNsec) : Number((ns ?? BigInt(sec) * 1_000_000_000n + BigInt(nsec)) - this.firstNs);
    return round3(d / 1e6);
  }

  /**
   * A well-formed ECP22 frame `b[start..end)`, untagged or with one tag, read in place;
   * undefined for anything else (then decode() takes it). Accepts only what pdu/frame.ts
   * decodeFrame accepts, with the same result.
   */
  private fastEcp22(frame: number, t: number, b: Uint8Array, start: number, end: number): EcpEv | undefined {
    const len = end - start;
    if (len > MAX_FRAME || len < 14) return undefined;
    let o = start + 12;
    const tpid = (b[o]! << 8) | b[o + 1]!;
    if (tpid === ETH_P_8021Q || tpid === ETH_P_8021AD) o += 4;
    if (end < o + 2 || ((b[o]! << 8) | b[o + 1]!) !== ETH_P_ECP22) return undefined;
    o += 2;
    if (end - o < ECP22_HDR_LEN) return undefined;
    const word = (b[o]! << 8) | b[o + 1]!;
    const op = (word >> 10) & 3;
    const subtype = word & 0x3ff;
    let vdp = NO_ITEMS;
    // decodeFrame decodes VDP only in version-1 VDP requests
    if (op === ECP22_OP_REQUEST && subtype === ECP22_SUBTYPE_VDP && word >> 12 === 1) {
      const items = this.items.ofUlpdu(b, o + ECP22_HDR_LEN, end);
      if (items === undefined) return undefined;
      vdp = items;
    }
    this.counts.ecp++;
    return {
      kind: 'ecp',
      frame,
      t,
      src: this.macs.of(b, start + 6),
      partial: false,
      proto: 'ecp22',
      op: opOf(op),
      seq: (b[o + 2]! << 8) | b[o + 3]!,
      subtype,
      bytes: b,
      payloadStart: o + ECP22_HDR_LEN,
      payloadEnd: end,
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
        const vdp = f.vdp ? vdpEntries(f.vdp).map((e) => this.items.vsiItem(e.vsi, e.managerId)) : NO_ITEMS;
        return this.ecpEv(frame, t, f.eth.src, header22(f.ecp), vdp, false);
      }
      case 'ecp-draft': {
        const vdp: VdpItem[] = [];
        for (const d of f.vdp ?? []) {
          const it = this.items.draftItem(d);
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
    return { kind: 'ecp', frame, t, src, partial, proto: h.proto, op: h.op, seq: h.seq, subtype: h.subtype, bytes: h.payload, payloadStart: 0, payloadEnd: h.payload.length, vdp };
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
