/**
 * The iovnl request family of the original proposal, with its review applied:
 *
 *   RTM_GETIOV = 82, RTM_SETIOV = 83, unicast to vdpd's netlink port (its pid).
 *   In today's kernels 82 is RTM_GETNETCONF (80..83 is the NETCONF block). That does not
 *   matter here: the messages go to vdpd's port, never to the kernel, and vdpd tells them
 *   from rtnetlink by destination. A kernel-bound RTM_GETNETCONF is not affected.
 *
 *   header  struct iovmsg { u8 family (AF_UNSPEC); u8 cmd; u16 pad }   (no protocol version:
 *           the reviewers dropped it; new optional attributes are the way to evolve)
 *   cmd     1 SET_PORT_PROFILE, 2 UNSET_PORT_PROFILE, 3 GET_PORT_PROFILE_STATUS, 4 SET_MAC_VLAN
 *
 * Attributes (top level; the proposal's 1..9, then the review's additions from 16):
 *   1 IOV_ATTR_IFNAME         string  uplink (the ECP/VDP port), resolved in the sender's netns
 *   2 IOV_ATTR_VF_IFNAME      string  the VM's interface (macvtap/VF); must exist — a missing or
 *                                     unknown VF is an error, never a silent success on the PF
 *   3 IOV_ATTR_PORT_PROFILE   string  ≤ 32: a name the config maps to a VSI type + manager ID
 *   4 IOV_ATTR_CLIENT_NAME    string  accepted and logged (dropped by the review)
 *   5 IOV_ATTR_HOST_UUID      16 oct. optional metadata only
 *   6 IOV_ATTR_PORT_PROFILE_STATUS u8 (replies) 0 unknown, 1 success, 2 error, 3 in progress
 *   7 IOV_ATTR_MAC_ADDR       6 oct.  (inside IOV_ATTR_MAC_VLAN)
 *   8 IOV_ATTR_VLAN           u16     (inside IOV_ATTR_MAC_VLAN) PS/PCP/VID, VID 0 = bridge assigns
 *   9 IOV_ATTR_STATUS         —       never sent: the request's own result is the netlink ack
 *  16 IOV_ATTR_VSI_TYPE_ID    u32 < 2^24   } the profile as the standard has it
 *  17 IOV_ATTR_VSI_TYPE_VERSION u8          } (instead of, or overriding, PORT_PROFILE)
 *  18 IOV_ATTR_VSI_MGR_ID     16 octets     }
 *  19 IOV_ATTR_INSTANCE_UUID  16 octets: the guest instance = VDP VSIID (UUID format)
 *  20 IOV_ATTR_MAC_VLAN       nested, repeated: one filter {MAC_ADDR, VLAN}
 *  21 IOV_ATTR_REQUEST        u8: 0 preassoc, 1 preassoc-rr, 2 assoc (default for SET)
 *  22 IOV_ATTR_VDP_STATUS     u8 (replies): the bridge's VDP status octet (reason, keep, hard)
 */
import { macToBytes, macToString } from '../pdu/bytes.js';
import { AttrWriter, buildMessage, cstring, NetlinkError, parseAttrs, u32le, type NlMessage } from './nlmsg.js';

export const RTM_GETIOV = 82;
export const RTM_SETIOV = 83;
export const IOVMSG_LEN = 4;
export const IOV_CMD = { SET_PORT_PROFILE: 1, UNSET_PORT_PROFILE: 2, GET_PORT_PROFILE_STATUS: 3, SET_MAC_VLAN: 4 } as const;
export type IovCmdName = keyof typeof IOV_CMD;
export const IOV_ATTR = {
  IFNAME: 1,
  VF_IFNAME: 2,
  PORT_PROFILE: 3,
  CLIENT_NAME: 4,
  HOST_UUID: 5,
  PORT_PROFILE_STATUS: 6,
  MAC_ADDR: 7,
  VLAN: 8,
  STATUS: 9,
  VSI_TYPE_ID: 16,
  VSI_TYPE_VERSION: 17,
  VSI_MGR_ID: 18,
  INSTANCE_UUID: 19,
  MAC_VLAN: 20,
  REQUEST: 21,
  VDP_STATUS: 22,
} as const;
export const IOV_STATUS = { UNKNOWN: 0, SUCCESS: 1, ERROR: 2, INPROGRESS: 3 } as const;
export type IovStatusName = keyof typeof IOV_STATUS;
const MAX_MAC_VLAN = 1024;

