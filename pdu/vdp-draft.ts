/**
 * Draft 0.2 VDP TLV (IBM pre-standard, carried in draft ECP 0x88B7): an LLDP-style org TLV
 * (type 127, OUI 00-1B-3F, subtype 2) with mode and response octets, a 1-octet manager ID
 * and MAC/VLAN entries (reference §4.9). A draft ECPDU holds such TLVs, then End.
 */
import { checkRange, macInto, Reader, Writer } from './bytes.js';
import { PduError } from './errors.js';
import { OUI_QBG_DRAFT, VDP_DRAFT_SUBTYPE, type VdpDraftTlv } from './types.js';

const FIXED = 30;

export function decodeVdpDraftTlvs(buf: Uint8Array, base = 0): { tlvs: VdpDraftTlv[]; trailer: Uint8Array } {
  const r = new Reader(buf, 'vdp-draft', base);
  const tlvs: VdpDraftTlv[] = [];
  while (r.remaining >= 2) {
    const at = r.at;
    const hdr = (buf[r.pos]! << 8) | buf[r.pos + 1]!;
    const type = hdr >> 9;
    const len = hdr & 0x1ff;
    if (type === 0) break;
    r.pos += 2;
    if (r.remaining < len) throw new PduError('vdp-draft', 'truncated', 'tlv', at, `TLV length ${len} but ${r.remaining} octet(s) left`);
    const v = new Reader(r.bytes(len, 'tlv.value'), 'vdp-draft', at + 2);
    if (type !== 127 || len < 4) throw new PduError('vdp-draft', 'unsupported', 'tlv', at, `draft VDP expects org TLVs, got type ${type} length ${len}`);
    const oui = v.u24('oui');
    const subtype = v.u8('subtype');
    if (oui !== OUI_QBG_DRAFT || subtype !== VDP_DRAFT_SUBTYPE) {
      throw new PduError('vdp-draft', 'unsupported', 'tlv', at, `org TLV ${oui.toString(16).padStart(6, '0')}/${subtype} is not a draft VDP TLV`);
    }
    if (len < FIXED) throw new PduError('vdp-draft', 'bad-length', 'vdp', at, `draft VDP TLV length ${len} < ${FIXED}`);
    const t: VdpDraftTlv = {
      mode: v.u8('mode'),
      response: v.u8('response'),
      managerId: v.u8('managerId'),
      typeId: v.u24('typeId'),
      typeVersion: v.u8('typeVersion'),
      instanceUuid: v.copy(16, 'instanceUuid'),
      filterFormat: v.u8('filterFormat'),
      filters: [],
    };
    const n = v.u16('entries');
    if (len !== FIXED + 8 * n) throw new PduError('vdp-draft', 'bad-length', 'entries', at, `${n} MAC/VLAN entries need length ${FIXED + 8 * n}, TLV length is ${len}`);
    for (let i = 0; i < n; i++) t.filters.push({ mac: v.mac(`filters[${i}].mac`), vlan: v.u16(`filters[${i}].vlan`) });
    tlvs.push(t);
  }
  return { tlvs, trailer: buf.slice(r.pos) };
}

export function encodeVdpDraftTlv(t: VdpDraftTlv): Uint8Array {
  checkRange('vdp-draft', 'mode', t.mode, 0, 255);
  checkRange('vdp-draft', 'response', t.response, 0, 255);
  checkRange('vdp-draft', 'managerId', t.managerId, 0, 255);
  checkRange('vdp-draft', 'typeId', t.typeId, 0, 0xffffff);
  checkRange('vdp-draft', 'typeVersion', t.typeVersion, 0, 255);
  checkRange('vdp-draft', 'filterFormat', t.filterFormat, 0, 255);
  if (t.instanceUuid.length !== 16) throw new PduError('vdp-draft', 'out-of-range', 'instanceUuid', -1, 'must be 16 octets');
  const len = FIXED + 8 * t.filters.length;
  if (len > 511) throw new PduError('vdp-draft', 'too-big', 'filters', -1, `${t.filters.length} entries exceed the 9-bit TLV length`);
  const w = new Writer('vdp-draft', 2 + len)
    .u16((127 << 9) | len)
    .u24(OUI_QBG_DRAFT)
    .u8(VDP_DRAFT_SUBTYPE)
    .u8(t.mode)
    .u8(t.response)
    .u8(t.managerId)
    .u24(t.typeId)
    .u8(t.typeVersion)
    .bytes(t.instanceUuid)
    .u8(t.filterFormat)
    .u16(t.filters.length);
  const mac = new Uint8Array(6);
  t.filters.forEach((f, i) => {
    macInto(f.mac, mac, 0, `filters[${i}].mac`);
    checkRange('vdp-draft', `filters[${i}].vlan`, f.vlan, 0, 0xffff);
    w.bytes(mac).u16(f.vlan);
  });
  return w.finish();
}

/** TLVs then End, then the trailer exactly (decode → encode round-trips). */
export function encodeVdpDraftTlvs(tlvs: readonly VdpDraftTlv[], trailer?: Uint8Array): Uint8Array {
  const w = new Writer('vdp-draft', 64);
  for (const t of tlvs) w.bytes(encodeVdpDraftTlv(t));
  if (trailer) w.bytes(trailer);
  else w.u16(0);
  return w.finish();
}

