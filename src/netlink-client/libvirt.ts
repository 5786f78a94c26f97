/**
 * A libvirt-equivalent netlink client for vdpd (or lldpad): what libvirt's
 * virNetDevVPortProfileOp8021Qbg does, byte for byte — read the daemon's pid from its pid
 * file on every operation, walk from the VM's macvtap/VLAN device to the physical root
 * device (IFLA_LINK, as sysfs `iflink` shows it) picking up the VLAN ID on the way, send
 * RTM_SETLINK with nlmsg_pid = the port of its event socket, wait ≤ 2 s for the ack, then
 * poll RTM_GETLINK every 125 ms for at most 10 s; and, on the event socket, re-associate when
 * the daemon sends an unsolicited disassociate. Used by `vdpctl --via netlink`, the lab and
 * the integration tests (as a separate process).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { uuidToString } from '../../pdu/bytes.js';
import { NetlinkSocket, type NetlinkDatagram } from '../io/netlink-socket.js';
import { libc, SyscallError } from '../io/libc.js';
import { decodeIovStatus, encodeIov, type IovRequestInput, type IovStatusReply } from '../../netlink/iovnl.js';
import { NLMSG_DONE, NLMSG_ERROR, parseMessages, parseAttrs, type NlMessage } from '../../netlink/nlmsg.js';
import {
  decodeSetLink,
  encodeLibvirtGetLink,
  encodeLibvirtSetLink,
  IFINFOMSG_LEN,
  IFLA_PORT_INSTANCE_UUID,
  IFLA_PORT_RESPONSE,
  IFLA_PORT_VF,
  IFLA_VF_PORT,
  IFLA_VF_PORTS,
  PORT_SELF_VF,
  RTM_NEWLINK,
  RTM_SETLINK,
  type SetLinkRequest,
} from '../../netlink/port-request.js';
import type { VdpdExtension } from '../../netlink/vdpd-ext.js';

export class NetlinkClientError extends Error {
  override readonly name = 'NetlinkClientError';
  constructor(
    readonly kind: 'no-daemon' | 'ack-timeout' | 'refused' | 'no-response' | 'poll-timeout' | 'bad-reply',
    message: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

/** The pid in an lldpad-style pid file: decimal, then newline/NUL padding. */
export function readDaemonPid(pidFile: string): number {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch (e) {
    throw new NetlinkClientError('no-daemon', `cannot read ${pidFile}: ${(e as Error).message} (is vdpd running with lldpadCompat enabled?)`);
  }
  const pid = parseInt(text.replace(/\0/g, '').trim(), 10);
  if (!(pid > 0)) throw new NetlinkClientError('no-daemon', `${pidFile} holds no pid`);
  return pid;
}

export interface RootDevice {
  ifname: string;
  ifindex: number;
  /** VLAN ID of a VLAN device met on the way down, else 0 */
  vlan: number;
  /** the devices walked, from the VM's to the root */
  path: string[];
}

export interface SysPaths {
  /** /sys/class/net */
  net: string;
  /** /proc/net/vlan */
  vlan: string;
}
const SYS: SysPaths = { net: '/sys/class/net', vlan: '/proc/net/vlan' };

