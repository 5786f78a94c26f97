/**
 * The ladder SVG in a real browser: headless Chromium parses it as XML (a malformed file
 * shows a parsererror instead of the drawing) and renders a non-blank screenshot.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFile } from '../../../src/replay/analyze.js';
import { renderSvg } from '../../../src/replay/svg.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const dir = mkdtempSync(join(tmpdir(), 'vdpd-svg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function chromium(args: string[]): string {
  if (!existsSync(CHROMIUM)) throw new Error('chromium is not installed: run scripts/setup.sh (Debian package chromium)');
  return execFileSync(CHROMIUM, [...FLAGS, `--user-data-dir=${join(dir, 'profile')}`, ...args], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** distinct colours in the PNG's first rows (RGBA 8-bit, filter bytes skipped roughly) */
function colours(png: Buffer): number {
  let off = 8;
  const idat: Buffer[] = [];
  let width = 0;
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    if (type === 'IHDR') width = png.readUInt32BE(off + 8);
    if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const seen = new Set<number>();
  const stride = 1 + width * 4;
  for (let y = 0; y < Math.min(400, raw.length / stride); y++) {
    for (let x = 0; x < width; x += 3) seen.add(raw.readUInt32BE(y * stride + 1 + x * 4));
  }
  return seen.size;
}

describe('replay SVG in headless Chromium', () => {
  it('parses as XML and renders a drawing (lldpad capture with retransmissions)', async () => {
    const r = await analyzeFile(join(import.meta.dirname, '..', '..', '..', 'captures', 'lldpad-ecp22-loss20-retransmit.pcap'));
    const svg = join(dir, 'ladder.svg');
    writeFileSync(svg, renderSvg(r));
    const dom = chromium(['--dump-dom', `file://${svg}`]);
    expect(dom).toContain('<svg');
    expect(dom).not.toContain('parsererror');
    expect((dom.match(/<line class="frame[^"]*" data-frame="/g) ?? []).length).toBe(r.report.frames.analysed);
    const png = join(dir, 'ladder.png');
    chromium([`--screenshot=${png}`, '--window-size=1000,800', `file://${svg}`]);
    expect(colours(readFileSync(png))).toBeGreaterThan(3);
  });

  it('a broken SVG is caught the same way (the check can fail)', () => {
    const bad = join(dir, 'bad.svg');
    writeFileSync(bad, '<svg xmlns="http://www.w3.org/2000/svg"><line class="frame"></svg>');
    expect(chromium(['--dump-dom', `file://${bad}`])).toContain('parsererror');
  });
});
