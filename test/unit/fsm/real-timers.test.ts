/**
 * RealTimers on the real event loop: a turn whose timers are late (the process did not run)
 * reads the input first (`inputFirst`), and holds the timers back while input is left, so
 * what waited in a socket restarts or cancels them before they fire. On time, it reads nothing.
 */
import { describe, expect, it } from 'vitest';
import { RealTimers } from '../../../fsm/timers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the event loop held for `ms`: what a stopped or starved process looks like to its timers */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('RealTimers: late turns read the input first', () => {
  it('on time: the input is not read from the timers', async () => {
    let reads = 0;
    const t = new RealTimers({ inputFirst: () => (reads++, false) });
    let fired = 0;
    let lateBy = 0;
    const due = performance.now() + 5;
    t.after(5, () => {
      fired++;
      lateBy = performance.now() - due;
    });
    await sleep(60);
    expect(fired).toBe(1);
    // a loaded machine may itself make the turn late (over 100 ms): then, and only then, it reads
    if (lateBy <= 100) expect(reads).toBe(0);
    expect(t.lateTurns).toBe(reads);
    t.close();
  });

  it('late: the input is read before the timer, and what it reads can cancel it', async () => {
    const order: string[] = [];
    let timer: ReturnType<RealTimers['after']> | undefined;
    // the input that waited: a keep-alive that restarts the timeout
    const t = new RealTimers({
      inputFirst: () => {
        order.push('input');
        t.cancel(timer);
        timer = t.after(1000, () => order.push('timeout'));
        return false;
      },
    });
    timer = t.after(10, () => order.push('timeout'));
    t.after(10, () => order.push('other'));
    block(150);
    await sleep(40);
    expect(order).toEqual(['input', 'other']);
    expect(t.lateTurns).toBe(1);
    t.close();
  });

  it('late with more input than a slice: the timers wait until it is read, then fire', async () => {
    let left = 3;
    const order: string[] = [];
    const t = new RealTimers({
      inputFirst: (budgetMs) => {
        expect(budgetMs).toBeGreaterThan(0);
        order.push(`input ${left}`);
        return --left > 0;
      },
    });
    t.after(10, () => order.push('fired'));
    block(150);
    await sleep(60);
    expect(order).toEqual(['input 3', 'input 2', 'input 1', 'fired']);
    t.close();
  });

  it('late, with input that never ends: the timers fire anyway after the catch-up limit', async () => {
    let reads = 0;
    const t = new RealTimers({ inputFirst: () => (reads++, block(100), true) });
    let firedAt = 0;
    const t0 = performance.now();
    t.after(10, () => (firedAt = performance.now() - t0));
    block(150);
    for (let i = 0; i < 100 && firedAt === 0; i++) await sleep(50);
    expect(firedAt).toBeGreaterThan(2000);
    expect(reads).toBeGreaterThan(10);
    t.close();
  });
});
