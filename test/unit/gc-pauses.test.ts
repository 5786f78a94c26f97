import { describe, expect, it } from 'vitest';
import { GcPauses } from '../../src/daemon/gc-pauses.js';

describe('GcPauses (ping: gcPauseMaxMs)', () => {
  it('records the longest pause of the collections that happen while it observes', async () => {
    const p = new GcPauses();
    p.start();
    // young-generation garbage: scavenges
    let keep = 0;
    for (let i = 0; i < 2_000_000; i++) keep += [i, { i }].length;
    await new Promise((r) => setTimeout(r, 50)); // entries are delivered from the loop
    p.stop();
    expect(keep).toBe(4_000_000);
    expect(p.count).toBeGreaterThan(0);
    expect(p.maxMs['minor']).toBeGreaterThan(0);
    const seen = p.count;
    for (let i = 0; i < 2_000_000; i++) keep += [i].length;
    await new Promise((r) => setTimeout(r, 50));
    expect(p.count).toBe(seen); // stopped: nothing more is counted
  });
});
