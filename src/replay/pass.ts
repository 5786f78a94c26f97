/**
 * One pass of the replay over a capture's records: decoding (collect.ts), then the EVB,
 * ECP and VDP trackers frame by frame. It streams: a frame is dropped once analysed.
 *
 * The trackers need the roles (station, bridge) from the first frame on, but the roles
 * follow from the whole capture (roles.ts). A pass therefore holds back the first PROBE
 * frames, guesses the roles from them and streams the rest; at the end it checks the guess
 * against the evidence of the whole capture. It checks the one other decision taken before
 * the end-of-capture values are known, too: which ECPDUs are listed for a late ACK
 * (ecp.ts). When a check fails (the roles or the ack timer change after the first frames,
 * which is rare) the pass returns what it found instead of a report, and the caller runs a
 * second pass that starts out knowing it; its checks then hold by construction.
 */
import { evbShort, VSI_TLV_NAMES } from '../../pdu/describe.js';
import { normalizeMac } from '../../pdu/bytes.js';
import type { PcapRecordSink } from '../../pdu/pcap.js';
import { Collector, detach, type EcpEv, type FrameEv, type ReplayEv, type ReplayInput, type VdpItem } from './collect.js';
import { EcpTracker } from './ecp.js';
import { EvbTracker } from './evb.js';
import { Ends, RoleEvidence, sameRoles, type RolePair } from './roles.js';
import type { Finding, LadderEnd, LadderFrame, ReplayReport, ReplayResult, Severity } from './types.js';
import { finding } from './util.js';
import { VdpTracker } from './vdp.js';

export interface AnalyzeOptions {
  /** file name shown in the report */
  file?: string;
  /** the station's MAC address (otherwise inferred) */
  station?: string;
  /** every keep-alive in the timelines and every ECPDU in the ECP lists (default: only eventful ones) */
  full?: boolean;
  /** build the SVG ladder (default true; the CLI turns it off without --svg, and the result's ladder is then empty) */
  ladder?: boolean;
}

/** What a first pass learnt from the whole capture, for a second pass to start from. */
export interface Known {
  roles: RolePair;
  /** the ack timer at the end of the capture */
  ackTimerMs: number;
}

/** a report, or (only from a pass not given `Known`) what a second pass must start from */
export type PassOutcome = { result: ReplayResult } | { again: Known };

/** frames held back to guess the roles from (a capture this short is never analysed twice) */
const PROBE = 1000;

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function itemText(it: VdpItem, from: string): string {
  const resp = it.responseBit ?? from === 'bridge';
  const what = resp ? `rsp ${it.reason === 0 ? 'success' : `error ${it.reason}`}` : from === 'bridge' && it.mode === 'deassoc' ? 'unsolicited' : 'req';
  return `${VSI_TLV_NAMES[it.mode] ?? it.mode} ${what} vsi ${it.vsiid}`;
}

function ecpContent(ev: EcpEv, from: string): string {
  const octets = ev.payloadEnd - ev.payloadStart;
  if (ev.partial) return `ECPDU of ${octets} octets (VDP content malformed)`;
  if (ev.vdp.length === 0) return ev.subtype === 1 ? `ECPDU of ${octets} octets, no VSI TLV` : `subtype ${ev.subtype}, ${octets} octets`;
  const parts = ev.vdp.slice(0, 2).map((it) => itemText(it, from));
  if (ev.vdp.length > 2) parts.push(`+${ev.vdp.length - 2} more`);
  return parts.join('; ');
}

/** The trackers under one role assignment, fed frame by frame. */
class Run {
  readonly findings: Finding[] = [];
  readonly ends: Ends;
  readonly evb: EvbTracker;
  readonly ecp: EcpTracker;
  readonly vdp: VdpTracker;
  /** ladder arrows of the analysed frames, and marks of the malformed ones (undefined: no ladder wanted) */
  readonly ladder: LadderFrame[] | undefined;
  readonly marks: LadderFrame[] = [];

