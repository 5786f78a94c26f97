/**
 * Semantic checks of a VSI TLV, separate from decoding: a bridge answers a request that
 * fails them with the request's TLV type and a reason (1 invalid format, 5 invalid
 * VID/GroupID/MAC) instead of lldpad's silent drop; a station refuses to send one.
 * Returns problems, never throws.
 */
import {
  FILTER_FORMAT_GROUP_MAC_VID,
  FILTER_FORMAT_GROUP_VID,
  FILTER_FORMAT_VID,
  VDP_RESP_INVALID_FORMAT,
  VDP_RESP_INVALID_VID_GID_MAC,
  VSIID_FORMAT_IPV4,
  VSIID_FORMAT_IPV6,
  VSIID_FORMAT_LOCAL,
  VSIID_FORMAT_MAC,
  VSIID_FORMAT_UUID,
  type VsiTlv,
} from './types.js';

export interface VsiProblem {
  field: string;
  reason: string;
  /** VDP reason code a bridge answers with */
  code: number;
}

export interface ValidateOptions {
  /** group IDs negotiated (BGID && SGID); formats 3/4 are refused without it */
  groupIds: boolean;
}

function allZero(b: Uint8Array, from = 0, to = b.length): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

export function isUnicastMac(mac: string): boolean {
  return mac !== '00:00:00:00:00:00' && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

export function validateVsi(t: VsiTlv, opts: ValidateOptions): VsiProblem[] {
  const p: VsiProblem[] = [];
  const fmt = (field: string, reason: string): void => void p.push({ field, reason, code: VDP_RESP_INVALID_FORMAT });
  const addr = (field: string, reason: string): void => void p.push({ field, reason, code: VDP_RESP_INVALID_VID_GID_MAC });

  switch (t.vsiidFormat) {
    case VSIID_FORMAT_IPV4:
      // IPv4-mapped form: 10 zero octets, ff ff, address (lldpad's check used && and let ff 00 through)
      if (!allZero(t.vsiid, 0, 10) || t.vsiid[10] !== 0xff || t.vsiid[11] !== 0xff) fmt('vsiid', 'IPv4 VSIID must be ::ffff:a.b.c.d');
      else if (allZero(t.vsiid, 12, 16)) fmt('vsiid', 'IPv4 VSIID is 0.0.0.0');
      break;
    case VSIID_FORMAT_IPV6:
      if (allZero(t.vsiid)) fmt('vsiid', 'IPv6 VSIID is all zero');
      break;
    case VSIID_FORMAT_MAC: {
      if (!allZero(t.vsiid, 0, 10)) fmt('vsiid', 'MAC VSIID must have 10 leading zero octets');
      const first = t.vsiid[10]!;
      if (allZero(t.vsiid, 10, 16) || (first & 1) === 1) fmt('vsiid', 'MAC VSIID must be a unicast address');
      break;
    }
    case VSIID_FORMAT_LOCAL:
      break;
    case VSIID_FORMAT_UUID:
      if (allZero(t.vsiid)) fmt('vsiid', 'UUID VSIID is all zero');
      break;
    default:
      fmt('vsiidFormat', `VSIID format ${t.vsiidFormat} is not 1..5`);
  }

  if (t.filters.length === 0) fmt('filters', 'a VSI TLV needs at least one filter entry');
  if ((t.filterFormat === FILTER_FORMAT_GROUP_VID || t.filterFormat === FILTER_FORMAT_GROUP_MAC_VID) && !opts.groupIds) {
    fmt('filterFormat', 'group ID filter formats need group IDs negotiated (BGID and SGID)');
  }
  let vidZero = 0;
  const macs = new Set<string>();
  t.filters.forEach((f, i) => {
    const field = `filters[${i}]`;
    // VID 0 = "bridge, choose"; 1..4094 usable (lldpad wrongly refused VID 1); 4095 reserved
    if (f.vid === 4095) addr(`${field}.vid`, 'VID 4095 is reserved');
    if (f.vid === 0) vidZero++;
    if (f.mac !== undefined) {
      if (!isUnicastMac(f.mac)) addr(`${field}.mac`, `${f.mac} is not a unicast MAC address`);
      if (macs.has(f.mac)) addr(`${field}.mac`, `${f.mac} appears twice`);
      macs.add(f.mac);
    }
    if (f.groupId !== undefined && f.groupId === 0) addr(`${field}.groupId`, 'group ID 0 is not allowed');
  });
  if (t.filterFormat === FILTER_FORMAT_VID && vidZero > 0 && t.filters.length > 1) {
    addr('filters', 'with filter format VID, VID 0 may only be the single entry');
  }
  return p;
}
