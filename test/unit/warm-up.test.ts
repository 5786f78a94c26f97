import { describe, expect, it } from 'vitest';
import { warmUp } from '../../src/daemon/warm-up.js';

describe('start-up warm-up (src/daemon/warm-up.ts)', () => {
  it('associates and then de-associates every VSI through the real engines and codecs', () => {
    const r = warmUp(300, 60_000);
    expect(r).toMatchObject({ vsis: 300, associated: 300, deassociated: 300 });
    expect(r.wallMs).toBeGreaterThan(0);
  });

  it('holds a batch of VSIs at a time and no record afterwards (its memory is a batch\'s, then nothing)', () => {
    const r = warmUp(2500, 60_000);
    expect(r).toMatchObject({ vsis: 2500, associated: 2500, deassociated: 2500, maxAssociated: 1000, held: 0 });
  });

  it('stops once its budget is spent, whatever is left', () => {
    // a budget of 0 ms ends each phase after its first timer step: far from 20,000 VSIs
    const r = warmUp(20_000, 0);
    expect(r.associated).toBeLessThan(20_000);
    expect(r.deassociated).toBeLessThanOrEqual(r.associated);
  });
});
