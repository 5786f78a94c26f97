/**
 * The replay report: what `vdpctl replay` prints as text, JSON (`--json`, stable key order,
 * no wall-clock values, so it can be a golden file) and SVG. Times are capture times in ms
 * from the first record of the file, rounded to the microsecond.
 */

export type Severity = 'info' | 'warning' | 'error';

export type FindingKind =
  | 'malformed'
  | 'truncated-capture'
  | 'evb-disagreement'
  | 'missing-ack'
  | 'late-ack'
  | 'retransmission'
  | 'duplicate'
  | 'sequence-gap'
  | 'sequence-reuse'
  | 'unexpected-ack'
  | 'late-response'
  | 'late-keepalive'
  | 'error-response'
  | 'unknown-vsi-response'
  | 'unexpected-response'
  | 'unsolicited-deassoc'
  | 'no-response'
  | 'role-violation'
  | 'station-not-seen'
  | 'internal-error';

export interface ErrorView {
  layer: string;
  code: string;
  field: string;
  offset: number;
  message: string;
}

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** the frame the finding is about (for end-of-capture findings: the frame that started the wait) */
  frame: number | null;
  timeMs: number;
  message: string;
  vsiid?: string;
  /** ECP direction, e.g. `station->bridge` */
  direction?: string;
  seq?: number;
  /** other frames involved (the original transmission, the ack, the previous keep-alive, …) */
  relatedFrames?: number[];
  /** measured value the finding compares with `limitMs` */
  valueMs?: number;
  limitMs?: number;
  reason?: number;
  keep?: boolean;
  hard?: boolean;
  error?: ErrorView;
}

export interface FrameCounts {
  /** every record of the file */
  total: number;
  /** LLDP / ECP / draft-ECP frames decoded at least up to the ECP or LLDP layer (each one is a ladder arrow) */
  analysed: number;
  lldp: number;
  ecp: number;
  ecpDraft: number;
  /** other ethertypes and link types: skipped */
  other: number;
  /** frames whose decoding failed (some of them are still analysed at the ECP layer) */
  malformed: number;
  /** capture time of the first record (ISO 8601, from the file, not "now") */
  startTime: string | null;
  durationMs: number;
  /** the file itself is damaged (truncated, bad header); records before the damage were analysed */
  captureError?: ErrorView;
}

export interface Stations {
  station: string | null;
  bridge: string | null;
  /** how the roles were found: option, evb-mode, vdp-direction, first-request, none */
  inferredFrom: string;
  /** other MAC addresses sending LLDP/ECP (neither station nor bridge) */
  others: string[];
}

export interface EvbChange {
  frame: number;
  timeMs: number;
  text: string;
  tlv: Record<string, unknown>;
}

export interface EvbSide {
  mac: string | null;
  lldpdus: number;
  evbTlvs: number;
  /** the first EVB TLV and every one that differs from the previous */
  changes: EvbChange[];
  /** LLDPDUs with TTL 0 (shutdown) */
  shutdownFrames: number[];
  /** LLDPDUs (TTL > 0) without an EVB TLV */
  withoutEvbFrames: number[];
}

export interface EvbOperativeView {
  r: number;
  rte: number;
  rwd: number;
  rka: number;
  rr: boolean;
  gpid: boolean;
  /** negotiated (both sides' TLVs), station-only, bridge-only, defaults (lldpad defaults: no EVB TLV in the capture) */
  source: string;
}

export interface EvbTimers {
  /** ECP ack timer 10 µs × 2^RTE */
  ackTimerMs: number;
  /** bridge: 10 µs × 2^RWD */
  resourceWaitDelayMs: number;
  /** station: 1.5 × (10 µs·2^RWD + (2R+1)·10 µs·2^RTE), the limit for late-response / no-response */
  respWaitDelayMs: number;
  /** station keep-alive period 10 µs × 2^RKA */
  reinitKeepAliveMs: number;
  /** late-keepalive limit: 1.5 × reinitKeepAlive */
  keepAliveToleranceMs: number;
  /** bridge: 1.5 × (10 µs·2^RKA + (2R+1)·10 µs·2^RTE) */
  toutKeepAliveMs: number;
}

export interface EvbSection {
  station: EvbSide;
  bridge: EvbSide;
  operative: EvbOperativeView;
  timers: EvbTimers;
}

export interface LatencyStats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export interface EcpduView {
  seq: number;
  frame: number;
  timeMs: number;
  /** every transmission of this ECPDU (first, retransmissions, duplicates after the ack) */
  frames: number[];
  acks: { frame: number; latencyMs: number }[];
  /** what it carried, e.g. `Assoc req 76647000-…` */
  content: string;
}

export interface EcpDirection {
  /** `station->bridge`, `bridge->station`, or `<mac>->?` */
  direction: string;
  from: string;
  protocol: 'ecp22' | 'ecp-draft';
  ecpdus: number;
  transmissions: number;
  retransmissions: number;
  duplicates: number;
  acked: number;
  unacked: number;
  lateAcks: number;
  sequenceGaps: number;
  restarts: number;
  unexpectedAcks: number;
  ackLatencyMs: LatencyStats | null;
  list: EcpduView[];
}

export interface EcpSection {
  directions: EcpDirection[];
}

export type TimelineKind = 'request' | 'keepalive' | 'resend' | 'response' | 'unsolicited-deassoc' | 'state' | 'keepalives';

export interface TimelineEntry {
  frame: number | null;
  timeMs: number;
  kind: TimelineKind;
  from?: 'station' | 'bridge' | 'other';
  mode?: string;
  /** raw status octet */
  status?: number;
  statusText?: string;
  seq?: number;
  latencyMs?: number;
  /** for kind `state`: `ASSOC_WAIT -> ASSOCIATED` */
  transition?: string;
  reason?: string;
  note?: string;
  /** kind `keepalives`: a run of uneventful keep-alives, each answered with success */
  count?: number;
  lastFrame?: number;
  untilMs?: number;
  maxIntervalMs?: number;
  maxLatencyMs?: number;
}

export interface VsiReport {
  vsiid: string;
  vsiidFormat: string;
  managerId: string;
  typeId: number;
  typeVersion: number;
  /** the item's own array (items.ts), shared by every report and item of the VSI */
  filters: readonly string[];
  finalState: string;
  requests: number;
  keepalives: number;
  responses: number;
  timeline: TimelineEntry[];
}

export interface ReplayReport {
  file: string;
  frames: FrameCounts;
  stations: Stations;
  evb: EvbSection;
  vsis: VsiReport[];
  ecp: EcpSection;
  findings: Finding[];
  summary: { errors: number; warnings: number; infos: number };
}

export type LadderEnd = 'station' | 'bridge' | 'other';

/** One arrow of the SVG ladder (not part of the JSON report). */
export interface LadderFrame {
  frame: number;
  timeMs: number;
  from: LadderEnd;
  to: LadderEnd;
  /** lldp, ecp-req, ecp-ack, ecp-other, malformed (not analysed: drawn as a mark, not an arrow) */
  kind: 'lldp' | 'ecp-req' | 'ecp-ack' | 'ecp-other' | 'malformed';
  label: string;
  /** retransmission, duplicate, error-response, unsolicited-deassoc, response, malformed */
  tags: string[];
}

export interface ReplayResult {
  report: ReplayReport;
  ladder: LadderFrame[];
}
