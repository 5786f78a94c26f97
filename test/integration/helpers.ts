import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireLabPrivileges } from '../../src/lab/netns.js';
import { labVsi } from '../../src/lab/vsis.js';
import type { VsiSpec } from '../../src/api/vsi-spec.js';
import type { ApiClient } from '../../src/api/client.js';
import type { VethEnd } from '../../src/lab/netns.js';
import { VdpdProc } from '../../src/lab/vdpd-proc.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Integration tests run the compiled daemon; fail loudly (not skip) without root. */
export function prepare(): string {
  requireLabPrivileges();
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  return mkdtempSync(join(tmpdir(), 'vdpd-it-'));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function vsiSpec(i: number, extra: Record<string, unknown> = {}): VsiSpec {
  return labVsi(i, extra as Partial<VsiSpec>);
}

export async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface VdpdPair {
  bridge: VdpdProc;
  station: VdpdProc;
  bc: ApiClient;
  sc: ApiClient;
}

/** vdpd's bridge emulator and a vdpd station on the two ends of a lab link, EVB negotiated. */
export async function startPair(lab: { station: VethEnd; bridge: VethEnd }, dir: string, config: { bridge: string; station: string }): Promise<VdpdPair> {
  const bridge = new VdpdProc({ ns: lab.bridge.ns, dir: join(dir, 'br'), name: 'bridge', config: config.bridge });
  const station = new VdpdProc({ ns: lab.station.ns, dir: join(dir, 'st'), name: 'station', config: config.station });
  const bc = await bridge.start();
  const sc = await station.start();
  await station.waitEvb(sc);
  return { bridge, station, bc, sc };
}

/** Close the clients and stop both daemons (whatever of them was started). */
export async function stopPair(p: Partial<VdpdPair>): Promise<void> {
  p.sc?.close();
  p.bc?.close();
  await p.station?.stop();
  await p.bridge?.stop();
}
