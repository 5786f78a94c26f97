/**
 * Records of a capture file or buffer for the replay. pcap/pcapng/gzip parsing is
 * pdu/pcap.ts (`PcapParser`); the records go to a sink in place (`PcapParser.scan`: no copy,
 * no object and no bigint per record; a generator step or an object per record cost more
 * than the parsing). When the parser stops at a damaged record, every record before it
 * has already been delivered, so a damaged capture loses nothing before the damage; the
 * error is then thrown for the caller to report.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { PcapParser, type PcapRecordSink } from '../../pdu/pcap.js';

/**
 * node:zlib, loaded when a capture is compressed: with the stream modules it needs it was
 * a few milliseconds of every replay's start
 */
let zlib: typeof import('node:zlib') | undefined;

function zlibModule(): typeof import('node:zlib') {
  return (zlib ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));
}

/** the gzip magic at the start */
function isGzip(b: Uint8Array): boolean {
  return b[0] === 0x1f && b[1] === 0x8b;
}

function gunzipped(buf: Uint8Array): Uint8Array {
  return isGzip(buf) ? new Uint8Array(zlibModule().gunzipSync(buf)) : buf;
}

/** Every record of an in-memory capture to `sink`; throws (PduError or zlib error) after the last good record. */
export function scanBytes(buf: Uint8Array, sink: PcapRecordSink): void {
  const p = new PcapParser();
  p.scan(gunzipped(buf), sink);
  p.end();
}

/** A capture file, opened: read through a ring of buffers when it is a regular, uncompressed file, else streamed. */
export interface CaptureFile {
  readonly path: string;
  /** a regular file that is not gzip-compressed */
  readonly plain: boolean;
  readonly gzip: boolean;
}

/**
 * Opens a capture file to see what it is; throws only when it cannot be opened (missing, no
 * permission). A second pass (pass.ts) reads it again.
 */
export function openCapture(path: string): CaptureFile {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { path, plain: false, gzip: false };
    const head = Buffer.alloc(2);
    const gzip = readSync(fd, head, 0, 2, 0) === 2 && isGzip(head);
    return { path, plain: !gzip, gzip };
  } finally {
    closeSync(fd);
  }
}

/**
 * Every record of an opened capture to `sink`; throws after the last good record.
 *
 * A regular uncompressed file is read with synchronous reads into a ring of buffers (RING: 3
 * of 256 KiB), reused: the records are scanned in place, and a record cut off by a buffer's
 * end starts the next one. Before a buffer is overwritten the sink is told (`release`), so it
 * can copy what it still holds of it (the replay keeps the last few ECPDUs of each sender).
 * Reading the whole file into one buffer cost a fresh page of memory per 4 KiB of capture:
 * on a VM, 10–40 ms of a 100,000-frame replay, and the memory for as long as it ran.
 *
 * Anything else (compressed, a pipe) is streamed in 1 MiB chunks, gunzipped on the way; the
 * records are views into fresh buffers that nothing writes to afterwards.
 */
export async function scanCapture(c: CaptureFile, sink: PcapRecordSink, ring: RingSize = RING): Promise<void> {
  const p = new PcapParser();
  if (c.plain) scanFile(c.path, p, sink, ring);
  else {
    const stream: Readable = createReadStream(c.path, { highWaterMark: 1 << 20 });
    for await (const chunk of c.gzip ? stream.pipe(zlibModule().createGunzip()) : stream) p.scan(chunk as Uint8Array, sink);
  }
  p.end();
}

function scanFile(path: string, p: PcapParser, sink: PcapRecordSink, size: RingSize): void {
  const fd = openSync(path, 'r');
  try {
    const ring: (Buffer | undefined)[] = new Array<Buffer | undefined>(Math.max(2, size.buffers)).fill(undefined);
    let slot = 0;
    let carry: Uint8Array = new Uint8Array(0);
    let pos = 0;
    for (;;) {
      let buf = ring[slot];
      if (buf !== undefined) sink.release?.(buf.buffer);
      // a record longer than half a buffer: a buffer of its own size (grown, kept in the ring)
      if (buf === undefined || carry.length > buf.length / 2) buf = ring[slot] = Buffer.allocUnsafeSlow(Math.max(size.octets, 2 * carry.length));
      buf.set(carry, 0);
      const n = readSync(fd, buf, carry.length, buf.length - carry.length, pos);
      if (n === 0) break; // the parser holds the rest: end() tells a truncated record
      pos += n;
      const data = buf.subarray(0, carry.length + n);
      carry = data.subarray(p.scanChunk(data, sink));
      slot = (slot + 1) % ring.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** the reader's ring: how many buffers (at least 2: the rest of one is carried into the next) of how many octets */
export interface RingSize {
  buffers: number;
  octets: number;
}

// small enough that its pages are few (each new 4 KiB page is a fault, ~6 µs on a VM: four
// 1 MiB buffers cost ~6 ms), large enough that a read is a fraction of its octets' scan
const RING: RingSize = { buffers: 3, octets: 256 * 1024 };
