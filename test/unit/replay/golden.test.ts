/**
 * The replay of the real lldpad captures: the whole JSON report is compared with a golden
 * file (regenerate with UPDATE_GOLDEN=1 and review the diff against captures/README.md),
 * and the facts captures/README.md states are asserted by hand.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFile } from '../../../src/replay/analyze.js';
import type { Finding, ReplayReport } from '../../../src/replay/types.js';
import { CAPTURES } from '../../helpers/captures.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

const GOLDEN_CAPTURES = [
  'lldpad-vdp22-assoc-keepalive-deassoc.pcap',
  'lldpad-ecp22-loss20-retransmit.pcap',
  'lldpad-vdp22-bridge-kill-restart.pcap',
  'lldpad-evb22-negotiation.pcap',
  'lldpad-vdp22-assoc-deassoc.pcap',
  'lldpad-vdp22-keepalive.pcap',
  'lldpad-vdp22-bridge-quick-restart.pcap',
  'lldpad-vdp22-bridge-term-restart.pcap',
  'lldpad-vdp22-bug-stale-bridge-timer.pcap',
  'lldpad-vdp22-station-restart.pcap',
  'lldpad-vdp22-burst100-lost-tlv.pcap',
];

async function report(name: string): Promise<ReplayReport> {
  const r = await analyzeFile(join(CAPTURES, name), { file: name });
  // through JSON, exactly as `--json` prints it
  return JSON.parse(JSON.stringify(r.report)) as ReplayReport;
}

function kinds(r: ReplayReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of r.findings) out[`${f.kind}/${f.severity}`] = (out[`${f.kind}/${f.severity}`] ?? 0) + 1;
  return out;
}

function of(r: ReplayReport, kind: string): Finding[] {
  return r.findings.filter((f) => f.kind === kind);
}

describe('replay golden reports', () => {
  for (const name of GOLDEN_CAPTURES) {
    it(`${name} matches golden/${name.replace(/\.pcap$/, '')}.json`, async () => {
      const r = await report(name);
      const path = join(GOLDEN, `${name.replace(/\.pcap$/, '')}.json`);
      if (UPDATE || !existsSync(path)) {
        if (!UPDATE) throw new Error(`golden file ${path} missing: run with UPDATE_GOLDEN=1`);
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
      }
      expect(r).toEqual(JSON.parse(readFileSync(path, 'utf8')));
    });
  }
});

describe('replay facts from captures/README.md', () => {
  it('assoc/keep-alive/deassoc: one VSI, two keep-alives 10.49 s apart, no warning', async () => {
    const r = await report('lldpad-vdp22-assoc-keepalive-deassoc.pcap');
    expect(r.frames).toMatchObject({ total: 16, analysed: 16, ecp: 16, lldp: 0, malformed: 0 });
    expect(r.stations).toMatchObject({ station: '02:76:64:70:00:01', bridge: '02:76:64:70:00:02', inferredFrom: 'vdp-direction' });
    expect(r.findings).toEqual([]);
    expect(r.vsis).toHaveLength(1);
    const v = r.vsis[0]!;
    expect(v).toMatchObject({ vsiid: '76647000-0000-4000-8000-000000000001', managerId: 'vdplab', typeId: 1193046, typeVersion: 1, finalState: 'END', requests: 2, keepalives: 2, responses: 4 });
    const ka = v.timeline.filter((e) => e.kind === 'keepalive');
    expect(ka.map((e) => e.frame)).toEqual([5, 9]);
    expect(ka[1]!.timeMs - ka[0]!.timeMs).toBeCloseTo(10490.434, 3);
    const states = v.timeline.filter((e) => e.kind === 'state').map((e) => `${e.frame} ${e.transition} reason=${e.reason}`);
    expect(states).toEqual([
      '1 NONE -> ASSOC_WAIT reason=station-request',
      '3 ASSOC_WAIT -> ASSOCIATED reason=bridge-response-success',
      '13 ASSOCIATED -> DEASSOC_WAIT reason=station-request',
      '15 DEASSOC_WAIT -> END reason=bridge-response-success',
    ]);
    // README: request→response ~2.2 ms, ACK ~0.1 ms; no EVB TLV in the capture → lldpad defaults
    for (const e of v.timeline.filter((x) => x.kind === 'response')) expect(e.latencyMs!).toBeGreaterThan(2.1);
    expect(r.evb.operative).toEqual({ r: 3, rte: 8, rwd: 20, rka: 20, rr: false, gpid: false, source: 'defaults' });
    expect(r.evb.timers).toMatchObject({ ackTimerMs: 2.56, reinitKeepAliveMs: 10485.76, respWaitDelayMs: 15755.52 });
    for (const d of r.ecp.directions) expect(d).toMatchObject({ ecpdus: 4, transmissions: 4, acked: 4, retransmissions: 0 });
  });

  it('loss 20 %: 22 + 23 resent ECPDUs, one ECPDU never acknowledged, all VDP exchanges succeed', async () => {
    const r = await report('lldpad-ecp22-loss20-retransmit.pcap');
    const [st, br] = r.ecp.directions;
    expect(st).toMatchObject({ direction: 'station->bridge', transmissions: 62, ecpdus: 40 });
    expect(br).toMatchObject({ direction: 'bridge->station', transmissions: 63, ecpdus: 40 });
    expect(st!.retransmissions + st!.duplicates).toBe(22);
    expect(br!.retransmissions + br!.duplicates).toBe(23);
    expect(st!.unacked + br!.unacked).toBe(1);
    expect(of(r, 'retransmission').length).toBe(st!.retransmissions + br!.retransmissions);
    expect(of(r, 'duplicate').length).toBe(st!.duplicates + br!.duplicates);
    // frames 13 (REQ lost) and 10 (ACK #7 lost) from the README's walk-through
    expect(of(r, 'retransmission').find((f) => f.frame === 13)).toMatchObject({ seq: 3, direction: 'station->bridge', relatedFrames: [12] });
    expect(of(r, 'duplicate').find((f) => f.frame === 10)).toMatchObject({ seq: 2, relatedFrames: [6, 7] });
    expect(of(r, 'missing-ack')).toHaveLength(1);
    // 10 VSIs, 30 keep-alives, all answered with success
    expect(r.vsis).toHaveLength(10);
    expect(r.vsis.reduce((n, v) => n + v.keepalives, 0)).toBe(30);
    expect(r.vsis.every((v) => v.finalState === 'ASSOCIATED')).toBe(true);
    expect(r.findings.filter((f) => f.vsiid !== undefined)).toEqual([]);
    expect(r.summary.errors).toBe(0);
  });

  it('bridge SIGKILL: 5 keep-alives sent 4 times each, never acked, never answered', async () => {
    const r = await report('lldpad-vdp22-bridge-kill-restart.pcap');
    expect(kinds(r)).toEqual({ 'missing-ack/warning': 5, 'no-response/warning': 5, 'retransmission/warning': 15 });
    expect(of(r, 'missing-ack').map((f) => f.frame)).toEqual([8, 12, 16, 20, 24]);
    expect(of(r, 'missing-ack')[0]!.message).toContain('gave up');
    expect(r.ecp.directions).toHaveLength(1);
    expect(r.ecp.directions[0]).toMatchObject({ ecpdus: 5, transmissions: 20, unacked: 5 });
    for (const v of r.vsis) {
      expect(v.finalState).toBe('END');
      expect(v.timeline.at(-1)).toMatchObject({ kind: 'state', frame: null, transition: 'ASSOC_WAIT -> END', reason: 'no-response' });
    }
    // the restarted bridge (#29, nothing heard) renegotiates: no EVB disagreement
    expect(r.evb.bridge.changes.map((c) => c.frame)).toEqual([1, 29, 31, 33]);
    expect(r.evb.operative).toMatchObject({ source: 'negotiated', rr: true });
  });

  it('EVB negotiation: RRCTR granted at #3, RRSTAT 1 at #4, operative R=3 RTE=8 RWD=20 RKA=20 with RR', async () => {
    const r = await report('lldpad-evb22-negotiation.pcap');
    expect(r.findings).toEqual([]);
    expect(r.stations.inferredFrom).toBe('evb-mode');
    expect(r.evb.station.changes.map((c) => [c.frame, c.text])).toEqual([
      [2, 'EVB22{station br:RRCAP st:RRREQ/RRSTAT=0 R=3 RTE=8 RWD=20(r) RKA=20(r)}'],
      [4, 'EVB22{station br:RRCAPRRCTR st:RRREQ/RRSTAT=1 R=3 RTE=8 RWD=20(r) RKA=20(r)}'],
    ]);
    expect(r.evb.bridge.changes.map((c) => c.frame)).toEqual([1, 3, 5]);
    expect(r.evb.station.evbTlvs + r.evb.bridge.evbTlvs).toBe(16);
    expect(r.evb.operative).toEqual({ r: 3, rte: 8, rwd: 20, rka: 20, rr: true, gpid: false, source: 'negotiated' });
    expect(r.vsis).toEqual([]);
  });

  it('lldpad bugs are findings: lost TLV (no response + double response), stale bridge timer, station restart', async () => {
    const burst = await report('lldpad-vdp22-burst100-lost-tlv.pcap');
    expect(of(burst, 'no-response').map((f) => [f.frame, f.vsiid])).toEqual([[355, '76647000-0000-4000-8000-0000000000bd']]);
    expect(of(burst, 'unexpected-response').map((f) => f.frame)).toEqual([363]);
    expect(of(burst, 'unsolicited-deassoc').map((f) => f.frame)[0]).toBe(779);
    expect(of(burst, 'unsolicited-deassoc')).toHaveLength(5);
    expect(of(burst, 'late-keepalive')).toHaveLength(5);
    const stale = await report('lldpad-vdp22-bug-stale-bridge-timer.pcap');
    expect(of(stale, 'unsolicited-deassoc').map((f) => f.frame)).toEqual([27, 29, 31]);
    expect(of(stale, 'unsolicited-deassoc')[0]!.message).toContain('stale bridge state');
    const restart = await report('lldpad-vdp22-station-restart.pcap');
    expect(kinds(restart)).toEqual({ 'unsolicited-deassoc/warning': 5 });
    expect(restart.evb.station.shutdownFrames).toEqual([1]);
  });

  it('gzip performance captures stream through with the README figures', async () => {
    const r = (await analyzeFile(join(CAPTURES, 'lldpad-perf-serial-1110vsi.pcap.gz'))).report;
    expect(r.frames).toMatchObject({ total: 36388, analysed: 36388, malformed: 0 });
    const [st, br] = r.ecp.directions;
    expect(st!.transmissions).toBe(9029);
    expect(br!.transmissions).toBe(9157);
    expect(of(r, 'unsolicited-deassoc')).toHaveLength(126);
    expect(r.vsis.length).toBe(1110);
  });
});
