/**
 * VDP22 (ratified 802.1Qbg) ULPDU: VSI Manager ID TLVs, VSI TLVs (PreAssoc, PreAssoc-RR,
 * Assoc, DeAssoc), organisationally defined TLVs, End. Header = 7-bit type, 9-bit length,
 * as in LLDP. ECP hands VDP the frame's padding too, so decoding stops at the first End
 * (type 0) and keeps the rest as `trailer`.
 */
import { bytesEqual, checkRange, inRange, macError, macToString, rangeError, tryMacInto, Writer } from './bytes.js';
import { PduError } from './errors.js';
import {
  FILTER_ENTRY_SIZE,
  FILTER_FORMAT_GROUP_MAC_VID,
  FILTER_FORMAT_GROUP_VID,
  FILTER_FORMAT_MAC_VID,
  VDP_TLV_END,
  VDP_TLV_MGRID,
  VDP_TLV_ORG,
  VSI_MODE_TLV,
  VSI_TLV_FIXED_LEN,
  VSI_TLV_MODE,
  type FilterEntry,
  type VdpEntry,
  type VdpTlv,
  type VdpUlpdu,
  type VsiTlv,
} from './types.js';

const MAX_TLV_VALUE = 511;

/** Largest number of filter entries one VSI TLV can carry per format (9-bit length). */
export const MAX_FILTERS: Record<number, number> = {
  1: Math.floor((MAX_TLV_VALUE - VSI_TLV_FIXED_LEN) / 2), // 243
  2: Math.floor((MAX_TLV_VALUE - VSI_TLV_FIXED_LEN) / 8), // 60
  3: Math.floor((MAX_TLV_VALUE - VSI_TLV_FIXED_LEN) / 6), // 81
  4: Math.floor((MAX_TLV_VALUE - VSI_TLV_FIXED_LEN) / 12), // 40
};

