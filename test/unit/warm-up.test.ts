import { describe, expect, it } from 'vitest';
import { warmUp } from '../../src/daemon/warm-up.js';

describe('start-up warm-up (src/daemon/warm-up.ts)', () => {
  it('associates and then de-associates every VSI through the real engines and codecs', () => {
    const r = warmUp(300, 60_000);
    expect(r).toMatchObject({ vsis: 300, associated: 300, deassociated: 300 });
    expect(r.wallMs).toBeGreaterThan(0);
  });

  it('stops once its budget is spent, whatever is left', () => {
    // a budget of 0 ms ends each phase after its first timer step: far from 20,000 VSIs
    const r = warmUp(20_000, 0);
    expect(r.associated).toBeLessThan(20_000);
    expect(r.deassociated).toBeLessThanOrEqual(r.associated);
  });
});
