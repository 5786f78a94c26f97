/**
 * The replay's reader (src/replay/source.ts): a plain capture file goes through a ring of
 * reused buffers. Every record must come out as the whole-file parser gives it, whatever the
 * ring's size, and a sink that keeps records in place must be told before their octets are
 * overwritten.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parsePcap, type PcapRecordSink } from '../../../pdu/pcap.js';
import { openCapture, scanCapture } from '../../../src/replay/source.js';
import { CAPTURES, captureFiles } from '../../helpers/captures.js';

/** A sink that keeps each record as a view into the reader's buffer, copying only when the buffer is released. */
class KeepingSink implements PcapRecordSink {
  readonly kept: { index: number; data: Uint8Array }[] = [];
  /** the kept records still viewing each buffer */
  private inBuffer = new Map<ArrayBufferLike, { index: number; data: Uint8Array }[]>();
  released = 0;

  record(buf: Uint8Array, start: number, end: number, _linktype: number, index: number): void {
    const k = { index, data: buf.subarray(start, end) };
    this.kept.push(k);
    const list = this.inBuffer.get(buf.buffer) ?? [];
    list.push(k);
    this.inBuffer.set(buf.buffer, list);
  }

  release(buffer: ArrayBufferLike): void {
    this.released++;
    for (const k of this.inBuffer.get(buffer) ?? []) k.data = Uint8Array.from(k.data);
    this.inBuffer.delete(buffer);
  }
}

/** the records' numbers and octets, in order, as one hash (deep equality over 100,000 arrays is slow) */
function digest(records: readonly { index: number; data: Uint8Array }[]): { n: number; sha: string } {
  const h = createHash('sha256');
  for (const r of records) {
    h.update(`${r.index}:${r.data.length}:`);
    h.update(r.data);
  }
  return { n: records.length, sha: h.digest('hex') };
}

async function throughRing(path: string, buffers: number, octets: number): Promise<KeepingSink> {
  const sink = new KeepingSink();
  await scanCapture(openCapture(path), sink, { buffers, octets });
  return sink;
}

describe('replay reader: a ring of reused buffers', () => {
  it('gives every record of every capture (pcap and pcapng) as the whole-file parser does, for any ring', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdpd-ring-'));
    try {
      const files: string[] = [];
      for (const name of captureFiles()) {
        const raw = readFileSync(join(CAPTURES, name));
        const path = join(dir, name.replace(/\.gz$/, ''));
        writeFileSync(path, raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw);
        files.push(path);
      }
      const ng = join(dir, 'x.pcapng');
      execFileSync('editcap', ['-F', 'pcapng', join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'), ng]);
      files.push(ng);
      for (const path of files) {
        const records = parsePcap(new Uint8Array(readFileSync(path)));
        expect(records.length).toBeGreaterThan(0);
        const want = digest(records.map((r) => ({ index: r.index, data: r.data })));
        for (const [buffers, octets] of [
          [2, 97],
          [3, 1000],
          [4, 1 << 20],
        ] as const) {
          const sink = await throughRing(path, buffers, octets);
          expect(digest(sink.kept)).toEqual(want);
          // small buffers are reused, so the records kept in them were copied when told
          if (octets < 1000 && readFileSync(path).length > buffers * octets * 2) expect(sink.released).toBeGreaterThan(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file cut inside a record: the records before it, then the truncation error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdpd-ring-'));
    try {
      const whole = readFileSync(join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'));
      const path = join(dir, 'cut.pcap');
      writeFileSync(path, whole.subarray(0, whole.length - 10));
      const records = parsePcap(new Uint8Array(whole)).length;
      const sink = new KeepingSink();
      await expect(scanCapture(openCapture(path), sink, { buffers: 2, octets: 64 })).rejects.toThrow(/ends inside a record/);
      expect(sink.kept.map((k) => k.index)).toEqual(Array.from({ length: records - 1 }, (_, i) => i + 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
