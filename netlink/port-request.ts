/**
 * The libvirt/lldpad netlink contract (reference §6.1): RTM_SETLINK requests carrying
 * IFLA_VFINFO_LIST and IFLA_VF_PORTS, RTM_GETLINK status polls and their IFLA_VF_PORTS
 * replies, and the unsolicited RTM_SETLINK (disassociate) sent back to the requester.
 * Pure: bytes in, typed values out, and the reverse. Nothing here opens a socket.
 */
import { AttrWriter, buildMessage, cstring, NetlinkError, parseAttrs, u32le, type Attr, type NlMessage } from './nlmsg.js';
import { macToBytes, macToString } from '../pdu/bytes.js';
import { decodeVdpdExtension, IFLA_VDPD_VSI22, writeVdpdExtension, type VdpdExtension } from './vdpd-ext.js';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const IFLA_IFNAME = 3;
export const IFLA_LINK = 5;
export const IFLA_VFINFO_LIST = 22;
export const IFLA_VF_PORTS = 24;
export const IFLA_PORT_SELF = 25;
export const IFLA_EXT_MASK = 29;
export const IFLA_VF_INFO = 1;
export const IFLA_VF_MAC = 1;
export const IFLA_VF_VLAN = 2;
export const IFLA_VF_PORT = 1;
export const IFLA_PORT_VF = 1;
export const IFLA_PORT_PROFILE = 2;
export const IFLA_PORT_VSI_TYPE = 3;
export const IFLA_PORT_INSTANCE_UUID = 4;
export const IFLA_PORT_HOST_UUID = 5;
export const IFLA_PORT_REQUEST = 6;
export const IFLA_PORT_RESPONSE = 7;
export const PORT_SELF_VF = 0xffffffff;
export const IFINFOMSG_LEN = 16;

export const PORT_REQUEST_MODES = ['preassoc', 'preassoc-rr', 'assoc', 'deassoc'] as const;
export type PortMode = (typeof PORT_REQUEST_MODES)[number];

export interface VfInfo {
  mac?: string;
  vlan: number;
  qos: number;
}

export interface PortAttrs {
  vf?: number;
  vsiType?: { mgrId: number; typeId: number; typeVersion: number };
  instanceUuid?: Uint8Array;
  hostUuid?: Uint8Array;
  /** 0..3 (PORT_REQUEST_*) */
  request?: number;
  profile?: string;
}

export interface SetLinkRequest {
  ifindex: number;
  ifname?: string;
  vfs: VfInfo[];
  ports: PortAttrs[];
  self?: PortAttrs;
  /** vdpd's ratified-standard extension (vdpd-ext.ts), when present */
  ext?: VdpdExtension;
  seq: number;
  pid: number;
}

function ifinfo(msg: NlMessage): { ifindex: number; rest: Uint8Array } {
  if (msg.payload.length < IFINFOMSG_LEN) throw new NetlinkError('EINVAL', 'ifinfomsg', 16, `payload of ${msg.payload.length} octets, ifinfomsg needs 16`);
  const v = new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength);
  return { ifindex: v.getInt32(4, true), rest: msg.payload.subarray(IFINFOMSG_LEN) };
}

function decodeVfInfo(a: Attr, path: string): VfInfo {
  const out: VfInfo = { vlan: 0, qos: 0 };
  let haveVlan = false;
  for (const x of parseAttrs(a.value, a.offset + 4, path)) {
    if (x.type === IFLA_VF_MAC) {
      if (x.value.length < 10) throw new NetlinkError('EINVAL', `${path}/IFLA_VF_MAC`, x.offset, `struct ifla_vf_mac needs 36 octets, got ${x.value.length}`);
      out.mac = macToString(x.value, 4);
    } else if (x.type === IFLA_VF_VLAN) {
      if (x.value.length < 12) throw new NetlinkError('EINVAL', `${path}/IFLA_VF_VLAN`, x.offset, `struct ifla_vf_vlan needs 12 octets, got ${x.value.length}`);
      const v = new DataView(x.value.buffer, x.value.byteOffset, 12);
      out.vlan = v.getUint32(4, true);
      out.qos = v.getUint32(8, true);
      if (out.vlan > 4095) throw new NetlinkError('EINVAL', `${path}/IFLA_VF_VLAN`, x.offset, `VLAN ${out.vlan} > 4095`);
      if (out.qos > 7) throw new NetlinkError('EINVAL', `${path}/IFLA_VF_VLAN`, x.offset, `qos ${out.qos} > 7`);
      haveVlan = true;
    }
  }
  // lldpad: every IFLA_VF_INFO must carry a VLAN (format 1 with VLAN only, 2 with MAC too)
  if (!haveVlan) throw new NetlinkError('EINVAL', path, a.offset, 'IFLA_VF_INFO without IFLA_VF_VLAN');
  return out;
}

