/**
 * The SVG ladder: well-formed XML (checked by a small regex-free parser: tag balance,
 * quoted unique attributes, entities), width/height/viewBox, exactly one
 * `<line class="frame …" data-frame="N">` per analysed frame, styles for retransmissions,
 * error responses and LLDP.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile, analyzeSync } from '../../../src/replay/analyze.js';
import { escapeXml, renderSvg } from '../../../src/replay/svg.js';
import { CAPTURES, readCapture } from '../../helpers/captures.js';

interface XmlElement {
  name: string;
  attrs: Map<string, string>;
}

const ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

function isNameChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '-' || c === '_' || c === ':' || c === '.';
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r';
}

/** checks an entity reference starting at s[i] === '&'; returns the index after ';' */
function entity(s: string, i: number): number {
  const end = s.indexOf(';', i);
  if (end < 0 || end - i > 10) throw new Error(`bare & at ${i}`);
  const name = s.slice(i + 1, end);
  if (name.startsWith('#x')) {
    if (name.length < 3 || [...name.slice(2)].some((c) => !'0123456789abcdefABCDEF'.includes(c))) throw new Error(`bad char ref at ${i}`);
  } else if (name.startsWith('#')) {
    if (name.length < 2 || [...name.slice(1)].some((c) => c < '0' || c > '9')) throw new Error(`bad char ref at ${i}`);
  } else if (!ENTITIES.has(name)) throw new Error(`unknown entity &${name}; at ${i}`);
  return end + 1;
}

