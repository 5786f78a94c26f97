/**
 * Netlink framing (host byte order — little-endian on the x86-64 and arm64 hosts vdpd runs
 * on): nlmsghdr, attributes (nlattr, 4-octet aligned, nla_len without the padding, the
 * NESTED / NET_BYTEORDER flag bits masked off the type), NLMSG_ERROR acks. Every length is
 * checked; a bad message raises NetlinkError with an errno and the attribute path, never
 * anything else.
 */
export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const ERRNO = { EINVAL: 22, EMSGSIZE: 90, ENODEV: 19, EOPNOTSUPP: 95, EPERM: 1, EBUSY: 16, ENXIO: 6, EPROTONOSUPPORT: 93 } as const;
export type ErrnoName = keyof typeof ERRNO;

export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  constructor(
    readonly errno: ErrnoName,
    /** attribute path, e.g. IFLA_VF_PORTS/IFLA_VF_PORT[0]/IFLA_PORT_VSI_TYPE */
    readonly path: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${errno}: ${path} at offset ${offset}: ${detail}`);
  }
  get code(): number {
    return ERRNO[this.errno];
  }
}

export const align4 = (n: number): number => (n + 3) & ~3;

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** bytes after the 16-octet header */
  payload: Uint8Array;
  /** the raw 16-octet header, for acks that copy it */
  header: Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** One datagram may carry several messages. */
export function parseMessages(buf: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) throw new NetlinkError('EINVAL', 'nlmsghdr', off, `${buf.length - off} octet(s) left, a header needs 16`);
    const v = view(buf.subarray(off));
    const len = v.getUint32(0, true);
    if (len < NLMSG_HDRLEN || len > buf.length - off) throw new NetlinkError('EINVAL', 'nlmsghdr.nlmsg_len', off, `length ${len} does not fit the ${buf.length - off} octet(s) left`);
    out.push({
      type: v.getUint16(4, true),
      flags: v.getUint16(6, true),
      seq: v.getUint32(8, true),
      pid: v.getUint32(12, true),
      header: buf.slice(off, off + NLMSG_HDRLEN),
      payload: buf.slice(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export function buildMessage(type: number, flags: number, seq: number, pid: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(NLMSG_HDRLEN + payload.length));
  const v = view(out);
  v.setUint32(0, NLMSG_HDRLEN + payload.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, pid, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/** NLMSG_ERROR reply: error 0 (ack) or −errno, then a copy of the request's header (36 octets in all). */
export function buildAck(req: NlMessage, errno: number, pid = 0): Uint8Array {
  const p = new Uint8Array(4 + NLMSG_HDRLEN);
  view(p).setInt32(0, -Math.abs(errno), true);
  p.set(req.header, 4);
  return buildMessage(NLMSG_ERROR, 0, req.seq, pid, p);
}

export interface Attr {
  type: number;
  nested: boolean;
  value: Uint8Array;
  /** absolute offset of the attribute header */
  offset: number;
}

/** Attributes of a block; `base` = absolute offset of buf[0], for errors. */
export function parseAttrs(buf: Uint8Array, base: number, path: string): Attr[] {
  const out: Attr[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLA_HDRLEN) throw new NetlinkError('EINVAL', path, base + off, `${buf.length - off} octet(s) left, an attribute header needs 4`);
    const v = view(buf.subarray(off));
    const len = v.getUint16(0, true);
    const raw = v.getUint16(2, true);
    if (len < NLA_HDRLEN || len > buf.length - off) throw new NetlinkError('EINVAL', path, base + off, `nla_len ${len} does not fit the ${buf.length - off} octet(s) left`);
    out.push({ type: raw & NLA_TYPE_MASK, nested: (raw & NLA_F_NESTED) !== 0, value: buf.subarray(off + NLA_HDRLEN, off + len), offset: base + off });
    off += align4(len);
  }
  return out;
}

/** Builds attribute blocks with nesting. */
export class AttrWriter {
  private parts: number[] = [];
  private stack: number[] = [];

  private push(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }

  private pad(): void {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
  }

  attr(type: number, value: Uint8Array): this {
    const len = NLA_HDRLEN + value.length;
    this.parts.push(len & 0xff, len >> 8, type & 0xff, type >> 8);
    this.push(value);
    this.pad();
    return this;
  }

  u8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }

  u16(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v & 0xff, v >> 8));
  }

  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    view(b).setUint32(0, v >>> 0, true);
    return this.attr(type, b);
  }

  string(type: number, s: string): this {
    const b = new TextEncoder().encode(s);
    const z = new Uint8Array(b.length + 1);
    z.set(b);
    return this.attr(type, z);
  }

  begin(type: number, nestedFlag = true): this {
    this.stack.push(this.parts.length);
    const t = type | (nestedFlag ? NLA_F_NESTED : 0);
    this.parts.push(0, 0, t & 0xff, t >> 8);
    return this;
  }

  end(): this {
    const at = this.stack.pop();
    if (at === undefined) throw new Error('AttrWriter.end without begin');
    const len = this.parts.length - at;
    this.parts[at] = len & 0xff;
    this.parts[at + 1] = len >> 8;
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function u32le(b: Uint8Array, path: string, offset: number): number {
  if (b.length < 4) throw new NetlinkError('EINVAL', path, offset, `u32 attribute with ${b.length} octet(s)`);
  return view(b).getUint32(0, true);
}

export function cstring(b: Uint8Array, path: string, offset: number, max = 256): string {
  const end = b.indexOf(0);
  const s = b.subarray(0, end < 0 ? b.length : end);
  if (s.length === 0 || s.length > max) throw new NetlinkError('EINVAL', path, offset, `string of ${s.length} octet(s), must be 1..${max}`);
  return new TextDecoder('utf-8', { fatal: false }).decode(s);
}
