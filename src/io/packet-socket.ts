/**
 * AF_PACKET socket for one ethertype on one interface, as lldpad opens them: bound to the
 * ifindex, joined to the group addresses in use with PACKET_ADD_MEMBERSHIP (never
 * promiscuous mode — a hypervisor NIC must not see every frame on the wire), PACKET_ORIGDEV,
 * SO_PRIORITY = TC_PRIO_CONTROL, and a receive buffer of ~8 MB so a burst of ECPDUs is not
 * dropped. Reads happen on the main thread when the reactor says the socket is readable.
 */
import { readFileSync } from 'node:fs';
import { turnBudget } from './turn-budget.js';
import { macToBytes, macToString } from '../../pdu/bytes.js';
import {
  AF_PACKET,
  check,
  EAGAIN,
  errno,
  htons,
  int32,
  libc,
  MSG_DONTWAIT,
  PACKET_ADD_MEMBERSHIP,
  PACKET_MR_MULTICAST,
  PACKET_ORIGDEV,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
  PACKET_STATISTICS,
  SO_PRIORITY,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_PACKET,
  SOL_SOCKET,
  SyscallError,
  TC_PRIO_CONTROL,
} from './libc.js';
import { reactor } from './reactor.js';

export class UnknownInterfaceError extends Error {
  override readonly name = 'UnknownInterfaceError';
  constructor(readonly ifname: string) {
    super(`unknown interface ${JSON.stringify(ifname)} in this network namespace`);
  }
}

export interface LinkInfo {
  name: string;
  ifindex: number;
  mac: string;
  mtu: number;
  /** carrier and administratively up */
  up: boolean;
  promisc: boolean;
}

const IFF_UP = 0x1;
const IFF_PROMISC = 0x100;

