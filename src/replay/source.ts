/**
 * Records of a capture file or buffer for the replay. pcap/pcapng/gzip parsing is
 * pdu/pcap.ts (`PcapParser`) and src/pcap/file.ts (`readPcapFile`); what is added here:
 * when the parser stops at a damaged record, the records completed in the same chunk are
 * recovered by parsing again up to the damaged offset (the parser reports the failing
 * unit's absolute offset, and everything before it is complete), so a damaged capture
 * loses nothing before the damage. The error is then rethrown for the caller to report.
 */
import { createReadStream } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { PduError } from '../../pdu/errors.js';
import { PcapParser, type PcapRecord } from '../../pdu/pcap.js';
import { readPcapFile } from '../pcap/file.js';

function recoverable(e: unknown): e is PduError {
  return e instanceof PduError && e.layer === 'pcap' && e.code !== 'truncated' && e.offset > 0;
}

/** Every record of an in-memory capture; throws (PduError or zlib error) after the last good record. */
export function* recordsOfBytes(buf: Uint8Array): Generator<PcapRecord> {
  let data = buf;
  if (data[0] === 0x1f && data[1] === 0x8b) data = new Uint8Array(gunzipSync(data));
  const p = new PcapParser();
  let recs: PcapRecord[];
  try {
    recs = p.push(data);
  } catch (e) {
    if (recoverable(e)) yield* new PcapParser().push(data.subarray(0, e.offset));
    throw e;
  }
  yield* recs;
  p.end();
}

async function firstTwo(path: string): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of createReadStream(path, { start: 0, end: 1 })) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Streamed (a large capture is never held whole); gzip detected by magic. */
export async function* recordsOfFile(path: string): AsyncGenerator<PcapRecord> {
  let yielded = 0;
  try {
    for await (const r of readPcapFile(path)) {
      yielded++;
      yield r;
    }
  } catch (e) {
    if (recoverable(e)) {
      const head = await firstTwo(path);
      let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
      if (head[0] === 0x1f && head[1] === 0x8b) stream = stream.pipe(createGunzip());
      const p = new PcapParser();
      let fed = 0;
      let n = 0;
      for await (const chunk of stream) {
        const c = chunk as Uint8Array;
        const take = Math.min(c.length, e.offset - fed);
        for (const r of p.push(c.subarray(0, take))) if (++n > yielded) yield r;
        fed += take;
        if (fed >= e.offset) break;
      }
      stream.destroy();
    }
    throw e;
  }
}
