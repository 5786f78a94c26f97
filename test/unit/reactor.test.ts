/**
 * The reactor (src/io/reactor.ts) watches raw sockets for the daemon: here a pipe stands in
 * for one. Data written while it checks without blocking is read on a later turn; once
 * nothing has come for a couple of turns it goes back to the blocking poll (it must not
 * keep spinning on an idle daemon); with nothing watched it stops.
 */
import { describe, expect, it } from 'vitest';
import { libc, O_CLOEXEC, O_NONBLOCK } from '../../src/io/libc.js';
import { reactor } from '../../src/io/reactor.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, turns = 2000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await turn();
  if (!cond()) throw new Error('condition not reached');
}

/** a non-blocking pipe standing in for a socket: [read end, write end] */
function pipe(): [number, number] {
  const fds = [0, 0];
  expect(Number(libc.pipe2(fds, O_NONBLOCK | O_CLOEXEC))).toBe(0);
  return fds as [number, number];
}

describe('reactor', () => {
  it('reads every write, checks without blocking while data comes, then blocks again; stops when nothing is watched', async () => {
    const [r, w] = pipe();
    const got: number[] = [];
    const buf = Buffer.alloc(16);
    reactor().add({
      fd: r,
      onReadable: () => {
        for (;;) {
          const n = Number(libc.read(r, buf, 16));
          if (n <= 0) return;
          for (let i = 0; i < n; i++) got.push(buf[i]!);
        }
      },
    });
    try {
      await until(() => reactor().mode === 'blocking');
      libc.write(w, Buffer.of(1), 1);
      await until(() => got.length === 1);
      // right after a read the reactor checks again on the next turns instead of blocking
      expect(reactor().mode).toBe('checking');
      libc.write(w, Buffer.of(2), 1);
      await until(() => got.length === 2);
      // nothing more: back to the blocking poll within a few turns, and it stays there
      await until(() => reactor().mode === 'blocking', 50);
      for (let i = 0; i < 20; i++) await turn();
      expect(reactor().mode).toBe('blocking');
      libc.write(w, Buffer.of(3), 1);
      await until(() => got.length === 3);
      expect(got).toEqual([1, 2, 3]);
    } finally {
      reactor().remove(r);
      libc.close(r);
      libc.close(w);
    }
    // the blocking poll returns (woken by the remove) and is not armed again
    await until(() => reactor().mode === 'idle');
  });

  it('drainNow reads what is readable at once, in any mode, until empty or out of budget', async () => {
    const [r, w] = pipe();
    const got: number[] = [];
    const one = Buffer.alloc(1);
    // one octet per call: a handler that reads a slice at a time, as the packet sockets do
    reactor().add({ fd: r, onReadable: () => void (Number(libc.read(r, one, 1)) === 1 && got.push(one[0]!)) });
    try {
      await until(() => reactor().mode === 'blocking');
      reactor().drainNow(10); // nothing there
      expect(got).toEqual([]);
      libc.write(w, Buffer.of(1, 2, 3, 4), 4);
      // no turn in between: read synchronously, while the blocking poll is still armed
      reactor().drainNow(0); // one slice: the budget is spent after it
      expect(got).toEqual([1]);
      reactor().drainNow(1000);
      expect(got).toEqual([1, 2, 3, 4]);
    } finally {
      reactor().remove(r);
      libc.close(r);
      libc.close(w);
    }
    await until(() => reactor().mode === 'idle');
  });
});
