import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, MemoryTrim } from '../../src/daemon/memory.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('memory trim after bursts', () => {
  it('one major GC once a burst has been quiet for quietMs; small changes and a missing gc do nothing', async () => {
    const calls: unknown[] = [];
    const t = new MemoryTrim({ gc: () => void calls.push('gc'), quietMs: 40, minChanges: 100 });
    for (let i = 0; i < 99; i++) t.note();
    await sleep(80);
    expect(calls).toEqual([]); // not a burst
    t.note(); // the 100th change
    for (let k = 0; k < 4; k++) {
      await sleep(15);
      t.note(); // still busy: no trim while changes keep coming
    }
    expect(calls).toEqual([]);
    await sleep(100);
    expect(calls).toEqual(['gc']);
    expect(t.trims).toBe(1);
    await sleep(60);
    expect(calls).toHaveLength(1); // nothing new since
    const none = new MemoryTrim({ gc: undefined, quietMs: 1, minChanges: 1 });
    for (let i = 0; i < 10; i++) none.note();
    await sleep(20);
    expect(none.trims).toBe(0);
    t.stop();
  });

  it('between bursts: trims again once the heap holds twice what the last trim left (plus 16 MiB)', async () => {
    let heap = 20 * 2 ** 20;
    let gcs = 0;
    const t = new MemoryTrim({ gc: () => void gcs++, quietMs: 5, minChanges: 1, checkMs: 10, heapUsed: () => heap });
    t.note();
    await sleep(30);
    expect(gcs).toBe(1); // the burst's trim: 20 MiB left
    heap = 50 * 2 ** 20; // below 2 × 20 + 16
    await sleep(40);
    expect(gcs).toBe(1);
    heap = 60 * 2 ** 20;
    await sleep(25);
    expect(gcs).toBe(2);
    t.stop();
  });

  it('the trim frees memory for real: a Node with the daemon flags, garbage in the old generation, one trim', () => {
    // the compiled module, in a Node started as vdpd starts it (not this test runner's)
    const mod = join(import.meta.dirname, '..', '..', 'dist', 'src', 'daemon', 'memory.js');
    const script = `
      const { MemoryTrim, exposedGc } = await import(${JSON.stringify(mod)});
      const keep = [];
      for (let i = 0; i < 100000; i++) keep.push({ i, s: 'k' + i });
      let junk = [];
      for (let i = 0; i < 300000; i++) junk.push({ i, s: 'j' + i });
      junk = null;
      const before = process.memoryUsage().heapUsed;
      const t = new MemoryTrim({ gc: exposedGc(), quietMs: 1, minChanges: 1, checkMs: 0 });
      t.note();
      await new Promise((r) => setTimeout(r, 50));
      const after = process.memoryUsage().heapUsed;
      console.log(JSON.stringify({ before, after, trims: t.trims, kept: keep.length }));`;
    const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { before: number; after: number; trims: number };
    expect(o.trims).toBe(1);
    // ~300,000 dead objects (well over 10 MiB) promoted by the small young generation: gone
    expect(o.before - o.after).toBeGreaterThan(10 * 2 ** 20);
  });

  it('the vdpd executable starts Node with the daemon flags and environment', () => {
    const first = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'cli', 'vdpd.ts'), 'utf8').split('\n')[0];
    const env = Object.entries(DAEMON_ENV).map(([k, v]) => `${k}=${v}`);
    expect(first).toBe(`#!/usr/bin/env -S ${env.join(' ')} node ${DAEMON_NODE_FLAGS.join(' ')}`);
  });
});
