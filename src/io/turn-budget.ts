/**
 * The daemon's one budget per event-loop turn (fsm/timers.ts TurnShare). Timer expiries,
 * received frames and API lines each stop after a 5 ms slice, but in one turn of Node's loop
 * all three run (timers, then the poll phase's socket data, then the check phase's frame
 * reads and deferred API lines), and a turn of three slices, each overrunning by its last
 * item, held the loop 40-50 ms in a 10,000-VSI burst (the bench's worst blocks besides GC).
 * Here the first source to start work in a turn starts the turn's clock; every source stops
 * once the turn has used TURN_MS and goes on in the next turn. Each does at least one item
 * per turn, so none starves.
 *
 * A turn ends at the check phase (a setImmediate queued when the clock starts) or when the
 * next turn's timers fire, whichever comes first.
 */
import type { TurnShare } from '../../fsm/timers.js';

/** all sources together, per turn (each source: at most 5 ms of its own) */
export const TURN_MS = 8;

export class TurnBudget implements TurnShare {
  /** when this turn's first work started; -1: none yet */
  private start = -1;
  private resetQueued = false;

  constructor(private readonly turnMs = TURN_MS) {}

  begin(): void {
    if (this.start >= 0) return;
    this.start = performance.now();
    if (!this.resetQueued) {
      this.resetQueued = true;
      setImmediate(this.reset);
    }
  }

  over(): boolean {
    return this.start >= 0 && performance.now() - this.start > this.turnMs;
  }

  newTurn(): void {
    this.start = -1;
  }

  private readonly reset = (): void => {
    this.resetQueued = false;
    this.start = -1;
  };
}

let shared: TurnBudget | undefined;

/** the process's budget (the daemon's sockets, API server and timers draw on it) */
export function turnBudget(): TurnBudget {
  shared ??= new TurnBudget();
  return shared;
}
