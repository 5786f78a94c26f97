/** `vdpctl replay` as a real subprocess from the compiled tree: output forms and exit codes. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURES } from '../../helpers/captures.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'vdpctl.cjs');
const GOLDEN = join(import.meta.dirname, 'golden');
let dir = '';

beforeAll(() => {
  // compile to dist/ as installed; type errors elsewhere in the tree do not stop tsc from emitting
  spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(join(ROOT, 'dist', 'src', 'cli', 'commands', 'replay.js'))).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'vdpd-replay-cli-'));
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function vdpctl(args: string[]): { code: number; out: string; err: string } {
  // the file itself, as a user runs it: its `#!` line and the build's mode bits are part of what is tested
  const r = spawnSync(CLI, ['replay', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const cap = (n: string): string => join(CAPTURES, n);

describe('vdpctl replay', () => {
  it('vdpctl is an executable whose #! line asks glibc for huge pages and one arena (fewer page faults), V8 for one worker thread and a young generation of 2 × 4 MB', () => {
    const first = readFileSync(CLI, 'utf8').split('\n')[0];
    expect(first).toBe('#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1 node --v8-pool-size=1 --max-semi-space-size=4');
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
  });

  it('vdpctl does not load NODE_EXTRA_CA_CERTS (Node parses that file before any script runs; vdpctl uses no TLS)', () => {
    // Node warns on stderr when the file it was told to load is missing: no warning, not loaded
    const r = spawnSync(CLI, ['replay', '--json', cap('lldpad-evb22-negotiation.pcap')], {
      encoding: 'utf8',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/vdpd-test-ca.pem' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/extra certs/i);
    // the same file run by plain node does warn, so the check above can fail
    const plain = spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/vdpd-test-ca.pem' } });
    expect(plain.stderr).toMatch(/extra certs/i);
  });

  it('--json prints the golden report', () => {
    const name = 'lldpad-vdp22-assoc-keepalive-deassoc.pcap';
    const r = vdpctl([cap(name), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['file', 'frames', 'stations', 'evb', 'vsis', 'ecp', 'findings', 'summary']);
    const golden = JSON.parse(readFileSync(join(GOLDEN, name.replace(/\.pcap$/, '.json')), 'utf8')) as Record<string, unknown>;
    expect({ ...doc, file: name }).toEqual(golden);
    // same output twice: nothing depends on the clock
    expect(vdpctl([cap(name), '--json']).out).toBe(r.out);
  });

  it('prints the text sections with frame numbers', () => {
    const r = vdpctl([cap('lldpad-ecp22-loss20-retransmit.pcap')]);
    expect(r.code).toBe(0);
    for (const s of ['Capture ', '\nEVB\n', '\nECP\n', '\nVSIs (10)\n', '\nFindings: 0 error(s), 46 warning(s)']) expect(r.out).toContain(s);
    expect(r.out).toMatch(/\[warning\]\s+#13\s+0\.153394\s+retransmission: station->bridge seq 3 retransmitted/);
    expect(r.out).toContain('ASSOC_WAIT -> ASSOCIATED (bridge-response-success)');
    expect(r.out).toContain('operative (negotiated): R=3 RTE=8 RWD=20 RKA=20 RR=on');
  });

  it('--strict: 0 for a clean capture, 1 when warnings exist', () => {
    expect(vdpctl([cap('lldpad-vdp22-assoc-keepalive-deassoc.pcap'), '--strict']).code).toBe(0);
    expect(vdpctl([cap('lldpad-evb22-negotiation.pcap'), '--strict', '--json']).code).toBe(0);
    expect(vdpctl([cap('lldpad-ecp22-loss20-retransmit.pcap'), '--strict']).code).toBe(1);
    const kill = vdpctl([cap('lldpad-vdp22-bridge-kill-restart.pcap'), '--strict', '--json']);
    expect(kill.code).toBe(1);
    expect((JSON.parse(kill.out) as { summary: { warnings: number } }).summary.warnings).toBe(25);
    expect(vdpctl([cap('lldpad-ecp22-loss20-retransmit.pcap')]).code).toBe(0);
  });

  it('streams a gzip capture', () => {
    const r = vdpctl([cap('lldpad-perf-burst-1000vsi.pcap.gz'), '--json', '--strict']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { frames: { total: number; malformed: number }; findings: { kind: string }[] };
    expect(doc.frames).toMatchObject({ total: 19958, malformed: 0 });
    expect(doc.findings.filter((f) => f.kind === 'unsolicited-deassoc')).toHaveLength(120);
  });

  it('--station names the station; a bad MAC is a usage error', () => {
    const r = vdpctl([cap('lldpad-vdp22-keepalive.pcap'), '--json', '--station', '02-76-64-70-00-01']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { stations: unknown }).stations).toMatchObject({ station: '02:76:64:70:00:01', inferredFrom: 'option' });
    const bad = vdpctl([cap('lldpad-vdp22-keepalive.pcap'), '--station', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('not a MAC address');
  });

  it('exit 2 for a missing, empty or non-capture file; a truncated capture is reported, not refused', () => {
    expect(vdpctl([join(dir, 'missing.pcap')]).code).toBe(2);
    writeFileSync(join(dir, 'empty.pcap'), '');
    expect(vdpctl([join(dir, 'empty.pcap')]).code).toBe(2);
    writeFileSync(join(dir, 'text.pcap'), 'hello, this is not a capture\n');
    const t = vdpctl([join(dir, 'text.pcap')]);
    expect(t.code).toBe(2);
    expect(t.err).toContain('not a pcap or pcapng file');
    const buf = readFileSync(cap('lldpad-vdp22-assoc-keepalive-deassoc.pcap'));
    writeFileSync(join(dir, 'cut.pcap'), buf.subarray(0, buf.length - 7));
    const cut = vdpctl([join(dir, 'cut.pcap'), '--json']);
    expect(cut.code).toBe(0);
    const doc = JSON.parse(cut.out) as { frames: { total: number }; findings: { kind: string; frame: number }[] };
    expect(doc.frames.total).toBe(15);
    expect(doc.findings).toContainEqual(expect.objectContaining({ kind: 'truncated-capture', frame: 16 }));
    expect(vdpctl([join(dir, 'cut.pcap'), '--strict']).code).toBe(1);
  });

  it('--svg writes the ladder; an unwritable SVG path is exit 2', () => {
    const out = join(dir, 'ladder.svg');
    const r = vdpctl([cap('lldpad-vdp22-bridge-kill-restart.pcap'), '--svg', out]);
    expect(r.code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.match(/<line class="frame[^"]*" data-frame="\d+"/g)).toHaveLength(42);
    expect(vdpctl([cap('lldpad-vdp22-bridge-kill-restart.pcap'), '--svg', join(dir, 'no', 'such', 'dir.svg')]).code).toBe(2);
  });
});
