/**
 * Faults on the link between a vdpd station and vdpd's bridge emulator: an impairment box
 * in a middle namespace (src/lab/impair.ts) drops 1 %, 10 % and 30 % of the frames each
 * way, duplicates and delays them (with jitter, so also reorders); the bridge leaves a share
 * of its ECP ACKs unsent (policy dropAckPercent). Every association completes or is
 * reported failed with a reason, nothing is associated twice, and once the link is clean
 * the station's and the bridge's tables agree.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { CommandOutcome } from '../../src/api/protocol.js';
import { ImpairedLab, type Impairment } from '../../src/lab/impaired-lab.js';
import type { VdpdProc } from '../../src/lab/vdpd-proc.js';
import { prepare, sleep, startPair, stopPair, until, vsiSpec } from './helpers.js';

let dir = '';
let lab: ImpairedLab;
let bridge: VdpdProc;
let station: VdpdProc;
let bc: ApiClient;
let sc: ApiClient;

const RKA = 16; // keep-alives every 655 ms keep the link busy during each profile
const N = 100;
const alive = (s: string | undefined) => s === 'ASSOCIATED' || s === 'TXMIT_KA';

beforeAll(async () => {
  dir = prepare();
  lab = new ImpairedLab();
  lab.up();
  await lab.impair({});
  ({ bridge, station, bc, sc } = await startPair(lab, dir, {
    bridge: `role: bridge\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    evb: { rka: ${RKA} }\n    bridge:\n      policy:\n        - match: { typeId: 777 }\n          dropAckPercent: 50\n`,
    station: `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA} }\n`,
  }));
}, 120_000);

afterAll(async () => {
  await stopPair({ bridge, station, bc, sc });
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function stationTable(): Promise<Map<string, string>> {
  const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as { vsiid: string; state: string }[];
  return new Map(rows.map((r) => [r.vsiid, r.state]));
}

async function bridgeTable(): Promise<string[]> {
  const rows = (await bc.call({ op: 'list' })) as { vsiid: string; state: string }[];
  return rows.filter((r) => r.state !== 'END').map((r) => r.vsiid);
}

/** associate N VSIs under an impairment; return the outcomes by VSI */
async function underFaults(first: number, imp: Impairment, typeId = 100): Promise<Map<string, CommandOutcome>> {
  const c0 = await lab.impair(imp);
  const ids = Array.from({ length: N }, (_, i) => first + i);
  const outs = (await Promise.all(ids.map((i) => sc.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi: vsiSpec(i, { typeId }), waitMs: 60_000 })))) as { outcome: CommandOutcome }[];
  await sleep(2000); // keep-alives under the same faults
  const c1 = await lab.impair({});
  // the box really did what it was asked
  const grew = (k: string) => (c1?.['ab']?.[k] ?? 0) - (c0?.['ab']?.[k] ?? 0);
  if ((imp.lossToBridge ?? 0) >= 10) expect(grew('dropped')).toBeGreaterThan(0);
  expect(grew('rx')).toBeGreaterThan(N / 20); // the traffic did cross the box
  if ((imp.dup ?? 0) > 0) expect(grew('duplicated')).toBeGreaterThan(0);
  return new Map(ids.map((i, k) => [vsiSpec(i).vsiid, outs[k]!.outcome]));
}

async function checkConsistent(outcomes: Map<string, CommandOutcome>): Promise<void> {
  for (const [vsi, o] of outcomes) {
    // completed, or failed with a reason the caller can act on
    expect(['success', 'timeout', 'no-bridge', 'bridge-error'], `${vsi}: ${JSON.stringify(o)}`).toContain(o.kind);
  }
  // clean link: the two tables converge (a VSI the station gave up on is timed out by the bridge)
  await until(
    async () => {
      const st = await stationTable();
      const br = new Set(await bridgeTable());
      return [...outcomes.keys()].every((v) => alive(st.get(v)) === br.has(v));
    },
    30_000,
    'station and bridge tables to agree',
  );
  const br = await bridgeTable();
  expect(new Set(br).size).toBe(br.length); // nothing twice
  const st = await stationTable();
  for (const [vsi, o] of outcomes) {
    if (o.kind !== 'success' || alive(st.get(vsi))) continue;
    const log = station.output.split('\n').filter((l) => l.includes(vsi)).slice(-12).map((l) => l.slice(l.indexOf('"msg"'))).join('\n');
    expect.fail(`${vsi} was associated and must stay so; now ${st.get(vsi)}:\n${log}`);
  }
}

describe('faults on the link (impairment box between station and bridge)', () => {
  for (const [k, loss] of [[0, 1], [1, 10], [2, 30]] as const) {
    it(`${loss} % loss each way: every association completes or fails with a reason; the tables agree`, async () => {
      const outs = await underFaults(1000 + k * N, { lossToBridge: loss, lossToStation: loss, seed: 7 + k });
      await checkConsistent(outs);
      // with vdpd's recovery, loss costs time, not associations
      expect([...outs.values()].filter((o) => o.kind !== 'success').length).toBe(0);
    });
  }

  it('duplication (20 %) and delay with jitter (10 ± 8 ms, so frames are reordered): no VSI twice, all associated', async () => {
    const before = ((await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as { ecp: { rxDuplicate: number } }).ecp.rxDuplicate;
    const outs = await underFaults(2000, { dup: 20, delayMs: 10, jitterMs: 8, seed: 3 });
    await checkConsistent(outs);
    expect([...outs.values()].every((o) => o.kind === 'success')).toBe(true);
    const after = ((await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as { ecp: { rxDuplicate: number } }).ecp.rxDuplicate;
    expect(after).toBeGreaterThan(before); // duplicates reached ECP and were recognised
  });

  it('a bridge that leaves half its ACKs unsent (dropAckPercent: 50): retransmissions, all associated', async () => {
    const before = ((await sc.call({ op: 'counters', iface: lab.station.ifname })) as { ecp: { txRetransmit: number } }).ecp.txRetransmit;
    const outs = await underFaults(3000, {}, 777);
    await checkConsistent(outs);
    expect([...outs.values()].every((o) => o.kind === 'success')).toBe(true);
    const st = ((await sc.call({ op: 'counters', iface: lab.station.ifname })) as { ecp: { txRetransmit: number } }).ecp.txRetransmit;
    const br = ((await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as { ecp: { txAckSuppressed: number } }).ecp.txAckSuppressed;
    expect(st).toBeGreaterThan(before);
    expect(br).toBeGreaterThan(0);
  });
});
