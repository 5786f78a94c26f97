/**
 * Records of a capture file or buffer for the replay. pcap/pcapng/gzip parsing is
 * pdu/pcap.ts (`PcapParser`); the records go to a sink in place (`PcapParser.scan`: no copy,
 * no object and no bigint per record; a generator step or an object per record cost more
 * than the parsing). When the parser stops at a damaged record, every record before it
 * has already been delivered, so a damaged capture loses nothing before the damage; the
 * error is then thrown for the caller to report.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
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

async function firstTwo(path: string): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of createReadStream(path, { start: 0, end: 1 })) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * Every record of a capture file to `sink`; throws after the last good record. A capture
 * of up to WHOLE_MAX octets is read in one piece and scanned in place (a stream of 1 MiB
 * chunks costs a copy of each chunk to join the record that spans it, and the stream's own
 * overhead); a larger or gzip-compressed one streams in 1 MiB chunks (gunzipped on the
 * way), so it is never held whole. The records are views into the octets read, fresh
 * buffers that nothing writes to afterwards.
 */
export async function scanFile(path: string, sink: PcapRecordSink): Promise<void> {
  const gzip = isGzip(await firstTwo(path));
  const p = new PcapParser();
  if (!gzip && (await stat(path)).size <= WHOLE_MAX) p.scan(await readFile(path), sink);
  else {
    const stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
    for await (const chunk of gzip ? stream.pipe(createGunzip()) : stream) p.scan(chunk as Uint8Array, sink);
  }
  p.end();
}

/** captures up to this size are read whole */
const WHOLE_MAX = 64 * 1024 * 1024;
