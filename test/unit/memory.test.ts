import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, MemoryTrim } from '../../src/daemon/memory.js';
import { v8MemoryPressure } from '../../src/io/v8-heap.js';

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

  it('prefers V8\'s memory-reducing collection to gc() when it has both', async () => {
    const calls: string[] = [];
    const t = new MemoryTrim({ gc: () => void calls.push('gc'), reduce: () => void calls.push('reduce'), quietMs: 5, minChanges: 1, checkMs: 0 });
    t.note();
    await sleep(40);
    expect(calls).toEqual(['reduce']);
    t.stop();
  });

  it('between bursts: the floor is read (and native memory released) at the first check after a collection; a quarter (and 4 MiB) above it collects; other checks do nothing', async () => {
    const MiB = 2 ** 20;
    let heap = 20 * MiB;
    let checks = 0;
    const calls: string[] = [];
    const t = new MemoryTrim({
      gc: undefined,
      reduce: () => void calls.push('reduce'),
      releaseNative: () => void calls.push('native'),
      quietMs: 5,
      minChanges: 1,
      checkMs: 10,
      heapUsed: () => (checks++, heap),
    });
    const ticks = async (n: number) => {
      const before = checks;
      while (checks - before < n) await sleep(2);
    };
    await ticks(1); // first check: the floor (20 MiB), then a malloc_trim
    expect(calls).toEqual(['native']);
    heap = 29 * MiB; // 1.25 × 20 + 4 = 29: not above
    await ticks(2);
    expect(calls).toEqual(['native']);
    heap = 29.5 * MiB;
    await ticks(1);
    expect(calls).toEqual(['native', 'reduce', 'native']); // the collection with its malloc_trim
    expect(t.trims).toBe(1);
    heap = 22 * MiB; // what the next check sees: the new floor, and a malloc_trim
    await ticks(1);
    expect(calls).toEqual(['native', 'reduce', 'native', 'native']);
    heap = 31 * MiB; // 1.25 × 22 + 4 = 31.5: not above
    await ticks(2);
    expect(calls).toHaveLength(4);
    heap = 32 * MiB;
    await ticks(1);
    expect(calls.slice(-2)).toEqual(['reduce', 'native']);
    expect(t.trims).toBe(2);
    t.stop();
  });

  it('checks hold off while a burst is on: its end collects', async () => {
    const calls: string[] = [];
    const t = new MemoryTrim({ gc: () => void calls.push('gc'), releaseNative: () => void calls.push('native'), quietMs: 200, minChanges: 1, checkMs: 10, heapUsed: () => 1 });
    for (let k = 0; k < 10; k++) {
      t.note(); // the burst goes on: ~10 checks pass meanwhile
      await sleep(10);
    }
    expect(calls).toEqual([]);
    while (calls.length < 2) await sleep(10);
    expect(calls.slice(0, 2)).toEqual(['gc', 'native']);
    t.stop();
  });

  it('V8\'s embedder API is reachable in this Node (else the daemon falls back to gc())', () => {
    expect(v8MemoryPressure()).toBeTypeOf('function');
  });

  it.each(['gc', 'reduce'] as const)('the trim frees memory for real (%s): a Node with the daemon flags, garbage in the old generation, one trim', (how) => {
    // the compiled modules, in a Node started as vdpd starts it (not this test runner's)
    const dist = join(import.meta.dirname, '..', '..', 'dist', 'src');
    const script = `
      const { MemoryTrim, exposedGc } = await import(${JSON.stringify(join(dist, 'daemon', 'memory.js'))});
      const { v8MemoryPressure } = await import(${JSON.stringify(join(dist, 'io', 'v8-heap.js'))});
      const keep = [];
      for (let i = 0; i < 100000; i++) keep.push({ i, s: 'k' + i });
      let junk = [];
      for (let i = 0; i < 300000; i++) junk.push({ i, s: 'j' + i });
      junk = null;
      const before = process.memoryUsage().heapUsed;
      const t = new MemoryTrim({ gc: exposedGc(), reduce: ${how === 'reduce' ? 'v8MemoryPressure()' : 'undefined'}, quietMs: 1, minChanges: 1, checkMs: 0 });
      t.note();
      // the incremental collection runs in steps between callbacks: give it up to 5 s
      let after = before;
      for (let k = 0; k < 100 && before - after <= 10 * 2 ** 20; k++) {
        await new Promise((r) => setTimeout(r, 50));
        after = process.memoryUsage().heapUsed;
      }
      console.log(JSON.stringify({ before, after, trims: t.trims, trimMs: t.lastTrimMs, kept: keep.length }));`;
    const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { before: number; after: number; trims: number; trimMs: number };
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
