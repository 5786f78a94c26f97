/**
 * RealTimers on the real event loop: a turn whose timers are late (the process did not run)
 * reads the input first (`inputFirst`), so what waited in a socket restarts or cancels them
 * before they fire. On time, it reads nothing.
 */
import { describe, expect, it } from 'vitest';
import { LATE_MS, lateBy, RealTimers } from '../../../fsm/timers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the event loop held for `ms`: what a stopped or starved process looks like to its timers */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('RealTimers: late turns read the input first', () => {
  it('on time: the input is not read from the timers', async () => {
    let reads = 0;
    const t = new RealTimers({ inputFirst: () => void reads++ });
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

  it('maxFireMs: the longest turn of timer callbacks (ping longestTurnMs.timers)', async () => {
    const t = new RealTimers();
    t.after(1, () => block(5));
    await sleep(30);
    expect(t.maxFireMs).toBeGreaterThanOrEqual(5);
    t.after(1, () => undefined);
    await sleep(30);
    expect(t.maxFireMs).toBeGreaterThanOrEqual(5); // a short turn later does not lower it
    t.close();
  });

  it('lateBy: how late a timer fires (what a timeout that measures silence waits again)', async () => {
    const t = new RealTimers();
    let late = -1;
    const h = t.after(10, () => (late = lateBy(t, h)));
    block(150);
    await sleep(20);
    expect(late).toBeGreaterThan(LATE_MS);
    let onTime = -1;
    const h2 = t.after(5, () => (onTime = lateBy(t, h2)));
    await sleep(60);
    expect(onTime).toBeGreaterThanOrEqual(0);
    expect(lateBy(t, undefined)).toBe(0);
    t.close();
  });
});
