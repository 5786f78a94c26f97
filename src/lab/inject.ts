#!/usr/bin/env node
/**
 * A fast frame injector for the bad-input tests: random and mutated LLDP / ECP22 / draft-ECP
 * frames, sent on one interface through a raw AF_PACKET socket (one sendto per frame in a
 * tight loop), from a separate process inside a lab namespace.
 *
 *   node inject.js --ifname IF --station-mac M --bridge-mac B --seed S --count N
 *                  [--mix cat=weight,…] [--captures DIR] [--vsis FILE]
 *                  [--watch-pid PID] [--max-backlog BYTES] [--group MAC]
 *
 * Frames are generated from a seeded PRNG, so a seed and a count reproduce the same run.
 * Every frame is also run through vdpd's own decoder and classified the way the daemon's
 * sockets and PortStack will treat it (`predicted`), so a test can check the daemon's
 * counters against what was sent, frame for frame.
 *
 * Flow control: with --watch-pid (the receiving daemon, in another namespace), the
 * receive queues of that process's namespace are read from /proc/PID/net/packet and the
 * injector waits while any holds more than --max-backlog bytes, so the kernel never drops
 * a frame for lack of buffer (and if it did, the daemon reports it as kernel drops).
 *
 * Prints one JSON object: what was sent, by category and by predicted treatment.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { macInto, macToString } from '../../pdu/bytes.js';
import { encodeEcp22, encodeEcpDraft } from '../../pdu/ecp.js';
import { PduError } from '../../pdu/errors.js';
import { encodeEthernet } from '../../pdu/ethernet.js';
import { encodeEvbData } from '../../pdu/evb.js';
import { tryDecodeFrame } from '../../pdu/frame.js';
import { encodeLldpdu } from '../../pdu/lldp.js';
import { ethernetOf } from '../../pdu/pcap.js';
import {
  ECP22_OP_ACK,
  ECP22_OP_REQUEST,
  ECP22_SUBTYPE_PECSP,
  ECP22_SUBTYPE_VDP,
  ECP22_VERSION,
  ETH_P_ECP22,
  ETH_P_ECP_DRAFT,
  ETH_P_LLDP,
  MAC_NEAREST_BRIDGE,
  MAC_NEAREST_CUSTOMER_BRIDGE,
  MAC_NEAREST_NONTPMR_BRIDGE,
  OUI_QBG_DRAFT,
  VDP_STATUS_RESPONSE,
  type EvbTlv,
  type FilterEntry,
  type LldpTlv,
  type VdpEntry,
  type VsiMode,
} from '../../pdu/types.js';
import { encodeVdpEntries } from '../../pdu/vdp.js';
import { vsiSpecToWire, type VsiSpec } from '../api/vsi-spec.js';
import type { VsiWire } from '../../fsm/vsi.js';
import { AF_PACKET, check, errno, htons, libc, SOCK_CLOEXEC, SOCK_RAW, SyscallError } from '../io/libc.js';
import { readPcapFile } from '../pcap/file.js';

// ------------------------------------------------------------------ categories

/** What the injector can send. Weights in --mix pick among them. */
export const CATEGORIES = [
  // 1. the fuzz mix
  'random-lldp', // random bytes, ethertype 0x88cc, to a joined group address, from another MAC
  'random-ecp', // … 0x8940
  'random-ecp-draft', // … 0x88b7
  'capture-mutant', // a frame of captures/*.pcap (another lab's MACs), byte flips / truncation / length lies
  'ecp-req-unknown-vsi', // well-formed ECP REQ, VDP responses (and requests) for VSIs never requested, from another MAC
  'ecp-ack-unknown-seq', // ECP ACK for a random sequence number, from another MAC
  'lldp-broken-evb', // LLDPDU whose EVB TLV is broken (never decodes), from another MAC
  'built-mutant', // one of the above built frames (or a bridge-like LLDPDU), mutated
  'same-source', // from the real bridge's MAC: only what cannot legitimately change the session (see below)
  // 2. not from the adjacent bridge
  'wrong-dst-unicast', // well-formed frames (De-Associates of the real VSIs included) to a unicast MAC not ours
  'wrong-dst-multicast', // bridge-like LLDPDUs and unknown-VSI ECPDUs to other multicast / broadcast addresses
  'wrong-ethertype', // LLDP / ECP payloads under other ethertypes
  'second-bridge-lldp', // another MAC with its own chassis: LLDPDUs with bridge EVB, station EVB, no EVB
  'second-bridge-ttl0', // another MAC sending a TTL-0 LLDPDU with the real bridge's chassis and port ID
  'second-bridge-vdp', // another MAC: ECP REQ with VDP responses and De-Associates for the real VSIs
  'second-bridge-ecp-seq1', // another MAC: ECP REQ with sequence 1 (what a restarted bridge sends)
  'vdp-unrequested-bridge', // the real bridge's MAC: VDP responses for VSIs never requested
] as const;
export type Category = (typeof CATEGORIES)[number];

