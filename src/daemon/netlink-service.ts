/**
 * vdpd's netlink control plane: libvirt's RTM_SETLINK / RTM_GETLINK (the lldpad contract,
 * reference §6.1) and the iovnl family (RTM_SETIOV / RTM_GETIOV), on a NETLINK_ROUTE socket
 * bound to the daemon's pid. Every request is acknowledged at once (libvirt waits 2 s at
 * most); the VDP exchange runs afterwards and its result is read with status polls. A
 * request that fails validation gets −errno naming the problem, is logged and counted, and
 * changes no VSI.
 */
import { readFileSync, statSync } from 'node:fs';
import { uuidToString } from '../../pdu/bytes.js';
import type { StationRecord } from '../../fsm/vdp-station-engine.js';
import { VdpCommandError, type VsiWire } from '../../fsm/vsi.js';
import { decodeIov, encodeIovStatus, isIovMessage, type IovRequest, type IovStatusName, type IovMacVlan } from '../../netlink/iovnl.js';
import { buildAck, ERRNO, NetlinkError, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, parseMessages, type NlMessage } from '../../netlink/nlmsg.js';
import { decodeGetLink, decodeSetLink, encodeGetLinkReply, encodeUnsolicited, RTM_GETLINK, RTM_SETLINK, setLinkToVdp, type PortStatus } from '../../netlink/port-request.js';
import { managerIdToBytes, vsiidToBytes } from '../api/vsi-spec.js';
import type { NetlinkProfile } from '../config.js';
import { linkInfo, UnknownInterfaceError } from '../io/packet-socket.js';
import { NetlinkSocket, type Credentials, type NetlinkDatagram } from '../io/netlink-socket.js';
import type { Logger } from '../log.js';
import type { InterfaceRuntime } from './interface.js';

/** What the station engine remembers of a netlink requester (persisted with the VSI). */
export interface NetlinkRequester {
  via: 'netlink';
  family: 'rtnl' | 'iov';
  /** nlmsg_pid of the request: where the unsolicited de-associate goes (libvirt's event port) */
  pid: number;
  seq: number;
}

export function isNetlinkRequester(r: unknown): r is NetlinkRequester {
  return typeof r === 'object' && r !== null && (r as { via?: unknown }).via === 'netlink' && typeof (r as { pid?: unknown }).pid === 'number';
}

/** PORT_PROFILE_RESPONSE_ERROR: a local failure (no response from the bridge, no bridge) */
export const PORT_PROFILE_RESPONSE_ERROR = 0x105;
const CAP_NET_ADMIN = 12;
/** 40 octets per IFLA_VF_PORT (UUID, VF, response): 1,600 fill the 16-bit IFLA_VF_PORTS length */
export const MAX_PORTS_PER_REPLY = 1600;

/**
 * IFLA_PORT_RESPONSE for a VSI: absent while a command waits for the bridge (libvirt reads
 * that as in progress; lldpad reported the previous command's result instead), 0 on
 * success, the VDP status octet without its response/request bits on a bridge error, and
 * PORT_PROFILE_RESPONSE_ERROR when the bridge never answered.
 */
export function portResponse(rec: StationRecord): number | undefined {
  if (rec.pendingCmd) return undefined;
  const o = rec.lastOutcome;
  if (!o) return undefined;
  switch (o.kind) {
    case 'success':
      return 0;
    case 'bridge-error':
      return o.status & 0x3f;
    case 'superseded':
      return undefined;
    default:
      return PORT_PROFILE_RESPONSE_ERROR;
  }
}

export function iovStatus(rec: StationRecord | undefined): { status: IovStatusName; vdpStatus?: number } {
  if (!rec) return { status: 'UNKNOWN' };
  const r = portResponse(rec);
  if (r === undefined) return { status: 'INPROGRESS' };
  if (r === 0) return { status: 'SUCCESS', vdpStatus: 0 };
  return r === PORT_PROFILE_RESPONSE_ERROR ? { status: 'ERROR' } : { status: 'ERROR', vdpStatus: r };
}

/** Does this process hold CAP_NET_ADMIN (effective)? Read at request time from /proc. */
export function hasNetAdmin(pid: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
  } catch {
    return false; // gone already, or not visible: not proven privileged
  }
}

function netnsInode(pid: number | 'self'): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}

