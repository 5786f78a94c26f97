/**
 * Names for numbers: what `vdpctl decode`, the replay timeline and the logs show people.
 * `describeFrame` returns a plain JSON-able object carrying both the names and the raw
 * numbers; `summarizeFrame` a one-line text in the style of captures/README.md.
 */
import { macToString, toHex, uuidToString } from './bytes.js';
import type { PduError } from './errors.js';
import {
  ECP22_OP_ACK,
  ECP22_OP_REQUEST,
  ETH_P_ECP22,
  ETH_P_ECP_DRAFT,
  ETH_P_LLDP,
  VDP_STATUS_HARD,
  VDP_STATUS_KEEP,
  VDP_STATUS_RESPONSE,
  VSIID_FORMAT_IPV4,
  VSIID_FORMAT_IPV6,
  VSIID_FORMAT_MAC,
  VSIID_FORMAT_UUID,
  type DecodedFrame,
  type EvbTlv,
  type FilterEntry,
  type LldpTlv,
  type VdpTlv,
  type VsiTlv,
} from './types.js';

export const VDP_REASONS: Record<number, string> = {
  0: 'success',
  1: 'invalid format',
  2: 'insufficient resources',
  3: 'unable to contact VSI manager',
  4: 'other failure',
  5: 'invalid VID, GroupID or MAC address',
};

export function reasonText(code: number): string {
  return VDP_REASONS[code] ?? `reserved (${code})`;
}

export const VSI_TLV_NAMES: Record<string, string> = {
  preassoc: 'PreAssoc',
  'preassoc-rr': 'PreAssoc-RR',
  assoc: 'Assoc',
  deassoc: 'DeAssoc',
};

export const VSIID_FORMAT_NAMES: Record<number, string> = { 1: 'IPv4', 2: 'IPv6', 3: 'MAC', 4: 'local', 5: 'UUID' };
export const FILTER_FORMAT_NAMES: Record<number, string> = { 1: 'VID', 2: 'MAC/VID', 3: 'GroupID/VID', 4: 'GroupID/MAC/VID' };
export const EVB_MODE_NAMES: Record<number, string> = { 0: 'not supported', 1: 'bridge', 2: 'station', 3: 'reserved' };
export const ETHERTYPE_NAMES: Record<number, string> = { [ETH_P_LLDP]: 'LLDP', [ETH_P_ECP22]: 'ECP', [ETH_P_ECP_DRAFT]: 'ECP draft 0.2' };
export const RRSTAT_NAMES: Record<number, string> = { 0: 'not enabled', 1: 'enabled', 2: 'reserved', 3: 'unknown' };

/** 10 µs × 2^exp, in ms; floating point so exponents up to 31 are exact (lldpad overflowed at 28). */
export function timerMs(exp: number): number {
  return 0.01 * 2 ** exp;
}

export interface StatusView {
  raw: number;
  response: boolean;
  reason: number;
  reasonText: string;
  keep?: boolean;
  hard?: boolean;
  /** request hints */
  migratingTo?: boolean;
  suspended?: boolean;
  reserved: boolean;
}

/** The status octet: KEEP/HARD in a response (bit 6 set), M/S hints in a request. */
export function describeStatus(s: number): StatusView {
  const response = (s & VDP_STATUS_RESPONSE) !== 0;
  const v: StatusView = { raw: s, response, reason: s & 0x0f, reasonText: reasonText(s & 0x0f), reserved: (s & 0x80) !== 0 };
  if (response) {
    v.keep = (s & VDP_STATUS_KEEP) !== 0;
    v.hard = (s & VDP_STATUS_HARD) !== 0;
  } else {
    v.migratingTo = (s & 0x10) !== 0;
    v.suspended = (s & 0x20) !== 0;
  }
  return v;
}

export function statusShort(s: number): string {
  const v = describeStatus(s);
  const flags: string[] = [];
  if (v.response) flags.push('RSP');
  if (v.keep) flags.push('KEEP');
  if (v.hard) flags.push('HARD');
  if (v.migratingTo) flags.push('M');
  if (v.suspended) flags.push('S');
  if (v.response || v.reason !== 0) flags.push(v.reasonText);
  return flags.join('|');
}

export function vsiidText(format: number, id: Uint8Array): string {
  switch (format) {
    case VSIID_FORMAT_UUID:
      return uuidToString(id);
    case VSIID_FORMAT_MAC:
      return macToString(id, 10);
    case VSIID_FORMAT_IPV4:
      return `${id[12]}.${id[13]}.${id[14]}.${id[15]}`;
    case VSIID_FORMAT_IPV6: {
      const g: string[] = [];
      for (let i = 0; i < 16; i += 2) g.push(((id[i]! << 8) | id[i + 1]!).toString(16));
      return g.join(':');
    }
    default:
      return toHex(id);
  }
}

/** ASCII when printable and NUL-padded (lldpad's mgrid2 names), else hex. */
export function managerIdText(m: Uint8Array): string {
  let end = m.length;
  while (end > 0 && m[end - 1] === 0) end--;
  if (end === 0) return '0';
  for (let i = 0; i < end; i++) if (m[i]! < 0x20 || m[i]! > 0x7e) return toHex(m);
  return String.fromCharCode(...m.subarray(0, end));
}

