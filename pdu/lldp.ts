/**
 * LLDPDU (802.1AB): a list of TLVs with a 7-bit type / 9-bit length header, ending in
 * End. TLVs vdpd does not interpret are kept opaque so an LLDPDU round-trips exactly.
 */
import { checkRange, Reader, Writer } from './bytes.js';
import { decodeCdcpData, decodeEvbData, decodeEvbDraftData, encodeCdcpData, encodeEvbData, encodeEvbDraftData } from './evb.js';
import { PduError } from './errors.js';
import {
  CDCP_SUBTYPE,
  EVB22_SUBTYPE,
  EVB_DRAFT_SUBTYPE,
  LLDP_TLV_CHASSIS_ID,
  LLDP_TLV_END,
  LLDP_TLV_ORG,
  LLDP_TLV_PORT_ID,
  LLDP_TLV_TTL,
  OUI_IEEE_8021,
  OUI_QBG_DRAFT,
  type EvbTlv,
  type Lldpdu,
  type LldpTlv,
} from './types.js';

export interface LldpDecoded {
  lldpdu: Lldpdu;
  /** octets after the End TLV (padding), or after the last TLV when End is missing */
  trailer: Uint8Array;
}

/** Decodes TLVs up to and including End. `base` = absolute offset of buf[0] for error offsets. */
export function decodeLldpdu(buf: Uint8Array, base = 0): LldpDecoded {
  const r = new Reader(buf, 'lldp', base);
  const tlvs: LldpTlv[] = [];
  while (r.remaining > 0) {
    const at = r.at;
    const hdr = r.u16('tlv.header');
    const type = hdr >> 9;
    const len = hdr & 0x1ff;
    if (r.remaining < len) {
      throw new PduError('lldp', 'truncated', `tlv(type ${type})`, at, `TLV length ${len} but ${r.remaining} octet(s) left`);
    }
    const vat = r.at;
    const v = r.bytes(len, 'tlv.value');
    if (type === LLDP_TLV_END) {
      if (len !== 0) throw new PduError('lldp', 'bad-length', 'end', at, `End TLV with length ${len}`);
      tlvs.push({ kind: 'end' });
      break;
    }
    tlvs.push(decodeTlv(type, v, vat, at));
  }
  checkMandatory(tlvs, base);
  return { lldpdu: { tlvs }, trailer: buf.subarray(r.pos) };
}

function decodeTlv(type: number, v: Uint8Array, vat: number, at: number): LldpTlv {
  switch (type) {
    case LLDP_TLV_CHASSIS_ID:
    case LLDP_TLV_PORT_ID: {
      const name = type === LLDP_TLV_CHASSIS_ID ? 'chassis-id' : 'port-id';
      if (v.length < 2 || v.length > 256) {
        throw new PduError('lldp', 'bad-length', name, at, `${name} length ${v.length} not in 2..256`);
      }
      return { kind: name, subtype: v[0]!, id: v.slice(1) };
    }
    case LLDP_TLV_TTL:
      if (v.length !== 2) throw new PduError('lldp', 'bad-length', 'ttl', at, `TTL length ${v.length}, must be 2`);
      return { kind: 'ttl', seconds: (v[0]! << 8) | v[1]! };
    case LLDP_TLV_ORG: {
      if (v.length < 4) throw new PduError('lldp', 'bad-length', 'org', at, `organizationally specific TLV length ${v.length} < 4`);
      const oui = (v[0]! << 16) | (v[1]! << 8) | v[2]!;
      const subtype = v[3]!;
      const data = v.subarray(4);
      if (oui === OUI_IEEE_8021 && subtype === EVB22_SUBTYPE && data.length === 5) {
        return { kind: 'evb', ...decodeEvbData(data, vat + 4) };
      }
      if (oui === OUI_IEEE_8021 && subtype === EVB22_SUBTYPE) {
        // other lengths: decode to report the problem, never overflow (lldpad's bug)
        decodeEvbData(data, vat + 4);
        throw new PduError('lldp', 'bad-length', 'evb', at, `EVB TLV length ${v.length}, must be 9`);
      }
      if (oui === OUI_QBG_DRAFT && subtype === EVB_DRAFT_SUBTYPE) return { kind: 'evb-draft', ...decodeEvbDraftData(data, vat + 4) };
      if (oui === OUI_IEEE_8021 && subtype === CDCP_SUBTYPE) return { kind: 'cdcp', ...decodeCdcpData(data, vat + 4) };
      return { kind: 'org', oui, subtype, data: data.slice() };
    }
    default:
      return { kind: 'unknown', tlvType: type, value: v.slice() };
  }
}