function vlanIdOf(name: string, p: SysPaths): number | undefined {
  try {
    // /proc/net/vlan/<dev>: "<dev>  VID: 100	 REORDER_HDR: 1 ..."
    const m = /VID:\s*(\d+)/.exec(readFileSync(`${p.vlan}/${name}`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * libvirt's virNetDevGetLinkInfo walk: from the VM's device (macvtap → VLAN device →
 * physical) down IFLA_LINK to the device that has no lower device; the first VLAN device on
 * the way gives the VLAN ID sent in IFLA_VF_VLAN. The links are read from sysfs `lower_<dev>`
 * entries, not `iflink`: a veth's iflink is its peer's index in another namespace, which
 * would name an unrelated local device.
 */
export function findRootDevice(ifname: string, p: SysPaths = SYS): RootDevice {
  const path: string[] = [];
  let name = ifname;
  let vlan = 0;
  for (let depth = 0; depth < 8; depth++) {
    let idx = 0;
    let entries: string[] = [];
    try {
      idx = Number(readFileSync(`${p.net}/${name}/ifindex`, 'utf8').trim());
      entries = readdirSync(`${p.net}/${name}`);
    } catch {
      // not there
    }
    if (!idx) throw new NetlinkClientError('refused', `no interface ${name} in this network namespace`);
    path.push(name);
    const v = vlanIdOf(name, p);
    if (v !== undefined && vlan === 0) vlan = v;
    const lower = entries.filter((e) => e.startsWith('lower_')).map((e) => e.slice(6));
    if (lower.length === 0) return { ifname: name, ifindex: idx, vlan, path };
    name = lower[0]!;
  }
  throw new NetlinkClientError('refused', `lower-device chain from ${ifname} deeper than 8`);
}

export interface PortStatusEntry {
  instanceUuid: string;
  vf: number | undefined;
  response: number | undefined;
}


/** The IFLA_VF_PORTS of a GETLINK reply (NLMSG_DONE as lldpad sends it, or RTM_NEWLINK). */
export function parseStatusReply(m: NlMessage): PortStatusEntry[] {
  if (m.type !== NLMSG_DONE && m.type !== RTM_NEWLINK) throw new NetlinkClientError('bad-reply', `GETLINK reply of type ${m.type}`);
  const out: PortStatusEntry[] = [];
  for (const a of parseAttrs(m.payload.subarray(IFINFOMSG_LEN), 32, 'reply')) {
    if (a.type !== IFLA_VF_PORTS) continue;
    for (const p of parseAttrs(a.value, a.offset + 4, 'IFLA_VF_PORTS')) {
      if (p.type !== IFLA_VF_PORT) continue;
      const e: PortStatusEntry = { instanceUuid: '', vf: undefined, response: undefined };
      for (const x of parseAttrs(p.value, p.offset + 4, 'IFLA_VF_PORT')) {
        if (x.type === IFLA_PORT_INSTANCE_UUID && x.value.length >= 16) e.instanceUuid = uuidToString(x.value);
        else if (x.type === IFLA_PORT_VF && x.value.length >= 4) e.vf = Buffer.from(x.value).readUInt32LE(0);
        else if (x.type === IFLA_PORT_RESPONSE && x.value.length >= 2) e.response = Buffer.from(x.value).readUInt16LE(0);
      }
      out.push(e);
    }
  }
  return out;
}

export interface VportProfile {
  /** the VM's device (macvtap, VLAN or physical); the root device is found from it */
  linkdev: string;
  mac: string;
  mgrId: number;
  typeId: number;
  typeVersion: number;
  instanceUuid: string;
  ext?: VdpdExtension;
}

export type PortOp = 'preassoc' | 'preassoc-rr' | 'assoc' | 'deassoc';
const OP_NUM: Record<PortOp, number> = { preassoc: 0, 'preassoc-rr': 1, assoc: 2, deassoc: 3 };

export interface OpResult {
  /** IFLA_PORT_RESPONSE at the end: 0 success, else the daemon's code */
  response: number;
  polls: number;
  ackMs: number;
  totalMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LibvirtClient {
  /** libvirt's event-service socket: its port is the nlmsg_pid of every request */
  readonly events: NetlinkSocket;
  private readonly req: NetlinkSocket;
  private seq = Math.floor(Date.now() / 1000) & 0xffff;
  private waiters = new Map<number, (m: NlMessage) => void>();
  /** unsolicited RTM_SETLINK messages received from the daemon */
  readonly notifications: { from: number; request: SetLinkRequest }[] = [];
  private notifyListeners: ((n: { from: number; request: SetLinkRequest }) => void)[] = [];

  constructor(
    readonly pidFile = '/var/run/lldpad.pid',
    readonly o: { ackTimeoutMs?: number; pollIntervalMs?: number; pollTimeoutMs?: number } = {},
  ) {
    this.events = NetlinkSocket.client();
    this.req = NetlinkSocket.client();
    this.events.listen((d) => this.onEvent(d));
    this.req.listen((d) => this.onReply(d));
  }

  close(): void {
    this.events.close();
    this.req.close();
  }

  onNotification(fn: (n: { from: number; request: SetLinkRequest }) => void): void {
    this.notifyListeners.push(fn);
  }

  /** every well-formed message of a datagram (a malformed datagram is dropped, as libvirt does) */
  private static messages(d: NetlinkDatagram): NlMessage[] {
    try {
      return parseMessages(d.data);
    } catch {
      return [];
    }
  }

  private onEvent(d: NetlinkDatagram): void {
    for (const m of LibvirtClient.messages(d)) {
      // libvirt: only RTM_SETLINK from the pid in the daemon's pid file
      if (m.type !== RTM_SETLINK) continue;
      let daemon: number;
      try {
        daemon = readDaemonPid(this.pidFile);
      } catch {
        continue;
      }
      if (m.pid !== daemon && d.srcPort !== daemon) continue;
      try {
        const n = { from: d.srcPort, request: decodeSetLink(m) };
        this.notifications.push(n);
        for (const l of this.notifyListeners) l(n);
      } catch {
        // malformed notification: libvirt ignores it too
      }
    }
  }

  private onReply(d: NetlinkDatagram): void {
    for (const m of LibvirtClient.messages(d)) {
      const w = this.waiters.get(m.seq);
      if (w) {
        this.waiters.delete(m.seq);
        w(m);
      }
    }
  }

  /** Send one request and wait for the reply with its sequence number. */
  async transact(build: (seq: number, pid: number) => Uint8Array, timeoutMs = this.o.ackTimeoutMs ?? 2000): Promise<NlMessage> {
    const dst = readDaemonPid(this.pidFile);
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const bytes = build(seq, this.events.port);
    const reply = new Promise<NlMessage>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(seq);
        reject(new NetlinkClientError('ack-timeout', `no reply from netlink port ${dst} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(seq, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    try {
      this.req.sendOrThrow(bytes, dst);
    } catch (e) {
      this.waiters.delete(seq);
      // the kernel itself refuses unicast to a user port without CAP_NET_ADMIN (no NONROOT_SEND on NETLINK_ROUTE)
      if (e instanceof SyscallError && e.errno === 1) throw new NetlinkClientError('refused', `not permitted to send to netlink port ${dst}: ${e.message} (CAP_NET_ADMIN is required)`, 1);
      throw new NetlinkClientError('no-daemon', `cannot reach netlink port ${dst}: ${(e as Error).message}`);
    }
    return reply;
  }

  /** RTM_SETLINK; resolves on the ack, throws NetlinkClientError('refused') with the errno otherwise. */
  async setLink(p: VportProfile, op: PortOp): Promise<number> {
    const root = findRootDevice(p.linkdev);
    const uuid = Buffer.from(p.instanceUuid.replace(/-/g, ''), 'hex');
    const t0 = performance.now();
    const m = await this.transact((seq, pid) =>
      encodeLibvirtSetLink({ ifindex: root.ifindex, ifname: root.ifname, mac: p.mac, vlan: root.vlan, mgrId: p.mgrId, typeId: p.typeId, typeVersion: p.typeVersion, instanceUuid: uuid, request: OP_NUM[op], seq, pid, ...(p.ext ? { ext: p.ext } : {}) }),
    );
    if (m.type !== NLMSG_ERROR) throw new NetlinkClientError('bad-reply', `SETLINK answered with type ${m.type}`);
    const err = Buffer.from(m.payload).readInt32LE(0);
    if (err !== 0) throw new NetlinkClientError('refused', `error during virtual port configuration: ${String(libc.strerror(-err))} (errno ${-err})`, -err);
    return performance.now() - t0;
  }

  async getLink(linkdev: string): Promise<PortStatusEntry[]> {
    const root = findRootDevice(linkdev);
    const m = await this.transact((seq, pid) => encodeLibvirtGetLink({ ifindex: root.ifindex, ifname: root.ifname, seq, pid }));
    if (m.type === NLMSG_ERROR) {
      const err = Buffer.from(m.payload).readInt32LE(0);
      throw new NetlinkClientError('refused', `GETLINK refused: ${String(libc.strerror(-err))} (errno ${-err})`, -err);
    }
    return parseStatusReply(m);
  }

  /** libvirt's whole operation: SETLINK, then poll until the response is final. */
  async op(p: VportProfile, op: PortOp, o: { poll?: boolean } = {}): Promise<OpResult> {
    const t0 = performance.now();
    const ackMs = await this.setLink(p, op);
    if (o.poll === false) return { response: 0, polls: 0, ackMs, totalMs: performance.now() - t0 };
    const interval = this.o.pollIntervalMs ?? 125;
    const end = Date.now() + (this.o.pollTimeoutMs ?? 10_000);
    let polls = 0;
    const want = p.instanceUuid.toLowerCase();
    while (Date.now() < end) {
      polls++;
      const entries = await this.getLink(p.linkdev);
      const e = entries.find((x) => x.instanceUuid === want && x.vf === PORT_SELF_VF);
      // libvirt: no entry for our UUID is a hard error, not "keep polling"
      if (!e) throw new NetlinkClientError('no-response', `could not find netlink response with expected parameters (uuid ${want})`);
      const r = e.response ?? 0x101;
      if (r !== 0x101) return { response: r === 0x100 ? 0 : r, polls, ackMs, totalMs: performance.now() - t0 };
      await sleep(interval);
    }
    throw new NetlinkClientError('poll-timeout', 'port-profile setlink timed out');
  }

  // ----------------------------------------------------------------- iovnl

  async iov(r: Omit<IovRequestInput, 'seq' | 'pid'>): Promise<{ errno: number } | IovStatusReply> {
    const m = await this.transact((seq, pid) => encodeIov({ ...r, seq, pid }));
    if (m.type === NLMSG_ERROR) return { errno: -Buffer.from(m.payload).readInt32LE(0) };
    return decodeIovStatus(m);
  }
}