/** How the receiving daemon treats a frame (mirrors PacketSocket.drain and PortStack.receiveFrame / EcpPort.receive). */
export type Treatment =
  | 'not-delivered' // ethertype no daemon socket is bound to
  | 'other-host' // unicast to another MAC: PACKET_OTHERHOST, ignored by the socket
  | 'malformed'
  | 'own-frame'
  | 'lldp-other-agent'
  | 'lldp'
  | 'ecp-draft'
  | 'ecp-drop-version'
  | 'ecp-drop-op'
  | 'ecp-drop-subtype-pecsp'
  | 'ecp-drop-subtype'
  | 'ecp-ack'
  | 'ecp-req';

export interface InjectResult {
  seed: number;
  count: number;
  sent: number;
  sendErrors: Record<string, number>;
  elapsedMs: number;
  framesPerSecond: number;
  bytes: number;
  byCategory: Partial<Record<Category, number>>;
  predicted: Partial<Record<Treatment, number>>;
  /** frames the kernel hands to the daemon's socket of each ethertype (host, multicast or broadcast destination) */
  deliveredByEthertype: { lldp: number; ecp22: number; ecpDraft: number };
  /**
   * of `predicted`, the frames whose source is neither the bridge's nor the station's MAC: a
   * daemon that drops frames not from its adjacent peer moves (some of) these to such a reason
   */
  foreign: Partial<Record<Treatment, number>>;
  /** VSI TLVs carried by the frames predicted 'ecp-req' (what VDP sees if ECP delivers them) */
  vsiTlvs: number;
  /** predicted treatment per category */
  matrix: Partial<Record<Category, Partial<Record<Treatment, number>>>>;
  /** times the injector waited for the receiver's queues to drain */
  backpressureWaits: number;
  backpressureMs: number;
  maxBacklogSeen: number;
}

// ------------------------------------------------------------------ seeded randomness

/** sfc32: small, fast, good enough for fuzzing; deterministic per seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** 0 .. n-1 */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ------------------------------------------------------------------ frame building

const JOINED_GROUPS = [MAC_NEAREST_CUSTOMER_BRIDGE, MAC_NEAREST_BRIDGE, MAC_NEAREST_NONTPMR_BRIDGE];
const OTHER_MULTICAST = ['01:00:5e:00:00:fb', '33:33:00:00:00:01', 'ff:ff:ff:ff:ff:ff', '01:80:c2:00:00:0f', '01:80:c2:00:00:21', '03:00:00:00:00:01'];
const OTHER_ETHERTYPES = [0x0800, 0x86dd, 0x0806, 0x8890, 0x88cd, 0x893f, 0x8941, 0x88b8, 0x88cb, 0x9000];
const MAX_LEN = 1514;
/** the source MAC of the second-bridge categories */
export const SECOND_BRIDGE_MAC = '02:76:64:7e:00:99';
const MIN_LEN = 15;

function mac(b: Uint8Array): string {
  return macToString(b, 0);
}

function evb(mode: 1 | 2, o: Partial<EvbTlv> = {}): EvbTlv {
  return { bgid: false, rrcap: mode === 1, rrctr: false, bridgeReserved: 0, sgid: false, rrreq: mode === 2, rrstat: 0, stationReserved: 0, r: 3, rte: 8, evbMode: mode, rolRwd: false, rwd: 20, rkaReserved: 0, rolRka: false, rka: 20, ...o };
}

function lldpFrame(dst: string, src: string, tlvs: LldpTlv[]): Uint8Array {
  return encodeEthernet({ dst, src, ethertype: ETH_P_LLDP }, encodeLldpdu({ tlvs }));
}

function idTlvs(chassisMac: string, ttl: number): LldpTlv[] {
  const id = new Uint8Array(6);
  macInto(chassisMac, id, 0);
  return [
    { kind: 'chassis-id', subtype: 4, id },
    { kind: 'port-id', subtype: 3, id: id.slice() },
    { kind: 'ttl', seconds: ttl },
  ];
}

function ecpFrame(dst: string, src: string, op: number, seq: number, ulpdu: Uint8Array, version = ECP22_VERSION, subtype = ECP22_SUBTYPE_VDP): Uint8Array {
  return encodeEthernet({ dst, src, ethertype: ETH_P_ECP22 }, encodeEcp22({ version, op, subtype, sequence: seq, ulpdu }), op !== ECP22_OP_ACK);
}

const MODES: VsiMode[] = ['preassoc', 'preassoc-rr', 'assoc', 'deassoc'];

function randomFilters(rng: Rng, format: number): FilterEntry[] {
  const n = rng.range(1, 3);
  const out: FilterEntry[] = [];
  for (let i = 0; i < n; i++) {
    const f: FilterEntry = { vid: rng.int(4096), pcp: rng.int(8), ps: rng.chance(0.2) };
    if (format === 2 || format === 4) f.mac = mac(Uint8Array.of(0x02, ...rng.bytes(5)));
    if (format === 3 || format === 4) f.groupId = rng.range(1, 0xffffffff);
    out.push(f);
  }
  return out;
}

