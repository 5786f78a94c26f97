/**
 * The VSI as people and JSON clients write it (vdpctl flags, the local API, the bridge
 * policy), and its conversion to wire values. Encodings are explicit where lldpad's were
 * ambiguous (reference §8.1 #5: vdptool hex-decodes a manager ID made of hex digits only).
 */
import { isMac, isUuid, macToBytes, normalizeMac, toHex, uuidToBytes } from '../../pdu/bytes.js';
import { vsiidText } from '../../pdu/describe.js';
import type { VsiWire } from '../../fsm/vsi.js';
import {
  FILTER_FORMAT_GROUP_MAC_VID,
  FILTER_FORMAT_GROUP_VID,
  FILTER_FORMAT_MAC_VID,
  FILTER_FORMAT_VID,
  VDP_HINT_M,
  VDP_HINT_S,
  VSIID_FORMAT_IPV4,
  VSIID_FORMAT_IPV6,
  VSIID_FORMAT_LOCAL,
  VSIID_FORMAT_MAC,
  VSIID_FORMAT_UUID,
  type FilterEntry,
  type VsiMode,
} from '../../pdu/types.js';

export class VsiSpecError extends Error {
  override readonly name = 'VsiSpecError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export type VsiidFormatName = 'ipv4' | 'ipv6' | 'mac' | 'local' | 'uuid';
export type FilterFormatName = 'vid' | 'mac-vid' | 'group-vid' | 'group-mac-vid';
export type HintName = 'none' | 'to' | 'from';

export const VSIID_FORMATS: Record<VsiidFormatName, number> = {
  ipv4: VSIID_FORMAT_IPV4,
  ipv6: VSIID_FORMAT_IPV6,
  mac: VSIID_FORMAT_MAC,
  local: VSIID_FORMAT_LOCAL,
  uuid: VSIID_FORMAT_UUID,
};
export const FILTER_FORMATS: Record<FilterFormatName, number> = {
  vid: FILTER_FORMAT_VID,
  'mac-vid': FILTER_FORMAT_MAC_VID,
  'group-vid': FILTER_FORMAT_GROUP_VID,
  'group-mac-vid': FILTER_FORMAT_GROUP_MAC_VID,
};

export interface FilterSpec {
  vid: number;
  mac?: string;
  groupId?: number;
  pcp?: number;
  /** PCP significant: the bridge must not change the PCP */
  ps?: boolean;
}

/** JSON form of a VSI, used by the client API and vdpctl --json. */
export interface VsiSpec {
  /**
   * 16-octet VSI Manager ID: "uuid:<uuid>", "hex:<up to 32 hex digits>", "ascii:<up to 16 chars>",
   * a bare number 0..255 (libvirt's 1-octet manager ID, put in octet 0 as lldpad does), or a bare
   * string (ASCII, NUL-padded — vdptool's mgrid2 for non-hex names).
   */
  managerId: string | number;
  typeId: number;
  typeVersion: number;
  vsiidFormat?: VsiidFormatName;
  /** UUID text for format uuid; MAC for mac; dotted quad / IPv6 text; 32 hex digits for local */
  vsiid: string;
  /** inferred from the filters when absent */
  filterFormat?: FilterFormatName;
  filters: FilterSpec[];
  hints?: HintName;
}

/** Wire-level values of a VSI, as the station engine takes them (defined with the machines). */
export type { VsiWire };

export function managerIdToBytes(v: string | number): Uint8Array {
  if (typeof v !== 'string' && typeof v !== 'number') throw new VsiSpecError('managerId', `must be a string or a number, got ${typeof v}`);
  const out = new Uint8Array(16);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new VsiSpecError('managerId', `a numeric manager ID is one octet (0..255), got ${v}`);
    out[0] = v;
    return out;
  }
  const colon = v.indexOf(':');
  const kind = colon > 0 ? v.slice(0, colon) : '';
  const body = colon > 0 ? v.slice(colon + 1) : v;
  if (kind === 'uuid') {
    if (!isUuid(body)) throw new VsiSpecError('managerId', `not a UUID: ${JSON.stringify(body)}`);
    return uuidToBytes(body);
  }
  if (kind === 'hex') {
    const h = body.replace(/[-:\s]/g, '');
    if (!/^[0-9a-fA-F]*$/.test(h) || h.length % 2 !== 0 || h.length > 32 || h.length === 0) {
      throw new VsiSpecError('managerId', `hex: needs 2..32 hex digits, got ${JSON.stringify(body)}`);
    }
    for (let i = 0; i < h.length / 2; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
    return out;
  }
  const text = kind === 'ascii' ? body : v;
  if (text.length === 0 || text.length > 16 || !/^[\x20-\x7e]+$/.test(text)) {
    throw new VsiSpecError('managerId', `ASCII manager ID must be 1..16 printable characters, got ${JSON.stringify(text)}`);
  }
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Inverse of managerIdToBytes for display: ascii:<name> when printable and NUL-padded, else hex:. */
export function managerIdToString(b: Uint8Array): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  let printable = end > 0;
  for (let i = 0; i < end; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) printable = false;
  if (printable) return `ascii:${String.fromCharCode(...b.subarray(0, end))}`;
  return `hex:${toHex(b)}`;
}

function ipv4ToBytes(s: string): Uint8Array {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new VsiSpecError('vsiid', `not an IPv4 address: ${JSON.stringify(s)}`);
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  for (let i = 0; i < 4; i++) out[12 + i] = Number(m[i + 1]);
  return out;
}

function ipv6ToBytes(s: string): Uint8Array {
  const halves = s.split('::');
  if (halves.length > 2) throw new VsiSpecError('vsiid', `not an IPv6 address: ${JSON.stringify(s)}`);
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new VsiSpecError('vsiid', `not an IPv6 address: ${JSON.stringify(s)}`);
    return parseInt(g, 16);
  }));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) throw new VsiSpecError('vsiid', `not an IPv6 address: ${JSON.stringify(s)}`);
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

