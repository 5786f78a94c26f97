/**
 * 1,000 VSIs associated through 20 % frame loss each way survive ten minutes of keep-alives
 * (lldpad loses a VSI to a single lost keep-alive). vdpd station ↔ vdpd bridge emulator,
 * with the impairment box between them. The hold time can be shortened for local runs with
 * VDPD_ENDURANCE_S; CI runs the full ten minutes.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { CommandOutcome } from '../../src/api/protocol.js';
import { ImpairedLab } from '../../src/lab/impaired-lab.js';
import type { VdpdProc } from '../../src/lab/vdpd-proc.js';
import { prepare, sleep, startPair, stopPair, vsiSpec } from './helpers.js';

const N = 1000;
const HOLD_S = Number(process.env['VDPD_ENDURANCE_S'] ?? 600);
const RKA = 17; // a keep-alive every 1.31 s: ~460 rounds in ten minutes; the bridge gives up after ~2 s of silence

let dir = '';
let lab: ImpairedLab;
let bridge: VdpdProc;
let station: VdpdProc;
let bc: ApiClient;
let sc: ApiClient;

beforeAll(async () => {
  dir = prepare();
  lab = new ImpairedLab();
  lab.up();
  await lab.impair({});
  ({ bridge, station, bc, sc } = await startPair(lab, dir, {
    bridge: `role: bridge\nlog: { level: warn }\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    evb: { rka: ${RKA} }\n`,
    station: `log: { level: warn }\ninterfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA} }\n`,
  }));
}, 120_000);

afterAll(async () => {
  await stopPair({ bridge, station, bc, sc });
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`endurance: ${N} VSIs, 20 % loss each way`, () => {
  it(`all associate and survive ${HOLD_S} s of keep-alives`, async () => {
    await lab.impair({ lossToBridge: 20, lossToStation: 20, seed: 11 });
    const outs = (await Promise.all(Array.from({ length: N }, (_, i) => sc.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi: vsiSpec(i + 1), waitMs: 60_000 })))) as { outcome: CommandOutcome }[];
    expect(outs.filter((o) => o.outcome.kind !== 'success').map((o) => o.outcome.kind)).toEqual([]);
    const end = Date.now() + HOLD_S * 1000;
    let samples = 0;
    const timeouts: string[] = [];
    while (Date.now() < end) {
      await sleep(Math.min(15_000, Math.max(0, end - Date.now())));
      const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as { vsiid: string; state: string }[];
      const down = rows.filter((r) => r.state !== 'ASSOCIATED' && r.state !== 'TXMIT_KA');
      expect(down, `after ${Math.round((HOLD_S * 1000 - (end - Date.now())) / 1000)} s`).toEqual([]);
      expect(rows).toHaveLength(N);
      const table = (await bc.call({ op: 'list' })) as { state: string }[];
      expect(table.filter((r) => r.state !== 'END')).toHaveLength(N);
      // a VSI the bridge timed out is re-associated by the station's next keep-alive, so the
      // samples above cannot see it; the bridge's counter can, and when it moved says why
      const at = Math.round((HOLD_S * 1000 - (end - Date.now())) / 1000);
      timeouts.push(`${at}s:${((await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as { vdp: { keepAliveTimeouts: number } }).vdp.keepAliveTimeouts}`);
      samples++;
    }
    expect(samples).toBeGreaterThan(0);
    const st = (await sc.call({ op: 'counters', iface: lab.station.ifname })) as { vdp: { keepAlives: number; outcomes: Record<string, number> }; ecp: { txRetransmit: number } };
    const br = (await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as { vdp: { keepAliveTimeouts: number; unsolicitedDeassoc: number } };
    // the loss was real, the keep-alives many, and not one VSI was timed out or dropped
    expect(st.ecp.txRetransmit).toBeGreaterThan(0);
    expect(st.vdp.keepAlives).toBeGreaterThan(N * Math.floor(HOLD_S / 1.4));
    expect(st.vdp.outcomes['deassoc-by-bridge'] ?? 0).toBe(0);
    // if the bridge timed VSIs out: when, and whether a process was stalled (the daemons' and
    // the impairment box's longest event-loop delay, the daemons' late timer turns) or frames
    // were lost for too long
    const loop = async (c: ApiClient) => {
      const p = (await c.call({ op: 'ping' })) as { eventLoopDelayMaxMs: number; lateTimerTurns: number };
      return { loopMaxMs: p.eventLoopDelayMaxMs, lateTimerTurns: p.lateTimerTurns };
    };
    const why = JSON.stringify({ timeouts, station: await loop(sc), bridge: await loop(bc), box: await lab.impair({ lossToBridge: 20, lossToStation: 20 }) });
    expect(br.vdp.keepAliveTimeouts, why).toBe(0);
    expect(br.vdp.unsolicitedDeassoc).toBe(0);
  }, (HOLD_S + 180) * 1000);
});
