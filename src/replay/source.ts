/**
 * Records of a capture file or buffer for the replay. pcap/pcapng/gzip parsing is
 * pdu/pcap.ts (`PcapParser`); the records go to a sink in place (`PcapParser.scan`: no copy,
 * no object and no bigint per record; a generator step or an object per record cost more
 * than the parsing). When the parser stops at a damaged record, every record before it
 * has already been delivered, so a damaged capture loses nothing before the damage; the
 * error is then thrown for the caller to report.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { PcapParser, type PcapRecordSink } from '../../pdu/pcap.js';

/** the gzip magic at the start */
function isGzip(b: Uint8Array): boolean {
  return b[0] === 0x1f && b[1] === 0x8b;
}

function gunzipped(buf: Uint8Array): Uint8Array {
  return isGzip(buf) ? new Uint8Array(gunzipSync(buf)) : buf;
}

/** Every record of an in-memory capture to `sink`; throws (PduError or zlib error) after the last good record. */
export function scanBytes(buf: Uint8Array, sink: PcapRecordSink): void {
  const p = new PcapParser();
  p.scan(gunzipped(buf), sink);
  p.end();
}

/** A capture file, opened: its octets when they were read whole, else it is streamed from `path`. */
export interface CaptureFile {
  readonly path: string;
  readonly bytes: Uint8Array | undefined;
  readonly gzip: boolean;
}

/**
 * Opens a capture file; throws only when it cannot be opened (missing, no permission). A
 * regular file of up to WHOLE_MAX octets that is not gzip-compressed is read whole, in one
 * open/fstat/read: the asynchronous readFile reads in 512 KiB pieces, one thread-pool round
 * trip each, which with the two streams that checked the file first was ~30 ms of a cold
 * replay's start. A second pass (pass.ts) scans the same octets again instead of reading
 * the file again. Anything else (larger, compressed, not a regular file) is streamed.
 */
export function openCapture(path: string): CaptureFile {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { path, bytes: undefined, gzip: false };
    const head = Buffer.alloc(2);
    const gzip = readSync(fd, head, 0, 2, 0) === 2 && isGzip(head);
    if (gzip || st.size > WHOLE_MAX) return { path, bytes: undefined, gzip };
    const buf = Buffer.allocUnsafe(st.size);
    let n = 0;
    for (let got = 1; n < st.size && got > 0; n += got) got = readSync(fd, buf, n, st.size - n, n);
    return { path, bytes: buf.subarray(0, n), gzip: false };
  } finally {
    closeSync(fd);
  }
}

/**
 * Every record of an opened capture to `sink`; throws after the last good record. Octets
 * read whole are scanned in place; a stream comes in 1 MiB chunks (gunzipped on the way),
 * so a large capture is never held whole (a chunk costs a copy of the record that spans
 * it). The records are views into fresh buffers that nothing writes to afterwards.
 */
export async function scanCapture(c: CaptureFile, sink: PcapRecordSink): Promise<void> {
  const p = new PcapParser();
  if (c.bytes) p.scan(c.bytes, sink);
  else {
    const stream: Readable = createReadStream(c.path, { highWaterMark: 1 << 20 });
    for await (const chunk of c.gzip ? stream.pipe(createGunzip()) : stream) p.scan(chunk as Uint8Array, sink);
  }
  p.end();
}

/** captures up to this size are read whole */
const WHOLE_MAX = 64 * 1024 * 1024;