export function decodePort(a: Attr, path: string): PortAttrs {
  const p: PortAttrs = {};
  for (const x of parseAttrs(a.value, a.offset + 4, path)) {
    const at = `${path}/${x.type}`;
    switch (x.type) {
      case IFLA_PORT_VF:
        p.vf = u32le(x.value, `${path}/IFLA_PORT_VF`, x.offset);
        break;
      case IFLA_PORT_PROFILE:
        p.profile = cstring(x.value, `${path}/IFLA_PORT_PROFILE`, x.offset, 40);
        break;
      case IFLA_PORT_VSI_TYPE:
        if (x.value.length < 5) throw new NetlinkError('EINVAL', `${path}/IFLA_PORT_VSI_TYPE`, x.offset, `struct ifla_port_vsi needs 8 octets, got ${x.value.length}`);
        // type id is little-endian in the netlink struct, big-endian on the wire
        p.vsiType = { mgrId: x.value[0]!, typeId: x.value[1]! | (x.value[2]! << 8) | (x.value[3]! << 16), typeVersion: x.value[4]! };
        break;
      case IFLA_PORT_INSTANCE_UUID:
        if (x.value.length < 16) throw new NetlinkError('EINVAL', `${path}/IFLA_PORT_INSTANCE_UUID`, x.offset, `needs 16 octets, got ${x.value.length}`);
        p.instanceUuid = x.value.slice(0, 16);
        break;
      case IFLA_PORT_HOST_UUID:
        if (x.value.length < 16) throw new NetlinkError('EINVAL', `${path}/IFLA_PORT_HOST_UUID`, x.offset, `needs 16 octets, got ${x.value.length}`);
        p.hostUuid = x.value.slice(0, 16);
        break;
      case IFLA_PORT_REQUEST: {
        // u8 from libvirt; lldpad's own notification (and enic) used a host-order u16
        if (x.value.length < 1) throw new NetlinkError('EINVAL', `${path}/IFLA_PORT_REQUEST`, x.offset, 'empty');
        const r = x.value.length >= 2 ? x.value[0]! | (x.value[1]! << 8) : x.value[0]!;
        if (r > 3) throw new NetlinkError('EINVAL', `${path}/IFLA_PORT_REQUEST`, x.offset, `request ${r} is not 0..3`);
        p.request = r;
        break;
      }
      default:
        void at; // unknown attributes are ignored: senders may be newer than us
    }
  }
  return p;
}

const MAX_VFS = 1024;

export function decodeSetLink(msg: NlMessage): SetLinkRequest {
  if (msg.type !== RTM_SETLINK) throw new NetlinkError('EOPNOTSUPP', 'nlmsghdr.nlmsg_type', 4, `type ${msg.type} is not RTM_SETLINK`);
  const { ifindex, rest } = ifinfo(msg);
  const req: SetLinkRequest = { ifindex, vfs: [], ports: [], seq: msg.seq, pid: msg.pid };
  let sawVfList = false;
  let sawPorts = false;
  for (const a of parseAttrs(rest, 32, 'ifinfomsg')) {
    switch (a.type) {
      case IFLA_IFNAME:
        req.ifname = cstring(a.value, 'IFLA_IFNAME', a.offset, 15);
        break;
      case IFLA_VFINFO_LIST:
        sawVfList = true;
        for (const [i, v] of parseAttrs(a.value, a.offset + 4, 'IFLA_VFINFO_LIST').entries()) {
          if (v.type !== IFLA_VF_INFO) continue;
          if (req.vfs.length >= MAX_VFS) throw new NetlinkError('EMSGSIZE', 'IFLA_VFINFO_LIST', v.offset, `more than ${MAX_VFS} VF infos`);
          req.vfs.push(decodeVfInfo(v, `IFLA_VFINFO_LIST/IFLA_VF_INFO[${i}]`));
        }
        break;
      case IFLA_VF_PORTS:
        sawPorts = true;
        for (const [i, p] of parseAttrs(a.value, a.offset + 4, 'IFLA_VF_PORTS').entries()) {
          if (p.type !== IFLA_VF_PORT) continue;
          if (req.ports.length >= MAX_VFS) throw new NetlinkError('EMSGSIZE', 'IFLA_VF_PORTS', p.offset, `more than ${MAX_VFS} ports`);
          req.ports.push(decodePort(p, `IFLA_VF_PORTS/IFLA_VF_PORT[${i}]`));
        }
        break;
      case IFLA_PORT_SELF:
        req.self = decodePort(a, 'IFLA_PORT_SELF');
        break;
      case IFLA_VDPD_VSI22: {
        const ext = decodeVdpdExtension(a);
        if (ext) req.ext = ext;
        break;
      }
      default:
        break;
    }
  }
  if (!sawVfList && !req.ext?.filters) throw new NetlinkError('EINVAL', 'IFLA_VFINFO_LIST', 32, 'missing (the MAC/VLAN of the VSI)');
  if (!sawPorts && !req.self) throw new NetlinkError('EINVAL', 'IFLA_VF_PORTS', 32, 'missing (the VSI type, UUID and request)');
  return req;
}

