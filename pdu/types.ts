/**
 * The value types and constants of vdpd's wire codecs (the contract between `pdu/`
 * and the layers above it). Names follow IEEE 802.1Q / 802.1Qbg and the project's
 * reference (docs/vdp-reference.md). All wire integers are big-endian.
 */
import type { Mac } from './bytes.js';

// ---------------------------------------------------------------- Ethernet

export const ETH_HLEN = 14;
/** Minimum frame without FCS: every frame vdpd builds is zero-padded to this. */
export const ETH_ZLEN = 60;
/** Maximum frame without FCS (1500 payload); a 802.1Q tag adds 4. */
export const ETH_FRAME_LEN = 1514;

export const ETH_P_LLDP = 0x88cc;
export const ETH_P_ECP22 = 0x8940;
/** Draft 0.2 ECP: the IEEE "OUI extended" ethertype followed by OUI 00-1B-3F. */
export const ETH_P_ECP_DRAFT = 0x88b7;
/** Pre-2014 lldpad and the man pages used this for ECP22; accepted on receive only behind a flag. */
export const ETH_P_ECP22_OLD = 0x8890;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;

export const MAC_NEAREST_BRIDGE: Mac = '01:80:c2:00:00:0e';
export const MAC_NEAREST_CUSTOMER_BRIDGE: Mac = '01:80:c2:00:00:00';
export const MAC_NEAREST_NONTPMR_BRIDGE: Mac = '01:80:c2:00:00:03';

export interface VlanTag {
  /** 0x8100 (C-tag) or 0x88a8 (S-tag) */
  tpid: number;
  pcp: number; // 0..7
  dei: boolean;
  vid: number; // 0..4095
}

export interface EthernetHeader {
  dst: Mac;
  src: Mac;
  /** at most one tag is decoded (S-channels carry one); a second one stays in the payload */
  vlan?: VlanTag;
  ethertype: number;
}

// ---------------------------------------------------------------- LLDP (802.1AB)

export const LLDP_TLV_END = 0;
export const LLDP_TLV_CHASSIS_ID = 1;
export const LLDP_TLV_PORT_ID = 2;
export const LLDP_TLV_TTL = 3;
export const LLDP_TLV_ORG = 127;

export const OUI_IEEE_8021 = 0x0080c2;
export const OUI_QBG_DRAFT = 0x001b3f;
export const OUI_CISCO = 0x00000c;
export const EVB22_SUBTYPE = 0x0d;
export const CDCP_SUBTYPE = 0x0e;
export const EVB_DRAFT_SUBTYPE = 0x00;
export const VDP_DRAFT_SUBTYPE = 0x02;

/** EVB TLV (ratified, OUI 00-80-C2 subtype 0x0D), 9-octet info. Every bit is kept so it round-trips. */
export interface EvbTlv {
  /** EVB Bridge status octet */
  bgid: boolean; // 0x04 bridge supports VDP group IDs
  rrcap: boolean; // 0x02 bridge can do reflective relay
  rrctr: boolean; // 0x01 bridge has turned reflective relay on
  /** bits 7..3 of the bridge status octet (reserved, normally 0) */
  bridgeReserved: number;
  /** EVB Station status octet */
  sgid: boolean; // 0x08 station supports group IDs
  rrreq: boolean; // 0x04 station requests reflective relay
  /** 0 not enabled, 1 enabled, 3 unknown (nothing heard from the bridge yet) */
  rrstat: number;
  /** bits 7..4 of the station status octet (reserved) */
  stationReserved: number;
  /** ECP maximum retries, 0..7 */
  r: number;
  /** ECP retransmission timer exponent, 0..31 (10 µs × 2^RTE) */
  rte: number;
  /** 0 not supported, 1 EVB Bridge, 2 EVB Station, 3 reserved */
  evbMode: number;
  /** ROL for RWD: 0 local value, 1 value taken from the peer */
  rolRwd: boolean;
  /** resource-wait-delay exponent, 0..31 */
  rwd: number;
  /** bits 7..6 of the last octet (reserved) */
  rkaReserved: number;
  rolRka: boolean;
  /** reinit-keep-alive exponent, 0..31 */
  rka: number;
}

export const EVB_MODE_NONE = 0;
export const EVB_MODE_BRIDGE = 1;
export const EVB_MODE_STATION = 2;

/** Draft 0.2 EVB TLV (OUI 00-1B-3F subtype 0), 13-octet info. */
export interface EvbDraftTlv {
  /** bit 7 standard (0x80), bit 6 reflective relay (0x40); other bits kept raw */
  supportedForwarding: number;
  /** bit 2 RTE (0x04), bit 1 ECP (0x02), bit 0 VDP (0x01) */
  supportedCapabilities: number;
  configuredForwarding: number;
  configuredCapabilities: number;
  supportedVsis: number; // u16
  configuredVsis: number; // u16
  rte: number; // u8
}