/** A VSI nobody requested: random manager ID, VSIID, type, filters. */
function unknownEntry(rng: Rng, response: boolean): VdpEntry {
  const filterFormat = rng.range(1, 4);
  const vsiidFormat = rng.pick([1, 2, 3, 4, 5, 5, 5]);
  return {
    managerId: rng.bytes(16),
    vsi: {
      kind: 'vsi',
      mode: rng.pick(MODES),
      status: response ? VDP_STATUS_RESPONSE | rng.pick([0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x12, 0x23]) : rng.pick([0, 0x10, 0x20]),
      typeId: rng.int(0x1000000),
      typeVersion: rng.int(256),
      vsiidFormat,
      vsiid: rng.bytes(16),
      filterFormat,
      filters: randomFilters(rng, filterFormat),
    },
    org: [],
  };
}

function realEntry(w: VsiWire, mode: VsiMode, status: number): VdpEntry {
  return {
    managerId: w.managerId,
    vsi: { kind: 'vsi', mode, status, typeId: w.typeId, typeVersion: w.typeVersion, vsiidFormat: w.vsiidFormat, vsiid: w.vsiid, filterFormat: w.filterFormat, filters: w.filters.map((f) => ({ ...f, vid: f.vid === 0 ? 100 : f.vid })) },
    org: [],
  };
}

/** ECP sequence numbers that neither look like a restart (1) nor wrap. */
function seq(rng: Rng): number {
  return rng.range(2, 0xfffe);
}

// ------------------------------------------------------------------ mutations

/** TLV headers (7-bit type, 9-bit length) from `start`: offsets of each header. */
function tlvOffsets(f: Uint8Array, len: number, start: number): number[] {
  const out: number[] = [];
  let p = start;
  while (p + 2 <= len && out.length < 64) {
    const hdr = (f[p]! << 8) | f[p + 1]!;
    out.push(p);
    if (hdr >> 9 === 0) break;
    p += 2 + (hdr & 0x1ff);
  }
  return out;
}

function payloadStart(f: Uint8Array): number {
  const et = (f[12]! << 8) | f[13]!;
  if (et === ETH_P_ECP22) return 18;
  if (et === ETH_P_ECP_DRAFT) return 23;
  return 14;
}

/**
 * Mutate f[0..len) in place (the Ethernet header is kept: which socket gets the frame is
 * the category's business); returns the new length.
 */
function mutate(rng: Rng, f: Uint8Array, len: number): number {
  const ops = rng.range(1, 2);
  for (let k = 0; k < ops; k++) {
    switch (rng.int(7)) {
      case 0:
      case 1: {
        // byte flips
        const n = rng.range(1, 8);
        for (let i = 0; i < n && len > 14; i++) f[rng.range(14, len - 1)]! ^= rng.range(1, 255);
        break;
      }
      case 2:
        // truncation
        if (len > MIN_LEN) len = rng.range(MIN_LEN, len - 1);
        break;
      case 3: {
        // garbage appended
        if (len < MAX_LEN) {
          const add = rng.range(1, Math.min(MAX_LEN - len, rng.chance(0.8) ? 64 : 1500));
          for (let i = 0; i < add; i++) f[len + i] = rng.u32() & 0xff;
          len += add;
        }
        break;
      }
      case 4:
      case 5: {
        // a TLV length that lies (LLDP TLVs, VDP TLVs, draft VDP TLVs)
        const offs = tlvOffsets(f, len, payloadStart(f));
        if (offs.length === 0) break;
        const p = rng.pick(offs);
        const type = f[p]! >> 1;
        const lie = rng.chance(0.5) ? rng.int(512) : Math.max(0, Math.min(511, (((f[p]! & 1) << 8) | f[p + 1]!) + rng.pick([-3, -2, -1, 1, 2, 3, 16, 200])));
        f[p] = (type << 1) | (lie >> 8);
        f[p + 1] = lie & 0xff;
        break;
      }
      case 6: {
        // VDP: number of filter entries lies; LLDP: EVB TLV values scrambled
        const et = (f[12]! << 8) | f[13]!;
        const offs = tlvOffsets(f, len, payloadStart(f));
        if (et === ETH_P_ECP22) {
          const vsi = offs.filter((p) => f[p]! >> 1 >= 1 && f[p]! >> 1 <= 4 && p + 2 + 25 <= len);
          if (vsi.length === 0) break;
          const p = rng.pick(vsi) + 2 + 23;
          const n = rng.chance(0.5) ? rng.int(0x10000) : rng.int(4);
          f[p] = n >> 8;
          f[p + 1] = n & 0xff;
        } else {
          const org = offs.filter((p) => f[p]! >> 1 === 127 && p + 2 + 9 <= len);
          if (org.length === 0) break;
          const p = rng.pick(org) + 2 + 4;
          for (let i = 0; i < 5; i++) if (rng.chance(0.5)) f[p + i] = rng.u32() & 0xff;
        }
        break;
      }
    }
  }
  return len;
}

// ------------------------------------------------------------------ the generator

export interface GeneratorOptions {
  seed: number;
  stationMac: string;
  bridgeMac: string;
  /** the group address the daemon's LLDP agent runs on */
  group: string;
  /** captured frames (Ethernet) */
  captured: Uint8Array[];
  /** the station's real VSIs (for the second-bridge and wrong-destination categories) */
  vsis: VsiWire[];
}

