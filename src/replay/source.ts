/**
 * Records of a capture file or buffer for the replay. pcap/pcapng/gzip parsing is
 * pdu/pcap.ts (`PcapParser`); what is added here: records come in batches, one per chunk
 * read (a generator step per record cost more than the parsing), and when the parser
 * stops at a damaged record, the records completed in the same chunk are recovered by
 * parsing again up to the damaged offset (the parser reports the failing unit's absolute
 * offset, and everything before it is complete), so a damaged capture loses nothing
 * before the damage. The error is then rethrown for the caller to report.
 */
import { createReadStream } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { PduError } from '../../pdu/errors.js';
import { PcapParser, type PcapRecord } from '../../pdu/pcap.js';

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

/** The file's octets in 1 MiB chunks, gunzipped when it starts with the gzip magic. */
async function chunksOf(path: string): Promise<Readable> {
  const head = await firstTwo(path);
  const stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
  return head[0] === 0x1f && head[1] === 0x8b ? stream.pipe(createGunzip()) : stream;
}

/** Streamed in batches (a large capture is never held whole); gzip detected by magic. */
export async function* recordBatchesOfFile(path: string): AsyncGenerator<PcapRecord[]> {
  let yielded = 0;
  try {
    const p = new PcapParser();
    for await (const chunk of await chunksOf(path)) {
      const recs = p.push(chunk as Uint8Array);
      yielded += recs.length;
      if (recs.length > 0) yield recs;
    }
    p.end();
  } catch (e) {
    if (recoverable(e)) {
      const stream = await chunksOf(path);
      const p = new PcapParser();
      let fed = 0;
      let n = 0;
      const rest: PcapRecord[] = [];
      for await (const chunk of stream) {
        const c = chunk as Uint8Array;
        const take = Math.min(c.length, e.offset - fed);
        for (const r of p.push(c.subarray(0, take))) if (++n > yielded) rest.push(r);
        fed += take;
        if (fed >= e.offset) break;
      }
      stream.destroy();
      if (rest.length > 0) yield rest;
    }
    throw e;
  }
}
