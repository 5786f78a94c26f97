/**
 * pcap and pcapng, pure (no I/O): an incremental parser that accepts chunks (so a large
 * capture streams through without being loaded whole), a whole-buffer helper, and the
 * classic-pcap serialisers vdpd writes with. Timestamps are kept exactly as nanoseconds
 * (bigint) besides a float for display.
 */
import { PduError } from './errors.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

export interface PcapRecord {
  /** 1-based frame number */
  index: number;
  /** seconds since the epoch, float (display; use `ns` for exact arithmetic) */
  time: number;
  ns: bigint;
  caplen: number;
  origLen: number;
  linktype: number;
  data: Uint8Array;
  interfaceId?: number;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const MAX_RECORD = 256 * 1024 * 1024;

/**
 * Receives the records of `PcapParser.scan` in place: no copy of the octets, no object
 * per record, no bigint arithmetic for classic pcap.
 */
export interface PcapRecordSink {
  /**
   * One record, its octets `buf[start..end)`: a view into a chunk given to scan() (or into
   * a copy the parser made of a record that spans chunks), valid for as long as the caller
   * leaves its chunks unchanged. The timestamp is `sec` seconds + `nsec` nanoseconds since
   * the epoch (classic pcap, exact as numbers); from pcapng it is `ns` (exact, as in
   * `PcapRecord`) and `sec`/`nsec` are NaN.
   */
  record(buf: Uint8Array, start: number, end: number, linktype: number, index: number, sec: number, nsec: number, ns: bigint | undefined): void;
  /**
   * The octets of `buffer` are about to be overwritten (a reader that reuses its buffers,
   * src/replay/source.ts): copy whatever is still kept of records in it.
   */
  release?(buffer: ArrayBufferLike): void;
}

interface NgIface {
  linktype: number;
  /** ticks per second */
  resol: bigint;
}

/**
 * Feed chunks in order with push(); each returns the records completed so far. A frame
 * cut off by the end of the file is reported by end(). Errors are PduError (layer 'pcap')
 * with the absolute file offset.
 */
export class PcapParser {
  private buf: Uint8Array = new Uint8Array(0);
  /** absolute file offset of buf[0] */
  private off = 0;
  private format: 'unknown' | 'pcap' | 'pcapng' = 'unknown';
  private le = true;
  private nsRes = false;
  private linktype = LINKTYPE_ETHERNET;
  private ifaces: NgIface[] = [];
  private index = 0;

  push(chunk: Uint8Array): PcapRecord[] {
    this.append(chunk);
    const out: PcapRecord[] = [];
    let p = 0;
    for (;;) {
      const used = this.step(p, out);
      if (used === 0) break;
      p += used;
    }
    this.buf = this.buf.subarray(p);
    this.off += p;
    return out;
  }

  private append(chunk: Uint8Array): void {
    if (this.buf.length === 0) this.buf = chunk;
    else {
      // a Buffer like the chunks a file stream gives: one kind of array for every reader of the octets keeps their code monomorphic
      const b = Buffer.allocUnsafe(this.buf.length + chunk.length);
      b.set(this.buf);
      b.set(chunk, this.buf.length);
      this.buf = b;
    }
  }

  /**
   * push() for readers that take records in place (the replay): each completed record goes
   * to `sink` as soon as it is parsed. The same records as push() gives, but on an error
   * the records before the failing unit have already been delivered (push() throws them
   * away with the chunk).
   */
  scan(chunk: Uint8Array, sink: PcapRecordSink): void {
    this.append(chunk);
    this.scanBuffered(sink);
  }

  /** the records complete in `buf` to `sink`; `buf` keeps the rest */
  private scanBuffered(sink: PcapRecordSink): void {
    const b = this.buf;
    let p = 0;
    try {
      for (;;) {
        if (this.format === 'pcap') {
          // classic pcap records, the bulk of a capture: read in place (as step() does)
          const avail = b.length - p;
          if (avail < 16) break;
          const sec = this.u32(p);
          const frac = this.u32(p + 4);
          const caplen = this.u32(p + 8);
          if (caplen > MAX_RECORD) throw new PduError('pcap', 'bad-length', 'record.caplen', this.off + p + 8, `record length ${caplen} is implausible`);
          if (avail < 16 + caplen) break;
          sink.record(b, p + 16, p + 16 + caplen, this.linktype, ++this.index, sec, this.nsRes ? frac : frac * 1000, undefined);
          p += 16 + caplen;
          continue;
        }
        const out: PcapRecord[] = [];
        const used = this.step(p, out);
        for (const r of out) sink.record(r.data, 0, r.data.length, r.linktype, r.index, NaN, NaN, r.ns);
        if (used === 0) break;
        p += used;
      }
    } finally {
      this.buf = this.buf.subarray(p);
      this.off += p;
    }
  }