export interface GetLinkRequest {
  ifindex: number;
  ifname?: string;
  seq: number;
  pid: number;
}

export function decodeGetLink(msg: NlMessage): GetLinkRequest {
  if (msg.type !== RTM_GETLINK) throw new NetlinkError('EOPNOTSUPP', 'nlmsghdr.nlmsg_type', 4, `type ${msg.type} is not RTM_GETLINK`);
  const { ifindex, rest } = ifinfo(msg);
  const req: GetLinkRequest = { ifindex, seq: msg.seq, pid: msg.pid };
  for (const a of parseAttrs(rest, 32, 'ifinfomsg')) if (a.type === IFLA_IFNAME) req.ifname = cstring(a.value, 'IFLA_IFNAME', a.offset, 15);
  return req;
}

function ifinfomsg(ifindex: number): Uint8Array {
  const b = new Uint8Array(IFINFOMSG_LEN);
  new DataView(b.buffer).setInt32(4, ifindex, true);
  return b;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

export interface PortStatus {
  instanceUuid: Uint8Array;
  /** absent while the bridge has not answered (libvirt reads that as in progress) */
  response?: number;
}

/** The GETLINK status reply as lldpad sends it: type NLMSG_DONE (libvirt accepts it, or RTM_NEWLINK). */
export function encodeGetLinkReply(req: GetLinkRequest, ports: PortStatus[], opts: { type?: number; pid?: number } = {}): Uint8Array {
  const w = new AttrWriter().begin(IFLA_VF_PORTS);
  for (const p of ports) {
    w.begin(IFLA_VF_PORT).attr(IFLA_PORT_INSTANCE_UUID, p.instanceUuid).u32(IFLA_PORT_VF, PORT_SELF_VF);
    if (p.response !== undefined) w.u16(IFLA_PORT_RESPONSE, p.response);
    w.end();
  }
  w.end();
  return buildMessage(opts.type ?? 3, 0, req.seq, opts.pid ?? 0, concat(ifinfomsg(req.ifindex), w.finish()));
}

/** struct ifla_vf_mac {vf = PORT_SELF_VF, mac[32]} */
function vfMac(mac: string | undefined): Uint8Array {
  const m = new Uint8Array(36);
  new DataView(m.buffer).setUint32(0, PORT_SELF_VF, true);
  if (mac) m.set(macToBytes(mac), 4);
  return m;
}

/** struct ifla_vf_vlan {vf = PORT_SELF_VF, vlan, qos} */
function vfVlan(vlan: number, qos: number): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, PORT_SELF_VF, true);
  dv.setUint32(4, vlan, true);
  dv.setUint32(8, qos, true);
  return b;
}

/** struct ifla_port_vsi: 1-octet manager ID, type ID little-endian, version, 3 octets of padding */
function portVsi(mgrId: number, typeId: number, typeVersion: number): Uint8Array {
  return Uint8Array.of(mgrId, typeId & 0xff, (typeId >> 8) & 0xff, (typeId >> 16) & 0xff, typeVersion, 0, 0, 0);
}

/** The unsolicited RTM_SETLINK (disassociate) to the requester; IFLA_PORT_REQUEST as one octet (lldpad's u16 only worked on little-endian hosts). */
export function encodeUnsolicited(o: { ifname: string; seq: number; pid: number; vfs: VfInfo[]; mgrId: number; typeId: number; typeVersion: number; instanceUuid: Uint8Array }): Uint8Array {
  const w = new AttrWriter().string(IFLA_IFNAME, o.ifname).begin(IFLA_VFINFO_LIST);
  for (const v of o.vfs) w.begin(IFLA_VF_INFO).attr(IFLA_VF_MAC, vfMac(v.mac)).attr(IFLA_VF_VLAN, vfVlan(v.vlan, v.qos)).end();
  w.end().begin(IFLA_VF_PORTS).begin(IFLA_VF_PORT);
  w.attr(IFLA_PORT_VSI_TYPE, portVsi(o.mgrId, o.typeId, o.typeVersion));
  w.attr(IFLA_PORT_INSTANCE_UUID, o.instanceUuid).u32(IFLA_PORT_VF, PORT_SELF_VF).u8(IFLA_PORT_REQUEST, 3);
  w.end().end();
  return buildMessage(RTM_SETLINK, 0, o.seq, o.pid, concat(ifinfomsg(0), w.finish()));
}