export function filterText(f: FilterEntry): string {
  const parts: string[] = [];
  if (f.groupId !== undefined) parts.push(`gid ${f.groupId}`);
  if (f.mac !== undefined) parts.push(f.mac);
  let vid = String(f.vid);
  if (f.ps || f.pcp) vid += ` pcp ${f.pcp}${f.ps ? ' PS' : ''}`;
  parts.push(vid);
  return parts.join('/');
}

export function describeEvb(t: EvbTlv): Record<string, unknown> {
  return {
    bridgeStatus: { bgid: t.bgid, rrcap: t.rrcap, rrctr: t.rrctr, reserved: t.bridgeReserved },
    stationStatus: { sgid: t.sgid, rrreq: t.rrreq, rrstat: t.rrstat, rrstatText: RRSTAT_NAMES[t.rrstat], reserved: t.stationReserved },
    retries: t.r,
    rte: t.rte,
    ackTimerMs: timerMs(t.rte),
    mode: t.evbMode,
    modeText: EVB_MODE_NAMES[t.evbMode],
    rwd: t.rwd,
    rwdFromPeer: t.rolRwd,
    resourceWaitDelayMs: timerMs(t.rwd),
    rka: t.rka,
    rkaFromPeer: t.rolRka,
    reinitKeepAliveMs: timerMs(t.rka),
  };
}

export function evbShort(t: EvbTlv): string {
  const br = [t.bgid && 'BGID', t.rrcap && 'RRCAP', t.rrctr && 'RRCTR'].filter(Boolean).join('') || '-';
  const st = [t.sgid && 'SGID', t.rrreq && 'RRREQ'].filter(Boolean).join('') || '-';
  return `EVB22{${EVB_MODE_NAMES[t.evbMode]} br:${br} st:${st}/RRSTAT=${t.rrstat} R=${t.r} RTE=${t.rte} RWD=${t.rwd}${t.rolRwd ? '(r)' : ''} RKA=${t.rka}${t.rolRka ? '(r)' : ''}}`;
}

function describeLldpTlv(t: LldpTlv): Record<string, unknown> {
  switch (t.kind) {
    case 'chassis-id':
    case 'port-id': {
      const id = t.id.length === 6 && t.subtype === (t.kind === 'chassis-id' ? 4 : 3) ? macToString(t.id) : toHex(t.id);
      return { tlv: t.kind === 'chassis-id' ? 'Chassis ID' : 'Port ID', subtype: t.subtype, id };
    }
    case 'ttl':
      return { tlv: 'Time To Live', seconds: t.seconds };
    case 'end':
      return { tlv: 'End' };
    case 'evb':
      return { tlv: 'EVB', ...describeEvb(t) };
    case 'evb-draft':
      return {
        tlv: 'EVB (draft 0.2)',
        supportedForwarding: t.supportedForwarding,
        supportedCapabilities: t.supportedCapabilities,
        configuredForwarding: t.configuredForwarding,
        configuredCapabilities: t.configuredCapabilities,
        supportedVsis: t.supportedVsis,
        configuredVsis: t.configuredVsis,
        rte: t.rte,
      };
    case 'cdcp':
      return { tlv: 'CDCP', role: t.role, scomp: t.scomp, chnCap: t.chnCap, channels: t.channels };
    case 'org':
      return { tlv: 'Organizationally Specific', oui: t.oui.toString(16).padStart(6, '0'), subtype: t.subtype, data: toHex(t.data) };
    case 'unknown':
      return { tlv: `type ${t.tlvType}`, value: toHex(t.value) };
  }
}

export function describeVsi(t: VsiTlv): Record<string, unknown> {
  return {
    tlv: VSI_TLV_NAMES[t.mode],
    mode: t.mode,
    status: describeStatus(t.status),
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    vsiidFormat: t.vsiidFormat,
    vsiidFormatText: VSIID_FORMAT_NAMES[t.vsiidFormat] ?? `reserved (${t.vsiidFormat})`,
    vsiid: vsiidText(t.vsiidFormat, t.vsiid),
    filterFormat: t.filterFormat,
    filterFormatText: FILTER_FORMAT_NAMES[t.filterFormat],
    filters: t.filters,
  };
}

function describeVdpTlv(t: VdpTlv): Record<string, unknown> {
  switch (t.kind) {
    case 'vsi':
      return describeVsi(t);
    case 'mgrid':
      return { tlv: 'VSI Manager ID', managerId: managerIdText(t.managerId), hex: toHex(t.managerId) };
    case 'org':
      return { tlv: 'Organizationally defined', oui: t.oui.toString(16).padStart(6, '0'), data: toHex(t.data) };
    case 'end':
      return { tlv: 'End' };
    case 'unknown':
      return { tlv: `type ${t.tlvType}`, value: toHex(t.value) };
  }
}