  constructor(
    readonly roles: RolePair,
    opts: AnalyzeOptions,
    ackTimerMs: number | undefined,
  ) {
    this.ends = new Ends(roles);
    this.evb = new EvbTracker(roles.station, roles.bridge, this.findings);
    this.ecp = new EcpTracker(this.ends, this.findings, ecpContent, opts.full ?? false, ackTimerMs);
    this.vdp = new VdpTracker(this.findings, opts.full ?? false);
    this.ladder = opts.ladder === false ? undefined : [];
  }

  step(ev: ReplayEv): void {
    if (ev.kind === 'malformed') {
      if (this.ladder) {
        const end: LadderEnd = ev.src ? this.ends.endOf(ev.src) : 'other';
        this.marks.push({ frame: ev.frame, timeMs: ev.t, from: end, to: end === 'station' ? 'bridge' : 'station', kind: 'malformed', label: `malformed: ${ev.message}`, tags: ['malformed'] });
      }
      return;
    }
    try {
      const arrow = this.frame(ev);
      if (arrow) this.ladder!.push(arrow);
    } catch (e) {
      this.findings.push(finding('internal-error', 'error', ev.frame, ev.t, `frame ${ev.frame}: replay analysis failed: ${(e as Error).message}`));
    }
  }

  /** one analysed frame through the trackers; its ladder arrow when a ladder is wanted */
  private frame(ev: FrameEv): LadderFrame | undefined {
    const from = this.ends.endOf(ev.src);
    const to = from === 'station' ? 'bridge' : 'station';
    const timers = this.evb.timers();
    this.vdp.flush(ev.t, timers);
    const tags: string[] | undefined = this.ladder ? (ev.partial ? ['malformed'] : []) : undefined;
    if (ev.kind === 'lldp') {
      this.evb.onLldp(ev, from);
      if (!tags) return undefined;
      const label = ev.ttl === 0 ? 'LLDP TTL=0 (shutdown)' : ev.evb ? `LLDP ${evbShort(ev.evb)}` : `LLDP TTL=${ev.ttl ?? '?'} (no EVB TLV)`;
      return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'lldp', label, tags: ['lldp', ...tags] };
    }
    const draft = ev.proto === 'ecp-draft' ? 'draft ' : '';
    if (ev.op === 'ack') {
      const late = this.ecp.onAck(ev, timers.ackTimerMs);
      if (!tags) return undefined;
      if (late) tags.push('late-ack');
      return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'ecp-ack', label: `${draft}ack ${ev.seq}`, tags: ['ack', ...tags] };
    }
    if (ev.op === 'other') return tags && { frame: ev.frame, timeMs: ev.t, from, to, kind: 'ecp-other', label: `${draft}ECP reserved op, seq ${ev.seq}`, tags };
    const outcome = this.ecp.onRequest(ev, timers.ackTimerMs, this.evb.operative().op.r);
    if (outcome === 'new') {
      this.vdp.onItems(ev, from, timers, this.ecp.sent(ev), tags);
    } else tags?.push(outcome);
    if (!tags) return undefined;
    const prefix = outcome === 'retransmission' ? 'retx ' : outcome === 'duplicate' ? 'dup ' : '';
    return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'ecp-req', label: `${prefix}${draft}seq ${ev.seq} ${ecpContent(ev, from)}`, tags: ['req', ...new Set(tags)] };
  }
}

export class ReplayPass implements PcapRecordSink {
  private readonly col = new Collector();
  private readonly evidence = new RoleEvidence();
  /** frames held back until the roles are guessed */
  private held: ReplayEv[] = [];
  private run: Run | undefined;
  private readonly station: string | undefined;

  constructor(
    private readonly opts: AnalyzeOptions = {},
    private readonly known?: Known,
  ) {
    if (opts.station) {
      try {
        this.station = normalizeMac(opts.station);
      } catch {
        this.station = opts.station.toLowerCase();
      }
    }
    if (known) this.start(known.roles);
  }

