import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readState, StateFileError, StateWriter, writeStateAtomic } from '../../src/state-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vdpd-state-'));
  dirs.push(d);
  return d;
}

describe('state file', () => {
  it('writes atomically with mode 0600 and reads back', () => {
    const d = tmp();
    const path = join(d, 'sub', 'state.json');
    expect(readState(path)).toBeUndefined();
    writeStateAtomic(path, { interfaces: { eth0: { vsis: [1, 2, 3] } } });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readState(path)?.interfaces).toEqual({ eth0: { vsis: [1, 2, 3] } });
    writeStateAtomic(path, { interfaces: { eth0: { vsis: [] } } });
    expect(readState(path)?.interfaces).toEqual({ eth0: { vsis: [] } });
    // no temp files left behind
    expect(readdirSync(join(d, 'sub'))).toEqual(['state.json']);
  });

  it('refuses a corrupt or foreign file with a typed error', () => {
    const d = tmp();
    const path = join(d, 'state.json');
    writeFileSync(path, '{"version": 1, "interfaces": {"eth0": ');
    expect(() => readState(path)).toThrow(StateFileError);
    writeFileSync(path, '{"version": 99, "interfaces": {}}');
    expect(() => readState(path)).toThrow(/unknown layout/);
  });

  it('coalesces bursts of changes into one write', async () => {
    const d = tmp();
    const path = join(d, 'state.json');
    let n = 0;
    const w = new StateWriter(path, () => [['eth0', [[{ n: ++n }]]]], (e) => {
      throw e;
    }, 20);
    for (let i = 0; i < 1000; i++) w.markDirty();
    await new Promise((r) => setTimeout(r, 80));
    await w.idle();
    expect(w.writes).toBe(1);
    expect(readState(path)?.interfaces).toEqual({ eth0: [{ n: 1 }] });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('serialises a chunk per event-loop turn and writes the same file as a synchronous flush', async () => {
    const d = tmp();
    const path = join(d, 'state.json');
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    spin();
    const seen: number[] = [];
    function* chunks(iface: number): Generator<unknown[]> {
      for (let c = 0; c < 5; c++) {
        seen.push(turns);
        yield Array.from({ length: 3 }, (_, i) => ({ iface, c, i }));
      }
      yield [];
    }
    const w = new StateWriter(path, () => [['eth0', chunks(0)], ['eth1', chunks(1)]], (e) => {
      throw e;
    }, 1);
    w.markDirty();
    await new Promise((r) => setTimeout(r, 20));
    await w.idle();
    spinning = false;
    // other work ran between the chunks
    expect(new Set(seen).size).toBeGreaterThan(3);
    const asyncText = readState(path)!.interfaces;
    expect((asyncText['eth0'] as unknown[]).length).toBe(15);
    expect((asyncText['eth1'] as unknown[]).length).toBe(15);
    w.flush();
    expect(readState(path)!.interfaces).toEqual(asyncText);
    expect(readdirSync(d)).toEqual(['state.json']);
  });

  it('a write\'s loop time counts the making of its chunks (the engine builds records when asked), so writes are spaced by it', async () => {
    const path = join(tmp(), 'state.json');
    // each chunk takes ~10 ms to make and almost nothing to serialise
    function* slow(): Generator<unknown[]> {
      for (let c = 0; c < 3; c++) {
        const until = performance.now() + 10;
        while (performance.now() < until);
        yield [{ c }];
      }
    }
    const w = new StateWriter(path, () => [['eth0', slow()]], (e) => {
      throw e;
    }, 1);
    w.markDirty();
    await new Promise((r) => setTimeout(r, 20));
    await w.idle();
    expect(w.writes).toBe(1);
    expect(w.lastWriteMs).toBeGreaterThanOrEqual(30);
    expect((readState(path)!.interfaces['eth0'] as unknown[]).length).toBe(3);
  });

  it('a change during a write is written by the next one; a failing write is counted and leaves no temp file', async () => {
    const d = tmp();
    const path = join(d, 'state.json');
    let v = 1;
    const w = new StateWriter(path, () => [['eth0', [[{ v }]]]], () => {}, 1);
    w.markDirty();
    await new Promise((r) => setTimeout(r, 5));
    v = 2;
    w.markDirty();
    await new Promise((r) => setTimeout(r, 50));
    await w.idle();
    expect(readState(path)?.interfaces).toEqual({ eth0: [{ v: 2 }] });
    const bad = new StateWriter(join(path, 'not-a-dir', 'state.json'), () => [['eth0', [[{ v }]]]], () => {}, 1);
    bad.markDirty();
    await new Promise((r) => setTimeout(r, 20));
    await bad.idle();
    expect(bad.failures).toBe(1);
    expect(readdirSync(d)).toEqual(['state.json']);
  });
});
