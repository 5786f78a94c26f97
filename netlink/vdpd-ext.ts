/**
 * vdpd's extension to the libvirt SETLINK: ratified-standard fields that the kernel's
 * IFLA_PORT_* attributes cannot carry (16-octet manager ID, VSIID formats, hints, group
 * IDs, several filters in any format).
 *
 * Why not lldpad's test-only "format 2" (IFLA_PORT_VSI_TYPE22 = 7, IFLA_PORT_VSI_FILTER = 8
 * inside IFLA_VF_PORT)? 7 is IFLA_PORT_RESPONSE, and the kernel owns every number in that
 * nest. Instead the extension is one top-level attribute, IFLA_VDPD_VSI22 = 0x3ffa (the top
 * of the 14-bit type space, far above the ~70 IFLA numbers in use), nested, whose first
 * member must be IFLA_VDPD_MAGIC = 'VDPD' (0x56445044). Should the kernel ever reach 0x3ffa,
 * its attribute will not start with the magic and vdpd ignores it; a receiver that does not
 * know the extension (lldpad) skips an unknown top-level attribute.
 *
 *   IFLA_VDPD_VSI22 (0x3ffa, nested)
 *     IFLA_VDPD_MAGIC (1)          u32 0x56445044, first
 *     IFLA_VDPD_MGRID (2)          16 octets: the VSI Manager ID
 *     IFLA_VDPD_VSIID_FORMAT (3)   u8 1..5 (IPv4, IPv6, MAC, local, UUID)
 *     IFLA_VDPD_VSIID (4)          16 octets (else IFLA_PORT_INSTANCE_UUID is the VSIID)
 *     IFLA_VDPD_HINTS (5)          u8: 0, 0x10 (M, migrating to), 0x20 (S, suspended/from)
 *     IFLA_VDPD_FILTER_FORMAT (6)  u8 1..4 (VID, MAC/VID, GroupID/VID, GroupID/MAC/VID)
 *     IFLA_VDPD_FILTER (7, nested, repeated; replaces IFLA_VFINFO_LIST's entries)
 *       IFLA_VDPD_FILTER_PCP_VID (1) u16: PS (bit 15), PCP (14..12), VID (11..0), host order
 *       IFLA_VDPD_FILTER_MAC (2)     6 octets
 *       IFLA_VDPD_FILTER_GROUP (3)   u32, non-zero
 */
import { macToBytes, macToString } from '../pdu/bytes.js';
import { AttrWriter, NetlinkError, parseAttrs, u32le, type Attr } from './nlmsg.js';

export const IFLA_VDPD_VSI22 = 0x3ffa;
export const IFLA_VDPD_MAGIC = 1;
export const IFLA_VDPD_MGRID = 2;
export const IFLA_VDPD_VSIID_FORMAT = 3;
export const IFLA_VDPD_VSIID = 4;
export const IFLA_VDPD_HINTS = 5;
export const IFLA_VDPD_FILTER_FORMAT = 6;
export const IFLA_VDPD_FILTER = 7;
export const IFLA_VDPD_FILTER_PCP_VID = 1;
export const IFLA_VDPD_FILTER_MAC = 2;
export const IFLA_VDPD_FILTER_GROUP = 3;
export const VDPD_MAGIC = 0x56445044;
const MAX_FILTERS = 1024;

export interface ExtFilter {
  ps: boolean;
  pcp: number;
  vid: number;
  mac?: string;
  groupId?: number;
}

export interface VdpdExtension {
  managerId?: Uint8Array;
  vsiidFormat?: number;
  vsiid?: Uint8Array;
  hints?: number;
  filterFormat?: number;
  filters?: ExtFilter[];
}


