/** PcapParser.scan (records in place, for the replay) gives the records push() gives, in any chunking. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PcapParser, parsePcap, serializePcapHeader, serializePcapRecord, type PcapRecord } from '../../../pdu/pcap.js';
import { CAPTURES, captureFiles } from '../../helpers/captures.js';

interface Seen {
  index: number;
  linktype: number;
  ns: bigint;
  data: Uint8Array;
}

function scanned(buf: Uint8Array, chunk: number): Seen[] {
  const out: Seen[] = [];
  const p = new PcapParser();
  const sink = {
    record(b: Uint8Array, start: number, end: number, linktype: number, index: number, sec: number, nsec: number, ns: bigint | undefined): void {
      out.push({ index, linktype, ns: ns ?? BigInt(sec) * 1_000_000_000n + BigInt(nsec), data: Uint8Array.from(b.subarray(start, end)) });
    },
  };
  for (let o = 0; o < buf.length; o += chunk) p.scan(buf.slice(o, o + chunk), sink);
  p.end();
  return out;
}

const view = (r: PcapRecord): Seen => ({ index: r.index, linktype: r.linktype, ns: r.ns, data: Uint8Array.from(r.data) });

function file(name: string): Uint8Array {
  const b = readFileSync(join(CAPTURES, name));
  return new Uint8Array(b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);
}

describe('PcapParser.scan', () => {
  it('gives the records of push() for every capture, whole and in small chunks', () => {
    for (const name of captureFiles()) {
      const buf = file(name);
      const want = parsePcap(buf).map(view);
      expect(scanned(buf, buf.length)).toEqual(want);
      expect(scanned(buf, 97)).toEqual(want);
    }
  });

  it('pcapng: the same records (times as bigint)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdpd-scan-'));
    try {
      const ng = join(dir, 'x.pcapng');
      execFileSync('editcap', ['-F', 'pcapng', join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'), ng]);
      const buf = new Uint8Array(readFileSync(ng));
      const want = parsePcap(buf).map(view);
      expect(want.length).toBeGreaterThan(0);
      expect(scanned(buf, 61)).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('µs and ns timestamps come out exact as seconds + nanoseconds', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ sec: fc.integer({ min: 0, max: 2 ** 32 - 1 }), nsec: fc.integer({ min: 0, max: 999_999_999 }), data: fc.uint8Array({ maxLength: 80 }) }), { maxLength: 8 }), fc.boolean(), fc.integer({ min: 1, max: 64 }), (recs, ns, chunk) => {
        const parts = [serializePcapHeader({ nanoseconds: ns })];
        for (const r of recs) parts.push(serializePcapRecord(BigInt(r.sec) * 1_000_000_000n + BigInt(ns ? r.nsec : r.nsec - (r.nsec % 1000)), r.data, ns));
        const buf = Buffer.concat(parts);
        expect(scanned(buf, chunk)).toEqual(parsePcap(buf).map(view));
      }),
      { numRuns: 100 },
    );
  });

  it('on a damaged record, the records before it have been delivered and the error is the one push() throws', () => {
    const buf = file('lldpad-vdp22-assoc-deassoc.pcap');
    const recs = parsePcap(buf);
    // the third record's caplen made implausible
    let o = 24;
    for (let i = 0; i < 2; i++) o += 16 + recs[i]!.caplen;
    const bad = buf.slice();
    new DataView(bad.buffer).setUint32(o + 8, 0x7fffffff, bad[0] === 0xd4 || bad[0] === 0x4d);
    let pushErr: unknown;
    try {
      parsePcap(bad);
    } catch (e) {
      pushErr = e;
    }
    const seen: number[] = [];
    const p = new PcapParser();
    expect(() => p.scan(bad, { record: (_b, _s, _e, _l, index) => void seen.push(index) })).toThrow((pushErr as Error).message);
    expect(seen).toEqual([1, 2]);
  });
});