export interface CdcpChannel {
  scid: number; // 12 bits
  svid: number; // 12 bits
}

/** CDCP TLV (OUI 00-80-C2 subtype 0x0E): 4 octets then 3 per S-channel. */
export interface CdcpTlv {
  role: number; // bit 31, raw (polarity uncertain: see reference §2.5)
  scomp: boolean; // bit 27
  /** bits 30..28 and 26..12, kept for round trip */
  reserved: number;
  chnCap: number; // 12 bits
  channels: CdcpChannel[];
}

export type LldpTlv =
  | { kind: 'end' }
  | { kind: 'chassis-id'; subtype: number; id: Uint8Array }
  | { kind: 'port-id'; subtype: number; id: Uint8Array }
  | { kind: 'ttl'; seconds: number }
  | ({ kind: 'evb' } & EvbTlv)
  | ({ kind: 'evb-draft' } & EvbDraftTlv)
  | ({ kind: 'cdcp' } & CdcpTlv)
  /** any other organisationally specific TLV, kept opaque */
  | { kind: 'org'; oui: number; subtype: number; data: Uint8Array }
  /** any other TLV type, kept opaque */
  | { kind: 'unknown'; tlvType: number; value: Uint8Array };

export interface Lldpdu {
  /** in wire order, including the End TLV when present */
  tlvs: LldpTlv[];
}

// ---------------------------------------------------------------- ECP

export const ECP22_VERSION = 1;
export const ECP22_OP_REQUEST = 0;
export const ECP22_OP_ACK = 1;
export const ECP22_SUBTYPE_VDP = 1;
export const ECP22_SUBTYPE_PECSP = 2;
export const ECP22_HDR_LEN = 4;
/** lldpad refuses ULPDUs of 1494 octets or more (2 octets kept for an End TLV). */
export const ECP22_MAX_ULPDU = 1493;

/** ECP22 (ratified, ethertype 0x8940) header + ULPDU. */
export interface Ecp22Pdu {
  version: number; // 4 bits, 1
  op: number; // 2 bits: 0 request, 1 ack
  subtype: number; // 10 bits: 1 VDP, 2 PE-CSP
  sequence: number; // u16
  /** bytes after the 4-octet header (including any zero padding); empty for an ACK */
  ulpdu: Uint8Array;
}

/** Draft 0.2 ECP (ethertype 0x88B7): OUI 00-1B-3F, protocol id, subtype, mode, sequence. */
export interface EcpDraftPdu {
  oui: number; // 0x001b3f
  protocolId: number; // u16, 0
  subtype: number; // u8, 0 = VDP
  mode: number; // u8: 0 request, 1 ack
  sequence: number; // u16
  /** draft VDP TLVs (LLDP-style), then End, then padding */
  payload: Uint8Array;
}

// ---------------------------------------------------------------- VDP22 (ratified)

export const VDP_TLV_END = 0;
export const VDP_TLV_PREASSOC = 1;
export const VDP_TLV_PREASSOC_RR = 2;
export const VDP_TLV_ASSOC = 3;
export const VDP_TLV_DEASSOC = 4;
export const VDP_TLV_MGRID = 5;
export const VDP_TLV_ORG = 127;

export type VsiMode = 'preassoc' | 'preassoc-rr' | 'assoc' | 'deassoc';
export const VSI_MODE_TLV: Record<VsiMode, number> = { preassoc: 1, 'preassoc-rr': 2, assoc: 3, deassoc: 4 };
export const VSI_TLV_MODE: Record<number, VsiMode> = { 1: 'preassoc', 2: 'preassoc-rr', 3: 'assoc', 4: 'deassoc' };

/** Status octet bits. Bits 5/4 mean S/M in a request and KEEP/HARD in a response. */
export const VDP_STATUS_RESERVED = 0x80;
export const VDP_STATUS_RESPONSE = 0x40;
export const VDP_STATUS_KEEP = 0x20;
export const VDP_STATUS_HARD = 0x10;
export const VDP_HINT_S = 0x20; // suspended / migrating from this port
export const VDP_HINT_M = 0x10; // migrating to this port
export const VDP_STATUS_REASON_MASK = 0x0f;

