/**
 * Replay of hand-built captures: each finding kind from frames built with the pdu encoders,
 * and input forms the lab captures do not have (pcapng, gzip, 802.1Q tags, other traffic,
 * Linux cooked captures).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { macToBytes, uuidToBytes } from '../../../pdu/bytes.js';
import { encodeFrame } from '../../../pdu/frame.js';
import { LINKTYPE_LINUX_SLL, serializePcapHeader, serializePcapRecord } from '../../../pdu/pcap.js';
import { localTlv } from '../../../fsm/evb-rules.js';
import type { DecodedFrame, EvbTlv, VsiMode } from '../../../pdu/types.js';
import { encodeVdpEntries } from '../../../pdu/vdp.js';
import { analyzeBytes, analyzeSync, type ReplayInput } from '../../../src/replay/analyze.js';
import type { ReplayReport } from '../../../src/replay/types.js';
import { readCapture } from '../../helpers/captures.js';

const ST = '02:00:00:00:00:01';
const BR = '02:00:00:00:00:02';
const DST = '01:80:c2:00:00:00';
const MGR = new Uint8Array(16).fill(0x41);

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

function vdpFrame(src: string, seq: number, mode: VsiMode, status: number, vsi: number): Uint8Array {
  const ulpdu = encodeVdpEntries([
    {
      managerId: MGR,
      vsi: { kind: 'vsi', mode, status, typeId: 7, typeVersion: 1, vsiidFormat: 5, vsiid: uuidToBytes(uuid(vsi)), filterFormat: 1, filters: [{ ps: false, pcp: 0, vid: 100 }] },
      org: [],
    },
  ]);
  return encodeFrame({ kind: 'ecp22', eth: { dst: DST, src, ethertype: 0x8940 }, ecp: { version: 1, op: 0, subtype: 1, sequence: seq, ulpdu } });
}

function ack(src: string, seq: number): Uint8Array {
  return encodeFrame({ kind: 'ecp22', eth: { dst: DST, src, ethertype: 0x8940 }, ecp: { version: 1, op: 1, subtype: 1, sequence: seq, ulpdu: new Uint8Array(0) } });
}

function lldp(src: string, evb: EvbTlv | undefined, ttl = 120): Uint8Array {
  const f: DecodedFrame = {
    kind: 'lldp',
    eth: { dst: DST, src, ethertype: 0x88cc },
    lldpdu: {
      tlvs: [
        { kind: 'chassis-id', subtype: 4, id: macToBytes(src) },
        { kind: 'port-id', subtype: 3, id: macToBytes(src) },
        { kind: 'ttl', seconds: ttl },
        ...(evb ? [{ kind: 'evb' as const, ...evb }] : []),
        { kind: 'end' as const },
      ],
    },
  };
  return encodeFrame(f);
}

const stationEvb = (o: Partial<EvbTlv> = {}): EvbTlv => ({ ...localTlv({ role: 'station', rrreq: false, rrcap: false, gpid: false, r: 3, rte: 8, rwd: 20, rka: 20 }), rrstat: 0, rolRwd: true, rolRka: true, ...o });
const bridgeEvb = (o: Partial<EvbTlv> = {}): EvbTlv => ({ ...localTlv({ role: 'bridge', rrreq: false, rrcap: false, gpid: false, r: 3, rte: 8, rwd: 20, rka: 20 }), rolRwd: true, rolRka: true, ...o });

/** [ms, frame] pairs → replay inputs (ns timestamps) */
function run(frames: [number, Uint8Array][], station?: string): ReplayReport {
  const inputs: ReplayInput[] = frames.map(([ms, bytes]) => ({ ts: BigInt(Math.round(ms * 1e6)) + 1_700_000_000_000_000_000n, bytes }));
  return analyzeSync(inputs, { file: 'synthetic', ...(station ? { station } : {}) }).report;
}

function kinds(r: ReplayReport): string[] {
  return r.findings.map((f) => `${f.frame}:${f.kind}/${f.severity}`);
}

