/**
 * The lldpad peer harness itself: two real lldpads (bridge and station) in two namespaces
 * joined by a veth pair. Proves the per-instance isolation (shm marker, pid file, clif),
 * EVB negotiation and VDP readiness detection, vdptool driving (single, batch, query) and
 * clean stop/restart — the base that vdpd's interop tests build on by replacing one side.
 */
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LldpadPeer, type VdptoolRequest } from '../../src/lab/lldpad.js';
import { nsRunSync } from '../../src/lab/lldpad-exec.js';
import { requireCommand, requireLabPrivileges, VethLab } from '../../src/lab/netns.js';
import { labVsi } from '../../src/lab/vsis.js';

let dir = '';
let lab: VethLab | undefined;
let bridge: LldpadPeer | undefined;
let station: LldpadPeer | undefined;

const req = (i: number, mode: VdptoolRequest['mode'], wait = true): VdptoolRequest => {
  const v = labVsi(i);
  return { mode, mgrid2: String(v.managerId), typeId: v.typeId, typeVersion: v.typeVersion, uuid: v.vsiid, filters: v.filters.map((f) => `${f.vid}-${f.mac}`), wait };
};
const uuid = (i: number) => labVsi(i).vsiid;
const st = () => station!;
const br = () => bridge!;

beforeAll(async () => {
  requireLabPrivileges();
  requireCommand('lldpad', 'lldpad');
  requireCommand('vdptool', 'lldpad');
  dir = mkdtempSync(join(tmpdir(), 'vdpd-lldpad-peer-'));
  lab = new VethLab().up();
  // started together: nothing in either daemon may depend on the other's private files
  [bridge, station] = await Promise.all([
    LldpadPeer.start({ ns: lab.bridge.ns, ifname: lab.bridge.ifname, role: 'bridge', stateDir: join(dir, 'br'), evb: { rka: 21 } }),
    LldpadPeer.start({ ns: lab.station.ns, ifname: lab.station.ifname, role: 'station', stateDir: join(dir, 'st') }),
  ]);
  await Promise.all([bridge.waitEvbNegotiated(15_000), station.waitEvbNegotiated(15_000)]);
  await Promise.all([bridge.waitVdpReady(15_000), station.waitVdpReady(15_000)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([station?.stop(), bridge?.stop()]);
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('lldpad peer harness: lldpad bridge ↔ lldpad station', () => {
  it('runs two lldpads side by side without clashing (own shm marker, pid file, mount ns, clif)', () => {
    expect(br().alive() && st().alive()).toBe(true);
    expect(br().pid).not.toBe(st().pid);
    for (const p of [br(), st()]) {
      // the exec chain kept the pid: what we spawned is lldpad itself
      expect(readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()).toBe('lldpad');
      expect(readFileSync(p.pidFilePath, 'utf8').replace(/\0/g, '').trim()).toBe(String(p.pid));
      expect(existsSync(p.shmStatePath)).toBe(true);
      expect(nsRunSync(p.ns, 'lldptool', ['-p']).stdout.trim()).toBe(String(p.pid));
    }
    const [nb, ns] = [br().namespaces()!, st().namespaces()!];
    expect(nb.mnt).not.toBe(ns.mnt);
    expect(nb.net).not.toBe(ns.net);
    expect(nb.mnt).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    expect([br().rssKb(), st().rssKb()].every((kb) => kb > 500)).toBe(true);
    expect(br().cpuTicks()).toBeGreaterThanOrEqual(0);
  });

  it('negotiates EVB22 with the roles from the config file: RR granted, maxima of both sides', async () => {
    expect(readFileSync(br().confPath, 'utf8')).toMatch(/evbmode = "bridge"/);
    expect(st().neighbourEvbView()!.mode).toBe('bridge');
    expect(br().neighbourEvbView()!.mode).toBe('station');
    // RR takes one more LLDP round after the modes are known: the bridge grants it (RRCTR)
    // once it has seen RRREQ, the station reports it (RRSTAT=1) once it has seen RRCTR
    const end = Date.now() + 5000;
    while (!((st().localEvbView()?.stationStatus ?? 0) & 1) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const sl = st().localEvbView()!;
    const bl = br().localEvbView()!;
    expect([sl.mode, bl.mode]).toEqual(['station', 'bridge']);
    expect(bl.bridgeFlags).toEqual(['rrcap', 'rrctr']);
    expect(sl.stationFlags).toEqual(['rrreq', 'rrstat']);
    expect(sl.stationStatus & 0x3).toBe(1);
    // the bridge's configured RKA 21 beats the station's default 20: both operate on 21; once
    // converged the values tie, and lldpad sets ROL on ties, so both mark RKA as remote
    expect([sl.rka, bl.rka]).toEqual([21, 21]);
    expect([sl.rkaRemote, bl.rkaRemote]).toEqual([true, true]);
    expect([sl.rwd, bl.rwd, sl.rte, bl.rte, sl.retries, bl.retries]).toEqual([20, 20, 8, 8, 3, 3]);
  });

  it('associates three VSIs with vdptool -W; the station records success (0) for each', async () => {
    for (const i of [1, 2, 3]) {
      const r = await st().vdptoolRequest(req(i, 'assoc'));
      expect(r.ok, r.rawOutput).toBe(true);
      expect(r.responseSeen, r.rawOutput).toBe(true);
      expect(r.response?.uuid).toBe(uuid(i));
      expect(r.response?.filters).toEqual([`100-${labVsi(i).filters[0]!.mac}`]);
    }
    expect([1, 2, 3].map((i) => st().vdptoolQuery(uuid(i)))).toEqual([0, 0, 0]);
    expect(st().vdptoolList().map((v) => v.uuid).sort()).toEqual([1, 2, 3].map(uuid));
    expect(st().vdptoolQuery(uuid(99))).toBe('missing');
  });

  it('cannot list the bridge role’s VSIs (lldpad: "Command not applicable")', () => {
    expect(() => br().vdptoolList()).toThrow(/not applicable/i);
  });

  it('runs a batch of requests in one namespace entry and queries them in another', async () => {
    const ids = Array.from({ length: 8 }, (_, k) => 10 + k);
    const b = await st().vdptoolBatch(ids.map((i) => req(i, 'assoc')));
    expect(b.results.map((r) => [r.uuid, r.exitCode, r.responseSeen])).toEqual(ids.map((i) => [uuid(i), 0, true]));
    expect(b.results.every((r) => r.ms > 0 && r.ms < 5000)).toBe(true);
    expect(b.totalMs).toBeGreaterThan(0);
    expect(b.wallMs).toBeGreaterThanOrEqual(b.totalMs);
    const q = await st().vdptoolQueryBatch([...ids.map(uuid), uuid(98)]);
    expect(ids.map((i) => q.get(uuid(i)))).toEqual(ids.map(() => 0));
    expect(q.get(uuid(98))).toBe('missing');
    // a refused request is reported per VSI, not as a batch failure (de-associate of an unknown VSI)
    const bad = await st().vdptoolBatch([req(97, 'deassoc', false)]);
    expect(bad.results[0]!.exitCode).not.toBe(0);
    expect(bad.results[0]!.error).toMatch(/Invalid parameters/);
  });

  it('de-associates every VSI; the station forgets them', async () => {
    for (const i of [1, 2, 3]) {
      const r = await st().vdptoolRequest(req(i, 'deassoc'));
      expect(r.responseSeen, r.rawOutput).toBe(true);
    }
    const ids = Array.from({ length: 8 }, (_, k) => 10 + k);
    // from two concurrent vdptool loops
    const b = await st().vdptoolBatch(ids.map((i) => req(i, 'deassoc')), { parallel: 2 });
    expect(b.results.map((r) => [r.uuid, r.exitCode, r.responseSeen])).toEqual(ids.map((i) => [uuid(i), 0, true]));
    const q = await st().vdptoolQueryBatch([1, 2, 3, ...ids].map(uuid));
    expect([...q.values()].every((v) => v === 'missing')).toBe(true);
  });

  it('refuses a second lldpad in the same namespace instead of driving the wrong daemon', async () => {
    const start = LldpadPeer.start({ ns: br().ns, ifname: br().ifname, role: 'bridge', stateDir: join(dir, 'br2'), startTimeoutMs: 3000 });
    await expect(start).rejects.toThrow(/exited at start-up|answered by lldpad pid/);
    expect(br().alive()).toBe(true);
    expect(nsRunSync(br().ns, 'lldptool', ['-p']).stdout.trim()).toBe(String(br().pid));
  });

  it('restarts the station as a new process that works again', async () => {
    const old = st().pid;
    await st().restart();
    expect(st().pid).not.toBe(old);
    expect(existsSync(`/proc/${old}`)).toBe(false);
    expect(br().alive()).toBe(true);
    await st().waitEvbNegotiated(15_000);
    await st().waitVdpReady(15_000);
    const r = await st().vdptoolRequest(req(5, 'assoc'));
    expect(r.responseSeen, r.rawOutput).toBe(true);
    expect(st().vdptoolQuery(uuid(5))).toBe(0);
  });

  it('stops both daemons by their own pids and removes the state', async () => {
    const pids = [br().pid, st().pid];
    await Promise.all([st().stop(), br().stop()]);
    expect(pids.map((p) => existsSync(`/proc/${p}`))).toEqual([false, false]);
    expect(br().alive() || st().alive()).toBe(false);
    await st().stop(); // idempotent
    st().removeStateDir();
    expect(existsSync(join(dir, 'st'))).toBe(false);
  });
});