  push(input: ReplayInput): void {
    const ev = this.col.push(input);
    if (ev !== undefined) this.step(ev);
  }

  /** push() for a record in place (pdu/pcap.ts PcapRecordSink; the octets must not change afterwards) */
  record(buf: Uint8Array, start: number, end: number, linktype: number, index: number, sec: number, nsec: number, ns: bigint | undefined): void {
    const ev = this.col.record(buf, start, end, linktype, index, sec, nsec, ns);
    if (ev !== undefined) this.step(ev);
  }

  /** the reader is about to overwrite `buffer` (pdu/pcap.ts PcapRecordSink): the frames held back and the ECP tracker's last ECPDUs copy their octets out of it */
  release(buffer: ArrayBufferLike): void {
    for (const ev of this.held) if (ev.kind === 'ecp') detach(ev, buffer);
    this.run?.ecp.release(buffer);
  }

  private step(ev: ReplayEv): void {
    if (ev.kind !== 'malformed') this.evidence.add(ev);
    if (this.run) this.run.step(ev);
    else {
      this.held.push(ev);
      if (this.held.length >= PROBE) this.start(this.evidence.resolve(this.station).stations);
    }
  }

  /** the record source failed (truncated/damaged file) */
  fail(err: unknown): void {
    this.col.fail(err);
  }

  private start(roles: RolePair): Run {
    const run = new Run({ station: roles.station, bridge: roles.bridge }, this.opts, this.known?.ackTimerMs);
    this.run = run;
    for (const ev of this.held) run.step(ev);
    this.held = [];
    return run;
  }

  finish(): PassOutcome {
    const col = this.col;
    const { stations, findings: roleFindings } = this.evidence.resolve(this.station);
    const run = this.run ?? this.start(stations);
    const { evb, ecp, vdp } = run;
    const endT = col.endT;
    const { op } = evb.operative();
    const timers = evb.timers();
    const guard = <T>(what: string, f: () => T, fallback: T): T => {
      try {
        return f();
      } catch (e) {
        run.findings.push(finding('internal-error', 'error', null, endT, `replay ${what} analysis failed at the end of the capture: ${(e as Error).message}`));
        return fallback;
      }
    };
    const vsis = guard('VDP', () => vdp.finish(endT, timers), []);
    const ecpSection = guard('ECP', () => ecp.finish(endT, timers.ackTimerMs, op.r), { directions: [] });
    // a pass that started out knowing both holds them by construction
    if (!this.known && (!sameRoles(run.roles, stations) || !ecp.listingHolds(timers.ackTimerMs))) return { again: { roles: stations, ackTimerMs: timers.ackTimerMs } };
    const evbSection = evb.finish();
    const counts = { ...col.counts, durationMs: endT };
    if (col.captureError) counts.captureError = col.captureError;
    // stable order: by frame (file-level findings without a frame first), then severity, then insertion
    const ordered = [...col.findings, ...roleFindings, ...run.findings]
      .map((f, i) => ({ f, i }))
      .sort((a, b) => (a.f.frame ?? -1) - (b.f.frame ?? -1) || SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
      .map((x) => x.f);
    const summary = { errors: 0, warnings: 0, infos: 0 };
    for (const f of ordered) {
      if (f.severity === 'error') summary.errors++;
      else if (f.severity === 'warning') summary.warnings++;
      else summary.infos++;
    }
    const report: ReplayReport = {
      file: this.opts.file ?? '',
      frames: counts,
      stations,
      evb: evbSection,
      vsis,
      ecp: ecpSection,
      findings: ordered,
      summary,
    };
    const ladder = run.ladder ? [...run.ladder, ...run.marks].sort((a, b) => a.frame - b.frame) : [];
    return { result: { report, ladder } };
  }
}