/** undefined when the attribute is not vdpd's (no magic first); NetlinkError when it is, but malformed. */
export function decodeVdpdExtension(a: Attr): VdpdExtension | undefined {
  const path = 'IFLA_VDPD_VSI22';
  let attrs: Attr[];
  try {
    attrs = parseAttrs(a.value, a.offset + 4, path);
  } catch {
    return undefined;
  }
  const first = attrs[0];
  if (!first || first.type !== IFLA_VDPD_MAGIC || first.value.length !== 4 || u32le(first.value, path, first.offset) !== VDPD_MAGIC) return undefined;
  const ext: VdpdExtension = {};
  const one = (x: Attr, name: string, lo: number, hi: number): number => {
    if (x.value.length !== 1) throw new NetlinkError('EINVAL', `${path}/${name}`, x.offset, `u8 attribute with ${x.value.length} octets`);
    const v = x.value[0]!;
    if (v < lo || v > hi) throw new NetlinkError('EINVAL', `${path}/${name}`, x.offset, `${v} is not in ${lo}..${hi}`);
    return v;
  };
  for (const x of attrs.slice(1)) {
    switch (x.type) {
      case IFLA_VDPD_MGRID:
        if (x.value.length !== 16) throw new NetlinkError('EINVAL', `${path}/IFLA_VDPD_MGRID`, x.offset, `needs 16 octets, got ${x.value.length}`);
        ext.managerId = x.value.slice();
        break;
      case IFLA_VDPD_VSIID_FORMAT:
        ext.vsiidFormat = one(x, 'IFLA_VDPD_VSIID_FORMAT', 1, 5);
        break;
      case IFLA_VDPD_VSIID:
        if (x.value.length !== 16) throw new NetlinkError('EINVAL', `${path}/IFLA_VDPD_VSIID`, x.offset, `needs 16 octets, got ${x.value.length}`);
        ext.vsiid = x.value.slice();
        break;
      case IFLA_VDPD_HINTS: {
        const h = one(x, 'IFLA_VDPD_HINTS', 0, 0x30);
        if (h !== 0 && h !== 0x10 && h !== 0x20) throw new NetlinkError('EINVAL', `${path}/IFLA_VDPD_HINTS`, x.offset, `hints ${h}: 0, 0x10 (M) or 0x20 (S)`);
        ext.hints = h;
        break;
      }
      case IFLA_VDPD_FILTER_FORMAT:
        ext.filterFormat = one(x, 'IFLA_VDPD_FILTER_FORMAT', 1, 4);
        break;
      case IFLA_VDPD_FILTER: {
        ext.filters ??= [];
        const p = `${path}/IFLA_VDPD_FILTER[${ext.filters.length}]`;
        if (ext.filters.length >= MAX_FILTERS) throw new NetlinkError('EMSGSIZE', p, x.offset, `more than ${MAX_FILTERS} filters`);
        const f: ExtFilter = { ps: false, pcp: 0, vid: 0 };
        let sawVid = false;
        for (const y of parseAttrs(x.value, x.offset + 4, p)) {
          if (y.type === IFLA_VDPD_FILTER_PCP_VID) {
            if (y.value.length !== 2) throw new NetlinkError('EINVAL', `${p}/PCP_VID`, y.offset, `u16 attribute with ${y.value.length} octets`);
            const v = y.value[0]! | (y.value[1]! << 8);
            f.ps = (v & 0x8000) !== 0;
            f.pcp = (v >> 12) & 7;
            f.vid = v & 0xfff;
            sawVid = true;
          } else if (y.type === IFLA_VDPD_FILTER_MAC) {
            if (y.value.length !== 6) throw new NetlinkError('EINVAL', `${p}/MAC`, y.offset, `needs 6 octets, got ${y.value.length}`);
            f.mac = macToString(y.value);
          } else if (y.type === IFLA_VDPD_FILTER_GROUP) {
            if (y.value.length !== 4) throw new NetlinkError('EINVAL', `${p}/GROUP`, y.offset, `u32 attribute with ${y.value.length} octets`);
            const g = u32le(y.value, `${p}/GROUP`, y.offset);
            if (g === 0) throw new NetlinkError('EINVAL', `${p}/GROUP`, y.offset, 'group ID 0 is not allowed');
            f.groupId = g;
          }
        }
        if (!sawVid) throw new NetlinkError('EINVAL', p, x.offset, 'filter without IFLA_VDPD_FILTER_PCP_VID');
        ext.filters.push(f);
        break;
      }
      default:
        break; // newer members are ignored
    }
  }
  if (ext.filterFormat !== undefined && ext.filters) {
    const needMac = ext.filterFormat === 2 || ext.filterFormat === 4;
    const needGroup = ext.filterFormat >= 3;
    ext.filters.forEach((f, i) => {
      if (needMac !== (f.mac !== undefined) || needGroup !== (f.groupId !== undefined)) {
        throw new NetlinkError('EINVAL', `${path}/IFLA_VDPD_FILTER[${i}]`, a.offset, `filter format ${ext.filterFormat} needs ${needMac ? 'a MAC' : 'no MAC'} and ${needGroup ? 'a group ID' : 'no group ID'}`);
      }
    });
  }
  return ext;
}

export function writeVdpdExtension(w: AttrWriter, ext: VdpdExtension): AttrWriter {
  w.begin(IFLA_VDPD_VSI22).u32(IFLA_VDPD_MAGIC, VDPD_MAGIC);
  if (ext.managerId) w.attr(IFLA_VDPD_MGRID, ext.managerId);
  if (ext.vsiidFormat !== undefined) w.u8(IFLA_VDPD_VSIID_FORMAT, ext.vsiidFormat);
  if (ext.vsiid) w.attr(IFLA_VDPD_VSIID, ext.vsiid);
  if (ext.hints !== undefined) w.u8(IFLA_VDPD_HINTS, ext.hints);
  if (ext.filterFormat !== undefined) w.u8(IFLA_VDPD_FILTER_FORMAT, ext.filterFormat);
  for (const f of ext.filters ?? []) {
    w.begin(IFLA_VDPD_FILTER).u16(IFLA_VDPD_FILTER_PCP_VID, (f.ps ? 0x8000 : 0) | ((f.pcp & 7) << 12) | (f.vid & 0xfff));
    if (f.mac) w.attr(IFLA_VDPD_FILTER_MAC, macToBytes(f.mac));
    if (f.groupId !== undefined) w.u32(IFLA_VDPD_FILTER_GROUP, f.groupId);
    w.end();
  }
  return w.end();
}
