/**
 * A daemon that stops running for a while (SIGSTOP: a loaded host, a long GC pause, a
 * starved thread, a paused VM) must not count the frames that waited in its socket, or the
 * time it could not hear, as the peer's silence. When it runs again, Node runs the expired
 * timers before it reads its sockets: timers that fire late read the input first
 * (fsm/timers.ts RealTimers), and a toutKeepAlive or respWaitDelay that fired late waits
 * as long again before it counts (lateBy). Without them, a 3 s stall of the bridge timed
 * out every VSI while their keep-alives sat unread.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { CommandOutcome } from '../../src/api/protocol.js';
import { VethLab } from '../../src/lab/netns.js';
import type { VdpdProc } from '../../src/lab/vdpd-proc.js';
import { prepare, sleep, startPair, stopPair, vsiSpec, type VdpdPair } from './helpers.js';

const N = 200;
const DELAYED_TYPE = 207; // the bridge answers these after 300 ms

let dir = '';
let lab: VethLab;
let pair: VdpdPair | undefined;

beforeAll(() => {
  dir = prepare();
  lab = new VethLab().up();
}, 120_000);

afterAll(async () => {
  await stopped();
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** a pair with these EVB timers; the bridge answers DELAYED_TYPE after 300 ms */
async function started(evb: string, name: string): Promise<VdpdPair> {
  const p = await startPair(lab, join(dir, name), {
    bridge: `role: bridge\nlog: { level: warn }\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    evb: ${evb}\n    bridge:\n      policy:\n        - match: { typeId: ${DELAYED_TYPE} }\n          delayMs: 300\n`,
    station: `log: { level: warn }\ninterfaces:\n  - name: ${lab.station.ifname}\n    evb: ${evb}\n`,
  });
  pair = p;
  return p;
}

async function stopped(): Promise<void> {
  const p = pair;
  pair = undefined;
  if (!p) return;
  for (const d of [p.bridge, p.station]) if (d.proc?.pid && d.proc.exitCode === null) process.kill(d.proc.pid, 'SIGCONT');
  await stopPair(p);
}

type Counters = { vdp: { keepAliveTimeouts: number; unsolicitedDeassoc: number; keepAlives: number; outcomes: Record<string, number> } };

/** the process stopped for `ms` (SIGSTOP: it runs nothing, its sockets keep filling) */
async function stalled(d: VdpdProc, ms: number): Promise<void> {
  const pid = d.proc!.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

const assoc = (sc: ApiClient, i: number, extra: Record<string, unknown> = {}) =>
  sc.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi: vsiSpec(i, extra), waitMs: 30_000 }) as Promise<{ outcome: CommandOutcome }>;

/**
 * A pair where the bridge gives up ~2 s after a keep-alive and the station waits ~16 s for
 * an answer, with N VSIs associated and a few keep-alive rounds behind them.
 */
async function keepingAlive(name: string): Promise<VdpdPair> {
  const p = await started('{ rka: 17, rwd: 20 }', name);
  const outs = await Promise.all(Array.from({ length: N }, (_, i) => assoc(p.sc, i + 1)));
  expect(outs.filter((o) => o.outcome.kind !== 'success')).toEqual([]);
  await sleep(3000);
  return p;
}

/** every VSI still held by the bridge and associated at the station */
async function allStillAssociated({ bc, sc }: VdpdPair): Promise<void> {
  const table = (await bc.call({ op: 'list' })) as { state: string }[];
  expect(table.filter((r) => r.state !== 'END')).toHaveLength(N);
  const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as { state: string }[];
  expect(rows.filter((r) => r.state !== 'ASSOCIATED' && r.state !== 'TXMIT_KA')).toEqual([]);
}

describe('the bridge stopped for 3 s', () => {
  afterAll(stopped);

  it(`${N} VSIs keeping alive every 1.31 s: none timed out for the keep-alives that waited in its socket`, async () => {
    const p = await keepingAlive('ka');
    const { bridge, bc } = p;
    const before = (await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as Counters;
    expect(before.vdp.keepAlives).toBeGreaterThan(N);
    expect(before.vdp.keepAliveTimeouts).toBe(0);
    await stalled(bridge, 3000);
    await sleep(3000);
    const after = (await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as Counters;
    expect(after.vdp.keepAliveTimeouts).toBe(0);
    expect(after.vdp.unsolicitedDeassoc).toBe(0);
    expect(after.vdp.keepAlives).toBeGreaterThan(before.vdp.keepAlives + N);
    await allStillAssociated(p);
  });
});

describe('station and bridge stopped together for 3 s (a paused VM)', () => {
  afterAll(stopped);

  it(`${N} VSIs keeping alive every 1.31 s: the bridge counts no silence while it could not hear`, async () => {
    const p = await keepingAlive('vm');
    const { bridge, station, bc } = p;
    // both resume at once: no keep-alive waits in the bridge's socket, they come after its
    // timers ran; each toutKeepAlive that fired late waits as long again before it counts
    await Promise.all([stalled(bridge, 3000), stalled(station, 3000)]);
    await sleep(4000);
    const after = (await bc.call({ op: 'counters', iface: lab.bridge.ifname })) as Counters & { vdp: { toutKeepAliveExtended: number } };
    expect(after.vdp.keepAliveTimeouts).toBe(0);
    expect(after.vdp.toutKeepAliveExtended).toBeGreaterThan(0);
    await allStillAssociated(p);
  });
});

describe('the station stopped for 1.6 s', () => {
  afterAll(stopped);

  it('while the answers to 50 requests came: each answer is taken, no request times out', async () => {
    // the station waits ~1 s for an answer; the bridge answers these after 300 ms
    const { station, sc } = await started('{ rka: 20, rwd: 16 }', 'resp');
    // the station is stopped from ~100 ms to ~1.7 s, so every answer waits in its socket
    // past the time the station waits for it
    const pending = Array.from({ length: 50 }, (_, i) => assoc(sc, i + 1, { typeId: DELAYED_TYPE }));
    await sleep(100);
    await stalled(station, 1600);
    const outs = await Promise.all(pending);
    expect(outs.map((o) => o.outcome.kind).filter((k) => k !== 'success')).toEqual([]);
    const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as { state: string }[];
    expect(rows.filter((r) => r.state !== 'ASSOCIATED')).toEqual([]);
    expect(rows).toHaveLength(50);
  });
});
