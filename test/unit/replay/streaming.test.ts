/**
 * The replay streams and guesses the roles from the first frames (src/replay/pass.ts). These
 * captures make the guess, or the ack timer the ECPDU lists are judged by, change after
 * those frames: the report must be what the whole capture says, from every entry point.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { macToBytes, uuidToBytes } from '../../../pdu/bytes.js';
import { encodeFrame } from '../../../pdu/frame.js';
import { serializePcapHeader, serializePcapRecord } from '../../../pdu/pcap.js';
import { localTlv } from '../../../fsm/evb-rules.js';
import type { EvbTlv, VsiMode } from '../../../pdu/types.js';
import { encodeVdpEntries } from '../../../pdu/vdp.js';
import { analyze, analyzeBytes, analyzeFile, analyzeSync, type ReplayInput } from '../../../src/replay/analyze.js';
import { ReplayPass } from '../../../src/replay/pass.js';
import type { ReplayResult } from '../../../src/replay/types.js';

const ST = '02:00:00:00:00:01';
const BR = '02:00:00:00:00:02';
const OTHER = '02:00:00:00:00:09';
const DST = '01:80:c2:00:00:00';
const MGR = new Uint8Array(16).fill(0x41);

function vdpFrame(src: string, seq: number, mode: VsiMode, status: number, vsi: number): Uint8Array {
  const id = `00000000-0000-4000-8000-${vsi.toString(16).padStart(12, '0')}`;
  const ulpdu = encodeVdpEntries([
    {
      managerId: MGR,
      vsi: { kind: 'vsi', mode, status, typeId: 7, typeVersion: 1, vsiidFormat: 5, vsiid: uuidToBytes(id), filterFormat: 1, filters: [{ ps: false, pcp: 0, vid: 100 }] },
      org: [],
    },
  ]);
  return encodeFrame({ kind: 'ecp22', eth: { dst: DST, src, ethertype: 0x8940 }, ecp: { version: 1, op: 0, subtype: 1, sequence: seq, ulpdu } });
}

function ack(src: string, seq: number): Uint8Array {
  return encodeFrame({ kind: 'ecp22', eth: { dst: DST, src, ethertype: 0x8940 }, ecp: { version: 1, op: 1, subtype: 1, sequence: seq, ulpdu: new Uint8Array(0) } });
}

function lldp(src: string, evb: EvbTlv): Uint8Array {
  const id = macToBytes(src);
  return encodeFrame({
    kind: 'lldp',
    eth: { dst: DST, src, ethertype: 0x88cc },
    lldpdu: { tlvs: [{ kind: 'chassis-id', subtype: 4, id }, { kind: 'port-id', subtype: 3, id }, { kind: 'ttl', seconds: 120 }, { kind: 'evb', ...evb }, { kind: 'end' }] },
  });
}

const policy = { rrreq: false, rrcap: false, gpid: false, r: 3, rwd: 20, rka: 20 };
const stationEvb = (rte: number): EvbTlv => ({ ...localTlv({ role: 'station', ...policy, rte }), rrstat: 0, rolRwd: true, rolRka: true });
const bridgeEvb = (rte: number): EvbTlv => ({ ...localTlv({ role: 'bridge', ...policy, rte }), rolRwd: true, rolRka: true });

/** `n` rounds of station request, bridge ACK, bridge response, station ACK (10 VSIs, keep-alives), 0.2 ms apart */
function exchange(n: number, before: Uint8Array[] = [], after: Uint8Array[] = []): ReplayInput[] {
  const frames = [...before];
  for (let i = 1; i <= n; i++) frames.push(vdpFrame(ST, i, 'assoc', 0, i % 10), ack(BR, i), vdpFrame(BR, i, 'assoc', 0x40, i % 10), ack(ST, i));
  frames.push(...after);
  return frames.map((bytes, i) => ({ ts: 1_700_000_000_000_000_000n + BigInt(i) * 200_000n, bytes }));
}

function pcap(inputs: ReplayInput[]): Uint8Array {
  return Buffer.concat([serializePcapHeader(), ...inputs.map((r) => serializePcapRecord(r.ts as bigint, r.bytes))]);
}

/** whether a single pass (no second one) gives the report */
function onePass(inputs: ReplayInput[]): boolean {
  const p = new ReplayPass();
  for (const r of inputs) p.push(r);
  return 'result' in p.finish();
}

