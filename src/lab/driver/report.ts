/** The run's report as text (terminal) and as a self-contained HTML page (inline SVG). */
import type { FrameRef, Histogram, LabReport, Percentiles, ScenarioReport, TimerObservation } from './types.js';

const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const pct = (p: Percentiles): string => (p.count === 0 ? 'no samples' : `p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  max ${ms(p.max)} ms  (n=${p.count})`);
const timer = (name: string, t: TimerObservation): string =>
  `  ${name.padEnd(20)} negotiated ${ms(t.negotiatedMs)} ms; observed ${pct(t.observed)}${t.observed.count ? `; ${t.within}/${t.observed.count} within` : ''}`;

export function renderText(r: LabReport): string {
  const out: string[] = [];
  out.push(`vdpctl lab run on ${r.iface} (${r.mac}), ${(r.durationMs / 1000).toFixed(1)} s`);
  const b = r.bridge;
  if (b.evb) {
    out.push(`bridge ${b.chassis ?? '?'} port ${b.port ?? '?'}: EVB mode ${b.evb.mode} R=${b.evb.r} RTE=${b.evb.rte} RWD=${b.evb.rwd} RKA=${b.evb.rka} RRCAP=${+b.evb.rrcap} RRCTR=${+b.evb.rrctr} BGID=${+b.evb.bgid}`);
  }
  if (b.operative) {
    const o = b.operative;
    out.push(`operative: R=${o.r} RTE=${o.rte} (ack ${ms(o.ackTimerMs)} ms) RWD=${o.rwd} (${ms(o.resourceWaitDelayMs)} ms) RKA=${o.rka} (${ms(o.keepAliveMs)} ms) GPID=${+o.gpid} RR=${+o.rr}; negotiated after ${ms(b.negotiatedAfterMs)} ms`);
  }
  if (r.error) out.push(`ERROR: ${r.error}`);
  const l = r.load;
  if (l) {
    out.push('');
    out.push(`load: ${l.vsis} VSIs at ${l.rate > 0 ? `${l.rate}/s` : 'full speed'}, hold ${l.holdS} s`);
    out.push(`  associated ${l.associated}, failed ${l.failed}${l.refused ? ` (${l.refused} refused locally)` : ''}, lost during hold ${l.lost}, alive after hold ${l.aliveAfterHold}, de-associated ${l.deassociated}${l.deassocFailed ? `, de-associate failed ${l.deassocFailed}` : ''}`);
    out.push(`  assoc latency      ${pct(l.latencyMs)}`);
    out.push(`  deassoc latency    ${pct(l.deassocLatencyMs)}`);
    out.push(`  throughput         ${l.throughput.assocPerS ?? '-'} assoc/s over ${l.throughput.assocPhaseMs} ms, ${l.throughput.deassocPerS ?? '-'} deassoc/s`);
    out.push(`  responses          ${Object.entries(l.responsesByReason).map(([k, v]) => `${k}: ${v}`).join(', ') || '(none)'}`);
    const other = Object.entries(l.outcomes).filter(([k]) => k !== 'success' && k !== 'bridge-error');
    if (other.length) out.push(`  other outcomes     ${other.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    out.push(`  ECP                ${l.ecp.requests} ECPDUs, ${l.ecp.retransmits} retransmissions, ${l.ecp.abandoned} abandoned`);
    out.push(`  VDP                ${l.vdp.requestsSent} requests (${l.vdp.tlvsPerUlpdu ?? '-'} per ECPDU), ${l.vdp.resends} re-sends, ${l.vdp.keepAlives} keep-alives (${l.vdp.keepAliveResponses} responses), ${l.vdp.ecpAbandonedTlvs} TLVs abandoned by ECP`);
    out.push('  bridge timers:');
    out.push(timer('ECP ack', l.timers.ecpAck));
    out.push(timer('command response', l.timers.commandResponse));
    out.push(timer('keep-alive response', l.timers.keepAliveResponse));
    out.push(`  ${'LLDPDU interval'.padEnd(20)} ${pct(l.timers.lldpInterval.observed)}; TTL ${l.timers.lldpInterval.ttlS ?? '-'} s`);
    for (const v of l.lostVsis.slice(0, 10)) out.push(`  lost: ${v.vsiid} (${v.reason})`);
  }
  if (r.scenarios.length) {
    out.push('');
    const w = Math.max(...r.scenarios.map((s) => s.name.length));
    for (const s of r.scenarios) {
      out.push(`${s.result.toUpperCase().padEnd(4)}  ${s.name.padEnd(w)}  ${s.reason}${s.informational ? ' [informational]' : ''}`);
      if (s.result === 'fail') for (const f of s.frames.slice(0, 20)) out.push(`        #${f.no} ${f.t.toFixed(1)} ms ${f.dir === 'tx' ? '→' : '←'} ${f.summary}`);
    }
  }
  if (r.capture) out.push(`\ncapture: ${r.capture.file} (${r.capture.frames} frames)`);
  out.push(`\n${r.passed ? 'PASSED' : 'FAILED'}`);
  return out.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function histogramSvg(h: Histogram, width = 640, height = 220): string {
  if (h.counts.length === 0) return '<p>(no latency samples)</p>';
  const padL = 40;
  const padB = 40;
  const padT = 16;
  const n = h.counts.length;
  const bw = (width - padL - 10) / n;
  const max = Math.max(...h.counts, 1);
  const plotH = height - padB - padT;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="latency histogram">`);
  parts.push(`<line x1="${padL}" y1="${padT + plotH}" x2="${width - 10}" y2="${padT + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${padL}" y1="${padT}" x2="${padL}" y2="${padT + plotH}" stroke="#333"/>`);
  parts.push(`<text x="4" y="${padT + 10}" font-size="10">${max}</text><text x="4" y="${padT + plotH}" font-size="10">0</text>`);
  h.counts.forEach((c, i) => {
    const bh = (c / max) * plotH;
    const x = padL + i * bw;
    parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${(padT + plotH - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="#4a7ebb"><title>${h.edgesMs[i]}–${h.edgesMs[i + 1]} ms: ${c}</title></rect>`);
    if (c > 0) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(padT + plotH - bh - 2).toFixed(1)}" font-size="9" text-anchor="middle">${c}</text>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${padT + plotH + 14}" font-size="9" text-anchor="middle">${h.edgesMs[i]}</text>`);
  });
  parts.push(`<text x="${(width - 10).toFixed(1)}" y="${padT + plotH + 14}" font-size="9" text-anchor="end">${h.edgesMs[n]}</text>`);
  parts.push(`<text x="${(padL + (width - padL) / 2).toFixed(1)}" y="${height - 6}" font-size="11" text-anchor="middle">latency, ms (command → bridge response)</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Station and bridge as two lifelines, one arrow per frame, time running down. */