export class FrameGenerator {
  readonly rng: Rng;
  private noise: Uint8Array;
  private built: Uint8Array[] = [];
  private reqUnknown: Uint8Array[] = [];
  private brokenEvb: Uint8Array[] = [];
  private bridgeLike: Uint8Array[] = [];
  private readonly station: Uint8Array;
  private readonly bridge: Uint8Array;
  private secondBridge = SECOND_BRIDGE_MAC;
  /** VSI TLVs in the last frame predict() classified as 'ecp-req' */
  lastVsiTlvs = 0;
  private capturedLldp: Uint8Array[];
  private capturedOther: Uint8Array[];

  constructor(private readonly o: GeneratorOptions) {
    this.rng = new Rng(o.seed);
    const rng = this.rng;
    this.capturedLldp = o.captured.filter((f) => ((f[12]! << 8) | f[13]!) === ETH_P_LLDP);
    this.capturedOther = o.captured.filter((f) => ((f[12]! << 8) | f[13]!) !== ETH_P_LLDP);
    this.noise = rng.bytes(1 << 20);
    this.station = new Uint8Array(6);
    this.bridge = new Uint8Array(6);
    macInto(o.stationMac, this.station, 0);
    macInto(o.bridgeMac, this.bridge, 0);
    const other = (): string => this.otherMac();
    for (let i = 0; i < 256; i++) {
      const n = rng.range(1, 4);
      const entries = Array.from({ length: n }, () => unknownEntry(rng, rng.chance(0.85)));
      this.reqUnknown.push(ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, other(), ECP22_OP_REQUEST, seq(rng), encodeVdpEntries(entries, { end: rng.chance(0.3) })));
    }
    for (let i = 0; i < 128; i++) this.brokenEvb.push(this.brokenEvbFrame(other()));
    for (let i = 0; i < 64; i++) {
      const src = other();
      this.bridgeLike.push(lldpFrame(o.group, src, [...idTlvs(src, 120), { kind: 'evb', ...evb(1, { r: rng.int(8), rte: rng.int(32), rwd: rng.int(32), rka: rng.int(32) }) }, { kind: 'end' }]));
    }
    this.built = [...this.reqUnknown, ...this.brokenEvb, ...this.bridgeLike, ...Array.from({ length: 32 }, () => ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, other(), ECP22_OP_ACK, seq(rng), new Uint8Array(0)))];
  }

  /** a locally administered unicast MAC that is neither the station's nor the bridge's */
  otherMac(): string {
    for (;;) {
      const b = this.rng.bytes(6);
      b[0] = (b[0]! & 0xfc) | 0x02;
      const m = mac(b);
      if (m !== this.o.stationMac && m !== this.o.bridgeMac) return m;
    }
  }

  private brokenEvbFrame(src: string): Uint8Array {
    const rng = this.rng;
    for (;;) {
      const good = encodeEvbData(evb(rng.chance(0.5) ? 1 : 2, { rka: rng.int(32) }));
      let data: Uint8Array;
      switch (rng.int(3)) {
        case 0: // EVB TLV shorter or longer than 9
          data = rng.bytes(rng.pick([0, 1, 2, 3, 4, 6, 7, 12, 40]));
          break;
        case 1: // good values, one octet missing / one extra
          data = rng.chance(0.5) ? good.slice(0, 4) : Uint8Array.of(...good, rng.u32() & 0xff);
          break;
        default: // only the OUI and subtype
          data = new Uint8Array(0);
      }
      const tlvs: LldpTlv[] = [...idTlvs(src, rng.chance(0.1) ? 0 : 120), { kind: 'org', oui: 0x0080c2, subtype: 0x0d, data }, { kind: 'end' }];
      const f = lldpFrame(this.o.group, src, tlvs);
      if (tryDecodeFrame(f) instanceof PduError) return f;
    }
  }

  private writeSrc(f: Uint8Array, src: string): void {
    macInto(src, f, 6);
  }

  private setSeq(f: Uint8Array, s: number): void {
    f[16] = s >> 8;
    f[17] = s & 0xff;
  }

  private randomFrame(out: Uint8Array, ethertype: number): number {
    const rng = this.rng;
    const len = rng.chance(0.7) ? rng.range(MIN_LEN, 128) : rng.range(MIN_LEN, MAX_LEN);
    macInto(rng.pick(JOINED_GROUPS), out, 0);
    this.writeSrc(out, this.otherMac());
    out[12] = ethertype >> 8;
    out[13] = ethertype & 0xff;
    const at = rng.int(this.noise.length - MAX_LEN);
    out.set(this.noise.subarray(at, at + len - 14), 14);
    // some start like the real thing, so the decoders get further than the first octet
    if (rng.chance(0.3)) {
      if (ethertype === ETH_P_ECP22) {
        out[14] = (ECP22_VERSION << 4) | (rng.int(2) << 2);
        out[15] = ECP22_SUBTYPE_VDP;
      } else if (ethertype === ETH_P_ECP_DRAFT) {
        out[14] = OUI_QBG_DRAFT >> 16;
        out[15] = (OUI_QBG_DRAFT >> 8) & 0xff;
        out[16] = OUI_QBG_DRAFT & 0xff;
      } else {
        out[14] = 0x02;
        out[15] = 0x07;
        out[16] = 0x04;
      }
    }
    return len;
  }

  /** Build the next frame of `cat` into `out`; returns its length. */
  next(cat: Category, out: Uint8Array): number {
    const rng = this.rng;
    const put = (f: Uint8Array): number => {
      out.set(f);
      return f.length;
    };
    switch (cat) {
      case 'random-lldp':
        return this.randomFrame(out, ETH_P_LLDP);
      case 'random-ecp':
        return this.randomFrame(out, ETH_P_ECP22);
      case 'random-ecp-draft':
        return this.randomFrame(out, ETH_P_ECP_DRAFT);
      case 'capture-mutant': {
        // LLDPDUs are 1 in 50 captured frames: give them a quarter of the mutants
        const pool = this.capturedLldp.length > 0 && (this.capturedOther.length === 0 || rng.chance(0.25)) ? this.capturedLldp : this.capturedOther;
        const len = put(rng.pick(pool));
        return mutate(rng, out, len);
      }
      case 'ecp-req-unknown-vsi': {
        const len = put(rng.pick(this.reqUnknown));
        this.writeSrc(out, this.otherMac());
        this.setSeq(out, seq(rng));
        return len;
      }
      case 'ecp-ack-unknown-seq': {
        const len = put(ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, this.otherMac(), ECP22_OP_ACK, rng.int(0x10000), new Uint8Array(0)));
        return len;
      }
      case 'lldp-broken-evb': {
        const len = put(rng.pick(this.brokenEvb));
        return len;
      }
      case 'built-mutant': {
        const len = put(rng.pick(this.built));
        this.writeSrc(out, this.otherMac());
        if (out[13] === (ETH_P_ECP22 & 0xff)) this.setSeq(out, seq(rng));
        return mutate(rng, out, len);
      }
      case 'same-source':
        return this.sameSource(out);
      case 'wrong-dst-unicast': {
        let f: Uint8Array;
        const dst = this.otherMac();
        const src = rng.chance(0.5) ? this.o.bridgeMac : this.otherMac();
        const w = this.o.vsis.length > 0 && rng.chance(0.5) ? rng.pick(this.o.vsis) : undefined;
        if (w) f = ecpFrame(dst, src, ECP22_OP_REQUEST, seq(rng), encodeVdpEntries([realEntry(w, 'deassoc', rng.chance(0.5) ? 0 : VDP_STATUS_RESPONSE)]));
        else if (rng.chance(0.5)) f = lldpFrame(dst, src, [...idTlvs(src, rng.chance(0.2) ? 0 : 120), { kind: 'evb', ...evb(rng.chance(0.5) ? 1 : 2) }, { kind: 'end' }]);
        else f = ecpFrame(dst, src, ECP22_OP_ACK, rng.int(0x10000), new Uint8Array(0));
        return put(f);
      }
      case 'wrong-dst-multicast': {
        const dst = rng.pick(OTHER_MULTICAST);
        // an LLDPDU with the real bridge's identity to another agent's address is ignored; ECP22 is
        // accepted on any destination (as lldpad does), so only VSIs nobody requested travel there
        if (rng.chance(0.5)) return put(lldpFrame(dst, this.o.bridgeMac, [...idTlvs(this.o.bridgeMac, rng.chance(0.3) ? 0 : 120), ...(rng.chance(0.5) ? [{ kind: 'evb' as const, ...evb(2) }] : []), { kind: 'end' }]));
        const len = put(rng.pick(this.reqUnknown));
        macInto(dst, out, 0);
        this.setSeq(out, seq(rng));
        return len;
      }
      case 'wrong-ethertype': {
        const len = rng.chance(0.5) ? put(rng.pick(this.bridgeLike)) : put(rng.pick(this.reqUnknown));
        const et = rng.pick(OTHER_ETHERTYPES);
        out[12] = et >> 8;
        out[13] = et & 0xff;
        if (rng.chance(0.5)) macInto(this.o.bridgeMac, out, 6);
        return len;
      }
      case 'second-bridge-lldp': {
        const sb = this.secondBridge;
        const kind = rng.int(3);
        const tlvs: LldpTlv[] = [...idTlvs(sb, 120)];
        if (kind === 0) tlvs.push({ kind: 'evb', ...evb(1, { r: 7, rte: 20, rwd: 25, rka: 25, rrcap: true, rrctr: true }) });
        else if (kind === 1) tlvs.push({ kind: 'evb', ...evb(2) });
        tlvs.push({ kind: 'end' });
        return put(lldpFrame(this.o.group, sb, tlvs));
      }
      case 'second-bridge-ttl0':
        return put(lldpFrame(this.o.group, this.secondBridge, [...idTlvs(this.o.bridgeMac, 0), { kind: 'end' }]));
      case 'second-bridge-vdp': {
        if (this.o.vsis.length === 0) throw new Error('second-bridge-vdp needs --vsis');
        const w = rng.pick(this.o.vsis);
        const e = rng.int(3) === 0 ? realEntry(w, 'deassoc', 0) : realEntry(w, rng.chance(0.5) ? 'assoc' : 'deassoc', VDP_STATUS_RESPONSE | rng.pick([0x02, 0x14, 0x23]));
        return put(ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, this.secondBridge, ECP22_OP_REQUEST, seq(rng), encodeVdpEntries([e])));
      }
      case 'second-bridge-ecp-seq1':
        return put(ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, this.secondBridge, ECP22_OP_REQUEST, 1, encodeVdpEntries([unknownEntry(rng, true)])));
      case 'vdp-unrequested-bridge': {
        const len = put(rng.pick(this.reqUnknown));
        this.writeSrc(out, this.o.bridgeMac);
        this.setSeq(out, seq(rng));
        return len;
      }
    }
  }

  /**
   * From the real bridge's MAC, only frames that cannot legitimately change the session:
   * LLDPDUs and draft ECPDUs that do not decode (a well-formed LLDPDU from the bridge with
   * other EVB values, or a TTL-0 one, is the bridge speaking — excluded), ECP22 REQs with
   * VDP TLVs for VSIs never requested (sequence never 1, which would announce a bridge
   * restart), ACKs for unknown sequence numbers, and ECP headers with a bad version / op /
   * subtype. A well-formed unsolicited De-Associate of a real VSI from the bridge's MAC is
   * a legitimate de-association and is never sent.
   */
  private sameSource(out: Uint8Array): number {
    const rng = this.rng;
    const bridge = this.o.bridgeMac;
    switch (rng.int(5)) {
      case 0: {
        // a bridge LLDPDU mutated until it no longer decodes
        const base = lldpFrame(this.o.group, bridge, [...idTlvs(bridge, 120), { kind: 'evb', ...evb(1) }, { kind: 'end' }]);
        for (let tries = 0; ; tries++) {
          out.set(base);
          let len = mutate(rng, out, base.length);
          if (tries > 8) len = rng.range(MIN_LEN, 14 + 9 + 9 + 3); // cut inside the mandatory TLVs
          if (tryDecodeFrame(out.subarray(0, len)) instanceof PduError) return len;
        }
      }
      case 1: {
        const len = this.next('ecp-req-unknown-vsi', out);
        this.writeSrc(out, bridge);
        return len;
      }
      case 2:
        return this.writeAndReturn(out, ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, bridge, ECP22_OP_ACK, rng.int(0x10000), new Uint8Array(0)));
      case 3: {
        // an ECP22 header with a bad version, op or subtype
        const bad = rng.int(3);
        const version = bad === 0 ? rng.pick([0, 2, 3, 15]) : ECP22_VERSION;
        const op = bad === 1 ? rng.pick([2, 3]) : rng.pick([ECP22_OP_REQUEST, ECP22_OP_ACK]);
        const subtype = bad === 2 ? rng.pick([0, ECP22_SUBTYPE_PECSP, 3, 0x3ff]) : ECP22_SUBTYPE_VDP;
        return this.writeAndReturn(out, ecpFrame(MAC_NEAREST_CUSTOMER_BRIDGE, bridge, bad === 2 ? ECP22_OP_REQUEST : op, seq(rng), rng.bytes(rng.range(0, 80)), version, subtype));
      }
      default: {
        // a draft-0.2 ECPDU (the daemon counts and ignores ECP draft 0.2)
        const payload = encodeEcpDraft({ oui: OUI_QBG_DRAFT, protocolId: 0, subtype: 0, mode: rng.int(2), sequence: rng.int(0x10000), payload: rng.bytes(rng.range(0, 60)) });
        return this.writeAndReturn(out, encodeEthernet({ dst: MAC_NEAREST_CUSTOMER_BRIDGE, src: bridge, ethertype: ETH_P_ECP_DRAFT }, payload));
      }
    }
  }

  private writeAndReturn(out: Uint8Array, f: Uint8Array): number {
    out.set(f);
    return f.length;
  }

  /** the frame's source MAC is the bridge's or the station's */
  fromPeerOrSelf(f: Uint8Array): boolean {
    let bridge = true;
    let station = true;
    for (let i = 0; i < 6; i++) {
      if (f[6 + i] !== this.bridge[i]) bridge = false;
      if (f[6 + i] !== this.station[i]) station = false;
    }
    return bridge || station;
  }

  /** How the daemon (station, LLDP on `group`) will treat this frame. */
  predict(f: Uint8Array): Treatment {
    this.lastVsiTlvs = 0;
    const et = (f[12]! << 8) | f[13]!;
    if (et !== ETH_P_LLDP && et !== ETH_P_ECP22 && et !== ETH_P_ECP_DRAFT) return 'not-delivered';
    if ((f[0]! & 1) === 0) {
      for (let i = 0; i < 6; i++) if (f[i] !== this.station[i]) return 'other-host';
    }
    const d = tryDecodeFrame(f);
    if (d instanceof PduError) return 'malformed';
    if (d.eth.src === this.o.stationMac) return 'own-frame';
    if (d.kind === 'lldp') return d.eth.dst !== this.o.group && d.eth.dst !== this.o.stationMac ? 'lldp-other-agent' : 'lldp';
    if (d.kind === 'ecp-draft') return 'ecp-draft';
    if (d.kind !== 'ecp22') return 'not-delivered';
    const e = d.ecp;
    if (e.version !== ECP22_VERSION) return 'ecp-drop-version';
    if (e.op === ECP22_OP_ACK) return 'ecp-ack';
    if (e.op !== ECP22_OP_REQUEST) return 'ecp-drop-op';
    if (e.subtype === ECP22_SUBTYPE_PECSP) return 'ecp-drop-subtype-pecsp';
    if (e.subtype !== ECP22_SUBTYPE_VDP) return 'ecp-drop-subtype';
    for (const t of d.vdp?.tlvs ?? []) if (t.kind === 'vsi') this.lastVsiTlvs++;
    return 'ecp-req';
  }
}