/** the same report from every entry point (the file and in-memory forms run the second pass on their own source) */
async function everyWay(inputs: ReplayInput[]): Promise<ReplayResult> {
  const r = analyzeSync(inputs);
  const dir = mkdtempSync(join(tmpdir(), 'vdpd-replay-streaming-'));
  try {
    const path = join(dir, 'x.pcap');
    writeFileSync(path, pcap(inputs));
    expect({ ...(await analyzeFile(path)).report, file: '' }).toEqual(r.report);
    expect(analyzeBytes(pcap(inputs)).report).toEqual(r.report);
    async function* gen(): AsyncGenerator<ReplayInput> {
      yield* inputs;
    }
    expect((await analyze(gen())).report).toEqual(r.report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

describe('replay: streaming with roles guessed from the first frames', () => {
  it('a third sender that dominates the first frames does not keep the station role', async () => {
    const noise = Array.from({ length: 1100 }, (_, i) => vdpFrame(OTHER, i + 1, 'assoc', 0, 100 + (i % 7)));
    const inputs = exchange(1200, noise);
    expect(onePass(inputs)).toBe(false);
    const r = (await everyWay(inputs)).report;
    expect(r.stations).toEqual({ station: ST, bridge: BR, inferredFrom: 'vdp-direction', others: [OTHER] });
    expect(r.ecp.directions.map((d) => d.direction)).toEqual(['station->bridge', 'bridge->station', `other(${OTHER})->?`]);
    expect(r.findings.filter((f) => f.kind === 'role-violation')).toHaveLength(1100);
    expect(r.vsis.find((v) => v.vsiid.endsWith('000000000003'))?.finalState).toBe('ASSOCIATED');
  });

  it('an EVB TLV seen only after the first frames still decides the roles', async () => {
    const inputs = exchange(400, [], [lldp(BR, stationEvb(8))]);
    expect(onePass(inputs)).toBe(false);
    const r = (await everyWay(inputs)).report;
    expect(r.stations.station).toBe(BR);
    expect(r.stations.inferredFrom).toBe('evb-mode');
  });

  it('ECPDUs are listed for a late ACK by the ack timer at the end of the capture', async () => {
    // ACKs come 0.2 ms after the request: on time for RTE 8 (2.56 ms), late for RTE 1 (0.02 ms) from the last frames on
    const inputs = exchange(400, [lldp(ST, stationEvb(8)), lldp(BR, bridgeEvb(8))], [lldp(ST, stationEvb(1)), lldp(BR, bridgeEvb(1))]);
    expect(onePass(inputs)).toBe(false);
    const r = (await everyWay(inputs)).report;
    expect(r.evb.timers.ackTimerMs).toBe(0.02);
    for (const d of r.ecp.directions) expect(d.list).toHaveLength(400);
    // the same capture without the change lists none
    const steady = exchange(400, [lldp(ST, stationEvb(8)), lldp(BR, bridgeEvb(8))]);
    expect(onePass(steady)).toBe(true);
    for (const d of (await everyWay(steady)).report.ecp.directions) expect(d.list).toHaveLength(0);
  });
});

describe('replay: a file read through a ring of reused buffers', () => {
  /** a frame of another protocol, `n` octets */
  const big = (n: number): Uint8Array => {
    const f = new Uint8Array(n).fill(0x5a);
    f.set(macToBytes(DST), 0);
    f.set(macToBytes(OTHER), 6);
    f[12] = 0x08;
    f[13] = 0x00;
    return f;
  };

  async function fromFile(bytes: Uint8Array, ring: { buffers: number; octets: number }): Promise<ReplayResult> {
    const dir = mkdtempSync(join(tmpdir(), 'vdpd-replay-ring-'));
    try {
      const path = join(dir, 'x.pcap');
      writeFileSync(path, bytes);
      return await analyzeFile(path, {}, ring);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives the in-memory report though each buffer is overwritten many times (frames held back, a quiet sender, a record larger than a buffer)', async () => {
    // OTHER sends a request nobody acknowledges and sends it again far later: telling a
    // retransmission from a reused sequence number compares the two payloads, long after
    // the buffer the first came in was reused; once while the first frames are held back
    // (the roles are not guessed yet), once after
    const inputs = exchange(1500, [vdpFrame(OTHER, 1, 'preassoc', 0, 77)], [big(10_000), ack(BR, 1500)]);
    const at = (i: number, bytes: Uint8Array): void => {
      inputs.splice(i, 0, { ts: inputs[i - 1]!.ts as bigint, bytes });
    };
    at(5000, vdpFrame(OTHER, 2, 'preassoc', 0, 78));
    at(3000, vdpFrame(OTHER, 2, 'preassoc', 0, 78));
    at(2000, big(9_000));
    at(1200, vdpFrame(OTHER, 2, 'preassoc', 0, 78));
    at(900, vdpFrame(OTHER, 1, 'preassoc', 0, 77));
    const bytes = pcap(inputs);
    const want = analyzeBytes(bytes).report;
    const other = want.ecp.directions.find((d) => d.from === OTHER)!;
    expect(other.retransmissions).toBe(3);
    expect(want.findings.filter((f) => f.kind === 'sequence-reuse')).toEqual([]);
    for (const ring of [
      { buffers: 2, octets: 4096 },
      { buffers: 3, octets: 1000 },
    ]) {
      expect({ ...(await fromFile(bytes, ring)).report, file: '' }).toEqual(want);
    }
  });

  it('a file cut inside a record: the same truncation finding as in memory', async () => {
    const bytes = pcap(exchange(300));
    const cut = bytes.subarray(0, bytes.length - 37);
    const want = analyzeBytes(cut).report;
    expect(want.findings.some((f) => f.kind === 'truncated-capture')).toBe(true);
    expect({ ...(await fromFile(cut, { buffers: 2, octets: 512 })).report, file: '' }).toEqual(want);
  });
});
