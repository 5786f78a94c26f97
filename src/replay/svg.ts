/**
 * The replay as a ladder (sequence) diagram: a station and a bridge lifeline (plus one for
 * other senders if any), one horizontal arrow per analysed frame in capture order —
 * exactly one `<line class="frame …" data-frame="N">` each — labelled with what it
 * carries. LLDP thin grey, ACKs green, retransmissions/duplicates dashed orange, error
 * responses red, unsolicited De-Associates purple; undecodable frames get a red cross.
 */
import type { LadderEnd, LadderFrame, ReplayResult } from './types.js';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

const ROW = 20;
const TOP = 90;
const GAP_EXTRA = 6;
const GAP_MS = 1000;
const X: Record<LadderEnd, number> = { station: 300, bridge: 800, other: 1050 };

interface Look {
  color: string;
  width: number;
  dash?: string;
  marker: string;
}

const LOOKS: Record<string, Look> = {
  lldp: { color: '#999999', width: 0.75, marker: 'grey' },
  ack: { color: '#2a8a4a', width: 1, marker: 'green' },
  req: { color: '#1f3f8f', width: 1.5, marker: 'blue' },
  response: { color: '#000000', width: 1.5, marker: 'black' },
  retransmission: { color: '#e07800', width: 1.5, dash: '6 3', marker: 'orange' },
  duplicate: { color: '#e07800', width: 1.5, dash: '2 3', marker: 'orange' },
  'late-ack': { color: '#e07800', width: 1.5, marker: 'orange' },
  'error-response': { color: '#d00000', width: 2, marker: 'red' },
  'unsolicited-deassoc': { color: '#9a1aa0', width: 2, marker: 'purple' },
  other: { color: '#555555', width: 1, marker: 'grey' },
};
const PRIORITY = ['error-response', 'unsolicited-deassoc', 'retransmission', 'duplicate', 'late-ack', 'response', 'lldp', 'ack', 'req'];
const MARKERS: Record<string, string> = { grey: '#999999', green: '#2a8a4a', blue: '#1f3f8f', black: '#000000', orange: '#e07800', red: '#d00000', purple: '#9a1aa0' };

function lookOf(f: LadderFrame): Look {
  for (const t of PRIORITY) if (f.tags.includes(t)) return LOOKS[t]!;
  return LOOKS['other']!;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function renderSvg(result: ReplayResult): string {
  const { report, ladder } = result;
  const hasOther = ladder.some((f) => f.from === 'other' || f.to === 'other');
  const width = hasOther ? 1200 : 950;
  const body: string[] = [];
  let y = TOP;
  let prevT: number | undefined;
  for (const f of ladder) {
    if (prevT !== undefined && f.timeMs - prevT > GAP_MS) {
      y += ROW;
      body.push(`<text class="gap" x="${(X.station + X.bridge) / 2}" y="${y + 4}" text-anchor="middle">… ${escapeXml(((f.timeMs - prevT) / 1000).toFixed(3))} s …</text>`);
      y += GAP_EXTRA;
    }
    prevT = f.timeMs;
    y += ROW;
    body.push(`<text class="when" x="10" y="${y + 4}">#${f.frame}  ${(f.timeMs / 1000).toFixed(6)}</text>`);
    const x1 = X[f.from];
    const x2 = X[f.to === f.from ? (f.from === 'station' ? 'bridge' : 'station') : f.to];
    const label = escapeXml(clip(f.label, 95));
    if (f.kind === 'malformed') {
      const c = x1;
      body.push(
        `<g class="malformed" data-malformed="${f.frame}"><title>${escapeXml(f.label)}</title><path d="M${c - 5} ${y - 5} L${c + 5} ${y + 5} M${c - 5} ${y + 5} L${c + 5} ${y - 5}" stroke="#d00000" stroke-width="2"/>` +
          `<text class="label" x="${c + 10}" y="${y + 4}" fill="#d00000">${escapeXml(clip(f.label, 80))}</text></g>`,
      );
      continue;
    }
    const look = lookOf(f);
    const dash = look.dash ? ` stroke-dasharray="${look.dash}"` : '';
    const cls = ['frame', f.kind, ...f.tags].join(' ');
    body.push(
      `<line class="${escapeXml(cls)}" data-frame="${f.frame}" x1="${x1}" y1="${y}" x2="${x2 + (x2 > x1 ? -2 : 2)}" y2="${y}" stroke="${look.color}" stroke-width="${look.width}"${dash} marker-end="url(#arrow-${look.marker})"><title>#${f.frame} ${escapeXml(f.label)}</title></line>`,
    );
    body.push(`<text class="label" x="${(x1 + x2) / 2}" y="${y - 4}" text-anchor="middle" fill="${look.color}">${label}</text>`);
  }
  const height = y + 40;
  const lifelines: string[] = [];
  const heads: [LadderEnd, string][] = [
    ['station', `station ${report.stations.station ?? '?'}`],
    ['bridge', `bridge ${report.stations.bridge ?? '?'}`],
  ];
  if (hasOther) heads.push(['other', 'other senders']);
  for (const [end, title] of heads) {
    lifelines.push(`<text class="head" x="${X[end]}" y="${TOP - 30}" text-anchor="middle">${escapeXml(title)}</text>`);
    lifelines.push(`<path class="lifeline" d="M${X[end]} ${TOP - 20} L${X[end]} ${height - 20}" stroke="#444444" stroke-width="1"/>`);
  }
  const markers = Object.entries(MARKERS)
    .map(([n, c]) => `<marker id="arrow-${n}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="${c}"/></marker>`)
    .join('');
  const title = `vdpctl replay ${report.file}: ${report.frames.analysed} frame(s), ${report.summary.errors} error(s), ${report.summary.warnings} warning(s)`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<defs>${markers}</defs>`,
    '<style>.head{font-size:13px;font-weight:bold}.when{fill:#666666}.gap{fill:#888888;font-style:italic}</style>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="head" x="10" y="20">${escapeXml(title)}</text>`,
    ...lifelines,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
