/**
 * Bodies of the organisationally specific LLDP TLVs of 802.1Qbg: the ratified EVB TLV
 * (00-80-C2/0x0D), the draft 0.2 EVB TLV (00-1B-3F/0x00) and CDCP (00-80-C2/0x0E).
 * `data` = the octets after OUI and subtype.
 */
import { checkRange, Reader, Writer } from './bytes.js';
import { PduError } from './errors.js';
import type { CdcpTlv, EvbDraftTlv, EvbTlv } from './types.js';

export const EVB_DATA_LEN = 5;
export const EVB_DRAFT_DATA_LEN = 9;
export const CDCP_MIN_DATA_LEN = 4;

/**
 * A length above 9 is tolerated (extra octets ignored, like a future extension) — the
 * standard fixes 9 and lldpad overflowed on longer ones; shorter is an error.
 */
export function decodeEvbData(data: Uint8Array, base = 0): EvbTlv {
  if (data.length < EVB_DATA_LEN) {
    throw new PduError('lldp', 'bad-length', 'evb', base, `EVB TLV needs 5 octets after OUI/subtype, got ${data.length}`);
  }
  const b = data[0]!;
  const s = data[1]!;
  const rr = data[2]!;
  const m = data[3]!;
  const k = data[4]!;
  return {
    bgid: (b & 0x04) !== 0,
    rrcap: (b & 0x02) !== 0,
    rrctr: (b & 0x01) !== 0,
    bridgeReserved: b >> 3,
    sgid: (s & 0x08) !== 0,
    rrreq: (s & 0x04) !== 0,
    rrstat: s & 0x03,
    stationReserved: s >> 4,
    r: rr >> 5,
    rte: rr & 0x1f,
    evbMode: m >> 6,
    rolRwd: (m & 0x20) !== 0,
    rwd: m & 0x1f,
    rkaReserved: k >> 6,
    rolRka: (k & 0x20) !== 0,
    rka: k & 0x1f,
  };
}

export function encodeEvbData(t: EvbTlv): Uint8Array {
  checkRange('lldp', 'evb.bridgeReserved', t.bridgeReserved, 0, 31);
  checkRange('lldp', 'evb.stationReserved', t.stationReserved, 0, 15);
  checkRange('lldp', 'evb.rrstat', t.rrstat, 0, 3);
  checkRange('lldp', 'evb.r', t.r, 0, 7);
  checkRange('lldp', 'evb.rte', t.rte, 0, 31);
  checkRange('lldp', 'evb.evbMode', t.evbMode, 0, 3);
  checkRange('lldp', 'evb.rwd', t.rwd, 0, 31);
  checkRange('lldp', 'evb.rkaReserved', t.rkaReserved, 0, 3);
  checkRange('lldp', 'evb.rka', t.rka, 0, 31);
  return Uint8Array.of(
    (t.bridgeReserved << 3) | (t.bgid ? 4 : 0) | (t.rrcap ? 2 : 0) | (t.rrctr ? 1 : 0),
    (t.stationReserved << 4) | (t.sgid ? 8 : 0) | (t.rrreq ? 4 : 0) | t.rrstat,
    (t.r << 5) | t.rte,
    (t.evbMode << 6) | (t.rolRwd ? 0x20 : 0) | t.rwd,
    (t.rkaReserved << 6) | (t.rolRka ? 0x20 : 0) | t.rka,
  );
}

export function decodeEvbDraftData(data: Uint8Array, base = 0): EvbDraftTlv {
  const r = new Reader(data, 'lldp', base);
  if (data.length !== EVB_DRAFT_DATA_LEN) {
    throw new PduError('lldp', 'bad-length', 'evb-draft', base, `draft EVB TLV has 9 octets after OUI/subtype, got ${data.length}`);
  }
  return {
    supportedForwarding: r.u8('evb-draft.supportedForwarding'),
    supportedCapabilities: r.u8('evb-draft.supportedCapabilities'),
    configuredForwarding: r.u8('evb-draft.configuredForwarding'),
    configuredCapabilities: r.u8('evb-draft.configuredCapabilities'),
    supportedVsis: r.u16('evb-draft.supportedVsis'),
    configuredVsis: r.u16('evb-draft.configuredVsis'),
    rte: r.u8('evb-draft.rte'),
  };
}

export function encodeEvbDraftData(t: EvbDraftTlv): Uint8Array {
  checkRange('lldp', 'evb-draft.supportedForwarding', t.supportedForwarding, 0, 255);
  checkRange('lldp', 'evb-draft.supportedCapabilities', t.supportedCapabilities, 0, 255);
  checkRange('lldp', 'evb-draft.configuredForwarding', t.configuredForwarding, 0, 255);
  checkRange('lldp', 'evb-draft.configuredCapabilities', t.configuredCapabilities, 0, 255);
  checkRange('lldp', 'evb-draft.supportedVsis', t.supportedVsis, 0, 0xffff);
  checkRange('lldp', 'evb-draft.configuredVsis', t.configuredVsis, 0, 0xffff);
  checkRange('lldp', 'evb-draft.rte', t.rte, 0, 255);
  return new Writer('lldp', 9)
    .u8(t.supportedForwarding)
    .u8(t.supportedCapabilities)
    .u8(t.configuredForwarding)
    .u8(t.configuredCapabilities)
    .u16(t.supportedVsis)
    .u16(t.configuredVsis)
    .u8(t.rte)
    .finish();
}

/** tcpdump's rule: 4 octets, then a multiple of 3 (one 24-bit SCID/SVID pair each). */
export function decodeCdcpData(data: Uint8Array, base = 0): CdcpTlv {
  if (data.length < CDCP_MIN_DATA_LEN || (data.length - CDCP_MIN_DATA_LEN) % 3 !== 0) {
    throw new PduError('lldp', 'bad-length', 'cdcp', base, `CDCP data is 4 + 3×N octets, got ${data.length}`);
  }
  const r = new Reader(data, 'lldp', base);
  const w = r.u32('cdcp.flags');
  const channels = [];
  while (r.remaining > 0) {
    const v = r.u24('cdcp.channel');
    channels.push({ scid: v >> 12, svid: v & 0xfff });
  }
  return {
    role: w >>> 31,
    scomp: ((w >>> 27) & 1) === 1,
    reserved: ((w >>> 28) & 0x7) << 15 | ((w >>> 12) & 0x7fff),
    chnCap: w & 0xfff,
    channels,
  };
}

export function encodeCdcpData(t: CdcpTlv): Uint8Array {
  checkRange('lldp', 'cdcp.role', t.role, 0, 1);
  checkRange('lldp', 'cdcp.reserved', t.reserved, 0, (1 << 18) - 1);
  checkRange('lldp', 'cdcp.chnCap', t.chnCap, 0, 0xfff);
  if (t.channels.length > 167) {
    throw new PduError('lldp', 'too-big', 'cdcp.channels', -1, `${t.channels.length} channels exceed the 511-octet TLV`);
  }
  const hi = t.reserved >>> 15;
  const lo = t.reserved & 0x7fff;
  const word = ((t.role << 31) | (hi << 28) | ((t.scomp ? 1 : 0) << 27) | (lo << 12) | t.chnCap) >>> 0;
  const w = new Writer('lldp', 4 + 3 * t.channels.length).u32(word);
  t.channels.forEach((c, i) => {
    checkRange('lldp', `cdcp.channels[${i}].scid`, c.scid, 0, 0xfff);
    checkRange('lldp', `cdcp.channels[${i}].svid`, c.svid, 0, 0xfff);
    w.u24((c.scid << 12) | c.svid);
  });
  return w.finish();
}