/** request at t, ACK, response 2 ms later, ACK */
function exchange(t: number, sseq: number, bseq: number, mode: VsiMode, vsi: number, rspStatus = 0x40): [number, Uint8Array][] {
  return [
    [t, vdpFrame(ST, sseq, mode, 0, vsi)],
    [t + 0.1, ack(BR, sseq)],
    [t + 2, vdpFrame(BR, bseq, mode, rspStatus, vsi)],
    [t + 2.1, ack(ST, bseq)],
  ];
}

describe('replay findings on built captures', () => {
  it('request records reused after their deadline (the replay keeps answered ones for the next requests) start clean', () => {
    // VSIs 1..3 answered at once; 20 s later (past respWaitDelay, 15.76 s) VSI 4 is never
    // answered and VSI 5 only late: their records are the answered ones of 1..3, reused
    const frames: [number, Uint8Array][] = [...exchange(0, 1, 1, 'assoc', 1), ...exchange(10, 2, 2, 'assoc', 2), ...exchange(20, 3, 3, 'assoc', 3)];
    frames.push([20_000, vdpFrame(ST, 4, 'assoc', 0, 4)], [20_000.1, ack(BR, 4)]);
    frames.push([20_010, vdpFrame(ST, 5, 'assoc', 0, 5)], [20_010.1, ack(BR, 5)]);
    frames.push([40_000, vdpFrame(BR, 4, 'assoc', 0x40, 5)], [40_000.1, ack(ST, 4)]);
    const r = run(frames);
    // (1..3 send no keep-alive in these 40 s: a late-keepalive finding each)
    expect(kinds(r)).toEqual(['1:late-keepalive/warning', '5:late-keepalive/warning', '9:late-keepalive/warning', '13:no-response/warning', '15:no-response/warning', '17:late-response/warning']);
    expect(r.findings[3]!.message).toContain('VSI 00000000-0000-4000-8000-000000000004');
    expect(r.findings[5]!.message).toContain('(the station had already given up)');
    expect(r.vsis.map((v) => v.finalState)).toEqual(['ASSOCIATED', 'ASSOCIATED', 'ASSOCIATED', 'END', 'END']);
  });

  it('a clean assoc / keep-alive / deassoc has no finding and derives every state change', () => {
    const r = run([...exchange(0, 1, 1, 'assoc', 1), ...exchange(10_486, 2, 2, 'assoc', 1), ...exchange(15_000, 3, 3, 'deassoc', 1)]);
    expect(r.findings).toEqual([]);
    const v = r.vsis[0]!;
    expect(v.timeline.map((e) => (e.kind === 'state' ? e.transition : e.kind))).toEqual([
      'request',
      'NONE -> ASSOC_WAIT',
      'response',
      'ASSOC_WAIT -> ASSOCIATED',
      'keepalive',
      'response',
      'request',
      'ASSOCIATED -> DEASSOC_WAIT',
      'response',
      'DEASSOC_WAIT -> END',
    ]);
  });

  it('keep-alive runs: a short run keeps its pairs as lines (as --full shows them), a long one is one line; a run started after another ended shows only its own', () => {
    const frames: [number, Uint8Array][] = [];
    let seq = 1;
    const ex = (t: number, mode: VsiMode, vsi: number): void => {
      frames.push(...exchange(t, seq, seq, mode, vsi));
      seq++;
    };
    ex(0, 'assoc', 1);
    ex(1, 'assoc', 2);
    for (let k = 1; k <= 5; k++) ex(k * 1000, 'assoc', 2); // VSI 2: five keep-alives, collapsed
    ex(2000.5, 'assoc', 1);
    ex(3000.5, 'assoc', 1); // VSI 1: two keep-alives, then its run ends
    ex(4000.5, 'deassoc', 1);
    ex(4100, 'assoc', 3);
    ex(5100, 'assoc', 3); // VSI 3's run starts after VSI 1's ended: one pair
    frames.push([6100, vdpFrame(ST, seq, 'assoc', 0, 3)], [6100.1, ack(BR, seq)]); // and an unanswered keep-alive at the end
    frames.sort((a, b) => a[0] - b[0]);
    const inputs: ReplayInput[] = frames.map(([ms, bytes]) => ({ ts: BigInt(Math.round(ms * 1e6)) + 1_700_000_000_000_000_000n, bytes }));
    const collapsed = analyzeSync(inputs).report;
    const full = analyzeSync(inputs, { full: true }).report;
    const line = (e: ReplayReport['vsis'][number]['timeline'][number]): string => `${e.kind}@${e.frame}`;
    const [v1, v2, v3] = collapsed.vsis;
    expect(v1!.timeline.map(line)).toEqual(full.vsis[0]!.timeline.map(line));
    expect(v1!.timeline.filter((e) => e.kind === 'keepalive')).toHaveLength(2);
    expect(v2!.timeline.filter((e) => e.kind === 'keepalives').map((e) => e.count)).toEqual([5]);
    expect(v3!.timeline).toEqual(full.vsis[2]!.timeline);
    expect(v3!.timeline.map((e) => e.kind)).toEqual(['request', 'state', 'response', 'state', 'keepalive', 'response', 'keepalive']);
    expect(v3!.timeline[5]!.latencyMs).toBe(2);
  });

  it('error responses: reason text, KEEP keeps the association, HARD error ends it', () => {
    const r = run([
      ...exchange(0, 1, 1, 'assoc', 1),
      ...exchange(100, 2, 2, 'assoc', 1, 0x40 | 0x20 | 3), // KEEP, unable to contact VSI manager
      ...exchange(200, 3, 3, 'assoc', 2, 0x40 | 0x10 | 2), // HARD, insufficient resources
    ]);
    const errs = r.findings.filter((f) => f.kind === 'error-response');
    expect(errs.map((f) => [f.frame, f.severity, f.reason, f.keep, f.hard])).toEqual([
      [7, 'warning', 3, true, false],
      [11, 'error', 2, false, true],
    ]);
    expect(errs[0]!.message).toContain('unable to contact VSI manager');
    expect(errs[1]!.message).toContain('insufficient resources');
    expect(r.vsis.map((v) => v.finalState)).toEqual(['ASSOCIATED', 'END']);
    expect(r.vsis[1]!.timeline.at(-1)).toMatchObject({ transition: 'ASSOC_WAIT -> END', reason: 'bridge-response-error' });
  });

  it('late response, no response, unknown-VSI response, unsolicited deassoc, late keep-alive', () => {
    const r = run([
      [0, vdpFrame(ST, 1, 'assoc', 0, 1)],
      [0.1, ack(BR, 1)],
      [20_000, vdpFrame(BR, 1, 'assoc', 0x40, 1)], // 20 s > respWaitDelay 15.76 s
      [20_000.1, ack(ST, 1)],
      [20_010, vdpFrame(ST, 2, 'assoc', 0, 2)],
      [20_010.1, ack(BR, 2)], // never answered
      ...exchange(40_000, 3, 2, 'assoc', 3),
      [40_010, vdpFrame(BR, 3, 'assoc', 0x40, 4)], // nobody asked for VSI 4
      [40_010.1, ack(ST, 3)],
      [60_000, vdpFrame(BR, 4, 'deassoc', 0, 3)], // 20 s after VSI 3's last request: no keep-alive
      [60_000.1, ack(ST, 4)],
    ]);
    expect(kinds(r)).toEqual([
      '1:no-response/warning',
      '3:late-response/warning',
      '5:no-response/warning',
      '11:unknown-vsi-response/warning',
      // VSI 4, associated per that response, is never kept alive until the end
      '11:late-keepalive/warning',
      '13:late-keepalive/warning',
      '13:unsolicited-deassoc/warning',
    ]);
    const late = r.findings.find((f) => f.kind === 'late-response')!;
    expect(late).toMatchObject({ valueMs: 20_000, limitMs: 15_755.52, relatedFrames: [1] });
    expect(late.message).toContain('already given up');
    expect(r.vsis.find((v) => v.vsiid === uuid(3))!.timeline.at(-1)).toMatchObject({ transition: 'ASSOCIATED -> END', reason: 'bridge-deassoc' });
    expect(r.findings.find((f) => f.kind === 'late-keepalive')).toMatchObject({ limitMs: 15_728.64 });
  });

  it('an unsolicited De-Associate that crosses a request not yet acknowledged is stale; after the ACK it ends the VSI', () => {
    // the bridge timed the VSI out while the station's keep-alive was on its way
    const crossing = (ackFirst: boolean): ReplayReport => {
      const ka: [number, Uint8Array][] = [[10_000.1, ack(BR, 2)]];
      const deassoc: [number, Uint8Array][] = [
        [10_000.05, vdpFrame(BR, 2, 'deassoc', 0, 1)],
        [10_000.15, ack(ST, 2)],
      ];
      return run([
        ...exchange(0, 1, 1, 'assoc', 1),
        [10_000, vdpFrame(ST, 2, 'assoc', 0, 1)], // keep-alive
        ...(ackFirst ? [...ka.map(([t, f]): [number, Uint8Array] => [t - 0.06, f]), ...deassoc] : [...deassoc, ...ka]),
        [10_002, vdpFrame(BR, 3, 'assoc', 0x40, 1)], // the bridge answers the keep-alive: associated again
        [10_002.1, ack(ST, 3)],
      ]);
    };
    const stale = crossing(false);
    expect(kinds(stale)).toEqual(['6:unsolicited-deassoc/warning']);
    expect(stale.findings[0]!.message).toContain('crossing the Assoc keep-alive at frame 5');
    expect(stale.findings[0]!.relatedFrames).toEqual([5]);
    expect(stale.vsis[0]!.finalState).toBe('ASSOCIATED');
    expect(stale.vsis[0]!.timeline.map((e) => (e.kind === 'state' ? e.transition : e.kind)).slice(4)).toEqual(['keepalive', 'unsolicited-deassoc', 'response']);
    // the bridge had the keep-alive before it de-associated: the VSI ends, the answer comes too late
    const real = crossing(true);
    expect(kinds(real)).toEqual(['7:unsolicited-deassoc/warning', '9:unexpected-response/warning']);
    expect(real.findings[0]!.message).toContain('while a request the bridge had received waits for its response');
    expect(real.vsis[0]!.timeline.some((e) => e.kind === 'state' && e.transition === 'ASSOCIATED -> END' && e.reason === 'bridge-deassoc')).toBe(true);
  });

  it('a response at the start of a capture for an unseen VSI is only info', () => {
    const r = run([
      [0, vdpFrame(BR, 9, 'assoc', 0x40, 1)],
      [0.1, ack(ST, 9)],
    ]);
    expect(kinds(r)).toEqual(['1:unknown-vsi-response/info']);
    expect(r.stations).toMatchObject({ station: ST, bridge: BR, inferredFrom: 'vdp-direction' });
  });

  it('ECP: retransmission, duplicate after ACK, missing ACK, late ACK, sequence gap, restart at 1, sequence reuse', () => {
    const req = (t: number, seq: number, vsi: number): [number, Uint8Array] => [t, vdpFrame(ST, seq, 'preassoc', 0, vsi)];
    const r = run([
      req(0, 1, 1),
      req(2.6, 1, 1), // retransmission
      [2.7, ack(BR, 1)],
      req(3, 1, 1), // duplicate: ACK #3 lost
      [3.1, ack(BR, 1)],
      req(10, 2, 2),
      [15, ack(BR, 2)], // 5 ms > ack timer 2.56 ms
      req(20, 5, 3), // gap 2 → 5
      [20.1, ack(BR, 5)],
      req(30, 1, 4), // restart: no finding
      [30.1, ack(BR, 1)],
      req(40, 1, 5), // same seq, other payload
      [40.1, ack(BR, 1)],
      req(50, 2, 6),
      req(52.7, 2, 6),
      req(55.4, 2, 6),
      req(58.1, 2, 6), // 4 transmissions, never acked
      [200, lldp(ST, stationEvb())],
    ]);
    expect(kinds(r).filter((k) => !k.includes('no-response'))).toEqual([
      '2:retransmission/warning',
      '4:duplicate/warning',
      '7:late-ack/warning',
      '8:sequence-gap/warning',
      '12:sequence-reuse/warning',
      '14:missing-ack/warning',
      '15:retransmission/warning',
      '16:retransmission/warning',
      '17:retransmission/warning',
      '18:evb-disagreement/info', // only the station's LLDPDU is in the capture
    ]);
    const d = r.ecp.directions[0]!;
    expect(d).toMatchObject({ ecpdus: 6, transmissions: 11, retransmissions: 4, duplicates: 1, sequenceGaps: 1, restarts: 1, lateAcks: 1, unacked: 1 });
    expect(r.findings.find((f) => f.kind === 'missing-ack')!.message).toContain('gave up');
    // an ECP retransmission is not a new VDP request
    expect(r.vsis.find((v) => v.vsiid === uuid(1))!.requests).toBe(1);
  });

  it('an ECPDU still unacknowledged within the ack timer at the end of the capture is only info', () => {
    const r = run([[0, vdpFrame(ST, 1, 'assoc', 0, 1)]]);
    expect(kinds(r)).toEqual(['1:no-response/info', '1:missing-ack/info']);
  });

  it('EVB: negotiated operative values and timers; disagreement when a side does not adopt the peer values', () => {
    const ok = run([
      [0, lldp(BR, bridgeEvb({ rte: 10, rolRwd: false, rolRka: false }))],
      [500, lldp(ST, stationEvb({ rte: 10 }))],
      [1000, lldp(BR, bridgeEvb({ rte: 10 }))],
    ]);
    expect(ok.findings).toEqual([]);
    expect(ok.evb.operative).toMatchObject({ rte: 10, source: 'negotiated' });
    expect(ok.evb.timers.ackTimerMs).toBe(10.24);
    const bad = run([
      [0, lldp(BR, bridgeEvb({ rte: 10 }))],
      [500, lldp(ST, stationEvb({ rte: 8 }))],
      [1000, lldp(BR, bridgeEvb({ rte: 10 }))],
      [1500, lldp(ST, stationEvb({ rte: 8 }))],
    ]);
    expect(kinds(bad)).toEqual(['2:evb-disagreement/warning']);
    expect(bad.findings[0]!.message).toContain('rte 8 (expected 10)');
    expect(bad.evb.operative.rte).toBe(10);
    const mode = run([
      [0, lldp(BR, bridgeEvb({ evbMode: 2 }))],
      [500, lldp(ST, stationEvb())],
    ], ST);
    expect(kinds(mode)).toContain('1:evb-disagreement/error');
    expect(mode.findings[0]!.message).toContain('advertises EVB mode "station", expected "bridge"');
    const none = run([
      [0, lldp(BR, bridgeEvb())],
      [500, lldp(ST, undefined)],
      [1000, lldp(BR, bridgeEvb())],
    ]);
    expect(kinds(none)).toEqual(['2:evb-disagreement/warning']);
    expect(none.evb.station.withoutEvbFrames).toEqual([2]);
  });

  it('--station overrides the inference', () => {
    const frames = exchange(0, 1, 1, 'assoc', 1);
    expect(run(frames, ST).stations).toMatchObject({ station: ST, bridge: BR, inferredFrom: 'option' });
    const unknown = run(frames, '02:00:00:00:00:99');
    expect(unknown.findings.map((f) => f.kind)).toContain('station-not-seen');
  });

  it('a frame with damaged VDP content is malformed but still counts for ECP', () => {
    const bad = vdpFrame(ST, 1, 'assoc', 0, 1);
    bad[14 + 4 + 18 + 1] = 0xff; // VSI TLV length
    const r = run([
      [0, bad],
      [0.1, ack(BR, 1)],
    ]);
    const m = r.findings.find((f) => f.kind === 'malformed')!;
    expect(m).toMatchObject({ frame: 1, severity: 'error', error: { layer: 'vdp' } });
    expect(r.frames).toMatchObject({ malformed: 1, analysed: 2 });
    expect(r.ecp.directions[0]).toMatchObject({ ecpdus: 1, acked: 1 });
  });
});