// each format's entry is built as one literal (same keys, same order as before: ps, pcp,
// vid, groupId, mac) so it gets its final shape at once, with no out-of-object properties
function entry(buf: Uint8Array, o: number, format: number): FilterEntry {
  switch (format) {
    case FILTER_FORMAT_MAC_VID: {
      const v = (buf[o + 6]! << 8) | buf[o + 7]!;
      return { ps: (v & 0x8000) !== 0, pcp: (v >> 12) & 7, vid: v & 0xfff, mac: macToString(buf, o) };
    }
    case FILTER_FORMAT_GROUP_VID: {
      const gid = ((buf[o]! << 24) >>> 0) + ((buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!);
      const v = (buf[o + 4]! << 8) | buf[o + 5]!;
      return { ps: (v & 0x8000) !== 0, pcp: (v >> 12) & 7, vid: v & 0xfff, groupId: gid };
    }
    case FILTER_FORMAT_GROUP_MAC_VID: {
      const gid = ((buf[o]! << 24) >>> 0) + ((buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!);
      const v = (buf[o + 10]! << 8) | buf[o + 11]!;
      return { ps: (v & 0x8000) !== 0, pcp: (v >> 12) & 7, vid: v & 0xfff, groupId: gid, mac: macToString(buf, o + 4) };
    }
    default: {
      const v = (buf[o]! << 8) | buf[o + 1]!;
      return { ps: (v & 0x8000) !== 0, pcp: (v >> 12) & 7, vid: v & 0xfff };
    }
  }
}

/**
 * Decode the value of a VSI TLV of TLV type 1..4. `at` = absolute offset of the TLV
 * header for error reporting. N = 0 decodes (validate.ts refuses it: lldpad ignores such
 * TLVs); a length that is not 25 + N × entry size is an error here.
 */
export function decodeVsiTlv(type: number, buf: Uint8Array, off: number, len: number, at = off - 2): VsiTlv {
  const mode = VSI_TLV_MODE[type];
  if (mode === undefined) throw new PduError('vdp', 'bad-value', 'vsi.type', at, `TLV type ${type} is not a VSI TLV`);
  if (len < VSI_TLV_FIXED_LEN) {
    throw new PduError('vdp', 'bad-length', `vsi(${mode})`, at, `VSI TLV length ${len} < ${VSI_TLV_FIXED_LEN}`);
  }
  const filterFormat = buf[off + 22]!;
  const size = FILTER_ENTRY_SIZE[filterFormat];
  if (size === undefined) {
    throw new PduError('vdp', 'unsupported', `vsi(${mode}).filterFormat`, at + 2 + 22, `filter info format ${filterFormat} is not 1..4`);
  }
  const n = (buf[off + 23]! << 8) | buf[off + 24]!;
  if (len !== VSI_TLV_FIXED_LEN + n * size) {
    throw new PduError('vdp', 'bad-length', `vsi(${mode}).filters`, at + 2 + 23, `${n} entr${n === 1 ? 'y' : 'ies'} of ${size} octets need length ${VSI_TLV_FIXED_LEN + n * size}, TLV length is ${len}`);
  }
  const filters: FilterEntry[] = new Array<FilterEntry>(n);
  let o = off + VSI_TLV_FIXED_LEN;
  for (let i = 0; i < n; i++, o += size) filters[i] = entry(buf, o, filterFormat);
  return {
    kind: 'vsi',
    mode,
    status: buf[off]!,
    typeId: (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!,
    typeVersion: buf[off + 4]!,
    vsiidFormat: buf[off + 5]!,
    vsiid: buf.slice(off + 6, off + 22),
    filterFormat,
    filters,
  };
}

/** `base` = absolute offset of buf[0] (errors name the byte in the whole frame). */
export function decodeVdpUlpdu(buf: Uint8Array, base = 0): VdpUlpdu {
  const tlvs: VdpTlv[] = [];
  let p = 0;
  while (p < buf.length) {
    if (buf.length - p < 2) {
      // one stray octet after the last TLV: padding, unless it is not zero
      if (buf[p] === 0) break;
      throw new PduError('vdp', 'truncated', 'tlv.header', base + p, 'need 2 octet(s), 1 left');
    }
    const hdr = (buf[p]! << 8) | buf[p + 1]!;
    const type = hdr >> 9;
    const len = hdr & 0x1ff;
    if (type === VDP_TLV_END) break;
    if (buf.length - p - 2 < len) {
      throw new PduError('vdp', 'truncated', `tlv(type ${type})`, base + p, `TLV length ${len} but ${buf.length - p - 2} octet(s) left`);
    }
    const v = p + 2;
    switch (type) {
      case 1:
      case 2:
      case 3:
      case 4:
        tlvs.push(decodeVsiTlv(type, buf, v, len, base + p));
        break;
      case VDP_TLV_MGRID:
        if (len !== 16) throw new PduError('vdp', 'bad-length', 'mgrid', base + p, `VSI Manager ID TLV length ${len}, must be 16`);
        tlvs.push({ kind: 'mgrid', managerId: buf.slice(v, v + 16) });
        break;
      case VDP_TLV_ORG:
        if (len < 3) throw new PduError('vdp', 'bad-length', 'org', base + p, `organizationally defined TLV length ${len} < 3`);
        tlvs.push({ kind: 'org', oui: (buf[v]! << 16) | (buf[v + 1]! << 8) | buf[v + 2]!, data: buf.slice(v + 3, v + len) });
        break;
      default:
        tlvs.push({ kind: 'unknown', tlvType: type, value: buf.slice(v, v + len) });
    }
    p = v + len;
  }
  return { tlvs, trailer: buf.slice(p) };
}

/** filter entry `i` of a VSI TLV (field names are built only for an error: this runs for every entry encoded) into `out` at `o`; returns the offset after it */
function filterEntryInto(out: Uint8Array, o: number, f: FilterEntry, format: number, i: number): number {
  if (format === FILTER_FORMAT_GROUP_VID || format === FILTER_FORMAT_GROUP_MAC_VID) {
    if (f.groupId === undefined) throw new PduError('vdp', 'bad-value', `vsi.filters[${i}].groupId`, -1, `filter format ${format} needs a group ID`);
    if (!inRange(f.groupId, 0, 0xffffffff)) throw rangeError('vdp', `vsi.filters[${i}].groupId`, f.groupId, 0, 0xffffffff);
    out[o++] = f.groupId >>> 24;
    out[o++] = (f.groupId >>> 16) & 0xff;
    out[o++] = (f.groupId >>> 8) & 0xff;
    out[o++] = f.groupId & 0xff;
  }
  if (format === FILTER_FORMAT_MAC_VID || format === FILTER_FORMAT_GROUP_MAC_VID) {
    if (f.mac === undefined) throw new PduError('vdp', 'bad-value', `vsi.filters[${i}].mac`, -1, `filter format ${format} needs a MAC address`);
    if (!tryMacInto(f.mac, out, o)) throw macError(`vsi.filters[${i}].mac`, f.mac);
    o += 6;
  }
  if (!inRange(f.vid, 0, 4095)) throw rangeError('vdp', `vsi.filters[${i}].vid`, f.vid, 0, 4095);
  if (!inRange(f.pcp, 0, 7)) throw rangeError('vdp', `vsi.filters[${i}].pcp`, f.pcp, 0, 7);
  const v = (f.ps ? 0x8000 : 0) | (f.pcp << 12) | f.vid;
  out[o++] = v >> 8;
  out[o++] = v & 0xff;
  return o;
}

/** octets of a VSI TLV with its 2-octet header; checks what the size depends on */
function vsiTlvSize(t: VsiTlv): number {
  const size = FILTER_ENTRY_SIZE[t.filterFormat];
  if (size === undefined) throw new PduError('vdp', 'out-of-range', 'vsi.filterFormat', -1, `filter format ${t.filterFormat} not in 1..4`);
  const n = t.filters.length;
  if (n > MAX_FILTERS[t.filterFormat]!) {
    throw new PduError('vdp', 'too-big', 'vsi.filters', -1, `${n} entries of filter format ${t.filterFormat} exceed the 9-bit TLV length (max ${MAX_FILTERS[t.filterFormat]})`);
  }
  return 2 + VSI_TLV_FIXED_LEN + n * size;
}

/** The VSI TLV with its header into `out` at `o`: `size` octets, its vsiTlvSize. */
function vsiTlvInto(t: VsiTlv, size: number, out: Uint8Array, o: number): void {
  const type = VSI_MODE_TLV[t.mode];
  if (type === undefined) throw new PduError('vdp', 'bad-value', 'vsi.mode', -1, `unknown mode ${String(t.mode)}`);
  const len = size - 2;
  checkRange('vdp', 'vsi.status', t.status, 0, 255);
  checkRange('vdp', 'vsi.typeId', t.typeId, 0, 0xffffff);
  checkRange('vdp', 'vsi.typeVersion', t.typeVersion, 0, 255);
  checkRange('vdp', 'vsi.vsiidFormat', t.vsiidFormat, 0, 255);
  if (t.vsiid.length !== 16) throw new PduError('vdp', 'out-of-range', 'vsi.vsiid', -1, `VSIID must be 16 octets, got ${t.vsiid.length}`);
  const n = t.filters.length;
  out[o] = (type << 1) | (len >> 8);
  out[o + 1] = len & 0xff;
  out[o + 2] = t.status;
  out[o + 3] = t.typeId >> 16;
  out[o + 4] = (t.typeId >> 8) & 0xff;
  out[o + 5] = t.typeId & 0xff;
  out[o + 6] = t.typeVersion;
  out[o + 7] = t.vsiidFormat;
  out.set(t.vsiid, o + 8);
  out[o + 24] = t.filterFormat;
  out[o + 25] = n >> 8;
  out[o + 26] = n & 0xff;
  let p = o + 27;
  for (let i = 0; i < n; i++) p = filterEntryInto(out, p, t.filters[i]!, t.filterFormat, i);
}

/** The VSI TLV with its 2-octet header. */
export function encodeVsiTlv(t: VsiTlv): Uint8Array {
  const size = vsiTlvSize(t);
  const out = new Uint8Array(size);
  vsiTlvInto(t, size, out, 0);
  return out;
}

/** The VSI TLV written in place at the writer's end. */
function writeVsiTlv(w: Writer, t: VsiTlv): void {
  const size = vsiTlvSize(t);
  // the room first: taking it may move the writer's buffer
  const at = w.take(size);
  vsiTlvInto(t, size, w.out, at);
}

function writeTlv(w: Writer, t: VdpTlv): void {
  switch (t.kind) {
    case 'vsi':
      writeVsiTlv(w, t);
      return;
    case 'mgrid':
      writeMgrid(w, t.managerId);
      return;
    case 'org':
      writeOrg(w, t.oui, t.data);
      return;
    case 'end':
      w.u16(0);
      return;
    case 'unknown':
      checkRange('vdp', 'tlvType', t.tlvType, 1, 126);
      if (t.value.length > MAX_TLV_VALUE) throw new PduError('vdp', 'too-big', `tlv(type ${t.tlvType})`, -1, `${t.value.length} octets exceed 511`);
      w.u16((t.tlvType << 9) | t.value.length).bytes(t.value);
      return;
  }
}

/** octets of a TLV with its header, as writeTlv writes it (a Writer sized with it never grows) */
function tlvSize(t: VdpTlv): number {
  switch (t.kind) {
    case 'vsi':
      return vsiTlvSize(t);
    case 'mgrid':
      return 2 + t.managerId.length;
    case 'org':
      return 2 + 3 + t.data.length;
    case 'end':
      return 2;
    case 'unknown':
      return 2 + t.value.length;
  }
}

function writeMgrid(w: Writer, managerId: Uint8Array): void {
  if (managerId.length !== 16) throw new PduError('vdp', 'out-of-range', 'mgrid', -1, `manager ID must be 16 octets, got ${managerId.length}`);
  w.u16((VDP_TLV_MGRID << 9) | 16).bytes(managerId);
}

function writeOrg(w: Writer, oui: number, data: Uint8Array): void {
  checkRange('vdp', 'org.oui', oui, 0, 0xffffff);
  if (3 + data.length > MAX_TLV_VALUE) throw new PduError('vdp', 'too-big', 'org', -1, `org TLV of ${3 + data.length} octets exceeds 511`);
  w.u16((VDP_TLV_ORG << 9) | (3 + data.length)).u24(oui).bytes(data);
}

/** TLVs then the trailer, exactly: encodeVdpUlpdu(decodeVdpUlpdu(x)) === x. */
export function encodeVdpUlpdu(u: VdpUlpdu): Uint8Array {
  let size = u.trailer.length;
  for (const t of u.tlvs) size += tlvSize(t);
  const w = new Writer('vdp', size > 0 ? size : 16);
  for (const t of u.tlvs) writeTlv(w, t);
  w.bytes(u.trailer);
  return w.finish();
}

/** Group a decoded ULPDU into VSI entries: each VSI TLV with the Manager ID TLV before it and the org TLVs after it. */
export function vdpEntries(u: VdpUlpdu): VdpEntry[] {
  const out: VdpEntry[] = [];
  let mgr: Uint8Array | undefined;
  let cur: VdpEntry | undefined;
  for (const t of u.tlvs) {
    if (t.kind === 'mgrid') {
      mgr = t.managerId;
      cur = undefined;
    } else if (t.kind === 'vsi') {
      cur = { managerId: mgr ?? new Uint8Array(16), vsi: t, org: [] };
      out.push(cur);
    } else if (t.kind === 'org' && cur) {
      cur.org.push({ oui: t.oui, data: t.data });
    }
  }
  return out;
}

export { sameId as sameManagerId };

/** Encoded size of one entry (Manager ID TLV + VSI TLV + org TLVs), for packing decisions. */
export function vdpEntrySize(e: VdpEntry, withManagerId = true): number {
  let n = (withManagerId ? 18 : 0) + 2 + VSI_TLV_FIXED_LEN + e.vsi.filters.length * (FILTER_ENTRY_SIZE[e.vsi.filterFormat] ?? 0);
  for (const o of e.org) n += 2 + 3 + o.data.length;
  return n;
}

function sameId(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && bytesEqual(a, b);
}

/** octets of the End TLV (type 0, length 0) */
export const VDP_END_TLV_LEN = 2;

/**
 * A ULPDU packing several VSIs. A Manager ID TLV applies to the VSI TLVs that follow it, so
 * it is written only when it changes — lldpad drops a whole ECPDU that carries a second
 * Manager ID TLV ("Duplicate Manager ID TLV"), so callers that talk to lldpad pack only
 * VSIs of one manager together.
 *
 * The engines always ask for `end`: lldpad copies a ULPDU over the previous one in a fixed
 * buffer and walks its TLVs until a type-0 header, not to the ULPDU's length
 * (qbg/vdp22sm.c vdp22_input), so without an End TLV a ULPDU shorter than the one before
 * it is followed by the stale VSI TLVs of that one, and lldpad answers them all again.
 */
export function encodeVdpEntries(entries: readonly VdpEntry[], opts: { end?: boolean } = {}): Uint8Array {
  // sized first, then written straight into one buffer of that size (no TLV objects, no
  // regrowing): the engines encode a packed ECPDU of up to ~1,500 octets per send
  let size = opts.end ? VDP_END_TLV_LEN : 0;
  let mgr: Uint8Array | undefined;
  for (const e of entries) {
    if (!sameId(e.managerId, mgr)) size += 18;
    mgr = e.managerId;
    size += vsiTlvSize(e.vsi);
    for (const o of e.org) size += 2 + 3 + o.data.length;
  }
  const w = new Writer('vdp', size > 0 ? size : 16);
  mgr = undefined;
  for (const e of entries) {
    if (!sameId(e.managerId, mgr)) writeMgrid(w, e.managerId);
    mgr = e.managerId;
    writeVsiTlv(w, e.vsi);
    for (const o of e.org) writeOrg(w, o.oui, o.data);
  }
  if (opts.end) w.u16(0);
  return w.finish();
}

/** Decode a ULPDU into entries, or the PduError that stopped it (upper layers count it, never throw). */
export function tryVdpEntries(ulpdu: Uint8Array): VdpEntry[] | PduError {
  try {
    return vdpEntries(decodeVdpUlpdu(ulpdu));
  } catch (e) {
    if (e instanceof PduError) return e;
    throw e;
  }
}