export interface IovMacVlan {
  mac: string;
  ps: boolean;
  pcp: number;
  vid: number;
}

export interface IovRequest {
  msgType: typeof RTM_GETIOV | typeof RTM_SETIOV;
  cmd: IovCmdName;
  seq: number;
  pid: number;
  ifname?: string;
  vfIfname?: string;
  profile?: string;
  clientName?: string;
  hostUuid?: Uint8Array;
  typeId?: number;
  typeVersion?: number;
  managerId?: Uint8Array;
  instanceUuid?: Uint8Array;
  macVlans: IovMacVlan[];
  /** 0..2 */
  request?: number;
}


function exact(v: Uint8Array, n: number, path: string, off: number): Uint8Array {
  if (v.length !== n) throw new NetlinkError('EINVAL', path, off, `needs ${n} octets, got ${v.length}`);
  return v.slice();
}

export function isIovMessage(type: number): boolean {
  return type === RTM_GETIOV || type === RTM_SETIOV;
}

export function decodeIov(msg: NlMessage): IovRequest {
  if (!isIovMessage(msg.type)) throw new NetlinkError('EOPNOTSUPP', 'nlmsghdr.nlmsg_type', 4, `type ${msg.type} is not RTM_GETIOV/RTM_SETIOV`);
  if (msg.payload.length < IOVMSG_LEN) throw new NetlinkError('EINVAL', 'iovmsg', 16, `payload of ${msg.payload.length} octets, iovmsg needs 4`);
  const cmdNum = msg.payload[1]!;
  const cmd = (Object.keys(IOV_CMD) as IovCmdName[]).find((k) => IOV_CMD[k] === cmdNum);
  if (!cmd) throw new NetlinkError('EOPNOTSUPP', 'iovmsg.cmd', 17, `unknown command ${cmdNum}`);
  const wantType = cmd === 'GET_PORT_PROFILE_STATUS' ? RTM_GETIOV : RTM_SETIOV;
  if (msg.type !== wantType) throw new NetlinkError('EINVAL', 'nlmsghdr.nlmsg_type', 4, `${cmd} travels in ${wantType === RTM_GETIOV ? 'RTM_GETIOV' : 'RTM_SETIOV'}`);
  const r: IovRequest = { msgType: msg.type as IovRequest['msgType'], cmd, seq: msg.seq, pid: msg.pid, macVlans: [] };
  for (const a of parseAttrs(msg.payload.subarray(IOVMSG_LEN), 16 + IOVMSG_LEN, 'iovmsg')) {
    switch (a.type) {
      case IOV_ATTR.IFNAME:
        r.ifname = cstring(a.value, 'IOV_ATTR_IFNAME', a.offset, 15);
        break;
      case IOV_ATTR.VF_IFNAME:
        r.vfIfname = cstring(a.value, 'IOV_ATTR_VF_IFNAME', a.offset, 15);
        break;
      case IOV_ATTR.PORT_PROFILE:
        r.profile = cstring(a.value, 'IOV_ATTR_PORT_PROFILE', a.offset, 32);
        break;
      case IOV_ATTR.CLIENT_NAME:
        r.clientName = cstring(a.value, 'IOV_ATTR_CLIENT_NAME', a.offset, 32);
        break;
      case IOV_ATTR.HOST_UUID:
        r.hostUuid = exact(a.value, 16, 'IOV_ATTR_HOST_UUID', a.offset);
        break;
      case IOV_ATTR.VSI_TYPE_ID: {
        const v = u32le(exact(a.value, 4, 'IOV_ATTR_VSI_TYPE_ID', a.offset), 'IOV_ATTR_VSI_TYPE_ID', a.offset);
        if (v >= 2 ** 24) throw new NetlinkError('EINVAL', 'IOV_ATTR_VSI_TYPE_ID', a.offset, `type ID ${v} does not fit 24 bits`);
        r.typeId = v;
        break;
      }
      case IOV_ATTR.VSI_TYPE_VERSION:
        r.typeVersion = exact(a.value, 1, 'IOV_ATTR_VSI_TYPE_VERSION', a.offset)[0]!;
        break;
      case IOV_ATTR.VSI_MGR_ID:
        r.managerId = exact(a.value, 16, 'IOV_ATTR_VSI_MGR_ID', a.offset);
        break;
      case IOV_ATTR.INSTANCE_UUID:
        r.instanceUuid = exact(a.value, 16, 'IOV_ATTR_INSTANCE_UUID', a.offset);
        break;
      case IOV_ATTR.REQUEST: {
        const v = exact(a.value, 1, 'IOV_ATTR_REQUEST', a.offset)[0]!;
        if (v > 2) throw new NetlinkError('EINVAL', 'IOV_ATTR_REQUEST', a.offset, `request ${v}: 0 preassoc, 1 preassoc-rr, 2 assoc (de-associate is UNSET_PORT_PROFILE)`);
        r.request = v;
        break;
      }
      case IOV_ATTR.MAC_VLAN: {
        const path = `IOV_ATTR_MAC_VLAN[${r.macVlans.length}]`;
        if (r.macVlans.length >= MAX_MAC_VLAN) throw new NetlinkError('EMSGSIZE', path, a.offset, `more than ${MAX_MAC_VLAN} MAC/VLAN entries`);
        let mac: string | undefined;
        let vlan: number | undefined;
        for (const x of parseAttrs(a.value, a.offset + 4, path)) {
          if (x.type === IOV_ATTR.MAC_ADDR) mac = macToString(exact(x.value, 6, `${path}/IOV_ATTR_MAC_ADDR`, x.offset));
          else if (x.type === IOV_ATTR.VLAN) {
            const b = exact(x.value, 2, `${path}/IOV_ATTR_VLAN`, x.offset);
            vlan = b[0]! | (b[1]! << 8);
          }
        }
        if (mac === undefined) throw new NetlinkError('EINVAL', path, a.offset, 'entry without IOV_ATTR_MAC_ADDR');
        if (/^(00:){5}00$/.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) throw new NetlinkError('EINVAL', `${path}/IOV_ATTR_MAC_ADDR`, a.offset, `${mac} is not a unicast station address`);
        const v = vlan ?? 0;
        r.macVlans.push({ mac, ps: (v & 0x8000) !== 0, pcp: (v >> 12) & 7, vid: v & 0xfff });
        break;
      }
      case IOV_ATTR.MAC_ADDR:
      case IOV_ATTR.VLAN:
        // the proposal's flat form: one pair, later ones rejected rather than silently merged
        throw new NetlinkError('EINVAL', a.type === IOV_ATTR.MAC_ADDR ? 'IOV_ATTR_MAC_ADDR' : 'IOV_ATTR_VLAN', a.offset, 'a MAC/VLAN pair goes inside IOV_ATTR_MAC_VLAN (a list, one nest per filter)');
      default:
        break; // newer optional attributes are ignored
    }
  }
  if (r.ifname === undefined) throw new NetlinkError('EINVAL', 'IOV_ATTR_IFNAME', 20, 'missing: the uplink interface');
  if (r.cmd !== 'GET_PORT_PROFILE_STATUS' && r.vfIfname === undefined) throw new NetlinkError('EINVAL', 'IOV_ATTR_VF_IFNAME', 20, 'missing: the VM interface (a missing VF is an error, not the PF)');
  if (r.instanceUuid === undefined) throw new NetlinkError('EINVAL', 'IOV_ATTR_INSTANCE_UUID', 20, 'missing: the guest instance UUID (the host UUID does not name the VSI)');
  if (r.cmd === 'SET_PORT_PROFILE' && r.profile === undefined && (r.typeId === undefined || r.typeVersion === undefined)) {
    throw new NetlinkError('EINVAL', 'IOV_ATTR_VSI_TYPE_ID', 20, 'missing: a profile name or VSI type ID + version');
  }
  if (r.cmd === 'SET_MAC_VLAN' && r.macVlans.length === 0) throw new NetlinkError('EINVAL', 'IOV_ATTR_MAC_VLAN', 20, 'SET_MAC_VLAN without any MAC/VLAN entry');
  return r;
}

