import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GcPauses } from '../../src/daemon/gc-pauses.js';

/** young-generation garbage that survives long enough that no compiler can leave it out: scavenges */
function churn(): number {
  let kept: { i: number }[] = [];
  let n = 0;
  for (let i = 0; i < 500_000; i++) {
    kept.push({ i });
    if (kept.length === 10_000) {
      n += kept.length;
      kept = [];
    }
  }
  return n;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('GcPauses (ping: gcPauseMaxMs)', () => {
  it('records the longest pause of the collections that happen while it observes', async () => {
    const p = new GcPauses();
    p.start();
    expect(churn()).toBe(500_000);
    // entries are delivered later, from the loop
    await until(() => p.count > 0);
    p.stop();
    expect(p.count).toBeGreaterThan(0);
    expect(p.maxMs['minor']).toBeGreaterThan(0);
    const seen = p.count;
    churn();
    await new Promise((r) => setTimeout(r, 100));
    expect(p.count).toBe(seen); // stopped: nothing more is counted
  });

  it('tells its listeners when a major collection ends, and reset() forgets what was seen', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const p = new GcPauses();
    let majors = 0;
    const off = p.onMajor(() => majors++); // starts observing
    try {
      gc();
      await until(() => majors > 0);
      expect(majors).toBeGreaterThan(0);
      expect(p.maxMs['major']).toBeGreaterThan(0);
      p.reset();
      expect(p.count).toBe(0);
      expect(p.maxMs).toEqual({});
      off();
      const seen = majors;
      gc();
      await until(() => p.count > 0);
      expect(p.count).toBeGreaterThan(0); // still observing
      expect(majors).toBe(seen); // but no longer calling the listener taken off
    } finally {
      p.stop();
    }
  });
});
