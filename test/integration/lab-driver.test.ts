/**
 * `vdpctl lab run` as a separate process in the station namespace, against vdpd's bridge
 * emulator (policies: reject a type, assign VIDs, delay, group IDs; nftables loss) and
 * against Debian lldpad in bridge role. Every assertion reads numbers the driver measured.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../pdu/frame.js';
import { summarizeFrame } from '../../pdu/describe.js';
import { readPcapFile } from '../../src/pcap/file.js';
import { LldpadPeer } from '../../src/lab/lldpad.js';
import { VethLab } from '../../src/lab/netns.js';
import { VDPCTL, VdpdProc } from '../../src/lab/vdpd-proc.js';
import type { LabReport } from '../../src/lab/driver/types.js';
import { prepare } from './helpers.js';

// keep-alive every 1.31 s (toutKeepAlive ~2 s): short enough that a 5 s hold sees several,
// with ~650 ms of slack for a keep-alive's round trip on a loaded 2-core CI machine
const RKA = 17;

interface Run {
  code: number;
  report: LabReport;
  stderr: string;
}

function labRun(lab: VethLab, args: string[]): Run {
  const r = spawnSync('ip', ['netns', 'exec', lab.station.ns, process.execPath, VDPCTL, 'lab', 'run', '-i', lab.station.ifname, '--json', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 240_000,
  });
  let report: LabReport;
  try {
    report = JSON.parse(r.stdout) as LabReport;
  } catch {
    throw new Error(`vdpctl lab run printed no JSON (exit ${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  return { code: r.status ?? -1, report, stderr: r.stderr };
}

/** what made the driver fail: its stderr and the load figures (lost VSIs with their reasons) */
const why = (stderr: string, report: LabReport): string =>
  `${stderr}\n${JSON.stringify({ error: report.error, load: report.load && { ...report.load, histogram: undefined, lostVsis: report.load.lostVsis.slice(0, 5) } })}`;

const bridgeConfig = (ifname: string, policy: string, evb = `{ rka: ${RKA}, gpid: true }`) => `role: bridge
interfaces:
  - name: ${ifname}
    evb: ${evb}
    bridge:
      policy:
${policy}`;

const POLICY_ASSIGN = `        - match: { typeId: 201 }
          action: reject
          reason: 2
        - match: { typeId: 1193046 }
          assignVid: 300
`;