export function ladderSvg(frames: FrameRef[], width = 1150): string {
  const shown = frames.slice(0, 60);
  if (shown.length === 0) return '<p>(no frames recorded for this scenario)</p>';
  const row = 26;
  const top = 34;
  const xs = 130;
  const xb = 420;
  const height = top + shown.length * row + 20;
  const p: string[] = [];
  p.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="ladder diagram">`);
  p.push('<defs><marker id="ah" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto"><path d="M0,0 L7,3 L0,6 z" fill="#333"/></marker></defs>');
  p.push(`<text x="${xs}" y="16" font-size="12" text-anchor="middle" font-weight="bold">station</text><text x="${xb}" y="16" font-size="12" text-anchor="middle" font-weight="bold">bridge</text>`);
  p.push(`<line x1="${xs}" y1="22" x2="${xs}" y2="${height - 6}" stroke="#999"/><line x1="${xb}" y1="22" x2="${xb}" y2="${height - 6}" stroke="#999"/>`);
  shown.forEach((f, i) => {
    const y = top + i * row;
    const [x1, x2] = f.dir === 'tx' ? [xs, xb] : [xb, xs];
    const colour = /\[RSP[^\]]*\|(?!success\])[^\]]*\]/.test(f.summary) ? '#c0392b' : f.summary.startsWith('ECP ACK') ? '#888' : '#222';
    p.push(`<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y + row - 10}" stroke="${colour}" marker-end="url(#ah)"/>`);
    p.push(`<text x="4" y="${y + 8}" font-size="10">#${f.no} ${f.t.toFixed(1)} ms</text>`);
    const short = f.summary.replace(/ sub=1/, '').replace(/ MgrID=\S+ \|/, ' |');
    const text = short.length > 110 ? short.slice(0, 109) + '…' : short;
    p.push(`<text x="${xb + 10}" y="${y + 8}" font-size="10" fill="${colour}"><title>${esc(f.summary)}</title>${esc(text)}</text>`);
  });
  p.push('</svg>');
  if (frames.length > shown.length) p.push(`<p>… ${frames.length - shown.length} more frames in the JSON report</p>`);
  return p.join('');
}

