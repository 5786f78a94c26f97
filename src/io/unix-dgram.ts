/**
 * An abstract-namespace AF_UNIX datagram socket through koffi (Node's dgram speaks UDP
 * only). Used for lldpad's client interface address `@/com/intel/lldpad`, which tools
 * probe to find the daemon in a network namespace.
 */
import { AF_UNIX, check, EAGAIN, errno, libc, MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SyscallError } from './libc.js';
import { reactor } from './reactor.js';

const SUN_LEN = 110;

/** sockaddr_un for an abstract name (leading NUL, no trailing NUL, length = 2 + 1 + name). */
export function abstractAddress(name: string): { addr: Buffer; len: number } {
  const n = Buffer.from(name, 'utf8');
  if (n.length + 1 > SUN_LEN - 2) throw new RangeError(`abstract socket name too long: ${name}`);
  const addr = Buffer.alloc(SUN_LEN);
  addr.writeUInt16LE(AF_UNIX, 0);
  n.copy(addr, 3);
  return { addr, len: 3 + n.length };
}

export interface UnixDatagram {
  data: Buffer;
  from: Buffer;
}

export class UnixDgramSocket {
  private closed = false;
  private watching = false;
  private readonly buf = Buffer.alloc(8192);

  private constructor(readonly fd: number) {}

  /** Bind `@name`; EADDRINUSE when another daemon (lldpad) holds it in this namespace. */
  static bindAbstract(name: string): UnixDgramSocket {
    const fd = check('socket(AF_UNIX)', libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const { addr, len } = abstractAddress(name);
    if (Number(libc.bind(fd, addr, len)) < 0) {
      const e = errno();
      libc.close(fd);
      throw new SyscallError(`bind(@${name})`, e);
    }
    return new UnixDgramSocket(fd);
  }

  /** An autobound client socket (the kernel picks an abstract name so replies can reach it). */
  static client(): UnixDgramSocket {
    const fd = check('socket(AF_UNIX)', libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const a = Buffer.alloc(2);
    a.writeUInt16LE(AF_UNIX, 0);
    check('bind(autobind)', libc.bind(fd, a, 2));
    return new UnixDgramSocket(fd);
  }

  sendTo(data: Buffer, to: Buffer): boolean {
    return Number(libc.sendto(this.fd, data, data.length, MSG_DONTWAIT, to, to.length)) >= 0;
  }

  sendToAbstract(data: Buffer, name: string): void {
    const { addr, len } = abstractAddress(name);
    check(`sendto(@${name})`, libc.sendto(this.fd, data, data.length, MSG_DONTWAIT, addr, len));
  }

  receive(): UnixDatagram | undefined {
    const from = Buffer.alloc(SUN_LEN);
    const alen = [SUN_LEN];
    const n = Number(libc.recvfrom(this.fd, this.buf, this.buf.length, MSG_DONTWAIT, from, alen));
    if (n < 0) {
      if (errno() === EAGAIN) return undefined;
      throw new SyscallError('recvfrom(unix)', errno());
    }
    return { data: Buffer.from(this.buf.subarray(0, n)), from: from.subarray(0, alen[0]) };
  }

  listen(handler: (d: UnixDatagram) => void): void {
    this.watching = true;
    reactor().add({
      fd: this.fd,
      onReadable: () => {
        for (let i = 0; i < 256 && !this.closed; i++) {
          const d = this.receive();
          if (!d) break;
          handler(d);
        }
      },
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.watching) reactor().remove(this.fd);
    libc.close(this.fd);
  }
}
