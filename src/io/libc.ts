/**
 * The few libc calls vdpd's sockets need, through koffi. Buffers are passed as raw memory
 * (void *) so the kernel writes straight into them, including from koffi's async calls.
 */
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');

export const libc = {
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  bind: lib.func('int bind(int fd, void *addr, unsigned int len)'),
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, void *val, unsigned int len)'),
  getsockopt: lib.func('int getsockopt(int fd, int level, int name, _Inout_ void *val, _Inout_ unsigned int *len)'),
  sendto: lib.func('long sendto(int fd, void *buf, unsigned long len, int flags, void *addr, unsigned int alen)'),
  recvfrom: lib.func('long recvfrom(int fd, _Out_ void *buf, unsigned long len, int flags, _Out_ void *addr, _Inout_ unsigned int *alen)'),
  /** msghdr built by hand in a Buffer (pointers from koffi.address) so the kernel writes straight into our buffers */
  recvmsg: lib.func('long recvmsg(int fd, void *msg, int flags)'),
  getsockname: lib.func('int getsockname(int fd, void *addr, _Inout_ unsigned int *alen)'),
  close: lib.func('int close(int fd)'),
  poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
  write: lib.func('long write(int fd, void *buf, unsigned long len)'),
  read: lib.func('long read(int fd, _Out_ void *buf, unsigned long len)'),
  if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
  strerror: lib.func('const char *strerror(int errnum)'),
  /** glibc: give the free memory of every malloc arena back to the kernel */
  malloc_trim: lib.func('int malloc_trim(unsigned long pad)'),
};

/** The address of a Buffer's memory, for structures (msghdr, iovec) that hold pointers. */
export function addressOf(b: Buffer): bigint {
  return koffi.address(b);
}

export function errno(): number {
  return koffi.errno();
}

export const AF_PACKET = 17;
export const AF_NETLINK = 16;
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const NETLINK_ROUTE = 0;
export const SO_PASSCRED = 16;
export const SCM_CREDENTIALS = 2;
export const EADDRINUSE = 98;
export const ECONNREFUSED = 111;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SOL_PACKET = 263;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_PRIORITY = 12;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_MR_MULTICAST = 0;
export const PACKET_STATISTICS = 6;
export const PACKET_ORIGDEV = 9;
export const PACKET_OUTGOING = 4;
export const PACKET_OTHERHOST = 3;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const EAGAIN = 11;
export const EINTR = 4;
export const TC_PRIO_CONTROL = 7;

export class SyscallError extends Error {
  override readonly name = 'SyscallError';
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${String(libc.strerror(errno))} (errno ${errno})`);
  }
}

export function check(call: string, rc: number | bigint): number {
  const n = Number(rc);
  if (n < 0) throw new SyscallError(call, errno());
  return n;
}

export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

export function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}
