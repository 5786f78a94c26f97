/**
 * One budget per event-loop turn shared by the daemon's sources of work: the first source
 * starts the turn's clock, every source stops once it is spent, and the next turn (its
 * timers, or the check phase of this one) starts afresh.
 */
import { describe, expect, it } from 'vitest';
import { RealTimers, type TurnShare } from '../../fsm/timers.js';
import { TurnBudget } from '../../src/io/turn-budget.js';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const nextCheckPhase = () => new Promise((r) => setImmediate(r));

describe('TurnBudget', () => {
  it('is spent once the turn has used its time, and new again at the check phase', async () => {
    const b = new TurnBudget(4);
    expect(b.over()).toBe(false); // no work yet in this turn
    b.begin();
    block(6);
    expect(b.over()).toBe(true);
    b.begin(); // a second source in the same turn does not restart the clock
    expect(b.over()).toBe(true);
    await nextCheckPhase();
    expect(b.over()).toBe(false);
    b.begin();
    expect(b.over()).toBe(false);
  });

  it('a new turn (the timers phase) starts the clock again', () => {
    const b = new TurnBudget(4);
    b.begin();
    block(6);
    expect(b.over()).toBe(true);
    b.newTurn();
    expect(b.over()).toBe(false);
  });
});

describe('RealTimers with a turn share', () => {
  it('stops firing when the turn is spent and fires the rest on a later turn', async () => {
    // spent after 10 expiries in a turn, whatever the clock says
    let inTurn = 0;
    let turns = 0;
    const share: TurnShare = {
      begin: () => undefined,
      over: () => inTurn >= 10,
      newTurn: () => {
        inTurn = 0;
        turns++;
      },
    };
    const t = new RealTimers({ share });
    const fired: number[] = [];
    for (let i = 0; i < 40; i++) {
      t.after(0, () => {
        inTurn++;
        fired.push(i);
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual([...Array(40).keys()]);
    // checked every 8 expiries: 16 per turn at most, so at least 3 turns
    expect(turns).toBeGreaterThanOrEqual(3);
    t.close();
  });
});
