/** `vdpctl decode` as a real subprocess on every capture, on damaged captures and on pcapng/gzip input. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureFiles, CAPTURES } from '../helpers/captures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'vdpctl.cjs');
let dir = '';

beforeAll(() => {
  // the CLI runs from the compiled tree, exactly as installed
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'vdpd-decode-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function vdpctl(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface JsonFrame {
  frame: number;
  time: number;
  decoded?: { protocol: string; ecp?: { sequence: number; opText: string }; vdp?: Record<string, unknown>[]; tlvs?: Record<string, unknown>[] };
  error?: { offset: number; message: string; layer: string };
}

describe('vdpctl decode', () => {
  it('decodes every capture in captures/ without a malformed frame', () => {
    for (const f of captureFiles()) {
      const r = vdpctl(['decode', '--json', join(CAPTURES, f)]);
      expect(r.code, f).toBe(0);
      const doc = JSON.parse(r.out) as { frames: JsonFrame[]; summary: { frames: number; errors: number; decoded: number } };
      expect(doc.summary.errors, f).toBe(0);
      expect(doc.summary.decoded, f).toBe(doc.frames.length);
      expect(doc.frames.length, f).toBeGreaterThan(10);
    }
  });

  it('names every field: frame 3 of the assoc/deassoc capture is a successful PreAssoc response', () => {
    const r = vdpctl(['decode', '--json', join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap')]);
    const f3 = (JSON.parse(r.out) as { frames: JsonFrame[] }).frames[2]!;
    expect(f3.decoded!.protocol).toBe('ECP');
    expect(f3.decoded!.ecp).toMatchObject({ opText: 'REQ', sequence: 10 });
    const [mgr, v] = f3.decoded!.vdp!;
    expect(mgr).toMatchObject({ tlv: 'VSI Manager ID', managerId: 'vdplab' });
    expect(v).toMatchObject({
      tlv: 'PreAssoc',
      status: { response: true, reasonText: 'success', keep: false, hard: false },
      typeId: 1193046,
      vsiidFormatText: 'UUID',
      vsiid: '76647000-0000-4000-8000-000000000002',
      filterFormatText: 'MAC/VID',
      filters: [{ mac: '02:76:64:00:00:02', vid: 100, pcp: 0, ps: false }],
    });
    const text = vdpctl(['decode', join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap')]).out;
    expect(text).toContain('PreAssoc: status 0x40 (response, success); VSI type 1193046 version 1; VSIID UUID 76647000-0000-4000-8000-000000000002');
    const evb = vdpctl(['decode', join(CAPTURES, 'lldpad-evb22-negotiation.pcap')]).out;
    expect(evb).toContain('EVB TLV: mode bridge; bridge status RRCAP; station status none, RRSTAT 0 (not enabled); ECP retries R=3, RTE=8 (ack timer 2.56 ms)');
  });

  it('reports a malformed frame with its byte offset and carries on', () => {
    const src = readFileSync(join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'));
    const bad = Buffer.from(src);
    // first record starts at 24 + 16 = 40; its VSI TLV entry count sits at frame offset 61
    bad[40 + 61] = 0x02;
    const path = join(dir, 'bad.pcap');
    writeFileSync(path, bad);
    const r = vdpctl(['decode', path]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\s+1\s.*MALFORMED vdp: bad-length at offset 61 \(vsi\(preassoc\)\.filters\)/m);
    expect(r.out).toMatch(/^\s+2\s.*ECP ACK seq=9/m);
    expect(r.out).toContain('18 frames: 17 decoded, 1 malformed');
    const j = JSON.parse(vdpctl(['decode', '--json', path]).out) as { frames: JsonFrame[] };
    expect(j.frames[0]!.error).toMatchObject({ layer: 'vdp', offset: 61 });
  });

  it('a capture cut mid-frame: every whole frame, then the damage', () => {
    const src = readFileSync(join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'));
    const path = join(dir, 'cut.pcap');
    writeFileSync(path, src.subarray(0, src.length - 30));
    const r = vdpctl(['decode', path]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/capture damaged: pcap: truncated/);
    expect(r.out).toContain('17 frames: 17 decoded, 0 malformed');
  });

  it('reads gzip (by magic, any name) and pcapng', () => {
    const src = readFileSync(join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'));
    const gz = join(dir, 'renamed.cap');
    writeFileSync(gz, gzipSync(src));
    expect(vdpctl(['decode', gz]).out).toContain('18 frames: 18 decoded');
    const ng = join(dir, 'x.pcapng');
    execFileSync('editcap', ['-F', 'pcapng', join(CAPTURES, 'lldpad-vdp22-assoc-deassoc.pcap'), ng]);
    const r = vdpctl(['decode', '--json', ng]);
    const doc = JSON.parse(r.out) as { frames: JsonFrame[] };
    expect(doc.frames).toHaveLength(18);
    expect(doc.frames[2]!.time).toBeCloseTo(0.002237, 6);
  });

  it('usage errors and unreadable files exit 2 with a message', () => {
    const r = vdpctl(['decode', join(dir, 'missing.pcap')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot read/);
    const notPcap = join(dir, 'text.pcap');
    writeFileSync(notPcap, 'hello world, not a capture\n');
    const n = vdpctl(['decode', notPcap]);
    expect(n.code).toBe(0);
    expect(n.out).toMatch(/capture damaged: pcap: bad-value at offset 0 \(magic\)/);
    expect(vdpctl(['decode']).code).toBe(2);
  });
});
