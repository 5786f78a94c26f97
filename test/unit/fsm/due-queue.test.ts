/**
 * DueQueue: deadlines in the order they fall due, one timer entry for all, void slots
 * skipped, an earlier deadline (the period shrank) inserted in order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DueQueue, type DueItem } from '../../../fsm/due-queue.js';
import { VirtualTimers } from '../../../fsm/timers.js';

interface Item extends DueItem {
  id: number;
}

const item = (id: number): Item => ({ id, dueGen: 0 });

describe('DueQueue', () => {
  it('fires in deadline order, skips cancelled and replaced deadlines, and holds one timer entry', () => {
    const t = new VirtualTimers();
    const fired: [number, number][] = [];
    const q = new DueQueue<Item>(t, (x) => fired.push([x.id, t.now()]));
    const [a, b, c] = [item(1), item(2), item(3)];
    q.schedule(a, 10);
    q.schedule(b, 10);
    q.schedule(c, 20);
    expect(t.pending).toBe(1);
    q.cancel(b);
    q.schedule(c, 30); // replaces c's deadline at 20
    t.advance(100);
    expect(fired).toEqual([
      [1, 10],
      [3, 30],
    ]);
    expect(q.slots).toBe(0);
    expect(t.pending).toBe(0);
  });

  it('an earlier deadline than the last queued is put in order', () => {
    const t = new VirtualTimers();
    const fired: number[] = [];
    const q = new DueQueue<Item>(t, (x) => fired.push(x.id));
    q.schedule(item(1), 100);
    q.schedule(item(2), 200);
    q.schedule(item(3), 50); // the period shrank
    q.schedule(item(4), 150);
    t.advance(300);
    expect(fired).toEqual([3, 1, 4, 2]);
  });

  it('fires what it re-schedules from its callback, and many items over several callbacks', () => {
    const t = new VirtualTimers();
    let n = 0;
    let zero = 0;
    const q = new DueQueue<Item>(t, (x) => {
      n++;
      if (x.id === 0 && ++zero < 5) q.schedule(x, 10);
    });
    q.schedule(item(0), 10);
    for (let i = 1; i <= 1000; i++) q.schedule(item(i), 5);
    t.advance(100);
    expect(zero).toBe(5); // at 10, 20, 30, 40, 50
    expect(n).toBe(1000 + 5);
  });

  it('agrees with a plain model on random schedules and cancels', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 60 }), (ops) => {
        const t = new VirtualTimers();
        const items = Array.from({ length: 10 }, (_, i) => item(i));
        const fired: [number, number][] = [];
        const q = new DueQueue<Item>(t, (x) => fired.push([x.id, t.now()]));
        const model = new Map<number, number>(); // id -> deadline
        for (const [id, delay, cancel] of ops) {
          if (cancel) {
            q.cancel(items[id]!);
            model.delete(id);
          } else {
            q.schedule(items[id]!, delay);
            model.set(id, t.now() + delay);
          }
          t.advance(1);
          for (const [k, at] of model) if (at <= t.now()) model.delete(k);
        }
        const rest = [...model].sort((x, y) => x[1] - y[1]);
        fired.length = 0;
        t.advance(1000);
        // every deadline left fires once, at its time, in order (ties: either order)
        expect(fired.map(([, at]) => at)).toEqual(rest.map(([, at]) => at));
        expect(new Set(fired.map(([id]) => id))).toEqual(new Set(rest.map(([id]) => id)));
      }),
    );
  });
});