  /**
   * scan() for a reader that keeps its own buffer: `chunk` starts with the octets the
   * previous call did not consume (a unit cut off by that chunk's end), and nothing of it is
   * copied or kept beyond the call (bar the unconsumed rest, for end()). Returns the octets
   * consumed; the rest must start the next chunk.
   */
  scanChunk(chunk: Uint8Array, sink: PcapRecordSink): number {
    const before = this.off;
    this.buf = chunk;
    this.scanBuffered(sink);
    return this.off - before;
  }

  /** Call at end of input: leftover octets mean a truncated file. */
  end(): void {
    if (this.buf.length > 0) {
      throw new PduError('pcap', 'truncated', this.format === 'unknown' ? 'header' : 'record', this.off, `file ends inside a ${this.format === 'unknown' ? 'header' : 'record'} (${this.buf.length} octet(s) left)`);
    }
    if (this.format === 'unknown') throw new PduError('pcap', 'truncated', 'header', 0, 'empty file');
  }

  private u32(p: number): number {
    const b = this.buf;
    return this.le
      ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0
      : ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  private u16(p: number): number {
    const b = this.buf;
    return this.le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
  }

  /** parse one unit at p; returns octets consumed, 0 if more input is needed */
  private step(p: number, out: PcapRecord[]): number {
    const avail = this.buf.length - p;
    if (this.format === 'unknown') {
      if (avail < 4) return 0;
      const b = this.buf;
      const be = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      const le = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
      if (be === PCAPNG_SHB) {
        this.format = 'pcapng';
        return 0 + this.ngBlock(p, out);
      }
      if (be === MAGIC_US || be === MAGIC_NS) this.le = false;
      else if (le === MAGIC_US || le === MAGIC_NS) this.le = true;
      else throw new PduError('pcap', 'bad-value', 'magic', this.off + p, `not a pcap or pcapng file (magic ${be.toString(16).padStart(8, '0')})`);
      if (avail < 24) return 0;
      this.nsRes = (this.le ? le : be) === MAGIC_NS;
      this.linktype = this.u32(p + 20) & 0xffff;
      this.format = 'pcap';
      return 24;
    }
    if (this.format === 'pcapng') return this.ngBlock(p, out);
    if (avail < 16) return 0;
    const sec = this.u32(p);
    const frac = this.u32(p + 4);
    const caplen = this.u32(p + 8);
    const origLen = this.u32(p + 12);
    if (caplen > MAX_RECORD) throw new PduError('pcap', 'bad-length', 'record.caplen', this.off + p + 8, `record length ${caplen} is implausible`);
    if (avail < 16 + caplen) return 0;
    const ns = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (this.nsRes ? 1n : 1000n);
    out.push({
      index: ++this.index,
      time: sec + frac / (this.nsRes ? 1e9 : 1e6),
      ns,
      caplen,
      origLen,
      linktype: this.linktype,
      data: this.buf.slice(p + 16, p + 16 + caplen),
    });
    return 16 + caplen;
  }

  private ngBlock(p: number, out: PcapRecord[]): number {
    const avail = this.buf.length - p;
    if (avail < 12) return 0;
    const b = this.buf;
    const type = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    if (type === PCAPNG_SHB) {
      const bomLe = (b[p + 8]! | (b[p + 9]! << 8) | (b[p + 10]! << 16) | (b[p + 11]! << 24)) >>> 0;
      if (bomLe === BOM) this.le = true;
      else if (((b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!) >>> 0 === BOM) this.le = false;
      else throw new PduError('pcap', 'bad-value', 'shb.byteOrderMagic', this.off + p + 8, 'bad pcapng byte-order magic');
      this.ifaces = [];
    }
    const len = this.u32(p + 4);
    const btype = this.u32(p);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
      throw new PduError('pcap', 'bad-length', 'block.length', this.off + p + 4, `pcapng block length ${len} is invalid`);
    }
    if (avail < len) return 0;
    if (this.u32(p + len - 4) !== len) {
      throw new PduError('pcap', 'bad-length', 'block.trailingLength', this.off + p + len - 4, 'pcapng block trailing length differs');
    }
    const body = p + 8;
    const bodyLen = len - 12;
    switch (btype) {
      case 1: {
        // IDB: linktype, reserved, snaplen, options (if_tsresol = 9)
        if (bodyLen < 8) throw new PduError('pcap', 'bad-length', 'idb', this.off + p, 'interface description block too short');
        const iface: NgIface = { linktype: this.u16(body), resol: 1_000_000n };
        let o = body + 8;
        const end = body + bodyLen;
        while (o + 4 <= end) {
          const code = this.u16(o);
          const olen = this.u16(o + 2);
          if (code === 0) break;
          if (code === 9 && olen >= 1) {
            const v = b[o + 4]!;
            iface.resol = v & 0x80 ? 2n ** BigInt(v & 0x7f) : 10n ** BigInt(v & 0x7f);
          }
          o += 4 + ((olen + 3) & ~3);
        }
        this.ifaces.push(iface);
        break;
      }
      case 6: {
        // EPB: interface id, ts high, ts low, caplen, origlen, data
        if (bodyLen < 20) throw new PduError('pcap', 'bad-length', 'epb', this.off + p, 'enhanced packet block too short');
        const ifid = this.u32(body);
        const iface = this.ifaces[ifid];
        if (!iface) throw new PduError('pcap', 'bad-value', 'epb.interfaceId', this.off + body, `packet names interface ${ifid}, which was not described`);
        const ts = (BigInt(this.u32(body + 4)) << 32n) | BigInt(this.u32(body + 8));
        const caplen = this.u32(body + 12);
        const origLen = this.u32(body + 16);
        if (caplen > bodyLen - 20) throw new PduError('pcap', 'bad-length', 'epb.caplen', this.off + body + 12, `captured length ${caplen} exceeds the block`);
        const ns = (ts * 1_000_000_000n) / iface.resol;
        out.push({
          index: ++this.index,
          time: Number(ns) / 1e9,
          ns,
          caplen,
          origLen,
          linktype: iface.linktype,
          data: b.slice(body + 20, body + 20 + caplen),
          interfaceId: ifid,
        });
        break;
      }
      case 3: {
        // SPB: original length, data; interface 0, no timestamp
        const iface = this.ifaces[0];
        if (!iface) throw new PduError('pcap', 'bad-value', 'spb', this.off + p, 'simple packet block before any interface');
        const origLen = this.u32(body);
        const caplen = Math.min(origLen, bodyLen - 4);
        out.push({ index: ++this.index, time: 0, ns: 0n, caplen, origLen, linktype: iface.linktype, data: b.slice(body + 4, body + 4 + caplen), interfaceId: 0 });
        break;
      }
      default:
        break; // SHB handled above; statistics, name resolution, custom blocks: skipped
    }
    return len;
  }
}

/** Whole-buffer convenience: every record, or a PduError after the last good one. */
export function parsePcap(buf: Uint8Array): PcapRecord[] {
  const p = new PcapParser();
  const out = p.push(buf);
  p.end();
  return out;
}

/**
 * Ethernet bytes of a record: as is for LINKTYPE_ETHERNET; Linux cooked captures (tcpdump -i
 * any) get a synthetic Ethernet header (destination unknown → 00:00:00:00:00:00 unless the
 * packet type says broadcast/multicast, source from the SLL address). Other link types: undefined.
 */
export function ethernetOf(rec: PcapRecord): Uint8Array | undefined {
  const d = rec.data;
  if (rec.linktype === LINKTYPE_ETHERNET) return d;
  let proto: number;
  let addrLen: number;
  let addr: number;
  let payload: number;
  if (rec.linktype === LINKTYPE_LINUX_SLL && d.length >= 16) {
    addrLen = (d[4]! << 8) | d[5]!;
    addr = 6;
    proto = (d[14]! << 8) | d[15]!;
    payload = 16;
  } else if (rec.linktype === LINKTYPE_LINUX_SLL2 && d.length >= 20) {
    proto = (d[0]! << 8) | d[1]!;
    addrLen = d[11]!;
    addr = 12;
    payload = 20;
  } else {
    return undefined;
  }
  const out = new Uint8Array(14 + d.length - payload);
  if (addrLen === 6) out.set(d.subarray(addr, addr + 6), 6);
  out[12] = proto >> 8;
  out[13] = proto & 0xff;
  out.set(d.subarray(payload), 14);
  return out;
}

export interface PcapHeaderOptions {
  nanoseconds?: boolean;
  linktype?: number;
  snaplen?: number;
}

/** Classic pcap global header, little-endian. */
export function serializePcapHeader(o: PcapHeaderOptions = {}): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  v.setUint32(0, o.nanoseconds === false ? MAGIC_US : MAGIC_NS, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, o.snaplen ?? 262144, true);
  v.setUint32(20, o.linktype ?? LINKTYPE_ETHERNET, true);
  return out;
}

/** One classic pcap record; `ns` = timestamp in nanoseconds since the epoch. */
export function serializePcapRecord(ns: bigint, data: Uint8Array, nanoseconds = true, origLen = data.length): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const v = new DataView(out.buffer);
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  v.setUint32(0, Number(sec), true);
  v.setUint32(4, Number(nanoseconds ? frac : frac / 1000n), true);
  v.setUint32(8, data.length, true);
  v.setUint32(12, origLen, true);
  out.set(data, 16);
  return out;
}