/** Interface facts from the kernel (sysfs of the current network namespace). */
export function linkInfo(name: string): LinkInfo {
  if (!/^[^/\s]{1,15}$/.test(name)) throw new UnknownInterfaceError(name);
  const ifindex = Number(libc.if_nametoindex(name));
  if (!ifindex) throw new UnknownInterfaceError(name);
  const sys = (f: string): string => {
    try {
      return readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const flags = parseInt(sys('flags') || '0', 16);
  const carrier = sys('carrier') === '1';
  return {
    name,
    ifindex,
    mac: sys('address') || '00:00:00:00:00:00',
    mtu: Number(sys('mtu') || 1500),
    up: (flags & IFF_UP) !== 0 && carrier,
    promisc: (flags & IFF_PROMISC) !== 0,
  };
}

function sockaddrLl(ifindex: number, ethertype: number, mac?: string): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16LE(htons(ethertype), 2);
  b.writeInt32LE(ifindex, 4);
  if (mac) {
    b.writeUInt8(6, 11);
    Buffer.from(macToBytes(mac)).copy(b, 12);
  }
  return b;
}

export interface PacketSocketOptions {
  ifname: string;
  ethertype: number;
  /** group addresses to join (PACKET_MR_MULTICAST) */
  multicast: string[];
  rcvbuf?: number;
  onFrame: (frame: Uint8Array) => void;
}

export interface PacketCounters {
  rx: number;
  tx: number;
  txErrors: number;
  rxErrors: number;
  outgoingIgnored: number;
  otherHostIgnored: number;
}

/** time a socket's frames may take per event-loop turn (as API lines and timer expiries, 5 ms) */
const DRAIN_SLICE_MS = 5;

export class PacketSocket {
  readonly counters: PacketCounters = { rx: 0, tx: 0, txErrors: 0, rxErrors: 0, outgoingIgnored: 0, otherHostIgnored: 0 };
  private fd: number;
  private buf = Buffer.alloc(65536);
  private addr = Buffer.alloc(20);
  private alen = [20];
  private closed = false;
  readonly ifindex: number;
  readonly rcvbuf: number;

  private constructor(private readonly o: PacketSocketOptions) {
    this.ifindex = linkInfo(o.ifname).ifindex;
    this.fd = check('socket(AF_PACKET)', libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(o.ethertype)));
    try {
      const sll = sockaddrLl(this.ifindex, o.ethertype);
      check('bind', libc.bind(this.fd, sll, sll.length));
      for (const mac of o.multicast) {
        const mreq = Buffer.alloc(16);
        mreq.writeInt32LE(this.ifindex, 0);
        mreq.writeUInt16LE(PACKET_MR_MULTICAST, 4);
        mreq.writeUInt16LE(6, 6);
        Buffer.from(macToBytes(mac)).copy(mreq, 8);
        check('PACKET_ADD_MEMBERSHIP', libc.setsockopt(this.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16));
      }
      libc.setsockopt(this.fd, SOL_PACKET, PACKET_ORIGDEV, int32(1), 4);
      libc.setsockopt(this.fd, SOL_SOCKET, SO_PRIORITY, int32(TC_PRIO_CONTROL), 4);
      const want = o.rcvbuf ?? 8 * 1024 * 1024;
      // SO_RCVBUFFORCE (root) goes past net.core.rmem_max; fall back to what is allowed
      if (Number(libc.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(want), 4)) < 0) libc.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, int32(want), 4);
      const got = Buffer.alloc(4);
      const len = [4];
      libc.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, got, len);
      this.rcvbuf = got.readInt32LE(0);
    } catch (e) {
      libc.close(this.fd);
      throw e;
    }
    reactor().add({ fd: this.fd, onReadable: () => this.drain() });
  }

  static open(o: PacketSocketOptions): PacketSocket {
    return new PacketSocket(o);
  }

  /**
   * Reads until EAGAIN, but for at most DRAIN_SLICE_MS per event-loop turn: each frame runs
   * the ECP and VDP machines, and a peer flooding the port (lldpad's ECP re-sending every
   * answer several times once its timers leak) would otherwise hold the loop for hundreds
   * of ms, delaying our own ACKs and timers. What is left is read on the next turn (the
   * socket is still readable, so the reactor's next poll returns at once).
   */
  private drain(): void {
    const t0 = performance.now();
    const turn = turnBudget();
    turn.begin();
    for (let n = 0; n < 4096 && !this.closed; n++) {
      if (n > 0 && (performance.now() - t0 > DRAIN_SLICE_MS || turn.over())) return;
      this.alen[0] = 20;
      const rc = Number(libc.recvfrom(this.fd, this.buf, this.buf.length, MSG_DONTWAIT, this.addr, this.alen));
      if (rc < 0) {
        if (errno() !== EAGAIN) this.counters.rxErrors++;
        return;
      }
      const pkttype = this.addr.readUInt8(10);
      // our own transmissions come back as PACKET_OUTGOING copies
      if (pkttype === PACKET_OUTGOING) {
        this.counters.outgoingIgnored++;
        continue;
      }
      // a link that does not filter by MAC (veth, a hub, promiscuous mode set by someone else)
      // hands us frames for other hosts: not ours
      if (pkttype === PACKET_OTHERHOST) {
        this.counters.otherHostIgnored++;
        continue;
      }
      this.counters.rx++;
      this.o.onFrame(new Uint8Array(this.buf.subarray(0, rc)));
    }
  }

  send(frame: Uint8Array, dst?: string): boolean {
    if (this.closed) return false;
    const d = dst ?? macToString(frame, 0);
    const sll = sockaddrLl(this.ifindex, this.o.ethertype, d);
    const rc = Number(libc.sendto(this.fd, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), frame.length, 0, sll, 20));
    if (rc < 0) {
      this.counters.txErrors++;
      return false;
    }
    this.counters.tx++;
    return true;
  }

  /** kernel-side counters: packets seen and dropped for lack of buffer space (reading resets them) */
  kernelStats(): { packets: number; drops: number } {
    const b = Buffer.alloc(8);
    const len = [8];
    if (Number(libc.getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, b, len)) < 0) throw new SyscallError('PACKET_STATISTICS', errno());
    return { packets: b.readUInt32LE(0), drops: b.readUInt32LE(4) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    reactor().remove(this.fd);
    libc.close(this.fd);
  }
}
