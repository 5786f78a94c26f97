/**
 * Pass 1 of the replay: records in, compact frame events out. Decodes each LLDP / ECP22 /
 * draft-ECP frame once (other ethertypes and link types are only counted), keeps what the
 * analysis needs (addresses, ECP op/seq/payload, VDP TLVs by name, the EVB TLV) and turns
 * every decoding failure into a `malformed` finding. Never throws.
 */
import { macToString, uuidToString } from '../../pdu/bytes.js';
import { managerIdText, filterText, VSIID_FORMAT_NAMES, vsiidText } from '../../pdu/describe.js';
import { decodeEcp22, decodeEcpDraft } from '../../pdu/ecp.js';
import { decodeEthernet } from '../../pdu/ethernet.js';
import { PduError } from '../../pdu/errors.js';
import { tryDecodeFrame } from '../../pdu/frame.js';
import { ethernetOf, LINKTYPE_ETHERNET } from '../../pdu/pcap.js';
import {
  ECP22_OP_ACK,
  ECP22_OP_REQUEST,
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_ECP22,
  ETH_P_ECP_DRAFT,
  ETH_P_LLDP,
  VDP_STATUS_HARD,
  VDP_STATUS_KEEP,
  VDP_STATUS_RESPONSE,
  type EvbTlv,
  type VdpDraftTlv,
  type VsiMode,
} from '../../pdu/types.js';
import { vdpEntries } from '../../pdu/vdp.js';
import type { ErrorView, Finding, FrameCounts } from './types.js';
import { errorView, finding, round3 } from './util.js';

/** One record handed to the analysis: timestamp in ns since the epoch, frame bytes. */
export interface ReplayInput {
  ts: bigint | number;
  bytes: Uint8Array;
  /** 1-based frame number in the file; counted when absent */
  frame?: number;
  /** pcap link type; absent = Ethernet. Linux cooked (SLL/SLL2) is converted, others are skipped. */
  linktype?: number;
}

export interface VdpItem {
  mode: VsiMode;
  /** raw status octet (draft VDP: the response octet) */
  status: number;
  /** bit 6 of the status octet; undefined for draft VDP (decided by the sender's role) */
  responseBit: boolean | undefined;
  reason: number;
  keep: boolean;
  hard: boolean;
  vsiid: string;
  vsiidFormat: string;
  managerId: string;
  typeId: number;
  typeVersion: number;
  filters: string[];
  draft: boolean;
}

interface EvBase {
  frame: number;
  t: number;
  src: string;
  dst: string;
  /** decoding failed above the ECP layer (the frame is also reported as malformed) */
  partial: boolean;
}

export interface LldpEv extends EvBase {
  kind: 'lldp';
  ttl: number | undefined;
  evb: EvbTlv | undefined;
}

export interface EcpEv extends EvBase {
  kind: 'ecp';
  proto: 'ecp22' | 'ecp-draft';
  op: 'req' | 'ack' | 'other';
  seq: number;
  subtype: number;
  payload: Uint8Array;
  vdp: VdpItem[];
}

export type FrameEv = LldpEv | EcpEv;

/** A frame that could not be decoded at all (drawn as a mark, not an arrow). */
export interface MalformedEv {
  frame: number;
  t: number;
  src: string | undefined;
  message: string;
}

const DRAFT_MODES: VsiMode[] = ['preassoc', 'preassoc-rr', 'assoc', 'deassoc'];
const ANALYSED = new Set([ETH_P_LLDP, ETH_P_ECP22, ETH_P_ECP_DRAFT]);

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

function draftItem(t: VdpDraftTlv): VdpItem | undefined {
  const mode = DRAFT_MODES[t.mode];
  if (mode === undefined) return undefined;
  return {
    mode,
    status: t.response,
    responseBit: undefined,
    reason: t.response,
    keep: false,
    hard: false,
    vsiid: uuidToString(t.instanceUuid),
    vsiidFormat: 'UUID',
    managerId: String(t.managerId),
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    filters: t.filters.map((f) => `${f.mac}/${f.vlan & 0xfff}`),
    draft: true,
  };
}

/**
 * The same VSIs and manager IDs recur in every keep-alive: their text is made once and the
 * same string object reused (which also makes the per-VSI map lookups hash once).
 */
class TextCache {
  private vsiids = new Map<string, string>();
  private mgrs = new Map<string, string>();

  private static key(prefix: number, b: Uint8Array): string {
    return String.fromCharCode(prefix, ...b);
  }

  vsiid(format: number, id: Uint8Array): string {
    const k = TextCache.key(format, id);
    let v = this.vsiids.get(k);
    if (v === undefined) {
      if (this.vsiids.size > 200_000) this.vsiids.clear();
      this.vsiids.set(k, (v = vsiidText(format, id)));
    }
    return v;
  }

  managerId(m: Uint8Array): string {
    const k = TextCache.key(0, m);
    let v = this.mgrs.get(k);
    if (v === undefined) {
      if (this.mgrs.size > 10_000) this.mgrs.clear();
      this.mgrs.set(k, (v = managerIdText(m)));
    }
    return v;
  }
}

export class Collector {
  private readonly text = new TextCache();
  readonly events: FrameEv[] = [];
  readonly malformed: MalformedEv[] = [];
  readonly findings: Finding[] = [];
  readonly counts: FrameCounts = { total: 0, analysed: 0, lldp: 0, ecp: 0, ecpDraft: 0, other: 0, malformed: 0, startTime: null, durationMs: 0 };
  private firstNs: bigint | undefined;
  private lastFrame = 0;
  private maxT = 0;
  captureError: ErrorView | undefined;