describe('replay input forms', () => {
  const recs = readCapture('lldpad-vdp22-assoc-keepalive-deassoc.pcap');
  const plain = analyzeBytes(
    (() => {
      const parts = [serializePcapHeader({ nanoseconds: false })];
      for (const r of recs) parts.push(serializePcapRecord(r.ns, r.data, false));
      return Buffer.concat(parts);
    })(),
  ).report;

  /** the same frames with an 802.1Q tag each and an IPv4 frame after each */
  function tagged(): [bigint, Uint8Array][] {
    const out: [bigint, Uint8Array][] = [];
    for (const r of recs) {
      const d = r.data;
      const t = new Uint8Array(d.length + 4);
      t.set(d.subarray(0, 12));
      t.set([0x81, 0x00, 0x00, 0x64], 12);
      t.set(d.subarray(12), 16);
      out.push([r.ns, t]);
      const ip = new Uint8Array(1514 + 4000); // a jumbo/TSO frame: not refused, just skipped
      ip.set(d.subarray(0, 12));
      ip[12] = 0x08;
      out.push([r.ns + 1000n, ip]);
    }
    return out;
  }

  function pcapng(frames: [bigint, Uint8Array][]): Uint8Array {
    const blocks: Buffer[] = [];
    const block = (type: number, body: Buffer): void => {
      const pad = (4 - (body.length % 4)) % 4;
      const len = 12 + body.length + pad;
      const b = Buffer.alloc(len);
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(len, 4);
      body.copy(b, 8);
      b.writeUInt32LE(len, len - 4);
      blocks.push(b);
    };
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0);
    shb.writeUInt16LE(1, 4);
    shb.writeBigInt64LE(-1n, 8);
    block(0x0a0d0d0a, shb);
    const idb = Buffer.alloc(8 + 8);
    idb.writeUInt16LE(1, 0);
    idb.writeUInt16LE(9, 8); // if_tsresol = 9 (ns)
    idb.writeUInt16LE(1, 10);
    idb[12] = 9;
    block(1, idb);
    for (const [ns, d] of frames) {
      const epb = Buffer.alloc(20 + d.length);
      epb.writeUInt32LE(0, 0);
      epb.writeUInt32LE(Number(ns >> 32n), 4);
      epb.writeUInt32LE(Number(ns & 0xffffffffn), 8);
      epb.writeUInt32LE(d.length, 12);
      epb.writeUInt32LE(d.length, 16);
      Buffer.from(d).copy(epb, 20);
      block(6, epb);
    }
    return Buffer.concat(blocks);
  }

  it('gzip-compressed pcapng with 802.1Q tags and other traffic gives the same analysis', () => {
    const r = analyzeBytes(gzipSync(pcapng(tagged()))).report;
    expect(r.frames).toMatchObject({ total: 32, analysed: 16, other: 16, malformed: 0 });
    expect(r.findings).toEqual([]);
    expect(r.vsis).toHaveLength(1);
    const strip = (x: ReplayReport): unknown => x.vsis[0]!.timeline.map((e) => ({ ...e, frame: null }));
    expect(strip(r)).toEqual(strip(plain));
    expect(r.vsis[0]!.timeline[2]).toMatchObject({ frame: 5, kind: 'response', latencyMs: 2.251 });
  });

  it('nanosecond and microsecond classic pcap give the same report', () => {
    const parts = [serializePcapHeader({ nanoseconds: true })];
    for (const r of recs) parts.push(serializePcapRecord(r.ns, r.data, true));
    expect(analyzeBytes(Buffer.concat(parts)).report).toEqual(plain);
    expect(plain.vsis[0]!.keepalives).toBe(2);
  });

  it('Linux cooked (SLL) captures are converted', () => {
    const parts = [serializePcapHeader({ linktype: LINKTYPE_LINUX_SLL })];
    for (const r of recs) {
      const d = r.data;
      const sll = new Uint8Array(16 + d.length - 14);
      sll[1] = 4; // sent by us
      sll[5] = 6;
      sll.set(d.subarray(6, 12), 6);
      sll.set(d.subarray(12, 14), 14);
      sll.set(d.subarray(14), 16);
      parts.push(serializePcapRecord(r.ns, sll));
    }
    const r = analyzeBytes(Buffer.concat(parts)).report;
    expect(r.frames.analysed).toBe(16);
    expect(r.vsis[0]!.keepalives).toBe(2);
    expect(r.findings).toEqual([]);
  });
});