/** 802.1AB: Chassis ID, Port ID and TTL come first, in that order. */
function checkMandatory(tlvs: LldpTlv[], base: number): void {
  const kinds = ['chassis-id', 'port-id', 'ttl'] as const;
  for (let i = 0; i < 3; i++) {
    if (tlvs[i]?.kind !== kinds[i]) {
      throw new PduError('lldp', 'bad-value', kinds[i]!, base, `LLDPDU must start with Chassis ID, Port ID, TTL (TLV ${i + 1} is ${tlvs[i]?.kind ?? 'missing'})`);
    }
  }
}

function tlvHeader(w: Writer, type: number, len: number, field: string): void {
  if (len > 511) throw new PduError('lldp', 'too-big', field, -1, `TLV value of ${len} octets exceeds 511`);
  w.u16((type << 9) | len);
}

function orgTlv(w: Writer, oui: number, subtype: number, data: Uint8Array, field: string): void {
  tlvHeader(w, LLDP_TLV_ORG, 4 + data.length, field);
  w.u24(oui).u8(subtype).bytes(data);
}

export function encodeLldpTlv(w: Writer, t: LldpTlv): void {
  switch (t.kind) {
    case 'end':
      w.u16(0);
      return;
    case 'chassis-id':
    case 'port-id':
      checkRange('lldp', `${t.kind}.subtype`, t.subtype, 0, 255);
      if (t.id.length < 1 || t.id.length > 255) throw new PduError('lldp', 'out-of-range', `${t.kind}.id`, -1, `id length ${t.id.length} not in 1..255`);
      tlvHeader(w, t.kind === 'chassis-id' ? LLDP_TLV_CHASSIS_ID : LLDP_TLV_PORT_ID, 1 + t.id.length, t.kind);
      w.u8(t.subtype).bytes(t.id);
      return;
    case 'ttl':
      checkRange('lldp', 'ttl', t.seconds, 0, 0xffff);
      tlvHeader(w, LLDP_TLV_TTL, 2, 'ttl');
      w.u16(t.seconds);
      return;
    case 'evb':
      orgTlv(w, OUI_IEEE_8021, EVB22_SUBTYPE, encodeEvbData(t), 'evb');
      return;
    case 'evb-draft':
      orgTlv(w, OUI_QBG_DRAFT, EVB_DRAFT_SUBTYPE, encodeEvbDraftData(t), 'evb-draft');
      return;
    case 'cdcp':
      orgTlv(w, OUI_IEEE_8021, CDCP_SUBTYPE, encodeCdcpData(t), 'cdcp');
      return;
    case 'org':
      checkRange('lldp', 'org.oui', t.oui, 0, 0xffffff);
      checkRange('lldp', 'org.subtype', t.subtype, 0, 255);
      orgTlv(w, t.oui, t.subtype, t.data, 'org');
      return;
    case 'unknown':
      checkRange('lldp', 'tlvType', t.tlvType, 1, 126);
      tlvHeader(w, t.tlvType, t.value.length, `tlv(type ${t.tlvType})`);
      w.bytes(t.value);
      return;
  }
}

/** TLVs in order; an End TLV is written only if the list holds one (so a decoded LLDPDU round-trips). */
export function encodeLldpdu(pdu: Lldpdu): Uint8Array {
  const w = new Writer('lldp', 64);
  for (const t of pdu.tlvs) encodeLldpTlv(w, t);
  return w.finish();
}

/** The first TLV of a kind, for callers that want the EVB TLV or the TTL. */
export function findTlv<K extends LldpTlv['kind']>(pdu: Lldpdu, kind: K): Extract<LldpTlv, { kind: K }> | undefined {
  return pdu.tlvs.find((t): t is Extract<LldpTlv, { kind: K }> => t.kind === kind);
}

export function findEvb(pdu: Lldpdu): EvbTlv | undefined {
  return findTlv(pdu, 'evb');
}
