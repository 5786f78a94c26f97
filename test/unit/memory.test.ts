import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS, MemoryTrim } from '../../src/daemon/memory.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('memory trim after bursts', () => {
  it('one major GC once a burst has been quiet for quietMs; small changes and a missing gc do nothing', async () => {
    const calls: unknown[] = [];
    const t = new MemoryTrim({ gc: (o) => void calls.push(o), quietMs: 40, minChanges: 100 });
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
    expect(calls).toEqual([{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
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

  it('the vdpd executable starts Node with the daemon flags', () => {
    const first = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'cli', 'vdpd.ts'), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
  });
});
