import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ethernetOf, parsePcap, type PcapRecord } from '../../pdu/pcap.js';

export const CAPTURES = join(import.meta.dirname, '..', '..', 'captures');

export function captureFiles(): string[] {
  return readdirSync(CAPTURES).filter((f) => /\.pcap(\.gz)?$/.test(f)).sort();
}

export function readCapture(name: string): PcapRecord[] {
  let buf: Uint8Array = readFileSync(join(CAPTURES, name));
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  return parsePcap(new Uint8Array(buf));
}

/** Ethernet bytes of every record of a capture. */
export function captureFrames(name: string): Uint8Array[] {
  return readCapture(name).map((r) => ethernetOf(r)!);
}
