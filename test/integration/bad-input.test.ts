/**
 * Bad input and access (issue "Speed against lldpad, faults survived, state kept, bad input
 * refused"): a station vdpd with 20 associated VSIs against the vdpd bridge emulator, then
 *
 *  1. 1,000,000 random and mutated frames injected on the wire by a separate process
 *     (src/lab/inject.ts) in the bridge's namespace: random bytes to the joined group
 *     addresses under 0x88cc / 0x8940 / 0x88b7, mutations (byte flips, truncation, garbage,
 *     TLV length and entry-count lies) of the frames in captures/*.pcap and of frames built
 *     with pdu/ (VDP responses for VSIs never requested, ACKs for unknown sequence numbers,
 *     LLDPDUs with broken EVB TLVs), and frames from the real bridge's own MAC that cannot
 *     legitimately change the session. The daemon must survive, count every frame — each
 *     counter is checked against the injector's own decode of what it sent — and keep its
 *     VSI table.
 *  2. Frames not from the adjacent bridge: wrong unicast / multicast destination, wrong
 *     ethertype, VDP responses for VSIs never requested, and a second "bridge" (another
 *     source MAC) after EVB negotiation: ignored and counted, VSI table unchanged.
 *  3. Malformed client API requests on the unix socket: typed errors, no crash, VSI table unchanged.
 *
 * Only the bridge's own MAC is excluded from "harmless" classes where it would be the bridge
 * legitimately speaking: a well-formed LLDPDU with other EVB values or TTL 0, a sequence-1
 * ECPDU (a bridge restart) and an unsolicited De-Associate of a real VSI are never sent from it.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { VsiSpec } from '../../src/api/vsi-spec.js';
import type { Category, InjectResult, Treatment } from '../../src/lab/inject.js';
import { nsExec, VethLab } from '../../src/lab/netns.js';
import { VdpdProc } from '../../src/lab/vdpd-proc.js';
import { labVsi } from '../../src/lab/vsis.js';
import { ROOT, prepare, sleep, stopPair, until } from './helpers.js';

const INJECT = join(ROOT, 'dist', 'src', 'lab', 'inject.js');
const STATION_MAC = '02:76:64:7e:00:01';
const BRIDGE_MAC = '02:76:64:7e:00:02';
const N_VSIS = 20;
const FUZZ_FRAMES = 1_000_000;
/** VSIs of this test: their own UUID range and manager ID, so no captured frame names one of them */
const VSIS: VsiSpec[] = Array.from({ length: N_VSIS }, (_, i) => labVsi(0x7e0000 + i + 1, { managerId: 'badinput' }));

let dir = '';
let lab: VethLab;
let bridge: VdpdProc;
let station: VdpdProc;
let bc: ApiClient;
let sc: ApiClient;
let stationPid = 0;
let events: { type: string; machine?: string; to?: string; text?: string }[] = [];
let watcher: ApiClient | undefined;

// ------------------------------------------------------------------ views of the daemons

type Row = { vsiid: string; state: string; mode: string; confirmed: string | null; typeId: number; typeVersion: number; filters: unknown[] };

/** vsiid → what must not change (keep-alive states count as associated) */
async function vsiTable(c: ApiClient = sc): Promise<Record<string, string>> {
  const rows = (await c.call({ op: 'status', iface: lab.station.ifname })) as Row[];
  return Object.fromEntries(
    rows.map((r) => [r.vsiid, JSON.stringify({ state: r.state === 'TXMIT_KA' ? 'ASSOCIATED' : r.state, mode: r.mode, confirmed: r.confirmed, typeId: r.typeId, typeVersion: r.typeVersion, filters: r.filters })]),
  );
}

async function bridgeTable(): Promise<string[]> {
  const rows = (await bc.call({ op: 'list' })) as { vsiid: string }[];
  return rows.map((r) => r.vsiid).sort();
}

interface SocketCounters {
  rx: number;
  tx: number;
  otherHostIgnored: number;
  outgoingIgnored: number;
  rxErrors: number;
  kernelPackets: number;
  kernelDrops: number;
}
interface IfCounters {
  port: { rxFrames: number; txFrames: number; rxLldp: number; rxEcp: number; rxMalformed: number; rxIgnored: Record<string, number> };
  ecp: { txReq: number; txRetransmit: number; txAck: number; rxReq: number; rxDuplicate: number; rxAck: number; rxAckUnexpected: number; rxDropped: Record<string, number>; delivered: number; peerRestarts: number };
  lldp: { tx: number; rx: number; rxNoEvb: number; shutdownTx: number };
  vdp: { unknownVsi: number; malformedUlpdu: number; unexpectedRequests: number; responses: number; deassocDuringResync: number; peerRestarts: number };
  sockets: SocketCounters[];
  drops: Record<string, number>;
}