  get endT(): number {
    return this.maxT;
  }

  push(input: ReplayInput): void {
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
        return;
      }
      bytes = e;
    }
    const et = peekEthertype(bytes);
    if (et !== undefined && !ANALYSED.has(et)) {
      this.counts.other++;
      return;
    }
    try {
      this.decode(frame, t, bytes);
    } catch (e) {
      // the decoders only throw PduError (tryDecodeFrame catches those); anything else is a replay bug
      this.findings.push(finding('internal-error', 'error', frame, t, `frame ${frame}: replay failed on this frame: ${(e as Error).message}`));
    }
  }

  private decode(frame: number, t: number, bytes: Uint8Array): void {
    const f = tryDecodeFrame(bytes);
    if (f instanceof PduError) {
      this.counts.malformed++;
      this.findings.push(finding('malformed', 'error', frame, t, `frame ${frame}: ${f.message}`, { error: errorView(f) }));
      const partial = this.partialEcp(frame, t, bytes);
      if (partial) this.add(partial);
      else this.malformed.push({ frame, t, src: bytes.length >= 12 ? macToString(bytes, 6) : undefined, message: f.message });
      return;
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
        this.add({ kind: 'lldp', frame, t, src: f.eth.src, dst: f.eth.dst, partial: false, ttl, evb });
        return;
      }
      case 'ecp22': {
        const vdp: VdpItem[] = [];
        if (f.vdp) {
          for (const e of vdpEntries(f.vdp)) {
            const s = e.vsi.status;
            vdp.push({
              mode: e.vsi.mode,
              status: s,
              responseBit: (s & VDP_STATUS_RESPONSE) !== 0,
              reason: s & 0x0f,
              keep: (s & VDP_STATUS_KEEP) !== 0,
              hard: (s & VDP_STATUS_HARD) !== 0,
              vsiid: this.text.vsiid(e.vsi.vsiidFormat, e.vsi.vsiid),
              vsiidFormat: VSIID_FORMAT_NAMES[e.vsi.vsiidFormat] ?? `reserved (${e.vsi.vsiidFormat})`,
              managerId: this.text.managerId(e.managerId),
              typeId: e.vsi.typeId,
              typeVersion: e.vsi.typeVersion,
              filters: e.vsi.filters.map(filterText),
              draft: false,
            });
          }
        }
        this.counts.ecp++;
        this.add({
          kind: 'ecp',
          frame,
          t,
          src: f.eth.src,
          dst: f.eth.dst,
          partial: false,
          proto: 'ecp22',
          op: f.ecp.op === ECP22_OP_REQUEST ? 'req' : f.ecp.op === ECP22_OP_ACK ? 'ack' : 'other',
          seq: f.ecp.sequence,
          subtype: f.ecp.subtype,
          payload: f.ecp.ulpdu,
          vdp,
        });
        return;
      }
      case 'ecp-draft': {
        const vdp: VdpItem[] = [];
        for (const d of f.vdp ?? []) {
          const it = draftItem(d);
          if (it) vdp.push(it);
        }
        this.counts.ecpDraft++;
        this.add({
          kind: 'ecp',
          frame,
          t,
          src: f.eth.src,
          dst: f.eth.dst,
          partial: false,
          proto: 'ecp-draft',
          op: f.ecp.mode === 0 ? 'req' : f.ecp.mode === 1 ? 'ack' : 'other',
          seq: f.ecp.sequence,
          subtype: f.ecp.subtype,
          payload: f.ecp.payload,
          vdp,
        });
        return;
      }
      case 'other':
        this.counts.other++;
        return;
    }
  }

  /** A frame whose VDP content is damaged still has a valid ECP header: keep it for ECP sequence/ack analysis. */
  private partialEcp(frame: number, t: number, bytes: Uint8Array): EcpEv | undefined {
    try {
      const { eth, payload, headerLength } = decodeEthernet(bytes);
      if (eth.ethertype === ETH_P_ECP22) {
        const ecp = decodeEcp22(payload, headerLength);
        this.counts.ecp++;
        const op = ecp.op === ECP22_OP_REQUEST ? 'req' : ecp.op === ECP22_OP_ACK ? 'ack' : 'other';
        return { kind: 'ecp', frame, t, src: eth.src, dst: eth.dst, partial: true, proto: 'ecp22', op, seq: ecp.sequence, subtype: ecp.subtype, payload: ecp.ulpdu.slice(), vdp: [] };
      }
      if (eth.ethertype === ETH_P_ECP_DRAFT) {
        const ecp = decodeEcpDraft(payload, headerLength);
        this.counts.ecpDraft++;
        const op = ecp.mode === 0 ? 'req' : ecp.mode === 1 ? 'ack' : 'other';
        return { kind: 'ecp', frame, t, src: eth.src, dst: eth.dst, partial: true, proto: 'ecp-draft', op, seq: ecp.sequence, subtype: ecp.subtype, payload: ecp.payload.slice(), vdp: [] };
      }
    } catch {
      // not even the ECP header: a plain malformed frame
    }
    return undefined;
  }

  private add(ev: FrameEv): void {
    this.counts.analysed++;
    this.events.push(ev);
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
