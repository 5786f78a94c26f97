/**
 * The replay never throws on damaged input: captures cut at every offset, damaged record
 * headers (records before the damage are kept), truncated gzip, and a few hundred random
 * mutations of the real captures (seeded, so a failure reproduces) plus fast-check
 * mutations of single frames. Every result renders as text and SVG.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeBytes, analyzeFile, analyzeSync, type ReplayInput } from '../../../src/replay/analyze.js';
import { renderSvg } from '../../../src/replay/svg.js';
import { renderText } from '../../../src/replay/text.js';
import type { ReplayResult } from '../../../src/replay/types.js';
import { CAPTURES, readCapture } from '../../helpers/captures.js';

const dir = mkdtempSync(join(tmpdir(), 'vdpd-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function raw(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(CAPTURES, name)));
}

/** end offsets of the records of a classic pcap */
function boundaries(buf: Uint8Array): number[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = [24];
  let p = 24;
  while (p + 16 <= buf.length) {
    p += 16 + v.getUint32(p + 8, true);
    out.push(p);
  }
  return out;
}

/** the invariants every replay result keeps, whatever the input */
function sane(r: ReplayResult): void {
  const rep = r.report;
  expect(rep.findings.filter((f) => f.kind === 'internal-error')).toEqual([]);
  expect(rep.frames.analysed).toBeLessThanOrEqual(rep.frames.total);
  expect(r.ladder.filter((l) => l.kind !== 'malformed')).toHaveLength(rep.frames.analysed);
  const svg = renderSvg(r);
  expect(svg.match(/<line class="frame/g)?.length ?? 0).toBe(rep.frames.analysed);
  expect(renderText(rep)).toContain('Findings:');
  JSON.stringify(rep);
}

/** xorshift32 */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

describe('replay of damaged captures', () => {
  it('a capture cut at every offset gives a report; cut inside a record → truncated-capture', () => {
    for (const name of ['lldpad-vdp22-assoc-keepalive-deassoc.pcap', 'lldpad-evb22-negotiation.pcap']) {
      const buf = raw(name);
      const ends = boundaries(buf);
      for (let cut = 0; cut <= buf.length; cut++) {
        const r = analyzeBytes(buf.subarray(0, cut));
        sane(r);
        const complete = ends.filter((e) => e <= cut).length - 1;
        expect(r.report.frames.total, `${name} cut at ${cut}`).toBe(Math.max(0, complete));
        const trunc = r.report.findings.filter((f) => f.kind === 'truncated-capture');
        if (ends.includes(cut)) expect(trunc, `${name} cut at ${cut}`).toEqual([]);
        else {
          expect(trunc, `${name} cut at ${cut}`).toHaveLength(1);
          expect(r.report.frames.captureError?.code).toBe('truncated');
        }
      }
    }
  });

  it('a truncated file and a truncated gzip file stream into a report with truncated-capture', async () => {
    const buf = raw('lldpad-ecp22-loss20-retransmit.pcap');
    const cut = boundaries(buf)[100]! + 30; // inside record 101
    const p = join(dir, 'cut.pcap');
    writeFileSync(p, buf.subarray(0, cut));
    const r = await analyzeFile(p);
    sane(r);
    expect(r.report.frames.total).toBe(100);
    expect(r.report.findings.find((f) => f.kind === 'truncated-capture')).toMatchObject({ frame: 101, severity: 'warning' });
    const gz = gzipSync(buf);
    const pg = join(dir, 'cut.pcap.gz');
    writeFileSync(pg, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const rg = await analyzeFile(pg);
    sane(rg);
    expect(rg.report.frames.total).toBeGreaterThan(50);
    expect(rg.report.findings.filter((f) => f.kind === 'truncated-capture')).toHaveLength(1);
    expect(rg.report.frames.captureError).toMatchObject({ code: 'truncated' });
  });

  it('a damaged record header stops the replay there, and every record before it is kept', async () => {
    const buf = raw('lldpad-ecp22-loss20-retransmit.pcap').slice();
    const at = boundaries(buf)[150]!; // header of record 151
    new DataView(buf.buffer).setUint32(at + 8, 0x7fffffff, true);
    const r = analyzeBytes(buf);
    sane(r);
    expect(r.report.frames.total).toBe(150);
    expect(r.report.frames.captureError).toMatchObject({ layer: 'pcap', code: 'bad-length', field: 'record.caplen', offset: at + 8 });
    const p = join(dir, 'damaged.pcap');
    writeFileSync(p, buf);
    const rf = await analyzeFile(p);
    expect(rf.report.frames.total).toBe(150);
    expect(JSON.stringify(rf.report)).toBe(JSON.stringify({ ...r.report, file: p }));
  });

  it('random mutations of every lab capture (seeded, 240 cases) never throw', () => {
    const names = [
      'lldpad-vdp22-assoc-keepalive-deassoc.pcap',
      'lldpad-ecp22-loss20-retransmit.pcap',
      'lldpad-vdp22-bridge-kill-restart.pcap',
      'lldpad-evb22-negotiation.pcap',
      'lldpad-vdp22-bug-stale-bridge-timer.pcap',
      'lldpad-vdp22-station-restart.pcap',
    ];
    const r = rng(0x5eed);
    let malformed = 0;
    for (let i = 0; i < 240; i++) {
      const src = raw(names[i % names.length]!);
      let b = src.slice();
      const kind = r() % 4;
      if (kind === 0) {
        // flips after the file header: damaged frames, and sometimes damaged record headers
        const n = 1 + (r() % 8);
        for (let k = 0; k < n; k++) b[24 + (r() % (b.length - 24))]! ^= 1 << (r() % 8);
      } else if (kind === 1) {
        // flips inside one frame only (a frame's bytes, not its record header)
        const ends = boundaries(src);
        const rec = r() % (ends.length - 1);
        const start = ends[rec]! + 16;
        const len = ends[rec + 1]! - start;
        for (let k = 0; k < 1 + (r() % 4); k++) b[start + (r() % len)]! ^= 1 << (r() % 8);
      } else if (kind === 2) {
        b = b.slice(0, r() % (b.length + 1));
      } else {
        // splice: a run of random octets anywhere
        const at = r() % b.length;
        for (let k = at; k < Math.min(b.length, at + 1 + (r() % 40)); k++) b[k] = r() & 0xff;
      }
      const res = analyzeBytes(b);
      sane(res);
      malformed += res.report.frames.malformed;
    }
    expect(malformed).toBeGreaterThan(20);
  });

  it('fast-check: frames with random damage keep the replay alive', () => {
    const recs = readCapture('lldpad-ecp22-loss20-retransmit.pcap').slice(0, 60);
    fc.assert(
      fc.property(
        fc.array(fc.record({ frame: fc.nat(recs.length - 1), at: fc.nat(200), bit: fc.nat(7), cut: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        (muts) => {
          const data = recs.map((x) => x.data.slice());
          for (const m of muts) {
            const d = data[m.frame]!;
            if (m.cut) data[m.frame] = d.slice(0, m.at % (d.length + 1));
            else d[m.at % d.length]! ^= 1 << m.bit;
          }
          const inputs: ReplayInput[] = recs.map((x, i) => ({ ts: x.ns, bytes: data[i]!, frame: x.index }));
          sane(analyzeSync(inputs));
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it('an async source that throws midway still gives a report', async () => {
    const recs = readCapture('lldpad-vdp22-keepalive.pcap');
    async function* src(): AsyncGenerator<ReplayInput> {
      for (const x of recs.slice(0, 10)) yield { ts: x.ns, bytes: x.data };
      throw new Error('disk on fire');
    }
    const { analyze } = await import('../../../src/replay/analyze.js');
    const r = await analyze(src());
    sane(r);
    expect(r.report.frames.total).toBe(10);
    expect(r.report.findings.find((f) => f.kind === 'truncated-capture')?.message).toContain('disk on fire');
  });
});