export const VDP_RESP_SUCCESS = 0;
export const VDP_RESP_INVALID_FORMAT = 1;
export const VDP_RESP_INSUFFICIENT_RESOURCES = 2;
export const VDP_RESP_NO_VSI_MANAGER = 3;
export const VDP_RESP_OTHER = 4;
export const VDP_RESP_INVALID_VID_GID_MAC = 5;

export const VSIID_FORMAT_IPV4 = 1;
export const VSIID_FORMAT_IPV6 = 2;
export const VSIID_FORMAT_MAC = 3;
export const VSIID_FORMAT_LOCAL = 4;
export const VSIID_FORMAT_UUID = 5;

export const FILTER_FORMAT_VID = 1;
export const FILTER_FORMAT_MAC_VID = 2;
export const FILTER_FORMAT_GROUP_VID = 3;
export const FILTER_FORMAT_GROUP_MAC_VID = 4;
/** entry size per filter format */
export const FILTER_ENTRY_SIZE: Record<number, number> = { 1: 2, 2: 8, 3: 6, 4: 12 };
/** VSI TLV value length without entries: status 1 + type id 3 + version 1 + VSIID format 1 + VSIID 16 + filter format 1 + count 2 */
export const VSI_TLV_FIXED_LEN = 25;

/** One filter entry. Fields absent from the entry's format are undefined. */
export interface FilterEntry {
  /** formats 3, 4 (u32, must be non-zero) */
  groupId?: number;
  /** formats 2, 4 */
  mac?: Mac;
  /** PS: the PCP value is significant */
  ps: boolean;
  pcp: number; // 0..7
  vid: number; // 0..4095, 0 = "bridge, choose"
}

/** VSI TLV (types 1..4). */
export interface VsiTlv {
  kind: 'vsi';
  mode: VsiMode;
  /** raw status octet: see VDP_STATUS_* / VDP_HINT_* */
  status: number;
  typeId: number; // u24
  typeVersion: number; // u8
  vsiidFormat: number; // 1..5 (others decoded but flagged by validation, not by the codec)
  vsiid: Uint8Array; // 16 octets
  filterFormat: number; // 1..4
  filters: FilterEntry[];
}

export type VdpTlv =
  | VsiTlv
  | { kind: 'mgrid'; managerId: Uint8Array /* 16 octets */ }
  | { kind: 'org'; oui: number; data: Uint8Array /* after the OUI */ }
  | { kind: 'end' }
  | { kind: 'unknown'; tlvType: number; value: Uint8Array };

/** A decoded VDP ULPDU: TLVs in wire order, and whatever followed the last TLV parsed (End, padding). */
export interface VdpUlpdu {
  tlvs: VdpTlv[];
  /** octets after the last non-End TLV, starting with the End TLV if any (usually zeros) */
  trailer: Uint8Array;
}

/** The unit VDP works with: one VSI TLV, the Manager ID TLV that precedes it and the org TLVs that follow it. */
export interface VdpEntry {
  managerId: Uint8Array;
  vsi: VsiTlv;
  org: { oui: number; data: Uint8Array }[];
}

// ---------------------------------------------------------------- Draft 0.2 VDP

export interface VdpDraftTlv {
  mode: number; // 0 preassoc, 1 preassoc-rr, 2 assoc, 3 deassoc
  response: number; // 0..6, 0xfe/0xff lldpad-internal
  managerId: number; // u8
  typeId: number; // u24
  typeVersion: number; // u8
  instanceUuid: Uint8Array; // 16
  filterFormat: number; // lldpad accepts only 2 (MAC/VID)
  filters: { mac: Mac; vlan: number /* u16 raw */ }[];
}

// ---------------------------------------------------------------- whole frames

/**
 * A frame decoded as far as vdpd understands it. `trailer`: what followed the PDU
 * (padding). Decoders always set it; for encoding, a defined trailer is appended exactly
 * (so encodeFrame(decodeFrame(x)) reproduces x, 18-octet ACKs included) and an undefined
 * one means "zero-pad to 60 octets". For ECP the padding is part of the ULPDU (ECP hands
 * it to VDP), so an ECP frame's trailer is empty.
 */
export type DecodedFrame =
  | { kind: 'lldp'; eth: EthernetHeader; lldpdu: Lldpdu; trailer?: Uint8Array }
  | { kind: 'ecp22'; eth: EthernetHeader; ecp: Ecp22Pdu; vdp?: VdpUlpdu; trailer?: Uint8Array }
  | { kind: 'ecp-draft'; eth: EthernetHeader; ecp: EcpDraftPdu; vdp?: VdpDraftTlv[]; trailer?: Uint8Array }
  | { kind: 'other'; eth: EthernetHeader; payload: Uint8Array; trailer?: Uint8Array };
