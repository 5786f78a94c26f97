/**
 * Node cannot watch an arbitrary file descriptor from JavaScript, so vdpd's raw sockets
 * are watched by one blocking poll() running on libuv's thread pool (a koffi async call).
 * When it returns, every readable socket is drained on the main thread with non-blocking
 * reads, then the poll is armed again. One pool thread in all (a blocking read per socket
 * would eat libuv's four threads); a pipe wakes the poll when sockets come and go; with no
 * socket left the reactor stops and the process can exit.
 *
 * While frames keep coming (a burst), the next turns check with a non-blocking poll() on
 * the main thread instead (~1 µs) and go back to the blocking one after SPIN_TURNS turns
 * found nothing: arming the async call costs ~15 µs of the main thread by itself, and one
 * per frame was 4-9 % of a daemon's CPU in a 10,000-VSI burst.
 */
import { RealTimers } from '../../fsm/timers.js';
import { check, EAGAIN, errno, libc, O_CLOEXEC, O_NONBLOCK, POLLIN } from './libc.js';
import { turnBudget } from './turn-budget.js';

export interface Watched {
  fd: number;
  /** called on the main thread when fd is readable; must read until EAGAIN (or a budget) */
  onReadable(): void;
}

/** empty non-blocking checks in a row before the reactor goes back to the blocking poll */
const SPIN_TURNS = 2;

class Reactor {
  private watched = new Map<number, Watched>();
  private wakeR: number;
  private wakeW: number;
  /** the blocking poll is armed on the thread pool */
  private polling = false;
  /** a non-blocking check is scheduled for the next turn (and the blocking poll not armed) */
  private spinning = false;
  private emptyChecks = 0;
  private pollBuf = Buffer.alloc(0);
  private order: number[] = [];
  /** the watched set changed since pollBuf was built */
  private stale = true;

  constructor() {
    const fds = [0, 0];
    check('pipe2', libc.pipe2(fds, O_NONBLOCK | O_CLOEXEC));
    this.wakeR = fds[0]!;
    this.wakeW = fds[1]!;
  }

  /** how the sockets are watched right now: blocking poll on the thread pool, non-blocking checks per turn, or not at all */
  get mode(): 'blocking' | 'checking' | 'idle' {
    return this.polling ? 'blocking' : this.spinning ? 'checking' : 'idle';
  }

  add(w: Watched): void {
    this.watched.set(w.fd, w);
    this.stale = true;
    this.kick();
  }

  remove(fd: number): void {
    this.watched.delete(fd);
    this.stale = true;
    this.wake();
  }

  private wake(): void {
    if (this.polling) libc.write(this.wakeW, Buffer.of(1), 1);
  }

  private kick(): void {
    if (this.polling) return this.wake();
    // a scheduled check sees the new set on its turn
    if (this.spinning) return;
    this.arm();
  }

  /** the pollfd array for the watched set, rebuilt only when the set changed */
  private fds(): void {
    if (!this.stale) return;
    this.stale = false;
    this.order = [this.wakeR, ...this.watched.keys()];
    this.pollBuf = Buffer.alloc(8 * this.order.length);
    this.order.forEach((fd, i) => {
      this.pollBuf.writeInt32LE(fd, i * 8);
      this.pollBuf.writeInt16LE(POLLIN, i * 8 + 4);
    });
  }

  private arm(): void {
    if (this.watched.size === 0 || this.polling) return;
    this.fds();
    this.polling = true;
    const buf = this.pollBuf;
    const order = this.order;
    // a bounded wait: process.exit() joins libuv's pool threads, so a poll() blocked forever
    // would hang an exit that forgot to close its sockets; 500 ms bounds that at no real cost
    libc.poll.async(buf, order.length, 500, (err: unknown, rc: number) => {
      this.polling = false;
      if (err) {
        // koffi could not run the call: retry on the next turn rather than spin
        setTimeout(() => this.arm(), 10);
        return;
      }
      if (rc > 0) {
        this.dispatch(buf, order);
        this.emptyChecks = 0;
        this.spin();
      } else setImmediate(() => this.arm());
    });
  }

  /** check again on the next turn, without blocking */
  private spin(): void {
    this.spinning = true;
    setImmediate(this.check);
  }

  private readonly check = (): void => {
    this.spinning = false;
    if (this.watched.size === 0 || this.polling) return;
    this.fds();
    const buf = this.pollBuf;
    const order = this.order;
    const rc = Number(libc.poll(buf, order.length, 0));
    if (rc > 0) {
      this.dispatch(buf, order);
      this.emptyChecks = 0;
      return this.spin();
    }
    if (rc < 0 || ++this.emptyChecks > SPIN_TURNS) return this.arm();
    this.spin();
  };

  /**
   * Read the sockets that are readable right now, on the main thread, whatever mode the
   * reactor is in, for up to `budgetMs` (RealTimers calls it before timers that fire late:
   * reactorTimers). Its own pollfd array: the one of a blocking poll in flight is being
   * written by the pool thread.
   */
  drainNow(budgetMs: number): void {
    if (this.watched.size === 0) return;
    this.fds();
    const order = this.order;
    const buf = Buffer.from(this.pollBuf);
    buf.writeInt16LE(0, 4); // not the wake pipe: its byte is for the blocking poll
    const t0 = performance.now();
    // each handler reads one slice per call (packet-socket.ts), so call them until the
    // sockets are empty or the budget is spent
    do {
      if (Number(libc.poll(buf, order.length, 0)) <= 0) return;
      this.dispatch(buf, order);
    } while (performance.now() - t0 < budgetMs);
  }

  /** the longest dispatch of readable sockets to their handlers, ms: what held the event loop, for ping */
  maxDispatchMs = 0;

  private dispatch(buf: Buffer, order: number[]): void {
    const t0 = performance.now();
    this.handOut(buf, order);
    const took = performance.now() - t0;
    if (took > this.maxDispatchMs) this.maxDispatchMs = took;
  }

  private handOut(buf: Buffer, order: number[]): void {
    for (let i = 0; i < order.length; i++) {
      const revents = buf.readInt16LE(i * 8 + 6);
      if (revents === 0) continue;
      const fd = order[i]!;
      if (fd === this.wakeR) {
        const tmp = Buffer.alloc(64);
        while (Number(libc.read(this.wakeR, tmp, 64)) > 0);
        continue;
      }
      const w = this.watched.get(fd);
      if (!w) continue;
      try {
        w.onReadable();
      } catch (e) {
        // a consumer bug must not stop the reactor for every other socket
        process.emitWarning(`reactor: handler for fd ${fd} threw: ${(e as Error).message}`);
      }
    }
  }
}

let instance: Reactor | undefined;

export function reactor(): Reactor {
  instance ??= new Reactor();
  return instance;
}

export function wouldBlock(): boolean {
  return errno() === EAGAIN;
}

/** how long a late timer turn may read the sockets before its timers fire (ms) */
const LATE_TURN_READ_MS = 50;

/**
 * Timers for a process whose input comes through this reactor (the daemon, the lab driver):
 * a turn whose timers fire late (the process was stopped or starved) reads the sockets first.
 */
export function reactorTimers(): RealTimers {
  return new RealTimers({ inputFirst: () => reactor().drainNow(LATE_TURN_READ_MS), share: turnBudget() });
}
