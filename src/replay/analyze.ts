/**
 * The replay debugger's engine: records of a capture in, a report out (roles, EVB, ECP per
 * direction, VDP per VSI, findings) plus the ladder the SVG is drawn from. Pure: no I/O
 * except through `analyzeFile`, no clock; the same capture gives the same report. Never
 * throws on bad input: damaged frames and files become findings.
 */
import { createReadStream } from 'node:fs';
import { evbShort, VSI_TLV_NAMES } from '../../pdu/describe.js';
import { normalizeMac } from '../../pdu/bytes.js';
import type { PcapRecord } from '../../pdu/pcap.js';
import { recordsOfBytes, recordsOfFile } from './source.js';
import { Collector, type EcpEv, type FrameEv, type ReplayInput, type VdpItem } from './collect.js';
import { EcpTracker } from './ecp.js';
import { EvbTracker, timersOf } from './evb.js';
import { inferRoles, type Roles } from './roles.js';
import type { Finding, LadderFrame, ReplayReport, ReplayResult, Severity } from './types.js';
import { finding } from './util.js';
import { VdpTracker } from './vdp.js';

export type { ReplayInput } from './collect.js';

export interface AnalyzeOptions {
  /** file name shown in the report */
  file?: string;
  /** the station's MAC address (otherwise inferred) */
  station?: string;
  /** every keep-alive in the timelines and every ECPDU in the ECP lists (default: only eventful ones) */
  full?: boolean;
  /** build the SVG ladder's labels (default true; the CLI turns it off without --svg) */
  ladder?: boolean;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function itemText(it: VdpItem, from: string): string {
  const resp = it.responseBit ?? from === 'bridge';
  const what = resp ? `rsp ${it.reason === 0 ? 'success' : `error ${it.reason}`}` : from === 'bridge' && it.mode === 'deassoc' ? 'unsolicited' : 'req';
  return `${VSI_TLV_NAMES[it.mode] ?? it.mode} ${what} vsi ${it.vsiid}`;
}

function ecpContent(ev: EcpEv, from: string): string {
  if (ev.partial) return `ECPDU of ${ev.payload.length} octets (VDP content malformed)`;
  if (ev.vdp.length === 0) return ev.subtype === 1 ? `ECPDU of ${ev.payload.length} octets, no VSI TLV` : `subtype ${ev.subtype}, ${ev.payload.length} octets`;
  const parts = ev.vdp.slice(0, 2).map((it) => itemText(it, from));
  if (ev.vdp.length > 2) parts.push(`+${ev.vdp.length - 2} more`);
  return parts.join('; ');
}

/** Incremental form: push records, then finish() once. */
export class ReplayAnalyzer {
  private col = new Collector();

  constructor(private readonly opts: AnalyzeOptions = {}) {}

  push(input: ReplayInput): void {
    this.col.push(input);
  }

  /** the record source failed (truncated/damaged file) */
  fail(err: unknown): void {
    this.col.fail(err);
  }

  finish(): ReplayResult {
    const col = this.col;
    const findings: Finding[] = [...col.findings];
    let station: string | undefined;
    if (this.opts.station) {
      try {
        station = normalizeMac(this.opts.station);
      } catch {
        station = this.opts.station.toLowerCase();
      }
    }
    const { roles, findings: roleFindings } = inferRoles(col.events, station);
    findings.push(...roleFindings);
    const evb = new EvbTracker(roles.station, roles.bridge, findings);
    const ecp = new EcpTracker(roles, findings, this.opts.full ?? false);
    const vdp = new VdpTracker(findings, this.opts.full ?? false);
    const ladder: LadderFrame[] = [];
    for (const ev of col.events) {
      try {
        ladder.push(this.step(ev, roles, evb, ecp, vdp));
      } catch (e) {
        findings.push(finding('internal-error', 'error', ev.frame, ev.t, `frame ${ev.frame}: replay analysis failed: ${(e as Error).message}`));
      }
    }
    for (const m of col.malformed) {
      const end = m.src ? roles.endOf(m.src) : 'other';
      ladder.push({ frame: m.frame, timeMs: m.t, from: end, to: end === 'station' ? 'bridge' : 'station', kind: 'malformed', label: `malformed: ${m.message}`, tags: ['malformed'] });
    }
    ladder.sort((a, b) => a.frame - b.frame);
    const endT = col.endT;
    const { op } = evb.operative();
    const timers = timersOf(op);
    const guard = <T>(what: string, f: () => T, fallback: T): T => {
      try {
        return f();
      } catch (e) {
        findings.push(finding('internal-error', 'error', null, endT, `replay ${what} analysis failed at the end of the capture: ${(e as Error).message}`));
        return fallback;
      }
    };
    const vsis = guard('VDP', () => vdp.finish(endT, timers), []);
    const ecpSection = guard('ECP', () => ecp.finish(endT, timers.ackTimerMs, op.r), { directions: [] });
    const evbSection = evb.finish();
    const counts = { ...col.counts, durationMs: endT };
    if (col.captureError) counts.captureError = col.captureError;
    // stable order: by frame (file-level findings without a frame first), then severity, then insertion
    const ordered = findings
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
      stations: { station: roles.station, bridge: roles.bridge, inferredFrom: roles.inferredFrom, others: roles.others },
      evb: evbSection,
      vsis,
      ecp: ecpSection,
      findings: ordered,
      summary,
    };
    return { report, ladder };
  }