function pctRow(name: string, p: Percentiles): string {
  return `<tr><th>${esc(name)}</th><td>${p.count}</td><td>${ms(p.min)}</td><td>${ms(p.p50)}</td><td>${ms(p.p90)}</td><td>${ms(p.p99)}</td><td>${ms(p.max)}</td></tr>`;
}

function timerRow(name: string, t: TimerObservation): string {
  return `<tr><th>${esc(name)}</th><td>${ms(t.negotiatedMs)}</td><td>${ms(t.observed.p50)}</td><td>${ms(t.observed.max)}</td><td>${t.within}/${t.observed.count}</td><td>${esc(t.note)}</td></tr>`;
}

function scenarioHtml(s: ScenarioReport): string {
  const steps = s.steps.map((x) => `<li><code>${esc(x.command)}</code> → ${esc(x.outcome)}${x.latencyMs !== null ? ` (${ms(x.latencyMs)} ms)` : ''}</li>`).join('');
  return `<section class="sc ${s.result === 'fail' ? 'fail' : ''}"><h3>${esc(s.name)}: ${s.result.toUpperCase()}</h3><p>${esc(s.reason)}</p><ul>${steps}</ul>${s.result === 'fail' ? ladderSvg(s.frames) : ''}</section>`;
}

export function renderHtml(r: LabReport): string {
  const b = r.bridge;
  const parts: string[] = [];
  parts.push(`<!doctype html><html><head><meta charset="utf-8"><title>vdpctl lab run: ${esc(r.iface)}</title><style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
.pass{color:#1e7e34}.fail{color:#c0392b}.na{color:#777}section.sc{border-top:1px solid #ddd;margin-top:1em}section.sc.fail h3{color:#c0392b}code{font-size:12px}</style></head><body>`);
  parts.push(`<h1>vdpctl lab run — ${esc(r.iface)} <span class="${r.passed ? 'pass' : 'fail'}">${r.passed ? 'PASSED' : 'FAILED'}</span></h1>`);
  parts.push(`<p>station ${esc(r.mac)}, started ${esc(r.startedAt)}, ${(r.durationMs / 1000).toFixed(1)} s${r.capture ? `, capture <code>${esc(r.capture.file)}</code> (${r.capture.frames} frames)` : ''}</p>`);
  if (r.error) parts.push(`<p class="fail"><b>error:</b> ${esc(r.error)}</p>`);
  parts.push('<h2>Bridge</h2><table>');
  parts.push(`<tr><th>neighbour</th><td>${esc(b.chassis ?? '-')} / ${esc(b.port ?? '-')} (TTL ${b.ttlS ?? '-'} s)</td></tr>`);
  if (b.evb) parts.push(`<tr><th>EVB TLV</th><td>mode ${esc(b.evb.mode)}, R=${b.evb.r}, RTE=${b.evb.rte}, RWD=${b.evb.rwd}, RKA=${b.evb.rka}, RRCAP=${+b.evb.rrcap}, RRCTR=${+b.evb.rrctr}, BGID=${+b.evb.bgid}</td></tr>`);
  if (b.operative) {
    const o = b.operative;
    parts.push(`<tr><th>operative</th><td>R=${o.r}, ack timer ${ms(o.ackTimerMs)} ms, resourceWaitDelay ${ms(o.resourceWaitDelayMs)} ms, keep-alive ${ms(o.keepAliveMs)} ms, respWaitDelay ${ms(o.respWaitDelayMs)} ms, toutKeepAlive ${ms(o.toutKeepAliveMs)} ms, GPID=${+o.gpid}, RR=${+o.rr}</td></tr>`);
  }
  parts.push(`<tr><th>EVB negotiated after</th><td>${ms(b.negotiatedAfterMs)} ms</td></tr></table>`);
  const l = r.load;
  if (l) {
    parts.push(`<h2>Load</h2><p>${l.vsis} VSIs at ${l.rate > 0 ? `${l.rate}/s` : 'full speed'}, hold ${l.holdS} s, type IDs ${l.typeIds.join(', ')}</p>`);
    parts.push(`<table><tr><th>associated</th><td>${l.associated}</td><th>failed</th><td class="${l.failed ? 'fail' : ''}">${l.failed}</td><th>lost during hold</th><td class="${l.lost ? 'fail' : ''}">${l.lost}</td><th>de-associated</th><td>${l.deassociated}</td></tr></table>`);
    parts.push('<table><tr><th></th><th>n</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>');
    parts.push(pctRow('assoc latency (ms)', l.latencyMs), pctRow('deassoc latency (ms)', l.deassocLatencyMs), '</table>');
    parts.push(histogramSvg(l.histogram));
    parts.push(`<p>throughput ${l.throughput.assocPerS ?? '-'} associations/s (${l.throughput.assocPhaseMs} ms), ${l.throughput.deassocPerS ?? '-'} de-associations/s</p>`);
    parts.push(`<h3>Responses by reason</h3><table>${Object.entries(l.responsesByReason).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`);
    parts.push(`<h3>Retries</h3><table><tr><th>ECPDUs</th><td>${l.ecp.requests}</td><th>retransmissions</th><td>${l.ecp.retransmits}</td><th>abandoned</th><td>${l.ecp.abandoned}</td></tr><tr><th>VDP requests</th><td>${l.vdp.requestsSent}</td><th>VDP re-sends</th><td>${l.vdp.resends}</td><th>keep-alives</th><td>${l.vdp.keepAlives} (${l.vdp.keepAliveResponses} responses)</td></tr></table>`);
    parts.push('<h3>Bridge timers, observed vs negotiated</h3><table><tr><th></th><th>negotiated (ms)</th><th>p50</th><th>max</th><th>within</th><th></th></tr>');
    parts.push(timerRow('ECP ack', l.timers.ecpAck), timerRow('command response', l.timers.commandResponse), timerRow('keep-alive response', l.timers.keepAliveResponse), '</table>');
    if (l.lostVsis.length) parts.push(`<h3>Lost VSIs</h3><ul>${l.lostVsis.map((v) => `<li>${esc(v.vsiid)}: ${esc(v.reason)}</li>`).join('')}</ul>`);
  }
  if (r.scenarios.length) {
    parts.push('<h2>Conformance</h2><table><tr><th>scenario</th><th>result</th><th>reason</th></tr>');
    for (const s of r.scenarios) parts.push(`<tr><td>${esc(s.name)}</td><td class="${s.result === 'pass' ? 'pass' : s.result === 'fail' ? 'fail' : 'na'}">${s.result}</td><td>${esc(s.reason)}${s.informational ? ' <i>(informational)</i>' : ''}</td></tr>`);
    parts.push('</table>');
    for (const s of r.scenarios) parts.push(scenarioHtml(s));
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
