/**
 * The report of `vdpctl lab run`: a stable JSON shape (version 1). Numbers are
 * milliseconds unless the name says otherwise; `null` means "not measured".
 */

export type ScenarioName =
  | 'assoc-deassoc'
  | 'preassoc-chain'
  | 'repeated-assoc'
  | 'vlan0-replacement'
  | 'qos-replacement'
  | 'group-ids'
  | 'migration-hints'
  | 'error-handling'
  | 'keep-alive';

export const SCENARIOS: readonly ScenarioName[] = [
  'assoc-deassoc',
  'preassoc-chain',
  'repeated-assoc',
  'vlan0-replacement',
  'qos-replacement',
  'group-ids',
  'migration-hints',
  'error-handling',
  'keep-alive',
];

export type ScenarioResult = 'pass' | 'fail' | 'n/a';

/** One frame on the wire, as the station saw it. `no` is the frame number in the capture (1-based). */
export interface FrameRef {
  no: number;
  /** ms since the run started */
  t: number;
  dir: 'tx' | 'rx';
  summary: string;
}

export interface ScenarioStep {
  command: string;
  outcome: string;
  latencyMs: number | null;
}

export interface ScenarioReport {
  name: ScenarioName;
  result: ScenarioResult;
  reason: string;
  /** true when the result only documents what the bridge does (no requirement behind it) */
  informational: boolean;
  durationMs: number;
  steps: ScenarioStep[];
  frames: FrameRef[];
}

export interface Percentiles {
  count: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export interface Histogram {
  /** bucket i holds values in [edges[i], edges[i+1]) */
  edgesMs: number[];
  counts: number[];
}

export interface EvbView {
  mode: string;
  r: number;
  rte: number;
  rwd: number;
  rka: number;
  rrcap: boolean;
  rrctr: boolean;
  bgid: boolean;
}

export interface OperativeView {
  r: number;
  rte: number;
  rwd: number;
  rka: number;
  gpid: boolean;
  rr: boolean;
  /** the same exponents as times */
  ackTimerMs: number;
  resourceWaitDelayMs: number;
  keepAliveMs: number;
  /** how long the station waits for a VDP response (1.5 × (RWD + (2R+1)·ackTimer)) */
  respWaitDelayMs: number;
  /** how long the bridge waits for a keep-alive before it drops the VSI */
  toutKeepAliveMs: number;
}

export interface BridgeView {
  chassis: string | null;
  port: string | null;
  ttlS: number | null;
  evb: EvbView | null;
  operative: OperativeView | null;
  /** ms from the start of the run to EVB negotiated */
  negotiatedAfterMs: number | null;
}

export interface TimerObservation {
  negotiatedMs: number;
  observed: Percentiles;
  /** observations within the negotiated value */
  within: number;
  note: string;
}

export interface ObservedTimers {
  /** ECP request (last transmission) → ECP ACK, vs the ack timer 10 µs·2^RTE */
  ecpAck: TimerObservation;
  /** VDP command request → response, vs resourceWaitDelay 10 µs·2^RWD */
  commandResponse: TimerObservation;
  /** keep-alive request → response, vs resourceWaitDelay */
  keepAliveResponse: TimerObservation;
  /** gap between the bridge's LLDPDUs, vs its TTL */
  lldpInterval: { observed: Percentiles; ttlS: number | null };
}

export interface LoadReport {
  vsis: number;
  rate: number;
  holdS: number;
  typeIds: number[];
  /** VSIs whose Assoc was answered with success */
  associated: number;
  /** Assoc commands that did not end in success (bridge error, timeout, no bridge, refused) */
  failed: number;
  /** refused locally before anything was sent */
  refused: number;
  /** associated VSIs that ended during the hold without a command (de-associated by the bridge, keep-alive lost) */
  lost: number;
  lostVsis: { vsiid: string; reason: string }[];
  /** alive when the hold ended */
  aliveAfterHold: number;
  deassociated: number;
  deassocFailed: number;
  latencyMs: Percentiles;
  deassocLatencyMs: Percentiles;
  histogram: Histogram;
  throughput: { assocPerS: number | null; assocPhaseMs: number; deassocPerS: number | null; deassocPhaseMs: number };
  /** every response to an Assoc command, by reason (success included) */
  responsesByReason: Record<string, number>;
  /** every Assoc command's outcome kind */
  outcomes: Record<string, number>;
  ecp: { requests: number; retransmits: number; abandoned: number; acked: number };
  vdp: { requestsSent: number; resends: number; keepAlives: number; keepAliveResponses: number; ecpAbandonedTlvs: number; ulpdusSent: number; tlvsPerUlpdu: number | null };
  timers: ObservedTimers;
}

export interface LabReport {
  version: 1;
  tool: 'vdpctl lab run';
  iface: string;
  mac: string;
  startedAt: string;
  durationMs: number;
  station: { evb: { rte: number; retries: number; rwd: number; rka: number; rrreq: boolean; gpid: boolean }; ecp: { minGapMs: number; maxTlvsPerEcpdu: number }; groupAddress: string };
  bridge: BridgeView;
  load: LoadReport | null;
  scenarios: ScenarioReport[];
  capture: { file: string; frames: number } | null;
  frames: number;
  /** a problem that stopped the run (no EVB peer, …) */
  error: string | null;
  passed: boolean;
}