/** Parses a whole document; throws on any well-formedness error; returns every element. */
function parseXml(s: string): XmlElement[] {
  const out: XmlElement[] = [];
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  if (s.startsWith('<?xml')) {
    const e = s.indexOf('?>');
    if (e < 0) throw new Error('unterminated XML declaration');
    i = e + 2;
  }
  while (i < s.length) {
    const c = s[i]!;
    if (c === '&') {
      i = entity(s, i);
      continue;
    }
    if (c !== '<') {
      if (stack.length === 0 && !isSpace(c)) throw new Error(`text outside the root at ${i}`);
      i++;
      continue;
    }
    if (s.startsWith('<!--', i)) {
      const e = s.indexOf('-->', i);
      if (e < 0) throw new Error('unterminated comment');
      i = e + 3;
      continue;
    }
    if (s[i + 1] === '/') {
      let j = i + 2;
      while (j < s.length && isNameChar(s[j]!)) j++;
      const name = s.slice(i + 2, j);
      while (isSpace(s[j])) j++;
      if (s[j] !== '>') throw new Error(`bad end tag at ${i}`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${i}`);
      i = j + 1;
      continue;
    }
    let j = i + 1;
    while (j < s.length && isNameChar(s[j]!)) j++;
    const name = s.slice(i + 1, j);
    if (!name) throw new Error(`bad tag at ${i}`);
    const attrs = new Map<string, string>();
    let selfClosing = false;
    for (;;) {
      const hadSpace = isSpace(s[j]);
      while (isSpace(s[j])) j++;
      if (s[j] === '/' && s[j + 1] === '>') {
        selfClosing = true;
        j += 2;
        break;
      }
      if (s[j] === '>') {
        j++;
        break;
      }
      if (!hadSpace) throw new Error(`attribute without a space before it at ${j}`);
      let k = j;
      while (k < s.length && isNameChar(s[k]!)) k++;
      const an = s.slice(j, k);
      if (!an || s[k] !== '=') throw new Error(`bad attribute at ${j}`);
      const q = s[k + 1];
      if (q !== '"' && q !== "'") throw new Error(`unquoted attribute ${an} at ${k}`);
      const e = s.indexOf(q, k + 2);
      if (e < 0) throw new Error(`unterminated attribute ${an}`);
      const v = s.slice(k + 2, e);
      for (let p = 0; p < v.length; p++) {
        if (v[p] === '<') throw new Error(`< in attribute ${an}`);
        if (v[p] === '&') entity(v, p);
      }
      if (attrs.has(an)) throw new Error(`duplicate attribute ${an} on <${name}>`);
      attrs.set(an, v);
      j = e + 1;
    }
    if (stack.length === 0) roots++;
    out.push({ name, attrs });
    if (!selfClosing) stack.push(name);
    i = j;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('><')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return out;
}

function frameLines(svg: string): XmlElement[] {
  return parseXml(svg).filter((e) => e.name === 'line' && e.attrs.has('data-frame'));
}

describe('XML checker', () => {
  it('refuses what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow();
    expect(() => parseXml('<a>&</a>')).toThrow();
    expect(() => parseXml('<a x=1/>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
    expect(() => parseXml('<a><b/>')).toThrow();
    expect(parseXml('<?xml version="1.0"?>\n<a x="&lt;&amp;"><b/>t&gt;&#38;&#x26;</a>\n')).toHaveLength(2);
  });
});

describe('replay SVG ladder', () => {
  it('escapes text', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  for (const name of ['lldpad-ecp22-loss20-retransmit.pcap', 'lldpad-vdp22-bridge-kill-restart.pcap', 'lldpad-vdp22-burst100-lost-tlv.pcap', 'lldpad-evb22-negotiation.pcap']) {
    it(`${name}: well-formed, sized, one frame line per analysed frame`, async () => {
      const r = await analyzeFile(join(CAPTURES, name), { file: `odd <name> & "quotes" 'x'.pcap` });
      const svg = renderSvg(r);
      const els = parseXml(svg);
      const root = els[0]!;
      expect(root.name).toBe('svg');
      const w = Number(root.attrs.get('width'));
      const h = Number(root.attrs.get('height'));
      expect(w).toBeGreaterThan(0);
      expect(h).toBeGreaterThan(r.report.frames.analysed * 20);
      expect(root.attrs.get('viewBox')).toBe(`0 0 ${w} ${h}`);
      const lines = frameLines(svg);
      expect(lines).toHaveLength(r.report.frames.analysed);
      const frames = lines.map((l) => Number(l.attrs.get('data-frame')));
      expect(new Set(frames).size).toBe(frames.length);
      expect(frames).toEqual(r.ladder.map((l) => l.frame));
      for (const l of lines) expect(l.attrs.get('class')!.split(' ')[0]).toBe('frame');
    });
  }

  it('draws retransmissions dashed orange and LLDP thin grey', async () => {
    const r = await analyzeFile(join(CAPTURES, 'lldpad-ecp22-loss20-retransmit.pcap'));
    const lines = frameLines(renderSvg(r));
    const byFrame = new Map(lines.map((l) => [Number(l.attrs.get('data-frame')), l]));
    const retx = byFrame.get(13)!;
    expect(retx.attrs.get('class')).toContain('retransmission');
    expect(retx.attrs.get('stroke')).toBe('#e07800');
    expect(retx.attrs.get('stroke-dasharray')).toBeDefined();
    const lldp = byFrame.get(1)!;
    expect(lldp.attrs.get('class')).toContain('lldp');
    expect(lldp.attrs.get('stroke')).toBe('#999999');
    expect(Number(lldp.attrs.get('stroke-width'))).toBeLessThan(1);
    // station → bridge arrows go right, ACKs from the bridge go left
    expect(Number(byFrame.get(2)!.attrs.get('x1'))).toBeLessThan(Number(byFrame.get(2)!.attrs.get('x2')));
    expect(Number(byFrame.get(3)!.attrs.get('x1'))).toBeGreaterThan(Number(byFrame.get(3)!.attrs.get('x2')));
  });

  it('draws error responses red and marks undecodable frames without a frame line', () => {
    const recs = readCapture('lldpad-vdp22-assoc-keepalive-deassoc.pcap');
    const data = recs.map((x) => x.data.slice());
    data[2]![14 + 4 + 18 + 2] = 0x52; // frame 3: Assoc response → status HARD | insufficient resources
    data[5] = data[5]!.slice(0, 10); // frame 6: too short for an Ethernet header
    const r = analyzeSync(recs.map((x, i) => ({ ts: x.ns, bytes: data[i]!, frame: x.index })));
    expect(r.report.findings.find((f) => f.kind === 'error-response')).toMatchObject({ frame: 3, severity: 'error', reason: 2, hard: true });
    const svg = renderSvg(r);
    const lines = frameLines(svg);
    expect(lines).toHaveLength(15);
    expect(lines.find((l) => l.attrs.get('data-frame') === '3')!.attrs.get('stroke')).toBe('#d00000');
    expect(parseXml(svg).filter((e) => e.attrs.get('data-malformed') === '6')).toHaveLength(1);
  });
});