describe('vdpctl lab run against the vdpd bridge emulator', () => {
  let dir = '';
  let lab: VethLab;
  let bridge: VdpdProc | undefined;
  let stYaml = '';
  let n = 0;

  async function startBridge(policy: string): Promise<void> {
    await bridge?.stop();
    n++;
    bridge = new VdpdProc({ ns: lab.bridge.ns, dir: join(dir, `br${n}`), name: 'bridge', config: bridgeConfig(lab.bridge.ifname, policy) });
    const c = await bridge.start();
    c.close();
  }

  const run = (args: string[]): Run => labRun(lab, ['--config', stYaml, '--settle', '0.3', '--quiet', ...args]);

  beforeAll(async () => {
    dir = prepare();
    lab = new VethLab().up();
    stYaml = join(dir, 'station.yaml');
    writeFileSync(stYaml, `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA} }\n`);
    await startBridge(POLICY_ASSIGN);
  }, 60_000);

  afterAll(async () => {
    await bridge?.stop();
    lab?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('load: 200 VSIs associated, held 5 s through keep-alives, none lost, latency measured', () => {
    const { code, report, stderr } = run(['--vsis', '200', '--hold', '5']);
    expect(code, why(stderr, report)).toBe(0);
    expect(report.error).toBeNull();
    expect(report.bridge.evb?.mode).toBe('bridge');
    expect(report.bridge.operative?.rka).toBe(RKA);
    const l = report.load!;
    expect(l.associated).toBe(200);
    expect(l.failed).toBe(0);
    expect(l.lost).toBe(0);
    expect(l.aliveAfterHold).toBe(200);
    expect(l.deassociated).toBe(200);
    expect(l.responsesByReason).toEqual({ success: 200 });
    expect(l.latencyMs.count).toBe(200);
    expect(l.latencyMs.p50).toBeGreaterThan(0);
    expect(l.latencyMs.p90!).toBeGreaterThanOrEqual(l.latencyMs.p50!);
    expect(l.latencyMs.p99!).toBeGreaterThanOrEqual(l.latencyMs.p90!);
    expect(l.latencyMs.max!).toBeGreaterThanOrEqual(l.latencyMs.p99!);
    expect(l.histogram.counts.reduce((a, b) => a + b, 0)).toBe(200);
    expect(l.throughput.assocPerS).toBeGreaterThan(0);
    // 5 s with a 1.31 s keep-alive period: every VSI sent several, the bridge answered them
    expect(l.vdp.keepAlives).toBeGreaterThanOrEqual(200 * 3);
    expect(l.vdp.keepAliveResponses).toBeGreaterThanOrEqual(200 * 3);
    expect(l.timers.keepAliveResponse.observed.count).toBeGreaterThan(0);
    expect(l.timers.ecpAck.observed.count).toBeGreaterThan(0);
    expect(l.vdp.tlvsPerUlpdu!).toBeGreaterThan(1); // packed
    expect(report.passed).toBe(true);
  });

  it('the report agrees with vdpctl replay of the capture of the same run', () => {
    const cap = join(dir, 'agree.pcap');
    const { code, report, stderr } = run(['--vsis', '150', '--hold', '3', '--capture', cap]);
    expect(code, why(stderr, report)).toBe(0);
    const r = spawnSync(process.execPath, [VDPCTL, 'replay', '--json', '--full', cap], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as import('../../src/replay/types.js').ReplayReport;
    const l = report.load!;
    // the same VSIs, all de-associated at the end
    expect(rep.vsis).toHaveLength(l.vsis);
    const states: Record<string, number> = {};
    for (const v of rep.vsis) states[v.finalState] = (states[v.finalState] ?? 0) + 1;
    const stuck = rep.vsis.find((v) => v.finalState !== 'END');
    expect(l.deassociated).toBe(l.vsis);
    expect(states, `${JSON.stringify(stuck?.timeline.slice(-4))}`).toEqual({ END: l.deassociated });
    // the same keep-alives and ECP retransmissions, seen from the wire
    expect(l.vdp.keepAlives).toBeGreaterThanOrEqual(150);
    expect(rep.vsis.reduce((a, v) => a + v.keepalives, 0)).toBe(l.vdp.keepAlives);
    const st = rep.ecp.directions.find((d) => d.direction === 'station->bridge')!;
    expect(st.retransmissions).toBe(l.ecp.retransmits);
    expect(st.ecpdus).toBe(l.ecp.requests);
    // association latency: the report measures command → response, the wire shows the part
    // from the request frame to the response frame, so the wire figures sit inside the report's
    const lat = rep.vsis
      .map((v) => v.timeline.find((e) => e.kind === 'response' && e.mode === 'Assoc')?.latencyMs)
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    expect(lat).toHaveLength(l.associated);
    const p50 = lat[Math.floor(lat.length / 2)]!;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(l.latencyMs.p50! + 2);
    expect(lat[lat.length - 1]!).toBeLessThanOrEqual(l.latencyMs.max! + 2);
  });

  it('a policy that rejects a type ID: responses by reason, exit 1', () => {
    const { code, report } = run(['--vsis', '40', '--hold', '0', '--type-ids', '1193046,201']);
    expect(code).toBe(1);
    const l = report.load!;
    expect(l.responsesByReason).toEqual({ success: 20, 'insufficient resources': 20 });
    expect(l.outcomes).toEqual({ success: 20, 'bridge-error': 20 });
    expect(l.associated).toBe(20);
    expect(l.failed).toBe(20);
    expect(l.lost).toBe(0);
    expect(l.deassociated).toBe(20);
    expect(report.passed).toBe(false);
  });

  it('conformance catalogue: VID 0 replaced (assignVid), group IDs n/a without GPID, frame numbers match the capture', async () => {
    const cap = join(dir, 'all.pcap');
    const rep = join(dir, 'all.json');
    const html = join(dir, 'all.html');
    const { code, report, stderr } = run(['--scenario', 'all', '--capture', cap, '--report', rep, '--html', html]);
    const by = Object.fromEntries(report.scenarios.map((s) => [s.name, s]));
    expect(report.scenarios.map((s) => s.name)).toEqual(['assoc-deassoc', 'preassoc-chain', 'repeated-assoc', 'vlan0-replacement', 'qos-replacement', 'group-ids', 'migration-hints', 'error-handling', 'keep-alive']);
    expect(by['vlan0-replacement']).toMatchObject({ result: 'pass' });
    expect(by['vlan0-replacement']!.reason).toContain('VID 300');
    expect(by['group-ids']).toMatchObject({ result: 'n/a' });
    expect(by['error-handling']!.reason).toMatch(/refused locally \(EINVAL\).*reason 5/);
    expect(by['keep-alive']!.result).toBe('pass');
    for (const s of report.scenarios) if (s.name !== 'group-ids') expect(s.result, `${s.name}: ${s.reason}`).toBe('pass');
    expect(code, stderr).toBe(0);
    // the report file is the stdout report; the HTML page is written
    expect(JSON.parse(readFileSync(rep, 'utf8'))).toEqual(report);
    expect(readFileSync(html, 'utf8')).toContain('<h2>Conformance</h2>');
    // frame numbers refer to the capture
    const frames = new Map<number, string>();
    let i = 0;
    for await (const rec of readPcapFile(report.capture!.file)) frames.set(++i, summarizeFrame(decodeFrame(rec.data)));
    expect(i).toBe(report.capture!.frames);
    const ad = by['assoc-deassoc']!;
    expect(ad.frames.length).toBeGreaterThanOrEqual(8); // Assoc, ACK, response, ACK; the same for DeAssoc
    for (const f of report.scenarios.flatMap((s) => s.frames)) expect(frames.get(f.no), `frame ${f.no}`).toBe(f.summary);
    // (an ECP retransmission may repeat a frame)
    expect(ad.frames.filter((f) => f.dir === 'tx' && / Assoc\[\]/.test(f.summary)).length).toBeGreaterThanOrEqual(1);
    expect(ad.frames.filter((f) => f.dir === 'rx' && / Assoc\[RSP\|success\]/.test(f.summary)).length).toBeGreaterThanOrEqual(1);
    expect(ad.frames.filter((f) => f.dir === 'rx' && / DeAssoc\[RSP\|success\]/.test(f.summary)).length).toBeGreaterThanOrEqual(1);
    expect(ad.frames.every((f) => /ECP (REQ|ACK)/.test(f.summary))).toBe(true);
  });

  it('group IDs negotiated (station GPID on): filter formats 3 and 4 pass', () => {
    const y = join(dir, 'station-gpid.yaml');
    writeFileSync(y, `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA}, gpid: true }\n`);
    const { code, report } = labRun(lab, ['--config', y, '--settle', '0.3', '--quiet', '--scenario', 'group-ids']);
    expect(report.bridge.operative?.gpid).toBe(true);
    expect(report.scenarios[0]).toMatchObject({ name: 'group-ids', result: 'pass' });
    expect(code).toBe(0);
  });

  it('a bridge that keeps VID 0: vlan0-replacement fails with the reason and a ladder in the HTML', async () => {
    await startBridge('        - match: { typeId: 201 }\n          action: reject\n          reason: 2\n');
    const html = join(dir, 'vlan0.html');
    const { code, report } = run(['--scenario', 'vlan0-replacement,assoc-deassoc', '--html', html]);
    expect(code).toBe(1);
    const [v0, ad] = report.scenarios;
    expect(v0).toMatchObject({ name: 'vlan0-replacement', result: 'fail' });
    expect(v0!.reason).toMatch(/bridge keeps VID 0/);
    expect(v0!.frames.some((f) => f.dir === 'rx' && /Assoc\[RSP\|success\].*\/0$/.test(f.summary))).toBe(true);
    expect(ad!.result).toBe('pass');
    const page = readFileSync(html, 'utf8');
    expect(page.match(/aria-label="ladder diagram"/g)).toHaveLength(1);
    expect(page).toContain(`#${v0!.frames[0]!.no} `);
  });

  it('a bridge that delays its decision: latency goes up by the delay', async () => {
    const base = run(['--vsis', '20', '--hold', '0']).report.load!;
    await startBridge('        - match: { typeId: 1193046 }\n          delayMs: 150\n');
    const { code, report } = run(['--vsis', '20', '--hold', '0']);
    expect(code).toBe(0);
    const l = report.load!;
    expect(l.associated).toBe(20);
    expect(l.latencyMs.min!).toBeGreaterThanOrEqual(150);
    expect(l.latencyMs.p50!).toBeGreaterThanOrEqual(base.latencyMs.p50! + 100);
    expect(l.timers.commandResponse.observed.min!).toBeGreaterThanOrEqual(145);
  });

  it('loss on the bridge side: ECP retransmits, everything still associated', async () => {
    await startBridge(POLICY_ASSIGN);
    const base = run(['--vsis', '60', '--rate', '100', '--hold', '0']).report.load!;
    lab.setLoss('bridge', 25);
    try {
      const { report } = run(['--vsis', '60', '--rate', '100', '--hold', '0']);
      const l = report.load!;
      expect(l.ecp.retransmits).toBeGreaterThan(base.ecp.retransmits + 10);
      expect(l.associated).toBe(60);
    } finally {
      lab.setLoss('bridge', 0);
    }
  });

  it('a bridge that leaves half its ECP ACKs unsent (policy dropAckPercent): the driver counts the retries, all associated', async () => {
    await startBridge(POLICY_ASSIGN);
    const base = run(['--vsis', '60', '--rate', '100', '--hold', '0']).report.load!;
    await startBridge(`        - match: {}
          dropAckPercent: 50
`);
    const l = run(['--vsis', '60', '--rate', '100', '--hold', '0']).report.load!;
    expect(l.ecp.retransmits).toBeGreaterThan(base.ecp.retransmits + 10);
    expect(l.associated).toBe(60);
  });

  it('refuses bad usage with exit 2 and a reason', () => {
    const r = spawnSync('ip', ['netns', 'exec', lab.station.ns, process.execPath, VDPCTL, 'lab', 'run', '-i', lab.station.ifname, '--scenario', 'nosuch'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario "nosuch"/);
    const r2 = spawnSync('ip', ['netns', 'exec', lab.station.ns, process.execPath, VDPCTL, 'lab', 'run', '-i', 'nosuch0'], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
  });
});

describe('vdpctl lab run against Debian lldpad (bridge role)', () => {
  let dir = '';
  let lab: VethLab;
  let peer: LldpadPeer | undefined;
  let stYaml = '';

  beforeAll(async () => {
    dir = prepare();
    lab = new VethLab().up();
    peer = await LldpadPeer.start({ ns: lab.bridge.ns, ifname: lab.bridge.ifname, role: 'bridge', stateDir: join(dir, 'lldpad'), evb: { rka: 17 } });
    stYaml = join(dir, 'station.yaml');
    // lldpad loses ECPDUs that follow each other within ~2 ms
    writeFileSync(stYaml, `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: 17 }\n    ecp: { minGapMs: 3 }\n`);
  }, 120_000);

  afterAll(async () => {
    await peer?.stop();
    lab?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('assoc-deassoc and preassoc-chain pass', () => {
    const cap = join(dir, 'lldpad.pcap');
    const { code, report, stderr } = labRun(lab, ['--config', stYaml, '--scenario', 'assoc-deassoc,preassoc-chain', '--capture', cap]);
    expect(report.error, stderr).toBeNull();
    expect(report.bridge.evb).toMatchObject({ mode: 'bridge', rka: 17 });
    expect(report.scenarios.map((s) => [s.name, s.result, s.reason])).toEqual([
      ['assoc-deassoc', 'pass', expect.stringMatching(/success/)],
      ['preassoc-chain', 'pass', expect.stringMatching(/preassoc .*preassoc-rr .*assoc .*deassoc/)],
    ]);
    const chain = report.scenarios[1]!;
    for (const m of ['PreAssoc', 'PreAssoc-RR', 'Assoc', 'DeAssoc']) {
      expect(chain.frames.some((f) => f.dir === 'tx' && f.summary.includes(` ${m}[]`)), `${m} request`).toBe(true);
      expect(chain.frames.some((f) => f.dir === 'rx' && f.summary.includes(` ${m}[RSP|success]`)), `${m} response`).toBe(true);
    }
    expect(existsSync(report.capture!.file)).toBe(true);
    expect(code).toBe(0);
  });
});
