import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, MemoryTrim, observeMajorGc } from '../../src/daemon/memory.js';
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

  /** a MemoryTrim whose heap and major-collection ends the test drives */
  function driven(o: { reduce: boolean; heap: () => number; total?: () => number; checkMs?: number; quietMs?: number; gcWaitMs?: number; releaseNative?: () => Promise<void> | void }) {
    const calls: string[] = [];
    let gcEnded: () => void = () => undefined;
    let checks = 0;
    const t = new MemoryTrim({
      gc: o.reduce ? undefined : () => void calls.push('gc'),
      reduce: o.reduce ? () => void calls.push('reduce') : undefined,
      releaseNative: o.releaseNative ?? (() => void calls.push('native')),
      quietMs: o.quietMs ?? 5,
      minChanges: 1,
      checkMs: o.checkMs ?? 10,
      gcWaitMs: o.gcWaitMs ?? 60_000,
      heapUsed: () => (checks++, o.heap()),
      heapTotal: o.total ?? (() => o.heap()),
      onMajorGc: (cb) => ((gcEnded = cb), () => (gcEnded = () => undefined)),
    });
    const ticks = async (n: number) => {
      const before = checks;
      while (checks - before < n) await sleep(2);
    };
    return { t, calls, ticks, gcEnded: () => gcEnded() };
  }

  it('between bursts: a quarter (and 4 MiB) above what the last major collection left collects; malloc_trim once that collection has ended; other checks do nothing', async () => {
    const MiB = 2 ** 20;
    let heap = 200 * MiB;
    const d = driven({ reduce: true, heap: () => heap });
    await d.ticks(3);
    expect(d.calls).toEqual([]); // no major collection seen yet: no floor, nothing to compare with
    heap = 20 * MiB;
    d.gcEnded(); // V8's own collection: the floor is 20 MiB; nothing to release (not ours)
    heap = 29 * MiB; // 1.25 × 20 + 4 = 29: not above
    await d.ticks(2);
    expect(d.calls).toEqual([]);
    heap = 29.5 * MiB;
    while (d.calls.length === 0) await sleep(2);
    expect(d.calls).toEqual(['reduce']); // asked for; it runs in steps, malloc_trim waits for its end
    expect(d.t.trims).toBe(1);
    await sleep(40); // checks meanwhile: no second request while one is running
    expect(d.calls).toEqual(['reduce']);
    heap = 22 * MiB;
    d.gcEnded(); // it ended: the new floor, and native memory back to the kernel
    expect(d.calls).toEqual(['reduce', 'native']);
    expect(d.t.nativeReleases).toBe(1);
    heap = 31 * MiB; // 1.25 × 22 + 4 = 31.5: not above
    await d.ticks(2);
    expect(d.calls).toHaveLength(2);
    heap = 32 * MiB;
    while (d.calls.length < 3) await sleep(2);
    expect(d.calls).toEqual(['reduce', 'native', 'reduce']);
    d.gcEnded();
    expect(d.calls).toEqual(['reduce', 'native', 'reduce', 'native']);
    heap = 100 * MiB;
    d.gcEnded(); // V8's own collections never release native memory
    expect(d.calls).toHaveLength(4);
    d.t.stop();
  });

  it('between bursts: a heap V8 holds half as much again as is in use (and 4 MiB) is compacted, twice at most until the heap grows', async () => {
    const MiB = 2 ** 20;
    let used = 20 * MiB;
    let total = 34 * MiB; // 1.5 × 20 + 4: not above
    const d = driven({ reduce: true, heap: () => used, total: () => total });
    d.gcEnded(); // the floor: 20 MiB
    await d.ticks(2);
    expect(d.calls).toEqual([]);
    total = 43 * MiB; // what the warm-up and a 10,000-VSI burst left in the bench
    while (d.calls.length === 0) await sleep(2);
    expect(d.calls).toEqual(['reduce']);
    d.gcEnded(); // compacted only in part
    expect(d.calls).toEqual(['reduce', 'native']);
    while (d.calls.length < 3) await sleep(2);
    d.gcEnded();
    expect(d.calls).toEqual(['reduce', 'native', 'reduce', 'native']);
    await d.ticks(3);
    expect(d.calls).toHaveLength(4); // twice: V8 keeps that heap for its own reasons
    used = 30 * MiB; // grown by more than a quarter: a collection, and the count starts again
    while (d.calls.length < 5) await sleep(2);
    used = 21 * MiB;
    d.gcEnded();
    while (d.calls.length < 7) await sleep(2);
    expect(d.calls).toEqual(['reduce', 'native', 'reduce', 'native', 'reduce', 'native', 'reduce']);
    d.t.stop();
  });

  it('a burst lets the sparse-heap check ask again', async () => {
    const MiB = 2 ** 20;
    const d = driven({ reduce: true, heap: () => 20 * MiB, total: () => 43 * MiB });
    d.gcEnded(); // the floor: 20 MiB
    while (d.calls.length < 1) await sleep(2);
    d.gcEnded();
    while (d.calls.length < 3) await sleep(2);
    d.gcEnded();
    await d.ticks(3);
    expect(d.calls).toEqual(['reduce', 'native', 'reduce', 'native']); // twice, then no more
    d.t.note(); // a burst (minChanges 1): its end collects
    while (d.calls.length < 5) await sleep(2);
    d.gcEnded();
    while (d.calls.length < 7) await sleep(2); // and the sparse check may ask again
    expect(d.calls.slice(4)).toEqual(['reduce', 'native', 'reduce']);
    d.t.stop();
  });

  it('gc() is done when it returns: malloc_trim follows at once; a requested collection whose end is never seen releases after gcWaitMs', async () => {
    const MiB = 2 ** 20;
    let heap = 10 * MiB;
    const g = driven({ reduce: false, heap: () => heap });
    g.gcEnded();
    heap = 20 * MiB;
    while (g.calls.length < 2) await sleep(2);
    expect(g.calls.slice(0, 2)).toEqual(['gc', 'native']);
    g.t.stop();
    heap = 10 * MiB;
    const r = driven({ reduce: true, heap: () => heap, gcWaitMs: 30 });
    r.gcEnded();
    heap = 20 * MiB;
    while (r.calls.length < 1) await sleep(2);
    expect(r.calls).toEqual(['reduce']);
    while (r.calls.length < 2) await sleep(2);
    expect(r.calls.slice(0, 2)).toEqual(['reduce', 'native']);
    expect(r.t.gcWaitTimeouts).toBe(1); // counted (ping: memoryTrimWaitTimeouts)
    r.t.stop();
  });

  it('an asynchronous malloc_trim: its time is measured when it settles, and no second one starts meanwhile', async () => {
    let finish: () => void = () => undefined;
    let started = 0;
    const d = driven({ reduce: true, heap: () => 1, checkMs: 0, releaseNative: () => (started++, new Promise<void>((r) => (finish = r))) });
    d.t.note();
    while (d.calls.length === 0) await sleep(2); // the burst's end asked for a collection
    d.gcEnded();
    expect(started).toBe(1);
    expect(d.t.gcWaitTimeouts).toBe(0); // the end was seen
    d.t.note();
    while (d.calls.length < 2) await sleep(2);
    d.gcEnded(); // the first malloc_trim is still running: no second
    expect(started).toBe(1);
    await sleep(20);
    finish();
    await sleep(1);
    expect(d.t.nativeReleases).toBe(1);
    expect(d.t.lastNativeMs).toBeGreaterThanOrEqual(15);
    d.t.stop();
  });

  it('collectNow (after the start-up warm-up): resolves once the collection has ended and native memory is released, or its wait ran out', async () => {
    const MiB = 2 ** 20;
    const d = driven({ reduce: true, heap: () => 20 * MiB, checkMs: 0 });
    let settled = false;
    const p = d.t.collectNow().then(() => void (settled = true));
    await sleep(20);
    expect(d.calls).toEqual(['reduce']);
    expect(settled).toBe(false); // the collection runs in steps: not yet
    d.gcEnded();
    await p;
    expect(d.calls).toEqual(['reduce', 'native']);
    expect(d.t.trims).toBe(1);
    d.t.stop();
    // an end never seen: released and resolved after gcWaitMs
    const late = driven({ reduce: true, heap: () => 20 * MiB, checkMs: 0, gcWaitMs: 30 });
    await late.t.collectNow();
    expect(late.calls).toEqual(['reduce', 'native']);
    expect(late.t.gcWaitTimeouts).toBe(1);
    late.t.stop();
    // gc() is done when it returns; with no native release the promise still resolves
    const calls: string[] = [];
    const plain = new MemoryTrim({ gc: () => void calls.push('gc'), checkMs: 0 });
    await plain.collectNow();
    expect(calls).toEqual(['gc']);
    plain.stop();
    // nothing to collect with: resolves at once
    await new MemoryTrim({ gc: undefined, checkMs: 0 }).collectNow();
  });

  it('checks hold off while a burst is on: its end collects', async () => {
    const MiB = 2 ** 20;
    let heap = 1 * MiB;
    const d = driven({ reduce: false, heap: () => heap, quietMs: 200 });
    d.gcEnded();
    heap = 100 * MiB; // far above the floor: only the burst keeps the checks off
    for (let k = 0; k < 10; k++) {
      d.t.note(); // the burst goes on: ~10 checks pass meanwhile
      await sleep(10);
    }
    expect(d.calls).toEqual([]);
    while (d.calls.length < 2) await sleep(5);
    expect(d.calls.slice(0, 2)).toEqual(['gc', 'native']);
    d.t.stop();
  });

  it('sees the end of the collection V8\'s embedder API was asked for, through perf_hooks', async () => {
    let ends = 0;
    const off = observeMajorGc(() => void ends++);
    let junk: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    expect(junk).toHaveLength(200_000);
    junk = undefined;
    v8MemoryPressure()!();
    const t0 = Date.now();
    while (ends === 0 && Date.now() - t0 < 2000) await sleep(5);
    off();
    expect(ends).toBeGreaterThan(0);
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
      let atRelease = -1;
      const t = new MemoryTrim({ gc: exposedGc(), reduce: ${how === 'reduce' ? 'v8MemoryPressure()' : 'undefined'}, quietMs: 1, minChanges: 1, checkMs: 0, releaseNative: () => { atRelease = process.memoryUsage().heapUsed; } });
      t.note();
      // the incremental collection runs in steps between callbacks: give it up to 5 s
      let after = before;
      for (let k = 0; k < 100 && (before - after <= 10 * 2 ** 20 || atRelease < 0); k++) {
        await new Promise((r) => setTimeout(r, 50));
        after = process.memoryUsage().heapUsed;
      }
      console.log(JSON.stringify({ before, after, atRelease, trims: t.trims, trimMs: t.lastTrimMs, kept: keep.length }));`;
    const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { before: number; after: number; atRelease: number; trims: number; trimMs: number };
    expect(o.trims).toBe(1);
    // ~300,000 dead objects (well over 10 MiB) promoted by the small young generation: gone
    expect(o.before - o.after).toBeGreaterThan(10 * 2 ** 20);
    // and malloc_trim came after they were gone (the incremental collection's end was awaited)
    expect(o.before - o.atRelease).toBeGreaterThan(10 * 2 ** 20);
  });

  it('the vdpd executable starts Node with the daemon flags and environment', () => {
    const first = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'cli', 'vdpd.ts'), 'utf8').split('\n')[0];
    const env = Object.entries(DAEMON_ENV).map(([k, v]) => `${k}=${v}`);
    expect(first).toBe(`#!/usr/bin/env -S ${env.join(' ')} node ${DAEMON_NODE_FLAGS.join(' ')}`);
  });
});
