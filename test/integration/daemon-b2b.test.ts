/**
 * Two vdpd daemons in two namespaces: a station and the bridge emulator (role: bridge)
 * with a policy. Exercised through vdpctl as a separate process (exit codes per outcome),
 * the client API, SIGTERM (nothing de-associated) and SIGKILL + restart (VSIs restored
 * from the state file and re-associated).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { VethLab } from '../../src/lab/netns.js';
import { VDPCTL, VDPD, type VdpdProc } from '../../src/lab/vdpd-proc.js';
import { prepare, sleep, startPair, stopPair, until, vsiSpec } from './helpers.js';

let dir = '';
let lab: VethLab;
let bridge: VdpdProc;
let station: VdpdProc;
let bc: ApiClient;
let sc: ApiClient;

// both daemons warm up at start (warmUpVsis, off by default): the tests below run on them,
// the station's restart from its state file included
const BRIDGE_CONFIG = (ifname: string) => `role: bridge
warmUpVsis: 2000
interfaces:
  - name: ${ifname}
    evb: { rka: 18 }
    bridge:
      policy:
        - match: { typeId: 201 }
          action: reject
          reason: 2
        - match: { typeId: 203 }
          action: reject
          reason: 2
          hard: true
        - match: { typeId: 205 }
          assignVid: 205
          pcp: 3
        - match: { typeId: 207 }
          delayMs: 1500
`;

function vdpctl(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('ip', ['netns', 'exec', lab.station.ns, process.execPath, VDPCTL, ...args, '--socket', station.socket], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function assocArgs(i: number, typeId: number, filter = `100-02:76:64:00:00:${i.toString(16).padStart(2, '0')}`): string[] {
  return ['assoc', '-i', lab.station.ifname, '--mgrid', 'vdplab', '--type-id', String(typeId), '--type-version', '1', '--uuid', vsiSpec(i).vsiid, '--filter', filter, '--wait', '10', '--json'];
}

async function stationStates(): Promise<Record<string, string>> {
  const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as { vsiid: string; state: string }[];
  return Object.fromEntries(rows.map((r) => [r.vsiid, r.state]));
}

beforeAll(async () => {
  dir = prepare();
  lab = new VethLab().up();
  ({ bridge, station, bc, sc } = await startPair(lab, dir, { bridge: BRIDGE_CONFIG(lab.bridge.ifname), station: `warmUpVsis: 2000\ninterfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: 18 }\n` }));
  await bridge.waitEvb(bc);
}, 60_000);

afterAll(async () => {
  await stopPair({ bridge, station, bc, sc });
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vdpd station against the vdpd bridge emulator', () => {
  it('both daemons warmed up in memory at start, and nothing of it is in their tables', async () => {
    for (const c of [sc, bc]) {
      const p = (await c.call({ op: 'ping' })) as { warmUpMs: number; rssBeforeWarmUpBytes: number | null };
      expect(p.warmUpMs).toBeGreaterThan(0);
      expect(p.rssBeforeWarmUpBytes).toBeGreaterThan(0);
    }
    expect(await stationStates()).toEqual({});
    expect(await bc.call({ op: 'list' })).toEqual([]);
  });

  it('vdpctl exit codes: success 0, bridge reason 2 → 12, invalid input → 2', () => {
    const ok = vdpctl(assocArgs(1, 1193046));
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ accepted: true, outcome: { kind: 'success' } });
    const rej = vdpctl(assocArgs(2, 201));
    expect(rej.code).toBe(12);
    expect(JSON.parse(rej.out)).toMatchObject({ outcome: { kind: 'bridge-error', reason: 2, reasonText: 'insufficient resources', hard: false } });
    const hard = vdpctl(assocArgs(3, 203));
    expect(hard.code).toBe(12);
    expect(JSON.parse(hard.out).outcome.hard).toBe(true);
    const bad = vdpctl(assocArgs(4, 1 << 24));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/typeId/);
  });

  it('refuses a de-associate of an unknown VSI locally (exit 3) and a command for an unmanaged interface', () => {
    const r = vdpctl(['deassoc', '-i', lab.station.ifname, '--mgrid', 'vdplab', '--type-id', '1', '--type-version', '1', '--uuid', vsiSpec(99).vsiid, '--filter', '100-02:00:00:00:00:99']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/EINVAL/);
    const n = vdpctl(['assoc', '-i', 'nosuch0', '--mgrid', 'vdplab', '--type-id', '1', '--type-version', '1', '--uuid', vsiSpec(98).vsiid, '--filter', '100-02:00:00:00:00:98']);
    expect(n.code).toBe(3);
    expect(n.err).toMatch(/ENODEV/);
  });

  it('VID 0 is answered with the VID and QoS the policy assigns', () => {
    const r = vdpctl(assocArgs(5, 205, '0-02:76:64:00:00:05'));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).outcome.vsi.filters).toEqual([{ vid: 205, pcp: 3, ps: false, mac: '02:76:64:00:00:05' }]);
  });

  it('watch streams state changes with their reasons and the outcomes', async () => {
    const { ApiClient } = await import('../../src/api/client.js');
    const w = await ApiClient.connect(station.socket);
    const events: { type: string; text?: string }[] = [];
    await w.watch((e) => events.push(e as { type: string; text?: string }));
    expect(vdpctl(assocArgs(7, 1193046)).code).toBe(0);
    await until(() => events.some((e) => e.type === 'outcome'), 3000, 'an outcome event');
    w.close();
    const texts = events.map((e) => e.text ?? '');
    expect(texts).toContain(`state-change: vsi=${vsiSpec(7).vsiid} INIT -> STATION_PROC reason=command-assoc`);
    expect(texts).toContain(`state-change: vsi=${vsiSpec(7).vsiid} STATION_PROC -> ASSOCIATED reason=bridge-response-success`);
    expect(vdpctl(['deassoc', ...assocArgs(7, 1193046).slice(1)]).code).toBe(0);
  });

  it('a bad config is refused at start with the line and the reason', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'interfaces:\n  - name: eth0\n    evb:\n      rte: 99\n');
    const r = spawnSync(process.execPath, [VDPD, '-c', bad], { encoding: 'utf8' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`bad config: ${bad}:4: interfaces.0.evb.rte: must be an integer 0..31, got 99`);
  });

  it('a command whose wait runs out is answered pending, and the VSI still associates afterwards', async () => {
    const vsi = vsiSpec(8, { typeId: 207 });
    const r = (await sc.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi, waitMs: 300 })) as { accepted: boolean; vsiid: string; outcome: { kind: string } };
    expect(r).toEqual({ accepted: true, vsiid: vsi.vsiid, outcome: { kind: 'pending' } });
    await until(async () => ['ASSOCIATED', 'TXMIT_KA'].includes((await stationStates())[vsi.vsiid] ?? ''), 5000, 'the delayed VSI associated');
    const done = (await sc.call({ op: 'command', iface: lab.station.ifname, mode: 'deassoc', vsi, waitMs: 5000 })) as { outcome: { kind: string } };
    expect(done.outcome.kind).toBe('success');
  });

  it('after a burst the station asks V8 for a collection, then gives native memory back (ping)', async () => {
    type Ping = { memoryTrims: number; nativeTrims: number; memoryTrimWaitTimeouts: number; gcPauseMaxMs: Record<string, number> };
    const p0 = (await sc.call({ op: 'ping' })) as Ping;
    const ids = Array.from({ length: 600 }, (_, k) => 1000 + k);
    const run = (mode: 'assoc' | 'deassoc') => Promise.all(ids.map((i) => sc.call({ op: 'command', iface: lab.station.ifname, mode, vsi: vsiSpec(i), waitMs: 20_000 }) as Promise<{ outcome: { kind: string } }>));
    expect((await run('assoc')).every((r) => r.outcome.kind === 'success')).toBe(true);
    expect((await run('deassoc')).every((r) => r.outcome.kind === 'success')).toBe(true);
    // 2 s without a change ends the burst; the native release follows the collection's end
    await until(async () => {
      const p = (await sc.call({ op: 'ping' })) as Ping;
      return p.memoryTrims > p0.memoryTrims && p.nativeTrims > p0.nativeTrims;
    }, 15_000, 'a trim and a native release after the burst');
    const p1 = (await sc.call({ op: 'ping' })) as Ping;
    expect(p1.gcPauseMaxMs['major']).toBeGreaterThan(0);
    // the release followed the end of the collection (seen by the daemon's 'gc' observer), not the 5 s fallback
    expect(p1.memoryTrimWaitTimeouts).toBe(0);
  }, 60_000);

  it('the bridge lists its VSI table', async () => {
    const rows = (await bc.call({ op: 'list' })) as { vsiid: string; state: string; filters: { vid: number }[] }[];
    expect(rows.map((r) => r.vsiid).sort()).toEqual([vsiSpec(1).vsiid, vsiSpec(5).vsiid]);
    expect(rows.every((r) => r.state === 'BR_WAITCMD')).toBe(true);
  });

  it('SIGTERM de-associates nothing; SIGKILL + restart restores the VSIs from the state file and re-associates them', async () => {
    // the state file is written within 200 ms of a change
    const saved = (): { vsiid: string }[] => (JSON.parse(readFileSync(station.stateFile, 'utf8')) as { interfaces: Record<string, { vsiid: string }[]> }).interfaces[lab.station.ifname] ?? [];
    await until(() => saved().length === 2, 3000, 'state file with both VSIs');
    expect(statSync(station.stateFile).mode & 0o777).toBe(0o600);
    // ping counts the writes and the loop's time serialising them
    const ps = (await sc.call({ op: 'ping' })) as { stateWrites: number; stateWriteFailures: number; stateWriteCpuMs: number };
    expect(ps.stateWrites).toBeGreaterThan(0);
    expect(ps.stateWriteFailures).toBe(0);
    expect(ps.stateWriteCpuMs).toBeGreaterThan(0);

    sc.close();
    expect(await station.stop('SIGTERM')).toBe(0);
    await sleep(300);
    let rows = (await bc.call({ op: 'list' })) as unknown[];
    expect(rows).toHaveLength(2); // still associated at the bridge

    sc = await station.start();
    await station.waitEvb(sc);
    await until(async () => Object.values(await stationStates()).filter((s) => s === 'ASSOCIATED' || s === 'TXMIT_KA').length === 2, 10_000, 'restored VSIs associated').catch((e: Error) => {
      throw new Error(`${e.message}\n${station.output.split('\n').filter((l) => l.includes('vsi') && !l.includes('keepalive')).slice(-30).map((l) => l.slice(l.indexOf('"msg"'), l.indexOf('"msg"') + 200)).join('\n')}`);
    });

    sc.close();
    await station.stop('SIGKILL');
    sc = await station.start();
    await station.waitEvb(sc);
    await until(async () => Object.values(await stationStates()).filter((s) => s === 'ASSOCIATED' || s === 'TXMIT_KA').length === 2, 10_000, 'VSIs associated after SIGKILL');
    rows = (await bc.call({ op: 'list' })) as unknown[];
    expect(rows).toHaveLength(2);
  });

  it('a silent station is timed out by the bridge (toutKeepAlive) and the VSIs leave its table', async () => {
    // counted from here: a slow restart above may already have let the bridge time out a VSI
    // that the station then re-associated (see the stale De-Associate in vdp-station.ts)
    const timeouts = async (): Promise<number> => ((await bc.call({ op: 'counters' })) as Record<string, { vdp: { keepAliveTimeouts: number } }>)[lab.bridge.ifname]!.vdp.keepAliveTimeouts;
    const before = await timeouts();
    sc.close();
    await station.stop('SIGKILL');
    // RKA 18: toutKeepAlive = 1.5 × (2.62 s + 7 × 2.56 ms) ≈ 3.96 s
    await until(async () => ((await bc.call({ op: 'list' })) as unknown[]).length === 0, 10_000, "bridge keep-alive timeout");
    expect((await timeouts()) - before).toBe(2);
  });
});
