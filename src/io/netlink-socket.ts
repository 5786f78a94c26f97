/**
 * NETLINK_ROUTE sockets for vdpd's control plane, through koffi. The daemon's socket is
 * bound to port id = its pid (libvirt sends to the pid it reads from the pid file), must be
 * the process's first netlink socket (the kernel auto-binds the first unbound one to the
 * pid), asks for SCM_CREDENTIALS so every request says who sent it, and has an 8 MB receive
 * buffer so a burst of requests is not dropped. Clients get a kernel-chosen port.
 */
import {
  addressOf,
  AF_NETLINK,
  check,
  EAGAIN,
  errno,
  int32,
  libc,
  MSG_DONTWAIT,
  NETLINK_ROUTE,
  SCM_CREDENTIALS,
  SO_PASSCRED,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_SOCKET,
  SyscallError,
} from './libc.js';
import { reactor } from './reactor.js';

export interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface NetlinkDatagram {
  data: Uint8Array;
  /** the sender's port id: where the reply goes */
  srcPort: number;
  creds: Credentials | undefined;
}

const MAX_MSG = 64 * 1024;

function sockaddrNl(port: number): Buffer {
  const a = Buffer.alloc(12);
  a.writeUInt16LE(AF_NETLINK, 0);
  a.writeUInt32LE(port >>> 0, 4);
  return a;
}

export class NetlinkSocket {
  private closed = false;
  private handler: ((d: NetlinkDatagram) => void) | undefined;
  private readonly data = Buffer.alloc(MAX_MSG);
  private readonly name = Buffer.alloc(12);
  private readonly control = Buffer.alloc(64);
  private readonly iov = Buffer.alloc(16);
  private readonly msghdr = Buffer.alloc(56);
  /** datagrams refused by the kernel for lack of room are invisible; these are ours */
  readonly stats = { received: 0, sent: 0, sendErrors: 0 };

  private constructor(
    readonly fd: number,
    readonly port: number,
  ) {
    this.iov.writeBigUInt64LE(addressOf(this.data), 0);
    this.iov.writeBigUInt64LE(BigInt(MAX_MSG), 8);
  }

  /**
   * Bind to `port` (default: the pid, as lldpad does). EADDRINUSE means another socket of
   * this process (or another process) took the port first: say so plainly.
   */
  static bound(port = process.pid, rcvbuf = 8 * 1024 * 1024): NetlinkSocket {
    const fd = check('socket(AF_NETLINK)', libc.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    try {
      const rc = Number(libc.bind(fd, sockaddrNl(port), 12));
      if (rc < 0) {
        const e = errno();
        throw new SyscallError(`bind(netlink port ${port})${e === 98 ? ': the port is taken (another netlink socket of this process or another daemon, e.g. lldpad, holds it)' : ''}`, e);
      }
      NetlinkSocket.tune(fd, rcvbuf);
      return new NetlinkSocket(fd, port);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  /** A client socket with a kernel-chosen port (what libvirt's request sockets are). */
  static client(rcvbuf = 1024 * 1024): NetlinkSocket {
    const fd = check('socket(AF_NETLINK)', libc.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    try {
      check('bind(netlink)', libc.bind(fd, sockaddrNl(0), 12));
      const a = Buffer.alloc(12);
      const len = [12];
      check('getsockname', libc.getsockname(fd, a, len));
      NetlinkSocket.tune(fd, rcvbuf);
      return new NetlinkSocket(fd, a.readUInt32LE(4));
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  private static tune(fd: number, rcvbuf: number): void {
    // SO_RCVBUFFORCE passes rmem_max (root); without the privilege fall back to SO_RCVBUF
    if (Number(libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(rcvbuf), 4)) < 0) libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int32(rcvbuf), 4);
    check('setsockopt(SO_PASSCRED)', libc.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, int32(1), 4));
  }

  /** Send one datagram to a netlink port; false (and counted) when the kernel refused it. */
  send(data: Uint8Array, dstPort: number): boolean {
    if (this.closed) return false;
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const rc = Number(libc.sendto(this.fd, b, b.length, MSG_DONTWAIT, sockaddrNl(dstPort), 12));
    if (rc < 0) {
      this.stats.sendErrors++;
      return false;
    }
    this.stats.sent++;
    return true;
  }

  /** Like send, but throws the kernel's error (ECONNREFUSED: nobody holds that port). */
  sendOrThrow(data: Uint8Array, dstPort: number): void {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    check(`sendto(netlink port ${dstPort})`, libc.sendto(this.fd, b, b.length, 0, sockaddrNl(dstPort), 12));
    this.stats.sent++;
  }

  /** One datagram, or undefined when none is waiting. */
  receive(): NetlinkDatagram | undefined {
    const h = this.msghdr;
    h.fill(0);
    h.writeBigUInt64LE(addressOf(this.name), 0);
    h.writeUInt32LE(12, 8);
    h.writeBigUInt64LE(addressOf(this.iov), 16);
    h.writeBigUInt64LE(1n, 24);
    h.writeBigUInt64LE(addressOf(this.control), 32);
    h.writeBigUInt64LE(BigInt(this.control.length), 40);
    const n = Number(libc.recvmsg(this.fd, h, MSG_DONTWAIT));
    if (n < 0) {
      if (errno() === EAGAIN) return undefined;
      throw new SyscallError('recvmsg(netlink)', errno());
    }
    this.stats.received++;
    const ctlLen = Number(h.readBigUInt64LE(40));
    let creds: Credentials | undefined;
    // struct cmsghdr { size_t len; int level; int type; } then struct ucred { pid, uid, gid }
    for (let off = 0; off + 16 <= ctlLen; ) {
      const len = Number(this.control.readBigUInt64LE(off));
      if (len < 16) break;
      if (this.control.readInt32LE(off + 8) === SOL_SOCKET && this.control.readInt32LE(off + 12) === SCM_CREDENTIALS && len >= 28) {
        creds = { pid: this.control.readInt32LE(off + 16), uid: this.control.readUInt32LE(off + 20), gid: this.control.readUInt32LE(off + 24) };
      }
      off += (len + 7) & ~7;
    }
    return { data: Uint8Array.prototype.slice.call(this.data, 0, Math.min(n, MAX_MSG)), srcPort: this.name.readUInt32LE(4), creds };
  }

  /**
   * Deliver every datagram to `handler` on the main thread as it arrives; `onBatchEnd`
   * runs after each batch read in one wake-up (a server flushes coalesced replies there).
   */
  listen(handler: (d: NetlinkDatagram) => void, onBatchEnd?: () => void): void {
    this.handler = handler;
    reactor().add({
      fd: this.fd,
      onReadable: () => {
        // bounded per wake-up so a flood cannot starve timers and other sockets
        for (let i = 0; i < 2048 && !this.closed; i++) {
          const d = this.receive();
          if (!d) break;
          this.handler?.(d);
        }
        onBatchEnd?.();
      },
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.handler) reactor().remove(this.fd);
    libc.close(this.fd);
  }
}