export function describeFrame(f: DecodedFrame): Record<string, unknown> {
  const eth: Record<string, unknown> = { dst: f.eth.dst, src: f.eth.src, ethertype: f.eth.ethertype };
  if (f.eth.vlan) eth['vlan'] = f.eth.vlan;
  switch (f.kind) {
    case 'lldp':
      return { protocol: 'LLDP', eth, tlvs: f.lldpdu.tlvs.map(describeLldpTlv) };
    case 'ecp22': {
      const o: Record<string, unknown> = {
        protocol: 'ECP',
        eth,
        ecp: {
          version: f.ecp.version,
          op: f.ecp.op,
          opText: f.ecp.op === ECP22_OP_REQUEST ? 'REQ' : f.ecp.op === ECP22_OP_ACK ? 'ACK' : `reserved (${f.ecp.op})`,
          subtype: f.ecp.subtype,
          subtypeText: f.ecp.subtype === 1 ? 'VDP' : f.ecp.subtype === 2 ? 'PE-CSP' : `reserved (${f.ecp.subtype})`,
          sequence: f.ecp.sequence,
        },
      };
      if (f.vdp) o['vdp'] = f.vdp.tlvs.map(describeVdpTlv);
      return o;
    }
    case 'ecp-draft':
      return {
        protocol: 'ECP draft 0.2',
        eth,
        ecp: { subtype: f.ecp.subtype, mode: f.ecp.mode, modeText: f.ecp.mode === 0 ? 'REQ' : 'ACK', sequence: f.ecp.sequence },
        vdp: (f.vdp ?? []).map((t) => ({ ...t, instanceUuid: uuidToString(t.instanceUuid) })),
      };
    case 'other':
      return { protocol: ETHERTYPE_NAMES[f.eth.ethertype] ?? `ethertype 0x${f.eth.ethertype.toString(16).padStart(4, '0')}`, eth, length: f.payload.length };
  }
}

export function vsiShort(t: VsiTlv): string {
  const fl = t.filters.map(filterText).join(', ');
  return `${VSI_TLV_NAMES[t.mode]}[${statusShort(t.status)}] type=${t.typeId}/${t.typeVersion} ${vsiidText(t.vsiidFormat, t.vsiid)} ${FILTER_FORMAT_NAMES[t.filterFormat]} ${fl}`;
}

/** One line, e.g. `ECP REQ seq=9 sub=1 MgrID=vdplab | PreAssoc[] type=1193046/1 7664... MAC/VID 02:76:64:00:00:02/100`. */
export function summarizeFrame(f: DecodedFrame): string {
  switch (f.kind) {
    case 'lldp': {
      const ttl = f.lldpdu.tlvs.find((t) => t.kind === 'ttl');
      const parts = [`LLDP TTL=${ttl && ttl.kind === 'ttl' ? ttl.seconds : '?'}${ttl && ttl.kind === 'ttl' && ttl.seconds === 0 ? ' (shutdown)' : ''}`];
      for (const t of f.lldpdu.tlvs) {
        if (t.kind === 'evb') parts.push(evbShort(t));
        else if (t.kind === 'cdcp') parts.push(`CDCP{role=${t.role} scomp=${t.scomp ? 1 : 0} chncap=${t.chnCap} ${t.channels.map((c) => `${c.scid}:${c.svid}`).join(',')}}`);
        else if (t.kind === 'evb-draft') parts.push(`EVB-draft{rte=${t.rte}}`);
        else if (t.kind === 'end') parts.push('End');
      }
      return parts.join(' ');
    }
    case 'ecp22': {
      const op = f.ecp.op === ECP22_OP_ACK ? 'ACK' : f.ecp.op === ECP22_OP_REQUEST ? 'REQ' : `op${f.ecp.op}`;
      let s = `ECP ${op} seq=${f.ecp.sequence}`;
      if (f.ecp.op !== ECP22_OP_ACK) s += ` sub=${f.ecp.subtype}`;
      if (f.ecp.version !== 1) s += ` ver=${f.ecp.version}`;
      if (f.vdp) {
        for (const t of f.vdp.tlvs) {
          if (t.kind === 'mgrid') s += ` MgrID=${managerIdText(t.managerId)}`;
          else if (t.kind === 'vsi') s += ` | ${vsiShort(t)}`;
          else if (t.kind === 'org') s += ` | org ${t.oui.toString(16).padStart(6, '0')}`;
          else if (t.kind === 'unknown') s += ` | tlv${t.tlvType}`;
        }
      }
      return s;
    }
    case 'ecp-draft':
      return `ECP-draft ${f.ecp.mode === 0 ? 'REQ' : 'ACK'} seq=${f.ecp.sequence}${(f.vdp ?? []).map((t) => ` | VDP-draft mode=${t.mode} resp=${t.response} type=${t.typeId}/${t.typeVersion} ${uuidToString(t.instanceUuid)}`).join('')}`;
    case 'other':
      return `${ETHERTYPE_NAMES[f.eth.ethertype] ?? `ethertype 0x${f.eth.ethertype.toString(16).padStart(4, '0')}`} ${f.payload.length}B`;
  }
}

export function describeError(e: PduError): Record<string, unknown> {
  return { layer: e.layer, code: e.code, field: e.field, offset: e.offset, message: e.message };
}
