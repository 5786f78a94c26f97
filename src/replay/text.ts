/** Human-readable replay report: capture summary, EVB, ECP, per-VSI timelines, findings with frame numbers. */
import type { EvbSide, Finding, ReplayReport, TimelineEntry } from './types.js';
import { fmtMs } from './util.js';

/** capture time like the captures/README tables: seconds with 6 decimals */
function ts(ms: number): string {
  return (ms / 1000).toFixed(6).padStart(11);
}

function fr(frame: number | null): string {
  return (frame === null ? '—' : `#${frame}`).padStart(7);
}

function evbSide(name: string, s: EvbSide): string[] {
  const out = [`  ${name} ${s.mac ?? '(unknown)'}: ${s.lldpdus} LLDPDU(s), ${s.evbTlvs} with an EVB TLV`];
  for (const c of s.changes) out.push(`  ${fr(c.frame)} ${ts(c.timeMs)}  ${c.text}`);
  if (s.shutdownFrames.length) out.push(`    shutdown LLDPDU (TTL 0): ${s.shutdownFrames.map((f) => `#${f}`).join(', ')}`);
  if (s.withoutEvbFrames.length) out.push(`    LLDPDU without EVB TLV: ${s.withoutEvbFrames.map((f) => `#${f}`).join(', ')}`);
  return out;
}

function entryText(e: TimelineEntry): string {
  if (e.kind === 'state') return `${''.padEnd(8)} ${e.transition} (${e.reason})${e.note ? ` — ${e.note}` : ''}`;
  if (e.kind === 'keepalives') return `${'station'.padEnd(8)} ${e.mode} keep-alive ×${e.count} to frame #${e.lastFrame} (${fmtMs((e.untilMs ?? e.timeMs) - e.timeMs)}), every ≤ ${fmtMs(e.maxIntervalMs ?? 0)}, answered within ≤ ${fmtMs(e.maxLatencyMs ?? 0)}`;
  const who = (e.from ?? '').padEnd(8);
  const what = e.kind === 'unsolicited-deassoc' ? 'unsolicited DeAssoc' : `${e.mode} ${e.kind === 'keepalive' ? 'keep-alive' : e.kind}`;
  const st = e.kind === 'response' || e.kind === 'unsolicited-deassoc' ? ` [${e.statusText}]` : e.statusText && e.statusText !== 'request' ? ` [${e.statusText}]` : '';
  const lat = e.latencyMs !== undefined ? `, after ${fmtMs(e.latencyMs)}` : '';
  return `${who} ${what}${st} (ECP seq ${e.seq})${lat}${e.note ? ` — ${e.note}` : ''}`;
}

function findingText(f: Finding): string {
  return `  ${`[${f.severity}]`.padEnd(9)} ${fr(f.frame)} ${ts(f.timeMs)}  ${f.kind}: ${f.message}`;
}

export function renderText(r: ReplayReport): string {
  const L: string[] = [];
  const c = r.frames;
  L.push(`Capture ${r.file}`);
  L.push(
    `  ${c.total} frame(s): ${c.lldp} LLDP, ${c.ecp} ECP${c.ecpDraft ? `, ${c.ecpDraft} draft ECP` : ''}, ${c.other} other (skipped), ${c.malformed} malformed; ${fmtMs(c.durationMs)}${c.startTime ? ` from ${c.startTime}` : ''}`,
  );
  if (c.captureError) L.push(`  capture ${c.captureError.code === 'truncated' ? 'truncated' : 'damaged'}: ${c.captureError.message}`);
  const s = r.stations;
  L.push(`  station ${s.station ?? '(unknown)'}, bridge ${s.bridge ?? '(unknown)'} (roles from ${s.inferredFrom})${s.others.length ? `; other senders: ${s.others.join(', ')}` : ''}`);
  L.push('');
  L.push('EVB');
  L.push(...evbSide('station', r.evb.station));
  L.push(...evbSide('bridge ', r.evb.bridge));
  const o = r.evb.operative;
  const t = r.evb.timers;
  L.push(`  operative (${o.source}): R=${o.r} RTE=${o.rte} RWD=${o.rwd} RKA=${o.rka} RR=${o.rr ? 'on' : 'off'} GPID=${o.gpid ? 'on' : 'off'}`);
  L.push(
    `  timers: ECP ack ${fmtMs(t.ackTimerMs)}; resourceWaitDelay ${fmtMs(t.resourceWaitDelayMs)}; respWaitDelay ${fmtMs(t.respWaitDelayMs)}; reinitKeepAlive ${fmtMs(t.reinitKeepAliveMs)} (late-keepalive above 1.5× = ${fmtMs(t.keepAliveToleranceMs)}); toutKeepAlive ${fmtMs(t.toutKeepAliveMs)}`,
  );
  L.push('');
  L.push('ECP');
  if (r.ecp.directions.length === 0) L.push('  no ECP frames');
  for (const d of r.ecp.directions) {
    const a = d.ackLatencyMs;
    L.push(
      `  ${d.direction}: ${d.ecpdus} ECPDU(s) in ${d.transmissions} transmission(s) (${d.retransmissions} retransmission(s), ${d.duplicates} duplicate(s)); ${d.acked} acked, ${d.unacked} never acked, ${d.lateAcks} late ACK(s), ${d.sequenceGaps} sequence gap(s), ${d.restarts} restart(s)` +
        (a ? `; ACK latency p50 ${fmtMs(a.p50)}, p95 ${fmtMs(a.p95)}, max ${fmtMs(a.max)}` : ''),
    );
  }
  L.push('');
  L.push(`VSIs (${r.vsis.length})`);
  for (const v of r.vsis) {
    L.push(`  ${v.vsiid} (${v.vsiidFormat}; manager ${v.managerId}; type ${v.typeId}/${v.typeVersion}; ${v.filters.join(', ') || 'no filters'})`);
    L.push(`    final state ${v.finalState}: ${v.requests} request(s), ${v.keepalives} keep-alive(s), ${v.responses} response(s)`);
    for (const e of v.timeline) L.push(`  ${fr(e.frame)} ${ts(e.timeMs)}  ${entryText(e)}`);
  }
  L.push('');
  const m = r.summary;
  L.push(`Findings: ${m.errors} error(s), ${m.warnings} warning(s), ${m.infos} info`);
  for (const f of r.findings) L.push(findingText(f));
  return L.join('\n') + '\n';
}
