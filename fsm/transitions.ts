/**
 * Every state change in every machine is reported with its reason, so the daemon's log,
 * `vdpctl watch` and `vdpctl replay` can say why something happened:
 *   state-change: vsi=<uuid> ASSOC_WAIT -> ASSOCIATED reason=bridge-response-success
 */
export type MachineKind = 'evb' | 'ecp-tx' | 'ecp-rx' | 'vdp-station' | 'vdp-bridge';

export interface TransitionRecord {
  /** TimerService time (ms) */
  t: number;
  machine: MachineKind;
  /** VSI id (UUID string for format 5, else '<format>:<hex>'), or the interface name for evb/ecp */
  id: string;
  from: string;
  to: string;
  reason: string;
}

/**
 * Receives state changes. `wants`, when present, says whether anybody would read a
 * machine's changes right now (a log level, a watcher): the engines then skip making the
 * record, whose VSI id is a UUID rendered to text, 2-3 times per VSI in a burst.
 */
export type TransitionSink = ((r: TransitionRecord) => void) & { wants?: (machine: MachineKind) => boolean };

/** whether `sink` takes `machine`'s changes now */
export function wanted(sink: TransitionSink | undefined, machine: MachineKind): sink is TransitionSink {
  return sink !== undefined && (sink.wants?.(machine) ?? true);
}

export const noTransitions: TransitionSink = () => {};

export function formatTransition(r: TransitionRecord): string {
  const key = r.machine === 'vdp-station' || r.machine === 'vdp-bridge' ? 'vsi' : r.machine;
  return `state-change: ${key}=${r.id} ${r.from} -> ${r.to} reason=${r.reason}`;
}