export interface NetlinkServiceOptions {
  ifaces: Map<string, InterfaceRuntime>;
  profiles: Record<string, NetlinkProfile>;
  log: Logger;
  /** a socket already bound to the pid (opened first thing at start-up) */
  socket: NetlinkSocket;
}

export class NetlinkService {
  readonly counters = {
    datagrams: 0,
    messages: 0,
    setlink: 0,
    getlink: 0,
    getlinkTruncated: 0,
    iov: 0,
    acked: 0,
    refused: {} as Record<string, number>,
    permissionDenied: 0,
    malformed: 0,
    notifications: 0,
    notificationsFailed: 0,
    replySendFailures: 0,
  };
  /** iovnl SET_MAC_VLAN lists waiting for SET_PORT_PROFILE, by interface + instance UUID */
  private macVlans = new Map<string, IovMacVlan[]>();
  private readonly sock: NetlinkSocket;
  private readonly ownNetns = netnsInode('self');
  /** sender checks cached briefly: a burst from one client must not read /proc 10,000 times */
  private senderCache = new Map<number, { at: number; ok: boolean; netns: number | undefined }>();

  constructor(private readonly o: NetlinkServiceOptions) {
    this.sock = o.socket;
  }

  get port(): number {
    return this.sock.port;
  }

  start(): void {
    this.sock.listen(
      (d) => this.onDatagram(d),
      () => this.flushReplies(),
    );
    this.o.log.info({ port: this.sock.port }, `netlink: listening on NETLINK_ROUTE port ${this.sock.port}`);
  }

  close(): void {
    this.sock.close();
  }

  stats(): Record<string, unknown> {
    return { port: this.sock.port, ...this.counters, socket: this.sock.stats };
  }

  private refuse(msg: NlMessage, src: number, e: NetlinkError | VdpCommandError | { errno: keyof typeof ERRNO; message: string }): void {
    const name = e instanceof NetlinkError ? e.errno : e instanceof VdpCommandError ? e.code : e.errno;
    this.counters.refused[name] = (this.counters.refused[name] ?? 0) + 1;
    const code = e instanceof VdpCommandError ? e.errno : ERRNO[name as keyof typeof ERRNO];
    this.o.log.warn({ type: msg.type, seq: msg.seq, pid: msg.pid, errno: name, path: e instanceof NetlinkError ? e.path : undefined }, `netlink: request refused: ${e.message}`);
    this.reply(buildAck(msg, code, this.sock.port), src);
  }

  /** replies of the current batch, by destination port */
  private pending = new Map<number, Uint8Array[]>();
  private batching = false;
  private inBatch = 0;

  private reply(bytes: Uint8Array, dst: number): void {
    if (!this.batching) {
      if (!this.sock.send(bytes, dst)) this.counters.replySendFailures++;
      return;
    }
    let q = this.pending.get(dst);
    if (!q) this.pending.set(dst, (q = []));
    q.push(bytes);
  }

  /**
   * A client that sent many requests from one socket (a burst) gets its acks several to a
   * datagram, as the kernel packs a dump: one sendto per 32 KiB instead of one per ack.
   * libvirt opens a socket per request, so it still gets exactly one message per datagram.
   */
  flushReplies(more = false): void {
    this.batching = more;
    if (!more) this.inBatch = 0;
    for (const [dst, msgs] of this.pending) {
      let i = 0;
      while (i < msgs.length) {
        let len = 0;
        let j = i;
        while (j < msgs.length && (j === i || len + msgs[j]!.length <= 32 * 1024)) len += msgs[j++]!.length;
        const buf = Buffer.allocUnsafe(len);
        let off = 0;
        for (let k = i; k < j; k++) {
          buf.set(msgs[k]!, off);
          off += msgs[k]!.length;
        }
        if (!this.sock.send(buf, dst)) this.counters.replySendFailures += j - i;
        i = j;
      }
    }
    this.pending.clear();
  }