async function counters(c: ApiClient, iface: string): Promise<IfCounters> {
  return structuredClone((await c.call({ op: 'counters', iface })) as IfCounters);
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const sock = (c: IfCounters, k: keyof SocketCounters): number => sum(c.sockets.map((s) => s[k]));

/** what the bridge transmitted: every one of these reaches the station (veth) */
function bridgeTx(c: IfCounters): { lldp: number; ecpReq: number; ecpAck: number; all: number } {
  return { lldp: c.lldp.tx + c.lldp.shutdownTx, ecpReq: c.ecp.txReq + c.ecp.txRetransmit, ecpAck: c.ecp.txAck, all: sock(c, 'tx') };
}

interface Snap {
  b0: IfCounters;
  s: IfCounters;
  b1: IfCounters;
}

/**
 * Station counters bracketed by two bridge snapshots, each 250 ms apart: every bridge frame
 * sent before the first was handled by the station before its snapshot, and none sent after
 * the second can be in it. So the bridge's background traffic between two Snaps lies
 * between (later.b0 − earlier.b1) and (later.b1 − earlier.b0).
 */
async function snap(): Promise<Snap> {
  const b0 = await counters(bc, lab.bridge.ifname);
  await sleep(250);
  const s = await counters(sc, lab.station.ifname);
  const b1 = await counters(bc, lab.bridge.ifname);
  return { b0, s, b1 };
}

type Range = [number, number];
function background(a: Snap, b: Snap, f: (c: IfCounters) => number): Range {
  return [f(b.b0) - f(a.b1), f(b.b1) - f(a.b0)];
}

function within(what: string, actual: number, [lo, hi]: Range): void {
  expect(actual, `${what}: ${actual} not within [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
  expect(actual, `${what}: ${actual} not within [${lo}, ${hi}]`).toBeLessThanOrEqual(hi);
}

const d = (a: Snap, b: Snap, f: (c: IfCounters) => number): number => f(b.s) - f(a.s);

/** the daemon's kernel receive-buffer drops, kept with the port's drop reasons (never reached the port) */
const KERNEL_DROPS = 'kernel-rcvbuf';
/** port drop reasons the injector predicts; anything else is a refusal of frames not from the adjacent peer */
const PREDICTED_DROPS = new Set(['malformed', 'own-frame', 'lldp-other-agent', 'ecp-draft', KERNEL_DROPS]);
const sourceFiltered = (c: IfCounters): number => sum(Object.entries(c.drops).filter(([k]) => !PREDICTED_DROPS.has(k)).map(([, n]) => n));
const rec = (r: Record<string, number> | undefined, k: string): number => r?.[k] ?? 0;

/** reason → count, from one station snapshot to the next */
function reasonDeltas(a: IfCounters, b: IfCounters): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (prefix: string, x: Record<string, number>, y: Record<string, number>): void => {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const n = (y[k] ?? 0) - (x[k] ?? 0);
      if (n) out[`${prefix}${k}`] = n;
    }
  };
  add('socket:', { otherHost: sock(a, 'otherHostIgnored'), outgoing: sock(a, 'outgoingIgnored'), rxErrors: sock(a, 'rxErrors'), kernelDrops: sock(a, 'kernelDrops') }, { otherHost: sock(b, 'otherHostIgnored'), outgoing: sock(b, 'outgoingIgnored'), rxErrors: sock(b, 'rxErrors'), kernelDrops: sock(b, 'kernelDrops') });
  add('port:', a.drops, b.drops);
  add('ecp:', a.ecp.rxDropped, b.ecp.rxDropped);
  add('ecp:', { ackUnexpected: a.ecp.rxAckUnexpected, duplicate: a.ecp.rxDuplicate }, { ackUnexpected: b.ecp.rxAckUnexpected, duplicate: b.ecp.rxDuplicate });
  add('vdp:', { unknownVsi: a.vdp.unknownVsi, malformedUlpdu: a.vdp.malformedUlpdu, unexpectedRequests: a.vdp.unexpectedRequests, deassocDuringResync: a.vdp.deassocDuringResync }, { unknownVsi: b.vdp.unknownVsi, malformedUlpdu: b.vdp.malformedUlpdu, unexpectedRequests: b.vdp.unexpectedRequests, deassocDuringResync: b.vdp.deassocDuringResync });
  add('accepted:', { lldp: a.port.rxLldp, ecpAck: a.ecp.rxAck - a.ecp.rxAckUnexpected, ecpDelivered: a.ecp.delivered }, { lldp: b.port.rxLldp, ecpAck: b.ecp.rxAck - b.ecp.rxAckUnexpected, ecpDelivered: b.ecp.delivered });
  return out;
}

/** veth drop counters of both ends (frames lost before any socket) */
function vethDrops(): number {
  const read = (ns: string, ifname: string, f: string): number => Number(nsExec(ns, 'cat', [`/sys/class/net/${ifname}/statistics/${f}`]).trim());
  return read(lab.station.ns, lab.station.ifname, 'rx_dropped') + read(lab.bridge.ns, lab.bridge.ifname, 'tx_dropped');
}

// ------------------------------------------------------------------ injection

function runInjector(args: string[], timeoutMs = 300_000): Promise<InjectResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', lab.bridge.ns, process.execPath, INJECT, '--ifname', lab.bridge.ifname, '--station-mac', STATION_MAC, '--bridge-mac', BRIDGE_MAC, '--watch-pid', String(stationPid), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as InjectResult);
      else reject(new Error(`injector exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** wait until the station has handled what is queued for it (its packet sockets are empty) */
async function drained(): Promise<void> {
  await until(
    () => {
      const text = nsExec(lab.station.ns, 'cat', [`/proc/${stationPid}/net/packet`]);
      return text.split('\n').slice(1).filter(Boolean).every((l) => Number(l.trim().split(/\s+/)[6]) === 0);
    },
    60_000,
    'the station to drain its sockets',
  );
  await sleep(300);
}

function alive(p: VdpdProc): boolean {
  return p.proc !== undefined && p.proc.exitCode === null && p.proc.signalCode === null;
}

/** state changes and VSI endings seen by the watch stream since the last call */
function takeEvents(): { evb: string[]; vsiEnded: string[]; vsiTransitions: number } {
  const e = events;
  events = [];
  return {
    evb: e.filter((x) => x.type === 'state-change' && x.machine === 'evb').map((x) => x.text ?? ''),
    vsiEnded: e.filter((x) => x.type === 'vsi-ended' || (x.type === 'state-change' && x.machine === 'vdp-station' && x.to === 'END')).map((x) => x.text ?? JSON.stringify(x)),
    vsiTransitions: e.filter((x) => x.type === 'state-change' && x.machine === 'vdp-station').length,
  };
}

async function evbView(): Promise<{ evb: string; neighbour: unknown; operative: unknown }> {
  const [i] = (await sc.call({ op: 'interfaces' })) as { evb: string; neighbour: unknown; operative: unknown }[];
  return { evb: i!.evb, neighbour: i!.neighbour, operative: i!.operative };
}

// ------------------------------------------------------------------ setup

const RKA = 20; // keep-alive every 10.5 s; the bridge times a VSI out after ~15.7 s of silence

beforeAll(async () => {
  dir = prepare();
  lab = new VethLab(undefined, { stationMac: STATION_MAC, bridgeMac: BRIDGE_MAC }).up();
  bridge = new VdpdProc({ ns: lab.bridge.ns, dir: join(dir, 'br'), name: 'bridge', config: `role: bridge\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    evb: { rka: ${RKA} }\n` });
  station = new VdpdProc({ ns: lab.station.ns, dir: join(dir, 'st'), name: 'station', config: `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA} }\n` });
  bc = await bridge.start();
  sc = await station.start();
  await station.waitEvb(sc);
  await bridge.waitEvb(bc);
  stationPid = ((await sc.call({ op: 'ping' })) as { pid: number }).pid;
  const outcomes = await Promise.all(VSIS.map((vsi) => sc.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi, waitMs: 15_000 }) as Promise<{ outcome: { kind: string } }>));
  expect(outcomes.map((o) => o.outcome.kind)).toEqual(VSIS.map(() => 'success'));
  writeFileSync(join(dir, 'vsis.json'), JSON.stringify(VSIS));
  watcher = await ApiClient.connect(station.socket);
  await watcher.watch((e) => events.push(e as (typeof events)[number]));
}, 120_000);

afterAll(async () => {
  watcher?.close();
  await stopPair({ bridge, station, bc, sc });
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ 1. one million frames

describe('bad input on the wire', () => {
  it(`${FUZZ_FRAMES.toLocaleString('en')} random and mutated frames: no crash, every frame counted, VSI table unchanged`, async () => {
    const tableBefore = await vsiTable();
    expect(Object.keys(tableBefore)).toHaveLength(N_VSIS);
    const brBefore = await bridgeTable();
    const vethBefore = vethDrops();
    const a = await snap();
    takeEvents();

    const t0 = Date.now();
    const inj = await runInjector(['--seed', '20261130', '--count', String(FUZZ_FRAMES), '--captures', join(ROOT, 'captures')], 600_000);
    await drained();
    const ms = Date.now() - t0;
    const b = await snap();
    const ev = takeEvents();

    expect(alive(station)).toBe(true);
    expect(alive(bridge)).toBe(true);
    expect(inj.sent).toBe(FUZZ_FRAMES);
    expect(inj.sendErrors).toEqual({});

    const P = (t: Treatment): number => inj.predicted[t] ?? 0;
    const reasons = reasonDeltas(a.s, b.s);
    console.log(
      `[bad-input] ${inj.sent} frames injected in ${inj.elapsedMs} ms (${inj.framesPerSecond}/s, backpressure ${inj.backpressureWaits}× ${inj.backpressureMs} ms), handled within ${ms} ms\n` +
        `  by category: ${JSON.stringify(inj.byCategory)}\n  delivered per ethertype: ${JSON.stringify(inj.deliveredByEthertype)}\n  predicted:   ${JSON.stringify(inj.predicted)}\n  of which from other MACs: ${JSON.stringify(inj.foreign)}\n  station per reason: ${JSON.stringify(reasons)}\n` +
        `  EVB transitions: ${ev.evb.length} ${JSON.stringify(ev.evb.slice(0, 6))}\n  VSI transitions: ${ev.vsiTransitions}, ended: ${JSON.stringify(ev.vsiEnded.slice(0, 5))}`,
    );

    // nothing lost below the daemon: no veth drops, no kernel receive-buffer drops
    expect(vethDrops() - vethBefore).toBe(0);
    expect(d(a, b, (c) => sock(c, 'kernelDrops'))).toBe(0);
    expect(d(a, b, (c) => sock(c, 'rxErrors'))).toBe(0);

    // every injected frame the kernel handed to the daemon, plus what the bridge sent, was received …
    const bg = (f: (c: IfCounters) => number): Range => background(a, b, f);
    const injectedToPort = inj.sent - P('not-delivered') - P('other-host');
    const rx = d(a, b, (c) => sock(c, 'rx'));
    within('frames received', rx - injectedToPort, bg((c) => bridgeTx(c).all));
    // per ethertype (the daemon's sockets: LLDP, ECP22, draft ECP)
    const byEt = inj.deliveredByEthertype;
    expect(byEt.lldp + byEt.ecp22 + byEt.ecpDraft).toBe(injectedToPort);
    within('LLDP frames received', d(a, b, (c) => c.sockets[0]!.rx) - byEt.lldp, bg((c) => bridgeTx(c).lldp));
    within('ECP22 frames received', d(a, b, (c) => c.sockets[1]!.rx) - byEt.ecp22, bg((c) => bridgeTx(c).ecpReq + bridgeTx(c).ecpAck));
    expect(d(a, b, (c) => c.sockets[2]!.rx)).toBe(byEt.ecpDraft);
    expect(d(a, b, (c) => sock(c, 'otherHostIgnored'))).toBe(P('other-host'));
    expect(d(a, b, (c) => c.port.rxFrames)).toBe(rx);
    // … and accounted for: accepted (LLDP, ECP) or dropped with a reason
    const portDrops = d(a, b, (c) => sum(Object.entries(c.drops).filter(([k]) => k !== KERNEL_DROPS).map(([, n]) => n)));
    expect(rx).toBe(portDrops + d(a, b, (c) => c.port.rxLldp) + d(a, b, (c) => c.port.rxEcp));
    // each reason as predicted by decoding what was sent. Frames from a source other than the
    // bridge (`foreign`) may instead land in a drop reason the injector does not predict (a
    // daemon that refuses frames not from its adjacent peer): a count may then fall short by
    // at most its foreign frames. With no such drops every count is exact.
    const F = (t: Treatment): number => inj.foreign[t] ?? 0;
    const sourceDrops = d(a, b, (c) => sourceFiltered(c));
    expect(sourceDrops).toBeLessThanOrEqual(sum(Object.values(inj.foreign)) - F('not-delivered') - F('other-host'));
    const check = (what: string, actual: number, predicted: number, foreign: number, [lo, hi]: Range = [0, 0]): void =>
      within(what, actual - predicted, [lo - Math.min(foreign, sourceDrops), hi]);
    for (const r of ['malformed', 'own-frame', 'lldp-other-agent', 'ecp-draft'] as const) check(`dropped as ${r}`, d(a, b, (c) => rec(c.drops, r)), P(r), F(r));
    check('LLDPDUs accepted', d(a, b, (c) => c.port.rxLldp), P('lldp'), F('lldp'), bg((c) => bridgeTx(c).lldp));
    const ECP = ['ecp-ack', 'ecp-req', 'ecp-drop-version', 'ecp-drop-op', 'ecp-drop-subtype', 'ecp-drop-subtype-pecsp'] as const;
    check('ECPDUs received', d(a, b, (c) => c.port.rxEcp), sum(ECP.map(P)), sum(ECP.map(F)), bg((c) => bridgeTx(c).ecpReq + bridgeTx(c).ecpAck));
    check('ECP dropped: version', d(a, b, (c) => rec(c.ecp.rxDropped, 'version')), P('ecp-drop-version'), F('ecp-drop-version'));
    check('ECP dropped: op', d(a, b, (c) => rec(c.ecp.rxDropped, 'op')), P('ecp-drop-op'), F('ecp-drop-op'));
    check('ECP dropped: subtype', d(a, b, (c) => rec(c.ecp.rxDropped, 'subtype')), P('ecp-drop-subtype'), F('ecp-drop-subtype'));
    check('ECP dropped: subtype-pecsp', d(a, b, (c) => rec(c.ecp.rxDropped, 'subtype-pecsp')), P('ecp-drop-subtype-pecsp'), F('ecp-drop-subtype-pecsp'));
    check('ECP ACKs', d(a, b, (c) => c.ecp.rxAck), P('ecp-ack'), F('ecp-ack'), bg((c) => bridgeTx(c).ecpAck));
    check('ECP REQs', d(a, b, (c) => c.ecp.rxReq), P('ecp-req'), F('ecp-req'), bg((c) => bridgeTx(c).ecpReq));
    // a REQ is either a duplicate (ACKed again) or delivered to VDP
    expect(d(a, b, (c) => c.ecp.rxReq)).toBe(d(a, b, (c) => c.ecp.rxDuplicate + c.ecp.delivered));
    // the injected VSI TLVs name VSIs never requested: VDP counts them and changes nothing
    expect(d(a, b, (c) => c.vdp.unknownVsi)).toBeGreaterThan(0);
    expect(d(a, b, (c) => c.vdp.unknownVsi)).toBeLessThanOrEqual(inj.vsiTlvs);

    // the session survived: API answers, the VSI table is as it was, the bridge still has every VSI
    await until(async () => (await evbView()).evb === 'EVB_NEGOTIATED', 35_000, 'EVB negotiated again');
    await until(async () => JSON.stringify(await vsiTable()) === JSON.stringify(tableBefore), 30_000, 'the VSI table as before').catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(await vsiTable())}`);
    });
    expect(ev.vsiEnded).toEqual([]);
    expect(await bridgeTable()).toEqual(brBefore);
  }, 900_000);
});

// ------------------------------------------------------------------ 2. not from the adjacent bridge

describe('frames not from the adjacent bridge', () => {
  async function phase(cat: Category, count: number, seed: number) {
    const tableBefore = await vsiTable();
    const evbBefore = await evbView();
    const a = await snap();
    takeEvents();
    const inj = await runInjector(['--seed', String(seed), '--count', String(count), '--mix', `${cat}=1`, '--vsis', join(dir, 'vsis.json')]);
    await drained();
    await sleep(500);
    const b = await snap();
    return { inj, a, b, tableBefore, evbBefore, ev: takeEvents(), reasons: reasonDeltas(a.s, b.s) };
  }

  it('wrong unicast destination (De-Associates of the real VSIs included): ignored by the socket and counted', async () => {
    const r = await phase('wrong-dst-unicast', 20_000, 11);
    console.log(`[bad-input] wrong-dst-unicast: ${JSON.stringify(r.inj.predicted)} → ${JSON.stringify(r.reasons)}`);
    expect(r.inj.predicted['other-host']).toBe(20_000);
    expect(d(r.a, r.b, (c) => sock(c, 'otherHostIgnored'))).toBe(20_000);
    within('frames received', d(r.a, r.b, (c) => sock(c, 'rx')), background(r.a, r.b, (c) => bridgeTx(c).all));
    expect(r.ev.vsiEnded).toEqual([]);
    expect(await vsiTable()).toEqual(r.tableBefore);
  });

  it('other multicast destinations: LLDPDUs ignored as another agent’s, ECPDUs for VSIs never requested counted, nothing changes', async () => {
    const r = await phase('wrong-dst-multicast', 20_000, 12);
    console.log(`[bad-input] wrong-dst-multicast: ${JSON.stringify(r.inj.predicted)} → ${JSON.stringify(r.reasons)}`);
    const P = (t: Treatment): number => r.inj.predicted[t] ?? 0;
    expect(P('lldp-other-agent') + P('ecp-req')).toBe(20_000);
    expect(d(r.a, r.b, (c) => rec(c.drops, 'lldp-other-agent'))).toBe(P('lldp-other-agent'));
    // the ECPDUs come from other MACs: accepted (ECP22 is taken on any destination, as lldpad
    // does) and their VSIs counted as unknown, or refused as not from the adjacent bridge
    const refused = d(r.a, r.b, (c) => sourceFiltered(c));
    expect([0, P('ecp-req')]).toContain(refused);
    within('ECP REQs', d(r.a, r.b, (c) => c.ecp.rxReq) - (P('ecp-req') - refused), background(r.a, r.b, (c) => bridgeTx(c).ecpReq));
    if (refused === 0) expect(d(r.a, r.b, (c) => c.vdp.unknownVsi)).toBeGreaterThan(0.95 * r.inj.vsiTlvs);
    expect(await evbView()).toEqual(r.evbBefore);
    expect(r.ev.vsiEnded).toEqual([]);
    expect(await vsiTable()).toEqual(r.tableBefore);
  });

  it('wrong ethertypes never reach the daemon', async () => {
    const r = await phase('wrong-ethertype', 20_000, 13);
    console.log(`[bad-input] wrong-ethertype: ${JSON.stringify(r.inj.predicted)} → ${JSON.stringify(r.reasons)}`);
    expect(r.inj.predicted['not-delivered']).toBe(20_000);
    within('frames received', d(r.a, r.b, (c) => sock(c, 'rx')), background(r.a, r.b, (c) => bridgeTx(c).all));
    within('frames queued by the kernel', d(r.a, r.b, (c) => sock(c, 'kernelPackets')), background(r.a, r.b, (c) => bridgeTx(c).all));
    expect(await vsiTable()).toEqual(r.tableBefore);
  });

  it('VDP responses for VSIs never requested, from the bridge’s own MAC: counted as unknown VSIs, nothing changes', async () => {
    const r = await phase('vdp-unrequested-bridge', 20_000, 14);
    console.log(`[bad-input] vdp-unrequested-bridge: ${JSON.stringify(r.inj.predicted)} (${r.inj.vsiTlvs} VSI TLVs) → ${JSON.stringify(r.reasons)}`);
    expect(r.inj.predicted['ecp-req']).toBe(20_000);
    within('ECP REQs', d(r.a, r.b, (c) => c.ecp.rxReq) - 20_000, background(r.a, r.b, (c) => bridgeTx(c).ecpReq));
    // an injected sequence number may equal one delivered just before (a duplicate: ACKed, not delivered)
    expect(d(r.a, r.b, (c) => c.vdp.unknownVsi)).toBeGreaterThan(0.98 * r.inj.vsiTlvs);
    expect(d(r.a, r.b, (c) => c.vdp.unknownVsi)).toBeLessThanOrEqual(r.inj.vsiTlvs);
    expect(await evbView()).toEqual(r.evbBefore);
    expect(r.ev.vsiEnded).toEqual([]);
    expect(await vsiTable()).toEqual(r.tableBefore);
  });

  /**
   * A second "bridge" (another source MAC) after EVB negotiation with the real one. Each kind
   * is sent on its own so a failure names what got through; all must be ignored (counted,
   * neighbour, EVB values and VSI table unchanged, bridge still holding every VSI).
   */
  it.each([
    ['second-bridge-lldp', 'LLDPDUs with its own chassis (bridge EVB with other values, station EVB, no EVB)'],
    ['second-bridge-ttl0', 'a TTL-0 LLDPDU carrying the real bridge’s chassis and port ID'],
    ['second-bridge-ecp-seq1', 'ECPDUs with sequence number 1 (a bridge restart)'],
    ['second-bridge-vdp', 'VDP responses and unsolicited De-Associates for the real VSIs'],
  ] as [Category, string][])('a second bridge after EVB negotiation: %s (%s) is ignored and counted', async (cat) => {
    const brBefore = await bridgeTable();
    const r = await phase(cat, 2_000, 15);
    await sleep(2500); // a peer-restart resync would start after 2 s
    const after = { evb: await evbView(), table: await vsiTable(), bridge: await bridgeTable() };
    const ev = { ...r.ev, later: takeEvents() };
    console.log(`[bad-input] ${cat}: ${JSON.stringify(r.inj.predicted)} → ${JSON.stringify(r.reasons)}; EVB transitions ${JSON.stringify([...ev.evb, ...ev.later.evb].slice(0, 4))}; VSIs ended ${ev.vsiEnded.length + ev.later.vsiEnded.length}`);
    expect(alive(station)).toBe(true);
    const rx = d(r.a, r.b, (c) => sock(c, 'rx'));
    within('frames received', rx - 2_000, background(r.a, r.b, (c) => bridgeTx(c).all));
    // counted as dropped (under a reason of the daemon's own: not from the adjacent bridge)
    expect(d(r.a, r.b, (c) => sourceFiltered(c)), `drops: ${JSON.stringify(r.reasons)}`).toBe(2_000);
    expect({ evbTransitions: [...ev.evb, ...ev.later.evb], vsiEnded: [...ev.vsiEnded, ...ev.later.vsiEnded], peerRestarts: d(r.a, r.b, (c) => c.ecp.peerRestarts + c.vdp.peerRestarts) }).toEqual({ evbTransitions: [], vsiEnded: [], peerRestarts: 0 });
    expect(after.evb).toEqual(r.evbBefore);
    expect(after.table).toEqual(r.tableBefore);
    expect(after.bridge).toEqual(brBefore);
  });
});

// ------------------------------------------------------------------ 3. the client API

describe('malformed client API requests', () => {
  /** send raw bytes on a fresh connection; collect answer lines until `lines` or the close */
  /** `lines`: answers to wait for; `untilClose`: also wait for the daemon to close the connection */
  function raw(data: string | Buffer, lines: number, timeoutMs = 10_000, untilClose = false): Promise<{ answers: { id: number; ok: boolean; error?: { code: string; message: string } }[]; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const s = connect(station.socket);
      let buf = '';
      const answers: { id: number; ok: boolean; error?: { code: string; message: string } }[] = [];
      const done = (closed: boolean): void => {
        clearTimeout(t);
        s.destroy();
        resolve({ answers, closed });
      };
      const t = setTimeout(() => (answers.length >= lines && !untilClose ? done(false) : reject(new Error(`${answers.length}/${lines} answers after ${timeoutMs} ms: ${buf.slice(0, 200)}`))), timeoutMs);
      s.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          answers.push(JSON.parse(buf.slice(0, nl)) as (typeof answers)[number]);
          buf = buf.slice(nl + 1);
        }
        if (answers.length >= lines && !untilClose) done(false);
      });
      s.on('close', () => done(true));
      s.on('error', () => undefined);
      s.write(data);
    });
  }

  const ifname = (): string => lab.station.ifname;
  const vsi = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...labVsi(0x7eff00), managerId: 'badinput', ...extra });
  const deep = (n: number, open: string, close: string): string => open.repeat(n) + close.repeat(n);

  const CASES: [string, () => string, string[]][] = [
    ['truncated JSON', () => '{"id":1,"op":"sta', ['EBADREQ']],
    ['not JSON', () => 'hello vdpd', ['EBADREQ']],
    ['a JSON array', () => '[1,2,3]', ['EBADREQ']],
    ['a JSON number', () => '42', ['EBADREQ']],
    ['null', () => 'null', ['EBADREQ']],
    ['id a string', () => '{"id":"1","op":"ping"}', ['EBADREQ']],
    ['id a fraction', () => '{"id":1.5,"op":"ping"}', ['EBADREQ']],
    ['id beyond 2^53', () => '{"id":9007199254740993,"op":"ping"}', ['EBADREQ']],
    ['op unknown', () => '{"id":1,"op":"format-disk"}', ['EBADREQ']],
    ['op a number', () => '{"id":1,"op":7}', ['EBADREQ']],
    ['op an object', () => '{"id":1,"op":{"toString":"status"}}', ['EBADREQ']],
    ['op from the prototype', () => '{"id":1,"op":"constructor"}', ['EBADREQ']],
    ['command without iface', () => JSON.stringify({ id: 1, op: 'command', mode: 'assoc', vsi: vsi({}) }), ['EBADREQ']],
    ['command with a bad mode', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'associate', vsi: vsi({}) }), ['EBADREQ']],
    ['command with vsi null', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: null }), ['EBADREQ']],
    ['command with waitMs negative', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({}), waitMs: -1 }), ['EBADREQ']],
    ['command with waitMs a string', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({}), waitMs: '10' }), ['EBADREQ']],
    ['command on an interface not managed', () => JSON.stringify({ id: 1, op: 'command', iface: 'eth99', mode: 'assoc', vsi: vsi({}) }), ['ENODEV']],
    ['command with iface an array', () => '{"id":1,"op":"command","iface":["vdpst0"],"mode":"assoc","vsi":{}}', ['EBADREQ']],
    ['vsi an empty object', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: {} }), ['EINVAL']],
    ['vsi a string', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: 'uuid' }), ['EBADREQ', 'EINVAL']],
    ['typeId a string', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ typeId: '1193046' }) }), ['EINVAL']],
    ['typeId out of range', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ typeId: 2 ** 40 }) }), ['EINVAL']],
    ['managerId an object', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ managerId: { a: 1 } }) }), ['EINVAL']],
    ['managerId a huge number', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ managerId: 1e300 }) }), ['EINVAL']],
    ['vsiid not a UUID', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ vsiid: 'x'.repeat(5000) }) }), ['EINVAL']],
    ['vsiidFormat from the prototype', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ vsiidFormat: 'toString' }) }), ['EINVAL']],
    ['filterFormat from the prototype', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filterFormat: '__proto__' }) }), ['EINVAL']],
    ['filters not an array', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filters: { vid: 1 } }) }), ['EINVAL']],
    ['filters holding null', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filters: [null] }) }), ['EINVAL']],
    ['filter vid a string', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filters: [{ vid: '100', mac: '02:00:00:00:00:01' }] }) }), ['EINVAL']],
    ['filter mac garbage', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filters: [{ vid: 100, mac: { x: [1, 2] } }] }) }), ['EINVAL']],
    ['50,000 filters', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filterFormat: 'vid', filters: Array.from({ length: 50_000 }, () => ({ vid: 1 })) }) }), ['E2BIG', 'EINVAL']],
    ['a filter entry count beyond one TLV (244 VID filters)', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ filterFormat: 'vid', filters: Array.from({ length: 244 }, (_, i) => ({ vid: i + 1 })) }) }), ['E2BIG', 'EINVAL']],
    ['hints garbage', () => JSON.stringify({ id: 1, op: 'command', iface: ifname(), mode: 'assoc', vsi: vsi({ hints: ['to'] }) }), ['EINVAL']],
    ['status with iface an object', () => '{"id":1,"op":"status","iface":{"name":"vdpst0"}}', ['ENODEV', 'EBADREQ']],
    ['status with vsiid a number', () => `{"id":1,"op":"status","iface":"${ifname()}","vsiid":12345}`, ['EBADREQ', 'EINVAL']],
    ['counters with iface a number', () => '{"id":1,"op":"counters","iface":1}', ['ENODEV', 'EBADREQ']],
    ['nested garbage (100,000 levels of arrays)', () => deep(100_000, '[', ']'), ['EBADREQ']],
    ['nested garbage in a field', () => `{"id":1,"op":"status","iface":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, ['ENODEV', 'EBADREQ']],
    ['control characters and invalid UTF-8', () => '\u0000\u0001\u00ff{"id":1}\ud800', ['EBADREQ']],
  ];

  const answers: Record<string, { code: string; message: string } | 'ok' | 'no answer'> = {};

  it('every malformed request is answered with an error; the daemon stays up and the VSI table is untouched', async () => {
    const before = await vsiTable();
    for (const [name, line] of CASES) {
      const r = await raw(line() + '\n', 1);
      const a = r.answers[0];
      answers[name] = a === undefined ? 'no answer' : a.ok ? 'ok' : a.error!;
    }
    console.log(`[bad-input] API answers: ${JSON.stringify(Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, typeof v === 'string' ? v : v.code])))}`);
    expect(alive(station)).toBe(true);
    expect(Object.entries(answers).filter(([, v]) => typeof v === 'string')).toEqual([]);
    expect(((await sc.call({ op: 'ping' })) as { pong: boolean }).pong).toBe(true);
    expect(await vsiTable()).toEqual(before);
  });

  it('each error is the typed refusal of the bad field (EBADREQ, EINVAL, ENODEV, E2BIG), never EINTERNAL', () => {
    const wrong = CASES.filter(([name, , codes]) => {
      const a = answers[name];
      return typeof a === 'string' || !codes.includes(a.code);
    }).map(([name, , codes]) => `${name}: ${JSON.stringify(answers[name]).slice(0, 160)} (want ${codes.join('|')})`);
    expect(wrong).toEqual([]);
  });

  it('a line over 1 MiB is refused and the connection closed; 10,000 bad lines in one write are each answered', async () => {
    const before = await vsiTable();
    const huge = await raw(Buffer.alloc(3 * 1024 * 1024, 'x'), 1, 20_000, true);
    expect(huge.answers[0]?.error?.code).toBe('EBADREQ');
    expect(huge.closed).toBe(true);
    const hugeWithNewline = await raw(`{"id":1,"op":"ping","pad":"${'y'.repeat(1100 * 1024)}"}\n`, 1, 20_000);
    expect(hugeWithNewline.answers[0]?.error?.code).toBe('EBADREQ');
    const many = await raw(Array.from({ length: 10_000 }, (_, i) => (i % 2 ? '{"id":' + i : '{"id":"x","op":"ping"}')).join('\n') + '\n', 10_000, 30_000);
    expect(many.answers).toHaveLength(10_000);
    expect(many.answers.every((a) => a.ok === false && a.error?.code === 'EBADREQ')).toBe(true);
    // a client that goes away mid-line
    const s = connect(station.socket);
    await new Promise((r) => s.once('connect', r));
    s.write('{"id":1,"op":"sta');
    s.destroy();
    await sleep(200);
    expect(alive(station)).toBe(true);
    expect(((await sc.call({ op: 'ping' })) as { pong: boolean }).pong).toBe(true);
    expect(await vsiTable()).toEqual(before);
  }, 120_000);
});