function withHeader(cmd: number, attrs: Uint8Array): Uint8Array {
  const p = new Uint8Array(IOVMSG_LEN + attrs.length);
  p[1] = cmd;
  p.set(attrs, IOVMSG_LEN);
  return p;
}

export interface IovRequestInput extends Omit<IovRequest, 'msgType' | 'macVlans'> {
  macVlans?: IovMacVlan[];
}

/** Build a request (clients: vdpctl --via netlink, tests). */
export function encodeIov(r: IovRequestInput, flags = 1): Uint8Array {
  const w = new AttrWriter();
  if (r.ifname !== undefined) w.string(IOV_ATTR.IFNAME, r.ifname);
  if (r.vfIfname !== undefined) w.string(IOV_ATTR.VF_IFNAME, r.vfIfname);
  if (r.profile !== undefined) w.string(IOV_ATTR.PORT_PROFILE, r.profile);
  if (r.clientName !== undefined) w.string(IOV_ATTR.CLIENT_NAME, r.clientName);
  if (r.hostUuid) w.attr(IOV_ATTR.HOST_UUID, r.hostUuid);
  if (r.typeId !== undefined) w.u32(IOV_ATTR.VSI_TYPE_ID, r.typeId);
  if (r.typeVersion !== undefined) w.u8(IOV_ATTR.VSI_TYPE_VERSION, r.typeVersion);
  if (r.managerId) w.attr(IOV_ATTR.VSI_MGR_ID, r.managerId);
  if (r.instanceUuid) w.attr(IOV_ATTR.INSTANCE_UUID, r.instanceUuid);
  if (r.request !== undefined) w.u8(IOV_ATTR.REQUEST, r.request);
  for (const m of r.macVlans ?? []) {
    w.begin(IOV_ATTR.MAC_VLAN)
      .attr(IOV_ATTR.MAC_ADDR, macToBytes(m.mac))
      .u16(IOV_ATTR.VLAN, (m.ps ? 0x8000 : 0) | ((m.pcp & 7) << 12) | (m.vid & 0xfff))
      .end();
  }
  const type = r.cmd === 'GET_PORT_PROFILE_STATUS' ? RTM_GETIOV : RTM_SETIOV;
  return buildMessage(type, flags, r.seq, r.pid, withHeader(IOV_CMD[r.cmd], w.finish()));
}

