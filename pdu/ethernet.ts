/** Ethernet II header with at most one 802.1Q / 802.1ad tag. */
import { checkRange, macInto, Reader } from './bytes.js';
import { PduError } from './errors.js';
import { ETH_FRAME_LEN, ETH_P_8021AD, ETH_P_8021Q, ETH_ZLEN, type EthernetHeader } from './types.js';

export interface EthernetDecoded {
  eth: EthernetHeader;
  /** bytes after the header (including any padding) */
  payload: Uint8Array;
  /** header length: 14, or 18 with a tag */
  headerLength: number;
}

/** Frames beyond this are refused: 1514 + one tag; lldpad copies without checking (reference §8.2 #16). */
export const MAX_FRAME = ETH_FRAME_LEN + 4;

export function decodeEthernet(buf: Uint8Array): EthernetDecoded {
  if (buf.length > MAX_FRAME) {
    throw new PduError('ethernet', 'bad-length', 'frame', 0, `frame of ${buf.length} octets exceeds ${MAX_FRAME}`);
  }
  const r = new Reader(buf, 'ethernet');
  r.need(14, 'header');
  const dst = r.mac('dst');
  const src = r.mac('src');
  let ethertype = r.u16('ethertype');
  const eth: EthernetHeader = { dst, src, ethertype };
  if (ethertype === ETH_P_8021Q || ethertype === ETH_P_8021AD) {
    const tci = r.u16('vlan.tci');
    eth.vlan = { tpid: ethertype, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0xfff };
    ethertype = r.u16('ethertype');
    eth.ethertype = ethertype;
  }
  return { eth, payload: buf.subarray(r.pos), headerLength: r.pos };
}

export function ethernetHeaderLength(eth: EthernetHeader): number {
  return eth.vlan ? 18 : 14;
}

/**
 * Header + payload, zero-padded to 60 octets unless `pad` is false (lldpad sends 18-octet
 * ECP ACKs unpadded on veth; vdpd pads everything it builds).
 */
export function encodeEthernet(eth: EthernetHeader, payload: Uint8Array, pad = true): Uint8Array {
  checkRange('ethernet', 'ethertype', eth.ethertype, 0, 0xffff);
  const hl = ethernetHeaderLength(eth);
  const len = Math.max(hl + payload.length, pad ? ETH_ZLEN : 0);
  const limit = ETH_FRAME_LEN + (eth.vlan ? 4 : 0);
  if (len > limit) throw new PduError('ethernet', 'too-big', 'frame', -1, `${len} octets exceed ${limit} (MTU 1500)`);
  const out = new Uint8Array(len);
  macInto(eth.dst, out, 0, 'dst');
  macInto(eth.src, out, 6, 'src');
  let o = 12;
  if (eth.vlan) {
    const v = eth.vlan;
    checkRange('ethernet', 'vlan.tpid', v.tpid, 0, 0xffff);
    checkRange('ethernet', 'vlan.pcp', v.pcp, 0, 7);
    checkRange('ethernet', 'vlan.vid', v.vid, 0, 4095);
    out[o++] = v.tpid >> 8;
    out[o++] = v.tpid & 0xff;
    const tci = (v.pcp << 13) | (v.dei ? 0x1000 : 0) | v.vid;
    out[o++] = tci >> 8;
    out[o++] = tci & 0xff;
  }
  out[o++] = eth.ethertype >> 8;
  out[o++] = eth.ethertype & 0xff;
  out.set(payload, o);
  return out;
}