// ------------------------------------------------------------------ captures

/** Distinct Ethernet frames of every capture in `dir` (at most `max`, LLDP ones all kept). */
export async function loadCaptured(dir: string, max = 4000): Promise<Uint8Array[]> {
  const seen = new Set<string>();
  const lldp: Uint8Array[] = [];
  const ecp: Uint8Array[] = [];
  for (const name of readdirSync(dir).filter((n) => /\.pcap(ng)?(\.gz)?$/.test(n)).sort()) {
    try {
      for await (const r of readPcapFile(join(dir, name))) {
        const e = ethernetOf(r);
        if (!e || e.length < MIN_LEN || e.length > MAX_LEN) continue;
        const key = Buffer.from(e).toString('hex');
        if (seen.has(key)) continue;
        seen.add(key);
        const et = (e[12]! << 8) | e[13]!;
        if (et === ETH_P_LLDP) lldp.push(e.slice());
        else if (ecp.length < max) ecp.push(e.slice());
      }
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
    }
  }
  return [...lldp, ...ecp];
}

// ------------------------------------------------------------------ sending

/** The fullest receive queue (bytes) among the packet sockets of PID's network namespace. */
function backlogOf(pid: number): number {
  // sk RefCnt Type Proto Iface R Rmem User Inode
  let max = 0;
  const text = readFileSync(`/proc/${pid}/net/packet`, 'utf8');
  let i = text.indexOf('\n') + 1;
  while (i > 0 && i < text.length) {
    const nl = text.indexOf('\n', i);
    const line = text.slice(i, nl < 0 ? undefined : nl);
    const cols = line.trim().split(/\s+/);
    const rmem = Number(cols[6]);
    if (rmem > max) max = rmem;
    i = nl < 0 ? -1 : nl + 1;
  }
  return max;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export class RawSender {
  private fd: number;
  private sll = Buffer.alloc(20);
  readonly ifindex: number;

  constructor(ifname: string) {
    this.ifindex = Number(libc.if_nametoindex(ifname));
    if (!this.ifindex) throw new Error(`no interface ${ifname}`);
    // protocol 0: this socket receives nothing, it only sends
    this.fd = check('socket(AF_PACKET)', libc.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    this.sll.writeUInt16LE(AF_PACKET, 0);
    this.sll.writeInt32LE(this.ifindex, 4);
    this.sll.writeUInt8(6, 11);
  }

  /** one frame; returns 0 or the errno */
  send(frame: Buffer, len: number): number {
    this.sll.writeUInt16LE(htons((frame[12]! << 8) | frame[13]!), 2);
    const rc = Number(libc.sendto(this.fd, frame, len, 0, this.sll, 20));
    return rc === len ? 0 : rc < 0 ? errno() : -1;
  }

  close(): void {
    libc.close(this.fd);
  }
}

export interface InjectOptions extends GeneratorOptions {
  ifname: string;
  count: number;
  mix: Partial<Record<Category, number>>;
  watchPid?: number;
  maxBacklog?: number;
}

export function inject(o: InjectOptions): InjectResult {
  const gen = new FrameGenerator(o);
  const rng = gen.rng;
  const cats = (Object.entries(o.mix) as [Category, number][]).filter(([, w]) => w > 0);
  if (cats.length === 0) throw new Error('empty mix');
  const total = cats.reduce((n, [, w]) => n + w, 0);
  // cumulative table: category per 1/4096
  const table: Category[] = [];
  let acc = 0;
  for (const [c, w] of cats) {
    acc += w;
    while (table.length < Math.round((acc / total) * 4096)) table.push(c);
  }
  const sender = new RawSender(o.ifname);
  const buf = Buffer.alloc(2048);
  const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const res: InjectResult = {
    seed: o.seed,
    count: o.count,
    sent: 0,
    sendErrors: {},
    elapsedMs: 0,
    framesPerSecond: 0,
    bytes: 0,
    vsiTlvs: 0,
    deliveredByEthertype: { lldp: 0, ecp22: 0, ecpDraft: 0 },
    foreign: {},
    byCategory: {},
    predicted: {},
    matrix: {},
    backpressureWaits: 0,
    backpressureMs: 0,
    maxBacklogSeen: 0,
  };
  const high = o.maxBacklog ?? 4 * 1024 * 1024;
  const t0 = performance.now();
  for (let i = 0; i < o.count; i++) {
    if (o.watchPid !== undefined && (i & 127) === 0) {
      let b = backlogOf(o.watchPid);
      if (b > res.maxBacklogSeen) res.maxBacklogSeen = b;
      if (b > high) {
        res.backpressureWaits++;
        const w0 = performance.now();
        while (b > high / 4) {
          sleepMs(1);
          b = backlogOf(o.watchPid);
        }
        res.backpressureMs += performance.now() - w0;
      }
    }
    const cat = table[rng.int(table.length)]!;
    const len = gen.next(cat, view);
    const t = gen.predict(view.subarray(0, len));
    let err = sender.send(buf, len);
    // ENOBUFS: the device queue is full for a moment; try again
    for (let k = 0; err === 105 && k < 1000; k++) {
      sleepMs(1);
      err = sender.send(buf, len);
    }
    if (err !== 0) {
      res.sendErrors[String(err)] = (res.sendErrors[String(err)] ?? 0) + 1;
      continue;
    }
    res.sent++;
    res.bytes += len;
    res.byCategory[cat] = (res.byCategory[cat] ?? 0) + 1;
    res.predicted[t] = (res.predicted[t] ?? 0) + 1;
    res.vsiTlvs += gen.lastVsiTlvs;
    if (!gen.fromPeerOrSelf(view)) res.foreign[t] = (res.foreign[t] ?? 0) + 1;
    if (t !== 'not-delivered' && t !== 'other-host') {
      const et = (view[12]! << 8) | view[13]!;
      if (et === ETH_P_LLDP) res.deliveredByEthertype.lldp++;
      else if (et === ETH_P_ECP22) res.deliveredByEthertype.ecp22++;
      else res.deliveredByEthertype.ecpDraft++;
    }
    const m = (res.matrix[cat] ??= {});
    m[t] = (m[t] ?? 0) + 1;
  }
  res.elapsedMs = Math.round(performance.now() - t0);
  res.framesPerSecond = Math.round(res.sent / (res.elapsedMs / 1000));
  res.backpressureMs = Math.round(res.backpressureMs);
  sender.close();
  return res;
}

// ------------------------------------------------------------------ CLI

function parseMix(s: string): Partial<Record<Category, number>> {
  const out: Partial<Record<Category, number>> = {};
  for (const part of s.split(',').filter(Boolean)) {
    const [name, w] = part.split('=');
    if (!(CATEGORIES as readonly string[]).includes(name!)) throw new Error(`unknown category ${name} (known: ${CATEGORIES.join(', ')})`);
    out[name as Category] = w === undefined ? 1 : Number(w);
  }
  return out;
}

export const DEFAULT_MIX = 'random-lldp=10,random-ecp=10,random-ecp-draft=5,capture-mutant=25,ecp-req-unknown-vsi=12,ecp-ack-unknown-seq=6,lldp-broken-evb=6,built-mutant=14,same-source=12';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ifname: { type: 'string' },
      'station-mac': { type: 'string' },
      'bridge-mac': { type: 'string' },
      group: { type: 'string', default: MAC_NEAREST_CUSTOMER_BRIDGE },
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '1000' },
      mix: { type: 'string', default: DEFAULT_MIX },
      captures: { type: 'string' },
      vsis: { type: 'string' },
      'watch-pid': { type: 'string' },
      'max-backlog': { type: 'string' },
    },
  });
  if (!values.ifname || !values['station-mac'] || !values['bridge-mac']) {
    process.stderr.write('usage: inject --ifname IF --station-mac M --bridge-mac B [--seed S] [--count N] [--mix cat=w,…] [--captures DIR] [--vsis FILE] [--watch-pid PID] [--max-backlog BYTES]\n');
    process.exit(2);
  }
  const mix = parseMix(values.mix!);
  const captured = values.captures ? await loadCaptured(values.captures) : [];
  if ((mix['capture-mutant'] ?? 0) > 0 && captured.length === 0) throw new Error('capture-mutant needs --captures with frames');
  const vsis = values.vsis ? (JSON.parse(readFileSync(values.vsis, 'utf8')) as VsiSpec[]).map((s) => vsiSpecToWire(s)) : [];
  const res = inject({
    ifname: values.ifname,
    stationMac: values['station-mac'].toLowerCase(),
    bridgeMac: values['bridge-mac'].toLowerCase(),
    group: values.group!.toLowerCase(),
    seed: Number(values.seed),
    count: Number(values.count),
    mix,
    captured,
    vsis,
    ...(values['watch-pid'] ? { watchPid: Number(values['watch-pid']) } : {}),
    ...(values['max-backlog'] ? { maxBacklog: Number(values['max-backlog']) } : {}),
  });
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (process.argv[1] && realpathSync(process.argv[1]) === import.meta.filename) {
  main().catch((e: unknown) => {
    process.stderr.write(`inject: ${e instanceof SyscallError || e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