export interface IovStatusReply {
  ifname: string;
  instanceUuid: Uint8Array;
  status: IovStatusName;
  /** the bridge's VDP status octet when it answered */
  vdpStatus?: number;
}

/** GET_PORT_PROFILE_STATUS reply: RTM_GETIOV, cmd 3, IFNAME, INSTANCE_UUID, PORT_PROFILE_STATUS[, VDP_STATUS]. */
export function encodeIovStatus(req: { seq: number }, s: IovStatusReply, pid = 0): Uint8Array {
  const w = new AttrWriter().string(IOV_ATTR.IFNAME, s.ifname).attr(IOV_ATTR.INSTANCE_UUID, s.instanceUuid).u8(IOV_ATTR.PORT_PROFILE_STATUS, IOV_STATUS[s.status]);
  if (s.vdpStatus !== undefined) w.u8(IOV_ATTR.VDP_STATUS, s.vdpStatus);
  return buildMessage(RTM_GETIOV, 0, req.seq, pid, withHeader(IOV_CMD.GET_PORT_PROFILE_STATUS, w.finish()));
}

export function decodeIovStatus(msg: NlMessage): IovStatusReply {
  if (msg.type !== RTM_GETIOV || msg.payload.length < IOVMSG_LEN || msg.payload[1] !== IOV_CMD.GET_PORT_PROFILE_STATUS) {
    throw new NetlinkError('EINVAL', 'iovmsg', 16, `not a GET_PORT_PROFILE_STATUS reply (type ${msg.type})`);
  }
  let ifname = '';
  let uuid: Uint8Array | undefined;
  let status: IovStatusName | undefined;
  let vdpStatus: number | undefined;
  for (const a of parseAttrs(msg.payload.subarray(IOVMSG_LEN), 20, 'iovmsg')) {
    if (a.type === IOV_ATTR.IFNAME) ifname = cstring(a.value, 'IOV_ATTR_IFNAME', a.offset, 15);
    else if (a.type === IOV_ATTR.INSTANCE_UUID) uuid = exact(a.value, 16, 'IOV_ATTR_INSTANCE_UUID', a.offset);
    else if (a.type === IOV_ATTR.PORT_PROFILE_STATUS) status = (Object.keys(IOV_STATUS) as IovStatusName[]).find((k) => IOV_STATUS[k] === a.value[0]);
    else if (a.type === IOV_ATTR.VDP_STATUS) vdpStatus = a.value[0];
  }
  if (!uuid || !status) throw new NetlinkError('EINVAL', 'iovmsg', 20, 'reply without INSTANCE_UUID or PORT_PROFILE_STATUS');
  return { ifname, instanceUuid: uuid, status, ...(vdpStatus !== undefined ? { vdpStatus } : {}) };
}
