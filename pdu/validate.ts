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

/** the value of a hex digit's character code, or -1 */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

export function isUnicastMac(mac: string): boolean {
  if (mac === '00:00:00:00:00:00') return false;
  // the group bit is the low bit of the first octet: of its second hex digit in the usual
  // form, without a substring and a parseInt per filter entry
  const lo = mac.length === 17 && hexDigit(mac.charCodeAt(0)) >= 0 ? hexDigit(mac.charCodeAt(1)) : -1;
  if (lo >= 0) return (lo & 1) === 0;
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

/**
 * Runs once per command a station sends and once per VSI TLV a bridge receives (10,000 in
 * a burst): the field names are made only for a problem found, and a MAC is looked for
 * among the entries before it instead of in a Set (a VSI has a few filter entries).
 */
export function validateVsi(t: VsiTlv, opts: ValidateOptions): VsiProblem[] {
  const p: VsiProblem[] = [];
  const v = t.vsiid;
  switch (t.vsiidFormat) {
    case VSIID_FORMAT_IPV4:
      // IPv4-mapped form: 10 zero octets, ff ff, address (lldpad's check used && and let ff 00 through)
      if (!allZero(v, 0, 10) || v[10] !== 0xff || v[11] !== 0xff) p.push(problem('vsiid', 'IPv4 VSIID must be ::ffff:a.b.c.d', VDP_RESP_INVALID_FORMAT));
      else if (allZero(v, 12, 16)) p.push(problem('vsiid', 'IPv4 VSIID is 0.0.0.0', VDP_RESP_INVALID_FORMAT));
      break;
    case VSIID_FORMAT_IPV6:
      if (allZero(v)) p.push(problem('vsiid', 'IPv6 VSIID is all zero', VDP_RESP_INVALID_FORMAT));
      break;
    case VSIID_FORMAT_MAC: {
      if (!allZero(v, 0, 10)) p.push(problem('vsiid', 'MAC VSIID must have 10 leading zero octets', VDP_RESP_INVALID_FORMAT));
      const first = v[10]!;
      if (allZero(v, 10, 16) || (first & 1) === 1) p.push(problem('vsiid', 'MAC VSIID must be a unicast address', VDP_RESP_INVALID_FORMAT));
      break;
    }
    case VSIID_FORMAT_LOCAL:
      break;
    case VSIID_FORMAT_UUID:
      if (allZero(v)) p.push(problem('vsiid', 'UUID VSIID is all zero', VDP_RESP_INVALID_FORMAT));
      break;
    default:
      p.push(problem('vsiidFormat', `VSIID format ${t.vsiidFormat} is not 1..5`, VDP_RESP_INVALID_FORMAT));
  }

  const filters = t.filters;
  if (filters.length === 0) p.push(problem('filters', 'a VSI TLV needs at least one filter entry', VDP_RESP_INVALID_FORMAT));
  if ((t.filterFormat === FILTER_FORMAT_GROUP_VID || t.filterFormat === FILTER_FORMAT_GROUP_MAC_VID) && !opts.groupIds) {
    p.push(problem('filterFormat', 'group ID filter formats need group IDs negotiated (BGID and SGID)', VDP_RESP_INVALID_FORMAT));
  }
  let vidZero = 0;
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!;
    // VID 0 = "bridge, choose"; 1..4094 usable (lldpad wrongly refused VID 1); 4095 reserved
    if (f.vid === 4095) p.push(problem(`filters[${i}].vid`, 'VID 4095 is reserved', VDP_RESP_INVALID_VID_GID_MAC));
    if (f.vid === 0) vidZero++;
    const mac = f.mac;
    if (mac !== undefined) {
      if (!isUnicastMac(mac)) p.push(problem(`filters[${i}].mac`, `${mac} is not a unicast MAC address`, VDP_RESP_INVALID_VID_GID_MAC));
      for (let j = 0; j < i; j++) {
        if (filters[j]!.mac === mac) {
          p.push(problem(`filters[${i}].mac`, `${mac} appears twice`, VDP_RESP_INVALID_VID_GID_MAC));
          break;
        }
      }
    }
    if (f.groupId !== undefined && f.groupId === 0) p.push(problem(`filters[${i}].groupId`, 'group ID 0 is not allowed', VDP_RESP_INVALID_VID_GID_MAC));
  }
  if (t.filterFormat === FILTER_FORMAT_VID && vidZero > 0 && filters.length > 1) {
    p.push(problem('filters', 'with filter format VID, VID 0 may only be the single entry', VDP_RESP_INVALID_VID_GID_MAC));
  }
  return p;
}

function problem(field: string, reason: string, code: number): VsiProblem {
  return { field, reason, code };
}