/** Exactly what libvirt's virNetDevVPortProfileOpSetLink sends for 802.1Qbg (for tests and `vdpctl --via netlink`). */
export function encodeLibvirtSetLink(o: { ifindex: number; ifname: string; mac: string; vlan: number; mgrId: number; typeId: number; typeVersion: number; instanceUuid: Uint8Array; request: number; seq: number; pid: number; ext?: VdpdExtension }): Uint8Array {
  const w = new AttrWriter()
    .string(IFLA_IFNAME, o.ifname)
    .begin(IFLA_VFINFO_LIST)
    .begin(IFLA_VF_INFO)
    .attr(IFLA_VF_MAC, vfMac(o.mac))
    .attr(IFLA_VF_VLAN, vfVlan(o.vlan, 0))
    .end()
    .end()
    .begin(IFLA_VF_PORTS)
    .begin(IFLA_VF_PORT)
    .attr(IFLA_PORT_VSI_TYPE, portVsi(o.mgrId, o.typeId, o.typeVersion))
    .attr(IFLA_PORT_INSTANCE_UUID, o.instanceUuid)
    .u8(IFLA_PORT_REQUEST, o.request)
    .end()
    .end();
  if (o.ext) writeVdpdExtension(w, o.ext);
  return buildMessage(RTM_SETLINK, 1, o.seq, o.pid, concat(ifinfomsg(o.ifindex), w.finish()));
}

export function encodeLibvirtGetLink(o: { ifindex: number; ifname: string; seq: number; pid: number }): Uint8Array {
  const w = new AttrWriter().string(IFLA_IFNAME, o.ifname).u32(IFLA_EXT_MASK, 1);
  return buildMessage(RTM_GETLINK, 1, o.seq, o.pid, concat(ifinfomsg(o.ifindex), w.finish()));
}

/** The VDP view of a SETLINK: what the station engine is asked to do. */
export function setLinkToVdp(req: SetLinkRequest): { mode: PortMode; managerId: Uint8Array; typeId: number; typeVersion: number; vsiidFormat: number; vsiid: Uint8Array; filterFormat: number; filters: { mac?: string; groupId?: number; vid: number; pcp: number; ps: boolean }[]; hints: number } {
  const port = req.self ?? req.ports[req.ports.length - 1];
  if (!port) throw new NetlinkError('EINVAL', 'IFLA_VF_PORTS', 32, 'no IFLA_VF_PORT');
  if (port.request === undefined) throw new NetlinkError('EINVAL', 'IFLA_PORT_REQUEST', 32, 'missing');
  if (!port.vsiType) throw new NetlinkError('EINVAL', 'IFLA_PORT_VSI_TYPE', 32, 'missing');
  if (!port.instanceUuid) throw new NetlinkError('EINVAL', 'IFLA_PORT_INSTANCE_UUID', 32, 'missing');
  const ext = req.ext ?? {};
  if (req.vfs.length === 0 && !ext.filters) throw new NetlinkError('EINVAL', 'IFLA_VFINFO_LIST', 32, 'no IFLA_VF_INFO');
  const withMac = req.vfs.every((v) => v.mac !== undefined);
  let managerId = ext.managerId;
  if (!managerId) {
    managerId = new Uint8Array(16);
    managerId[0] = port.vsiType.mgrId; // 1-octet netlink manager ID in octet 0, as lldpad does
  }
  const filters = ext.filters
    ? ext.filters.map((f) => ({ ...(f.mac !== undefined ? { mac: f.mac } : {}), ...(f.groupId !== undefined ? { groupId: f.groupId } : {}), vid: f.vid, pcp: f.pcp, ps: f.ps }))
    : // netlink qos → PS/PCP: a non-zero qos asks for that PCP (PS set)
      req.vfs.map((v) => ({ ...(withMac ? { mac: v.mac! } : {}), vid: v.vlan, pcp: v.qos, ps: v.qos !== 0 }));
  const inferred = ext.filters ? (ext.filters.some((f) => f.groupId !== undefined) ? (ext.filters.some((f) => f.mac) ? 4 : 3) : ext.filters.every((f) => f.mac) ? 2 : 1) : withMac ? 2 : 1;
  const vsiidFormat = ext.vsiidFormat ?? 5;
  const vsiid = ext.vsiid ?? port.instanceUuid;
  return {
    mode: PORT_REQUEST_MODES[port.request]!,
    managerId,
    typeId: port.vsiType.typeId,
    typeVersion: port.vsiType.typeVersion,
    vsiidFormat,
    vsiid,
    filterFormat: ext.filterFormat ?? inferred,
    filters,
    hints: ext.hints ?? 0,
  };
}