export function vsiidToBytes(format: VsiidFormatName, s: string): Uint8Array {
  switch (format) {
    case 'uuid':
      if (!isUuid(s)) throw new VsiSpecError('vsiid', `not a UUID: ${JSON.stringify(s)}`);
      return uuidToBytes(s);
    case 'mac': {
      if (!isMac(s)) throw new VsiSpecError('vsiid', `not a MAC address: ${JSON.stringify(s)}`);
      const out = new Uint8Array(16);
      out.set(macToBytes(s), 10);
      return out;
    }
    case 'ipv4':
      return ipv4ToBytes(s);
    case 'ipv6':
      return ipv6ToBytes(s);
    case 'local': {
      const h = s.replace(/[-:\s]/g, '');
      if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new VsiSpecError('vsiid', 'a local VSIID is 32 hex digits');
      const out = new Uint8Array(16);
      for (let i = 0; i < 16; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
      return out;
    }
  }
}

/** Display form of a VSIID: the one pdu/describe.ts uses everywhere. */
export const vsiidToString = vsiidText;

function inferFilterFormat(filters: FilterSpec[]): FilterFormatName {
  const f = filters[0];
  if (!f) return 'mac-vid';
  if (f.groupId !== undefined) return f.mac !== undefined ? 'group-mac-vid' : 'group-vid';
  return f.mac !== undefined ? 'mac-vid' : 'vid';
}

function intIn(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new VsiSpecError(field, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function vsiSpecToWire(spec: VsiSpec): VsiWire {
  const vsiidFormat = spec.vsiidFormat ?? 'uuid';
  if (!Object.hasOwn(VSIID_FORMATS, vsiidFormat)) throw new VsiSpecError('vsiidFormat', `unknown format ${JSON.stringify(vsiidFormat)}`);
  if (!Array.isArray(spec.filters) || spec.filters.length === 0) throw new VsiSpecError('filters', 'at least one filter entry is required');
  const filterFormat = spec.filterFormat ?? inferFilterFormat(spec.filters);
  if (!Object.hasOwn(FILTER_FORMATS, filterFormat)) throw new VsiSpecError('filterFormat', `unknown format ${JSON.stringify(filterFormat)}`);
  const wantMac = filterFormat === 'mac-vid' || filterFormat === 'group-mac-vid';
  const wantGroup = filterFormat === 'group-vid' || filterFormat === 'group-mac-vid';
  const filters = spec.filters.map((f, i): FilterEntry => {
    const field = `filters[${i}]`;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new VsiSpecError(field, 'a filter entry is an object');
    const e: FilterEntry = {
      vid: intIn(`${field}.vid`, f.vid, 0, 4095),
      pcp: f.pcp === undefined ? 0 : intIn(`${field}.pcp`, f.pcp, 0, 7),
      ps: f.ps ?? false,
    };
    if (wantMac) {
      if (f.mac === undefined || !isMac(f.mac)) throw new VsiSpecError(`${field}.mac`, `format ${filterFormat} needs a MAC address`);
      e.mac = normalizeMac(f.mac);
    } else if (f.mac !== undefined) {
      throw new VsiSpecError(`${field}.mac`, `format ${filterFormat} carries no MAC address`);
    }
    if (wantGroup) {
      e.groupId = intIn(`${field}.groupId`, f.groupId, 1, 0xffffffff);
    } else if (f.groupId !== undefined) {
      throw new VsiSpecError(`${field}.groupId`, `format ${filterFormat} carries no group ID`);
    }
    return e;
  });
  const hints = spec.hints ?? 'none';
  if (hints !== 'none' && hints !== 'to' && hints !== 'from') throw new VsiSpecError('hints', `must be none, to or from`);
  return {
    managerId: managerIdToBytes(spec.managerId),
    typeId: intIn('typeId', spec.typeId, 0, 0xffffff),
    typeVersion: intIn('typeVersion', spec.typeVersion, 0, 255),
    vsiidFormat: VSIID_FORMATS[vsiidFormat],
    vsiid: vsiidToBytes(vsiidFormat, String(spec.vsiid)),
    filterFormat: FILTER_FORMATS[filterFormat],
    filters,
    hints: hints === 'to' ? VDP_HINT_M : hints === 'from' ? VDP_HINT_S : 0,
  };
}

const FORMAT_NAME_BY_NUMBER = Object.fromEntries(Object.entries(VSIID_FORMATS).map(([k, v]) => [v, k])) as Record<number, VsiidFormatName>;
const FILTER_NAME_BY_NUMBER = Object.fromEntries(Object.entries(FILTER_FORMATS).map(([k, v]) => [v, k])) as Record<number, FilterFormatName>;

export function vsiWireToSpec(w: VsiWire): VsiSpec {
  const spec: VsiSpec = {
    managerId: managerIdToString(w.managerId),
    typeId: w.typeId,
    typeVersion: w.typeVersion,
    vsiidFormat: FORMAT_NAME_BY_NUMBER[w.vsiidFormat] ?? 'local',
    vsiid: vsiidToString(w.vsiidFormat, w.vsiid),
    filterFormat: FILTER_NAME_BY_NUMBER[w.filterFormat] ?? 'mac-vid',
    filters: w.filters.map((f) => {
      const o: FilterSpec = { vid: f.vid, pcp: f.pcp, ps: f.ps };
      if (f.mac !== undefined) o.mac = f.mac;
      if (f.groupId !== undefined) o.groupId = f.groupId;
      return o;
    }),
    hints: w.hints & VDP_HINT_M ? 'to' : w.hints & VDP_HINT_S ? 'from' : 'none',
  };
  return spec;
}

export type { VsiMode };
