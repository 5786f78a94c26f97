import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireLabPrivileges } from '../../src/lab/netns.js';
import { labVsi } from '../../src/lab/vsis.js';
import type { VsiSpec } from '../../src/api/vsi-spec.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Integration tests run the compiled daemon; fail loudly (not skip) without root. */
export function prepare(): string {
  requireLabPrivileges();
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
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
