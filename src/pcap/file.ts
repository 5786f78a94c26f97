/**
 * pcap files on disk: a streaming reader (a 100,000-frame capture is never loaded whole;
 * gzip is detected by its magic, not the file name) and a writer with size rotation that
 * the daemon's `--capture DIR` uses.
 */
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { PcapParser, serializePcapHeader, serializePcapRecord, type PcapRecord } from '../../pdu/pcap.js';

const HR_START = process.hrtime.bigint();
const EPOCH_NS = BigInt(Date.now()) * 1_000_000n;

async function firstBytes(path: string, n: number): Promise<Uint8Array> {
  const s = createReadStream(path, { start: 0, end: n - 1 });
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Records one by one. Throws PduError (layer 'pcap') for a malformed or truncated file after yielding every good record. */
export async function* readPcapFile(path: string): AsyncGenerator<PcapRecord> {
  const head = await firstBytes(path, 2);
  let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 });
  if (head[0] === 0x1f && head[1] === 0x8b) stream = stream.pipe(createGunzip());
  const parser = new PcapParser();
  for await (const chunk of stream) {
    for (const r of parser.push(chunk as Uint8Array)) yield r;
  }
  parser.end();
}

export interface PcapWriterOptions {
  /** file name without extension; rotation adds .1, .2, … */
  path: string;
  nanoseconds?: boolean;
  /** start a new file when the current one would exceed this size */
  maxBytes?: number;
  /** keep at most this many rotated files (oldest kept names are overwritten) */
  maxFiles?: number;
}

/** Writes classic pcap records as they happen; timestamps are exact nanoseconds. */
export class PcapWriter {
  private fd: number | undefined;
  private size = 0;
  private part = 0;
  readonly files: string[] = [];
  frames = 0;

  constructor(private readonly opts: PcapWriterOptions) {}

  private fileName(): string {
    return this.part === 0 ? `${this.opts.path}.pcap` : `${this.opts.path}.${this.part}.pcap`;
  }

  private open(): number {
    const name = this.fileName();
    const fd = openSync(name, 'w', 0o600);
    const header = serializePcapHeader({ nanoseconds: this.opts.nanoseconds ?? true });
    writeSync(fd, header);
    this.size = header.length;
    this.fd = fd;
    this.files.push(name);
    return fd;
  }

  write(ns: bigint, frame: Uint8Array): void {
    const rec = serializePcapRecord(ns, frame, this.opts.nanoseconds ?? true);
    let fd = this.fd ?? this.open();
    const max = this.opts.maxBytes;
    if (max !== undefined && this.size + rec.length > max && this.size > 24) {
      closeSync(fd);
      this.part = this.opts.maxFiles ? (this.part + 1) % this.opts.maxFiles : this.part + 1;
      fd = this.open();
    }
    writeSync(fd, rec);
    this.size += rec.length;
    this.frames++;
  }

  /** Wall-clock timestamp in ns for live captures: the epoch at start plus the monotonic clock since. */
  static now(): bigint {
    return EPOCH_NS + (process.hrtime.bigint() - HR_START);
  }

  flush(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** `<dir>/<iface>-<UTC timestamp>`: the interface in the file name, as the daemon's --capture asks. */
export function captureBaseName(dir: string, iface: string, when = new Date()): string {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(dir, `${iface}-${stamp}`);
}