  onDatagram(d: NetlinkDatagram): void {
    this.batching = true;
    if ((++this.inBatch & 127) === 0) this.flushReplies(true);
    this.counters.datagrams++;
    let msgs: NlMessage[];
    try {
      msgs = parseMessages(d.data);
    } catch (e) {
      // no trustworthy header to answer to: count and log
      this.counters.malformed++;
      this.o.log.warn({ src: d.srcPort, bytes: d.data.length }, `netlink: malformed datagram dropped: ${(e as Error).message}`);
      return;
    }
    for (const m of msgs) {
      this.counters.messages++;
      try {
        this.onMessage(m, d.srcPort, d.creds);
      } catch (e) {
        if (e instanceof NetlinkError || e instanceof VdpCommandError) {
          // refusals are counted by errno; "malformed" is for messages that failed validation
          if (e instanceof NetlinkError && (e.errno === 'EINVAL' || e.errno === 'EMSGSIZE')) this.counters.malformed++;
          this.refuse(m, d.srcPort, e);
        } else {
          this.o.log.error({ err: (e as Error).stack }, 'netlink: request handler failed');
          this.refuse(m, d.srcPort, { errno: 'EINVAL', message: `internal error: ${(e as Error).message}` });
        }
      }
    }
  }

  private onMessage(m: NlMessage, src: number, creds: Credentials | undefined): void {
    // replies and acks addressed to us (e.g. to an unsolicited notification) need no answer
    if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE || m.type === NLMSG_NOOP) return;
    if ((m.flags & NLM_F_REQUEST) === 0 && m.type !== RTM_SETLINK) return;
    const sender = creds ? this.sender(creds.pid) : undefined;
    if (!creds || !sender?.ok) {
      this.counters.permissionDenied++;
      throw new NetlinkError('EPERM', 'credentials', 0, `sender pid ${creds?.pid ?? '?'} uid ${creds?.uid ?? '?'} lacks CAP_NET_ADMIN`);
    }
    if (this.ownNetns !== undefined) {
      const theirs = sender.netns;
      // netlink unicast never crosses namespaces; a pid we cannot see is not proof of one
      if (theirs !== undefined && theirs !== this.ownNetns) throw new NetlinkError('ENODEV', 'credentials', 0, `sender pid ${creds.pid} is in another network namespace`);
    }
    if (m.type === RTM_SETLINK) return this.setLink(m, src);
    if (m.type === RTM_GETLINK) return this.getLink(m, src);
    if (isIovMessage(m.type)) return this.iov(m, src);
    throw new NetlinkError('EOPNOTSUPP', 'nlmsghdr.nlmsg_type', 4, `message type ${m.type} is not served by vdpd (RTM_SETLINK, RTM_GETLINK, RTM_SETIOV, RTM_GETIOV)`);
  }

  private sender(pid: number): { ok: boolean; netns: number | undefined } {
    const now = performance.now();
    const c = this.senderCache.get(pid);
    if (c && now - c.at < 500) return c;
    if (this.senderCache.size > 1024) this.senderCache.clear();
    const v = { at: now, ok: hasNetAdmin(pid), netns: netnsInode(pid) };
    this.senderCache.set(pid, v);
    return v;
  }

  /** The managed interface a request names: by name, else by ifindex; an unknown or unmanaged one is an error. */
  private runtime(ifname: string | undefined, ifindex: number, path: string): InterfaceRuntime {
    if (ifname !== undefined) {
      const rt = this.o.ifaces.get(ifname);
      if (rt) return rt;
      try {
        linkInfo(ifname);
      } catch (e) {
        if (e instanceof UnknownInterfaceError) throw new NetlinkError('ENODEV', path, 0, `no interface ${JSON.stringify(ifname)} in this network namespace`);
        throw e;
      }
      throw new NetlinkError('ENODEV', path, 0, `interface ${ifname} is not managed by vdpd (managed: ${[...this.o.ifaces.keys()].join(', ')})`);
    }
    for (const rt of this.o.ifaces.values()) if (rt.link.ifindex === ifindex) return rt;
    throw new NetlinkError('ENODEV', 'ifinfomsg.ifi_index', 20, `ifindex ${ifindex} is not an interface vdpd manages`);
  }

  private station(rt: InterfaceRuntime): NonNullable<InterfaceRuntime['station']> {
    if (!rt.station) throw new NetlinkError('EOPNOTSUPP', 'IFLA_IFNAME', 0, `${rt.name} runs in bridge role`);
    return rt.station;
  }

  // ----------------------------------------------------------------- libvirt

  private setLink(m: NlMessage, src: number): void {
    this.counters.setlink++;
    const req = decodeSetLink(m);
    const rt = this.runtime(req.ifname, req.ifindex, 'IFLA_IFNAME');
    const st = this.station(rt);
    const v = setLinkToVdp(req);
    const wire: VsiWire = {
      managerId: v.managerId,
      typeId: v.typeId,
      typeVersion: v.typeVersion,
      vsiidFormat: v.vsiidFormat,
      vsiid: v.vsiid,
      filterFormat: v.filterFormat,
      filters: v.filters.map((f) => ({ ...f })),
      hints: v.hints,
    };
    const requester: NetlinkRequester = { via: 'netlink', family: 'rtnl', pid: req.pid, seq: req.seq };
    // the record exists (and GETLINK sees it in progress) before the ack leaves
    st.command(v.mode, wire, requester);
    this.counters.acked++;
    this.reply(buildAck(m, 0, this.sock.port), src);
    this.o.log.info({ iface: rt.name, vsi: uuidToString(v.vsiid), mode: v.mode, requester: req.pid }, `netlink: ${v.mode} accepted`);
  }

  private getLink(m: NlMessage, src: number): void {
    this.counters.getlink++;
    const req = decodeGetLink(m);
    const rt = this.runtime(req.ifname, req.ifindex, 'IFLA_IFNAME');
    const recs: StationRecord[] = [];
    if (rt.station) for (const rec of rt.station.records()) if (rec.wire.vsiidFormat === 5) recs.push(rec); // libvirt's VSIs are instance UUIDs
    // one datagram, as lldpad, and IFLA_VF_PORTS is one attribute (nla_len is 16 bits): at
    // most MAX_PORTS_PER_REPLY entries, the most recently commanded first, so a VM being
    // started is never the one left out
    recs.sort((a, b) => b.cmdAt - a.cmdAt);
    const fit: PortStatus[] = recs.slice(0, MAX_PORTS_PER_REPLY).map((rec) => {
      const r = portResponse(rec);
      return r === undefined ? { instanceUuid: rec.wire.vsiid } : { instanceUuid: rec.wire.vsiid, response: r };
    });
    if (recs.length > fit.length) this.counters.getlinkTruncated++;
    this.reply(encodeGetLinkReply(req, fit, { type: NLMSG_DONE, pid: this.sock.port }), src);
  }

  /** The bridge (or a failed keep-alive) ended a VSI that a netlink client asked for: tell it, as lldpad does. */
  notifyEnded(rt: InterfaceRuntime, rec: StationRecord): void {
    const r = rec.requester;
    if (!isNetlinkRequester(r) || r.family !== 'rtnl') return;
    const f0 = rec.wire.filters;
    const msg = encodeUnsolicited({
      ifname: rt.name,
      seq: r.seq,
      pid: this.sock.port,
      vfs: f0.map((f) => ({ ...(f.mac !== undefined ? { mac: f.mac } : {}), vlan: f.vid, qos: f.ps ? f.pcp : 0 })),
      mgrId: rec.wire.managerId[0]!,
      typeId: rec.wire.typeId,
      typeVersion: rec.wire.typeVersion,
      instanceUuid: rec.wire.vsiid,
    });
    if (this.sock.send(msg, r.pid)) {
      this.counters.notifications++;
      this.o.log.info({ iface: rt.name, vsi: uuidToString(rec.wire.vsiid), to: r.pid }, 'netlink: unsolicited disassociate sent to the requester');
    } else {
      this.counters.notificationsFailed++;
      this.o.log.warn({ iface: rt.name, vsi: uuidToString(rec.wire.vsiid), to: r.pid }, 'netlink: unsolicited disassociate could not be delivered (requester gone)');
    }
  }

  // ----------------------------------------------------------------- iovnl

  private iov(m: NlMessage, src: number): void {
    this.counters.iov++;
    const r = decodeIov(m);
    const rt = this.runtime(r.ifname, 0, 'IOV_ATTR_IFNAME');
    const st = this.station(rt);
    const uuid = r.instanceUuid!;
    const key = `${rt.name}/${uuidToString(uuid)}`;
    if (r.cmd === 'GET_PORT_PROFILE_STATUS') {
      const rec = newest(st.findByVsiid(uuid));
      this.reply(encodeIovStatus(r, { ifname: rt.name, instanceUuid: uuid, ...iovStatus(rec) }, this.sock.port), src);
      return;
    }
    const vf = this.vfLink(r);
    if (r.cmd === 'SET_MAC_VLAN') {
      const rec = newest(st.findByVsiid(uuid));
      if (rec && rec.state !== 'END') throw new NetlinkError('EBUSY', 'IOV_ATTR_MAC_VLAN', 20, `VSI ${uuidToString(uuid)} is active: unset its port profile before changing its MAC/VLAN list`);
      this.macVlans.set(key, r.macVlans);
      this.counters.acked++;
      this.reply(buildAck(m, 0, this.sock.port), src);
      return;
    }
    if (r.cmd === 'UNSET_PORT_PROFILE') {
      const rec = newest(st.findByVsiid(uuid));
      if (!rec || rec.state === 'END') throw new NetlinkError('ENODEV', 'IOV_ATTR_INSTANCE_UUID', 20, `no active VSI ${uuidToString(uuid)} on ${rt.name}`);
      st.command('deassoc', { ...rec.wire, filters: rec.wire.filters.map((f) => ({ ...f })) }, { via: 'netlink', family: 'iov', pid: r.pid, seq: r.seq } satisfies NetlinkRequester);
      this.macVlans.delete(key);
      this.counters.acked++;
      this.reply(buildAck(m, 0, this.sock.port), src);
      return;
    }
    // SET_PORT_PROFILE
    const wire = this.iovWire(r, vf.mac, this.macVlans.get(key) ?? r.macVlans);
    const mode = r.request === 0 ? 'preassoc' : r.request === 1 ? 'preassoc-rr' : 'assoc';
    st.command(mode, wire, { via: 'netlink', family: 'iov', pid: r.pid, seq: r.seq } satisfies NetlinkRequester);
    this.counters.acked++;
    this.reply(buildAck(m, 0, this.sock.port), src);
    this.o.log.info({ iface: rt.name, vf: r.vfIfname, vsi: uuidToString(uuid), mode }, `netlink: iovnl ${mode} accepted`);
  }

  /** The VM interface must exist in this namespace: a missing VF never falls back to the PF. */
  private vfLink(r: IovRequest): { mac: string } {
    try {
      return linkInfo(r.vfIfname!);
    } catch (e) {
      if (e instanceof UnknownInterfaceError) throw new NetlinkError('ENODEV', 'IOV_ATTR_VF_IFNAME', 20, `no VF interface ${JSON.stringify(r.vfIfname)} in the sender's network namespace`);
      throw e;
    }
  }

  private iovWire(r: IovRequest, vfMac: string, list: IovMacVlan[]): VsiWire {
    let managerId: Uint8Array;
    let typeId: number;
    let typeVersion: number;
    if (r.profile !== undefined) {
      const p = this.o.profiles[r.profile];
      if (!p) throw new NetlinkError('ENODEV', 'IOV_ATTR_PORT_PROFILE', 20, `no profile ${JSON.stringify(r.profile)} in the config (netlink.profiles: ${Object.keys(this.o.profiles).join(', ') || 'none'})`);
      managerId = managerIdToBytes(p.managerId);
      typeId = p.typeId;
      typeVersion = p.typeVersion;
    } else {
      managerId = new Uint8Array(16);
      typeId = r.typeId!;
      typeVersion = r.typeVersion!;
    }
    // explicit attributes refine a profile
    if (r.managerId) managerId = r.managerId;
    if (r.typeId !== undefined) typeId = r.typeId;
    if (r.typeVersion !== undefined) typeVersion = r.typeVersion;
    const filters = list.length > 0 ? list.map((x) => ({ mac: x.mac, vid: x.vid, pcp: x.pcp, ps: x.ps })) : [{ mac: vfMac, vid: 0, pcp: 0, ps: false }];
    return { managerId, typeId, typeVersion, vsiidFormat: 5, vsiid: vsiidToBytes('uuid', uuidToString(r.instanceUuid!)), filterFormat: 2, filters, hints: 0 };
  }
}

function newest(recs: StationRecord[]): StationRecord | undefined {
  let best: StationRecord | undefined;
  for (const r of recs) if (!best || r.cmdAt >= best.cmdAt) best = r;
  return best;
}
