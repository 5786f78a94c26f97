/**
 * Whole frames: Ethernet, then LLDP, ECP22 (+ VDP22 for subtype 1 requests) or draft ECP
 * (+ draft VDP), by ethertype. encodeFrame(decodeFrame(x)) reproduces x byte for byte.
 */
import { decodeEcp22, decodeEcpDraft, encodeEcp22, encodeEcpDraft } from './ecp.js';
import { decodeEthernet, encodeEthernet } from './ethernet.js';
import { PduError } from './errors.js';
import { decodeLldpdu, encodeLldpdu } from './lldp.js';
import { decodeVdpUlpdu, encodeVdpUlpdu } from './vdp.js';
import { decodeVdpDraftTlvs, encodeVdpDraftTlvs } from './vdp-draft.js';
import {
  ECP22_HDR_LEN,
  ECP22_OP_REQUEST,
  ECP22_SUBTYPE_VDP,
  ETH_P_ECP22,
  ETH_P_ECP_DRAFT,
  ETH_P_LLDP,
  type DecodedFrame,
} from './types.js';
import { ECP_DRAFT_HDR_LEN } from './ecp.js';

const EMPTY = new Uint8Array(0);

export interface DecodeOptions {
  /** also treat this ethertype as ECP22 (pre-2014 lldpad used 0x8890) */
  ecp22Alias?: number;
}

export function decodeFrame(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedFrame {
  const { eth, payload, headerLength } = decodeEthernet(bytes);
  switch (eth.ethertype) {
    case ETH_P_LLDP: {
      const { lldpdu, trailer } = decodeLldpdu(payload, headerLength);
      return { kind: 'lldp', eth, lldpdu, trailer: trailer.slice() };
    }
    case ETH_P_ECP_DRAFT: {
      const ecp = decodeEcpDraft(payload, headerLength);
      const f: DecodedFrame = { kind: 'ecp-draft', eth, ecp: { ...ecp, payload: ecp.payload.slice() }, trailer: EMPTY };
      if (ecp.subtype === 0 && ecp.mode === 0) {
        const { tlvs } = decodeVdpDraftTlvs(ecp.payload, headerLength + ECP_DRAFT_HDR_LEN);
        f.vdp = tlvs;
      }
      return f;
    }
    default: {
      if (eth.ethertype !== ETH_P_ECP22 && eth.ethertype !== opts.ecp22Alias) {
        return { kind: 'other', eth, payload: payload.slice(), trailer: EMPTY };
      }
      const ecp = decodeEcp22(payload, headerLength);
      const f: DecodedFrame = { kind: 'ecp22', eth, ecp: { ...ecp, ulpdu: ecp.ulpdu.slice() }, trailer: EMPTY };
      if (ecp.op === ECP22_OP_REQUEST && ecp.subtype === ECP22_SUBTYPE_VDP && ecp.version === 1) {
        f.vdp = decodeVdpUlpdu(ecp.ulpdu, headerLength + ECP22_HDR_LEN);
      }
      return f;
    }
  }
}

/** Like decodeFrame but never throws: a PduError comes back as a value. */
export function tryDecodeFrame(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedFrame | PduError {
  try {
    return decodeFrame(bytes, opts);
  } catch (e) {
    if (e instanceof PduError) return e;
    // A decoder bug must not take the daemon down; report it as a codec error at offset 0.
    return new PduError('frame', 'bad-value', 'frame', 0, `internal decoder error: ${(e as Error).message}`);
  }
}

export function encodeFrame(f: DecodedFrame): Uint8Array {
  let payload: Uint8Array;
  switch (f.kind) {
    case 'lldp':
      payload = encodeLldpdu(f.lldpdu);
      break;
    case 'ecp22':
      payload = encodeEcp22(f.vdp ? { ...f.ecp, ulpdu: encodeVdpUlpdu(f.vdp) } : f.ecp);
      break;
    case 'ecp-draft':
      payload = encodeEcpDraft(f.vdp && f.ecp.payload.length === 0 ? { ...f.ecp, payload: encodeVdpDraftTlvs(f.vdp) } : f.ecp);
      break;
    case 'other':
      payload = f.payload;
      break;
  }
  if (f.trailer === undefined) return encodeEthernet(f.eth, payload, true);
  const body = new Uint8Array(payload.length + f.trailer.length);
  body.set(payload);
  body.set(f.trailer, payload.length);
  return encodeEthernet(f.eth, body, false);
}
