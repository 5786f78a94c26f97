/** ECP headers: ratified ECP22 (ethertype 0x8940) and draft 0.2 ECP (0x88B7 + OUI 00-1B-3F). */
import { checkRange, Reader, Writer } from './bytes.js';
import { PduError } from './errors.js';
import { ECP22_HDR_LEN, OUI_QBG_DRAFT, type Ecp22Pdu, type EcpDraftPdu } from './types.js';

/** `buf` = Ethernet payload. The ULPDU keeps everything after the header, padding included. */
export function decodeEcp22(buf: Uint8Array, base = 0): Ecp22Pdu {
  const r = new Reader(buf, 'ecp', base);
  const word = r.u16('ecp.header');
  const sequence = r.u16('ecp.sequence');
  return { version: word >> 12, op: (word >> 10) & 3, subtype: word & 0x3ff, sequence, ulpdu: buf.subarray(ECP22_HDR_LEN) };
}

export function encodeEcp22(p: Ecp22Pdu): Uint8Array {
  checkRange('ecp', 'version', p.version, 0, 15);
  checkRange('ecp', 'op', p.op, 0, 3);
  checkRange('ecp', 'subtype', p.subtype, 0, 0x3ff);
  checkRange('ecp', 'sequence', p.sequence, 0, 0xffff);
  const out = new Uint8Array(ECP22_HDR_LEN + p.ulpdu.length);
  const word = (p.version << 12) | (p.op << 10) | p.subtype;
  out[0] = word >> 8;
  out[1] = word & 0xff;
  out[2] = p.sequence >> 8;
  out[3] = p.sequence & 0xff;
  out.set(p.ulpdu, ECP22_HDR_LEN);
  return out;
}

export const ECP_DRAFT_HDR_LEN = 9;

export function decodeEcpDraft(buf: Uint8Array, base = 0): EcpDraftPdu {
  const r = new Reader(buf, 'ecp', base);
  const oui = r.u24('ecp-draft.oui');
  if (oui !== OUI_QBG_DRAFT) {
    throw new PduError('ecp', 'unsupported', 'ecp-draft.oui', base, `OUI-extended ethertype with OUI ${oui.toString(16).padStart(6, '0')}, not 00-1b-3f`);
  }
  return {
    oui,
    protocolId: r.u16('ecp-draft.protocolId'),
    subtype: r.u8('ecp-draft.subtype'),
    mode: r.u8('ecp-draft.mode'),
    sequence: r.u16('ecp-draft.sequence'),
    payload: buf.subarray(ECP_DRAFT_HDR_LEN),
  };
}

export function encodeEcpDraft(p: EcpDraftPdu): Uint8Array {
  checkRange('ecp', 'ecp-draft.oui', p.oui, 0, 0xffffff);
  checkRange('ecp', 'ecp-draft.protocolId', p.protocolId, 0, 0xffff);
  checkRange('ecp', 'ecp-draft.subtype', p.subtype, 0, 255);
  checkRange('ecp', 'ecp-draft.mode', p.mode, 0, 255);
  checkRange('ecp', 'ecp-draft.sequence', p.sequence, 0, 0xffff);
  return new Writer('ecp', ECP_DRAFT_HDR_LEN + p.payload.length)
    .u24(p.oui)
    .u16(p.protocolId)
    .u8(p.subtype)
    .u8(p.mode)
    .u16(p.sequence)
    .bytes(p.payload)
    .finish();
}