  private step(ev: FrameEv, roles: Roles, evb: EvbTracker, ecp: EcpTracker, vdp: VdpTracker): LadderFrame {
    const from = roles.endOf(ev.src);
    const to = from === 'station' ? 'bridge' : 'station';
    const timers = timersOf(evb.operative().op);
    vdp.flush(ev.t, timers);
    const tags: string[] = ev.partial ? ['malformed'] : [];
    if (ev.kind === 'lldp') {
      evb.onLldp(ev, from);
      const label = ev.ttl === 0 ? 'LLDP TTL=0 (shutdown)' : ev.evb ? `LLDP ${evbShort(ev.evb)}` : `LLDP TTL=${ev.ttl ?? '?'} (no EVB TLV)`;
      return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'lldp', label, tags: ['lldp', ...tags] };
    }
    const draft = ev.proto === 'ecp-draft' ? 'draft ' : '';
    if (ev.op === 'ack') {
      if (ecp.onAck(ev, timers.ackTimerMs)) tags.push('late-ack');
      return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'ecp-ack', label: `${draft}ack ${ev.seq}`, tags: ['ack', ...tags] };
    }
    if (ev.op === 'other') return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'ecp-other', label: `${draft}ECP reserved op, seq ${ev.seq}`, tags };
    const content = (): string => ecpContent(ev, from);
    const outcome = ecp.onRequest(ev, content, timers.ackTimerMs, evb.operative().op.r);
    if (outcome === 'new') {
      for (const it of ev.vdp) tags.push(...vdp.onItem(ev, it, from, timers));
    } else tags.push(outcome);
    const prefix = outcome === 'retransmission' ? 'retx ' : outcome === 'duplicate' ? 'dup ' : '';
    return { frame: ev.frame, timeMs: ev.t, from, to, kind: 'ecp-req', label: this.opts.ladder === false ? '' : `${prefix}${draft}seq ${ev.seq} ${content()}`, tags: ['req', ...new Set(tags)] };
  }
}

/** Analyse records from any (async) iterable; an error thrown by the source becomes a `truncated-capture` finding. */
export async function analyze(source: Iterable<ReplayInput> | AsyncIterable<ReplayInput>, opts: AnalyzeOptions = {}): Promise<ReplayResult> {
  const a = new ReplayAnalyzer(opts);
  try {
    for await (const r of source) a.push(r);
  } catch (e) {
    a.fail(e);
  }
  return a.finish();
}

/** Synchronous form for in-memory records. */
export function analyzeSync(source: Iterable<ReplayInput>, opts: AnalyzeOptions = {}): ReplayResult {
  const a = new ReplayAnalyzer(opts);
  try {
    for (const r of source) a.push(r);
  } catch (e) {
    a.fail(e);
  }
  return a.finish();
}

export function inputOf(r: PcapRecord): ReplayInput {
  return { ts: r.ns, bytes: r.data, frame: r.index, linktype: r.linktype };
}

/** A whole capture in memory (pcap, pcapng, optionally gzip), e.g. for tests. */
export function analyzeBytes(buf: Uint8Array, opts: AnalyzeOptions = {}): ReplayResult {
  const a = new ReplayAnalyzer(opts);
  try {
    for (const r of recordsOfBytes(buf)) a.push(inputOf(r));
  } catch (e) {
    a.fail(e);
  }
  return a.finish();
}

async function* records(path: string): AsyncGenerator<ReplayInput> {
  for await (const r of recordsOfFile(path)) yield inputOf(r);
}

/** Stream a capture file (gzip detected by magic). Throws only when the file cannot be opened. */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<ReplayResult> {
  await new Promise<void>((resolve, reject) => {
    const s = createReadStream(path, { start: 0, end: 0 });
    s.on('error', reject);
    s.on('open', () => {
      s.destroy();
      resolve();
    });
  });
  return analyze(records(path), { file: path, ...opts });
}
