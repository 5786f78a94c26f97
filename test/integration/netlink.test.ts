/**
 * The netlink control plane on real sockets: vdpd station (lldpad-compatible mode: pid file,
 * @/com/intel/lldpad, NETLINK_ROUTE port = pid) against vdpd's bridge emulator, driven by
 * separate processes — `vdpctl --via netlink` (libvirt's exact RTM_SETLINK / RTM_GETLINK,
 * including the macvtap → root device walk), `vdpctl iov …` (iovnl), `vdpctl nl-raw`
 * (malformed messages), Debian's `lldptool -p` — and an unprivileged sender refused.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/memory.js';
import { nsExec, VethLab } from '../../src/lab/netns.js';
import { VDPCTL, VdpdProc } from '../../src/lab/vdpd-proc.js';
import { encodeLibvirtGetLink, encodeLibvirtSetLink } from '../../netlink/port-request.js';
import { prepare, sleep, stopPair, until } from './helpers.js';

let dir = '';
let lab: VethLab;
let bridge: VdpdProc;
let station: VdpdProc;
let bc: ApiClient;
let sc: ApiClient;
let pidFile = '';

const MAC = (i: number) => `02:76:64:aa:00:${i.toString(16).padStart(2, '0')}`;
const UUID = (i: number) => `7a9c0000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

const BRIDGE_CONFIG = (ifname: string) => `role: bridge
interfaces:
  - name: ${ifname}
    evb: { rka: 18, gpid: true }
    bridge:
      policy:
        - match: { typeId: 301 }
          action: reject
          reason: 3
        - match: { typeId: 302 }
          delayMs: 1500
        - match: { typeId: 303 }
          deassocAfterMs: 2500
        - match: { typeId: 304 }
          assignVid: 304
`;

function run(args: string[], o: { unprivileged?: boolean } = {}): { code: number; out: string; err: string } {
  const cmd = ['netns', 'exec', lab.station.ns];
  // drop every capability (bounding set too, so exec cannot regain them) but stay root
  if (o.unprivileged) cmd.push('setpriv', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all');
  cmd.push(process.execPath, VDPCTL, ...args);
  const r = spawnSync('ip', cmd, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function nl(mode: string, i: number, typeId: number, extra: string[] = []): { code: number; out: string; err: string } {
  return run([mode, '-i', lab.station.ifname, '--via', 'netlink', '--pid-file', pidFile, '--mgrid', '7', '--type-id', String(typeId), '--type-version', '1', '--uuid', UUID(i), '--filter', `0-${MAC(i)}`, '--json', ...extra]);
}

async function stationRow(i: number): Promise<Record<string, unknown> | undefined> {
  const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as Record<string, unknown>[];
  return rows.find((r) => r['vsiid'] === UUID(i));
}

beforeAll(async () => {
  dir = prepare();
  lab = new VethLab().up();
  pidFile = join(dir, 'lldpad.pid');
  bridge = new VdpdProc({ ns: lab.bridge.ns, dir: join(dir, 'br'), name: 'bridge', config: BRIDGE_CONFIG(lab.bridge.ifname) });
  station = new VdpdProc({
    ns: lab.station.ns,
    dir: join(dir, 'st'),
    name: 'station',
    config: `lldpadCompat: { enabled: true, pidFile: ${pidFile} }
eventLoopResolutionMs: 2
netlink:
  profiles:
    web: { managerId: 7, typeId: 300, typeVersion: 1 }
interfaces:
  - name: ${lab.station.ifname}
    evb: { rka: 18, gpid: true }
`,
  });
  bc = await bridge.start();
  sc = await station.start();
  await station.waitEvb(sc);
  // a macvtap on the uplink, as libvirt creates for a VM's <interface type='direct'>
  nsExec(lab.station.ns, 'ip', ['link', 'add', 'link', lab.station.ifname, 'name', 'mvtap0', 'type', 'macvtap', 'mode', 'vepa']);
  nsExec(lab.station.ns, 'ip', ['link', 'set', 'mvtap0', 'address', MAC(1), 'up']);
}, 120_000);

afterAll(async () => {
  await stopPair({ bridge, station, bc, sc });
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('netlink: how libvirt and lldpad tools find vdpd', () => {
  it('writes lldpad\'s pid file: decimal pid, newline, NUL padding to 32 octets, mode 0600', () => {
    const b = readFileSync(pidFile);
    expect(b.length).toBe(32);
    const pid = station.proc!.pid!;
    // `ip netns exec` execs vdpd: the pid is vdpd's own
    expect(b.subarray(0, String(pid).length + 1).toString()).toBe(`${pid}\n`);
    expect([...b.subarray(String(pid).length + 1)].every((x) => x === 0)).toBe(true);
    expect(statSync(pidFile).mode & 0o777).toBe(0o600);
  });

  it('answers lldptool -p (Debian lldpad\'s own client) on @/com/intel/lldpad with its pid', () => {
    const out = nsExec(lab.station.ns, 'lldptool', ['-p']).trim();
    expect(out).toBe(String(station.proc!.pid));
  });

  it('binds its NETLINK_ROUTE socket to port = pid (the API reports it)', async () => {
    const p = (await sc.call({ op: 'ping' })) as { pid: number; netlinkPort: number };
    expect(p.netlinkPort).toBe(p.pid);
    expect(p.pid).toBe(station.proc!.pid);
  });

  it('runs with the daemon environment (at most two malloc arenas), as its #! line sets it', () => {
    const env = readFileSync(`/proc/${station.proc!.pid}/environ`, 'utf8').split('\0');
    expect(env).toContain('MALLOC_ARENA_MAX=2');
    // and Node's flags: a small young generation, gc(), optimising without inlining
    const argv = readFileSync(`/proc/${station.proc!.pid}/cmdline`, 'utf8').split('\0');
    for (const f of DAEMON_NODE_FLAGS) expect(argv).toContain(f);
  });

  it('measures its event-loop delay with the configured period (every sample of the default 10 ms one is ≥ 10 ms)', async () => {
    const p = (await sc.call({ op: 'ping' })) as { eventLoopResolutionMs: number; eventLoopDelayMinMs: number; eventLoopDelayP99Ms: number; eventLoopDelayMaxMs: number };
    expect(p.eventLoopResolutionMs).toBe(2);
    // the smallest sample is the period give or take libuv's 1 ms timer granularity, plus the
    // least the loop was late: 1.1 ms seen with the configured 2 ms period; about 10 with the
    // default one. (The p99 was asserted here once; a loaded machine put it at 11.3 ms with
    // the 2 ms period.)
    expect(p.eventLoopDelayMinMs).toBeGreaterThan(0);
    expect(p.eventLoopDelayMinMs).toBeLessThan(5);
    expect(p.eventLoopDelayP99Ms).toBeGreaterThanOrEqual(p.eventLoopDelayMinMs);
    expect(p.eventLoopDelayMaxMs).toBeGreaterThanOrEqual(p.eventLoopDelayP99Ms);
  });
});

describe('netlink: the libvirt contract against the bridge emulator', () => {
  it('associates through RTM_SETLINK + GETLINK polls sent by a separate process, from the macvtap device', async () => {
    const r = nl('assoc', 1, 300, ['--linkdev', 'mvtap0']);
    expect(r.code, r.err + r.out).toBe(0);
    const j = JSON.parse(r.out) as { response: number; polls: number; ackMs: number; outcome: { kind: string } };
    expect(j.response).toBe(0);
    expect(j.outcome.kind).toBe('success');
    expect(j.polls).toBeGreaterThanOrEqual(1);
    const row = await stationRow(1);
    expect(row?.['state']).toMatch(/ASSOCIATED|TXMIT_KA/);
    // walked from mvtap0 to the uplink; MAC from IFLA_VF_MAC
    expect(row?.['filters']).toEqual([expect.objectContaining({ mac: MAC(1) })]);
    const brRows = (await bc.call({ op: 'list' })) as Record<string, unknown>[];
    expect(brRows.some((b) => b['vsiid'] === UUID(1))).toBe(true);
  });

  it('reports in progress (no IFLA_PORT_RESPONSE) while the bridge has not answered, then success; the status stays readable', async () => {
    // bridge delays typeId 302 by 1.5 s: poll by hand with libvirt's messages
    const a = nl('assoc', 2, 302, ['--no-poll']);
    expect(a.code, a.err).toBe(23); // accepted, result pending
    const s1 = statusOf(2);
    expect(s1).toEqual({ present: true, response: undefined });
    await until(() => statusOf(2).response === 0, 10_000, 'success after the delayed response');
    expect(statusOf(2).response).toBe(0);
    expect(statusOf(2).response).toBe(0); // a second read still sees it
  });

  it('a new command on an existing VSI is in progress until the bridge answers it (lldpad reports the old result)', async () => {
    const d = nl('deassoc', 2, 302, ['--no-poll']);
    expect(d.code, d.err).toBe(23);
    expect(statusOf(2).response).toBeUndefined();
    await until(() => statusOf(2).response === 0, 10_000, 'deassoc answered');
  });

  it('returns the bridge\'s reason: reject with "no VSI manager" (3) gives IFLA_PORT_RESPONSE 3 and exit 13', async () => {
    const r = nl('assoc', 3, 301);
    expect(r.code, r.err + r.out).toBe(13);
    expect((JSON.parse(r.out) as { response: number }).response).toBe(3);
  });

  it('carries ratified fields in vdpd\'s extension: two filters, group IDs, a 16-octet manager ID', async () => {
    const r = run(['assoc', '-i', lab.station.ifname, '--via', 'netlink', '--pid-file', pidFile, '--mgrid', 'uuid:11111111-2222-3333-4444-555555555555', '--type-id', '300', '--type-version', '1', '--uuid', UUID(5), '--filter', `vid=0,mac=${MAC(5)},gid=77`, '--filter', `vid=0,mac=${MAC(6)},gid=78`, '--json']);
    expect(r.code, r.err + r.out).toBe(0);
    const row = await stationRow(5);
    expect(row?.['filters']).toEqual([expect.objectContaining({ mac: MAC(5), groupId: 77 }), expect.objectContaining({ mac: MAC(6), groupId: 78 })]);
  });

  it('sends the unsolicited disassociate to the requester when the bridge de-associates; the requester re-associates as libvirt does', async () => {
    // --follow keeps the "libvirt" process listening on its event socket
    const child = spawnSync('ip', ['netns', 'exec', lab.station.ns, process.execPath, VDPCTL, 'assoc', '-i', lab.station.ifname, '--via', 'netlink', '--pid-file', pidFile, '--mgrid', '7', '--type-id', '303', '--type-version', '1', '--uuid', UUID(7), '--filter', `0-${MAC(7)}`, '--json', '--follow', '4'], { encoding: 'utf8', timeout: 30_000 });
    const lines = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ response: 0 });
    expect(lines).toContainEqual(expect.objectContaining({ event: 'unsolicited', request: 3, uuid: UUID(7) }));
    expect(lines).toContainEqual(expect.objectContaining({ event: 're-associated', uuid: UUID(7) }));
    const c = (await sc.call({ op: 'counters' })) as { netlink: { notifications: number } };
    expect(c.netlink.notifications).toBeGreaterThanOrEqual(1);
  });
});

function statusOf(i: number): { present: boolean; response: number | undefined } {
  const r = run(['nl-raw', Buffer.from(encodeLibvirtGetLink({ ifindex: 0, ifname: lab.station.ifname, seq: 99, pid: 0 })).toString('hex'), '--pid-file', pidFile, '--json']);
  const reply = Buffer.from((JSON.parse(r.out) as { reply: string }).reply, 'hex');
  // IFLA_VF_PORT entries: find ours by UUID, then its IFLA_PORT_RESPONSE (type 7)
  const uuid = Buffer.from(UUID(i).replace(/-/g, ''), 'hex');
  const at = reply.indexOf(uuid);
  if (at < 0) return { present: false, response: undefined };
  // the UUID attribute starts 4 octets before; the port nest's end bounds the search
  const nestStart = reply.lastIndexOf(Buffer.from([0x01, 0x80]), at) - 2;
  const nestLen = reply.readUInt16LE(nestStart);
  const nest = reply.subarray(nestStart + 4, nestStart + nestLen);
  for (let off = 0; off + 4 <= nest.length; ) {
    const len = nest.readUInt16LE(off);
    if ((nest.readUInt16LE(off + 2) & 0x3fff) === 7) return { present: true, response: nest.readUInt16LE(off + 4) };
    off += (len + 3) & ~3;
  }
  return { present: true, response: undefined };
}

describe('netlink: iovnl requests', () => {
  it('SET_MAC_VLAN, SET_PORT_PROFILE by profile name, status, UNSET', async () => {
    const base = ['-i', lab.station.ifname, '--uuid', UUID(20), '--pid-file', pidFile, '--json'];
    expect(run(['iov', 'mac-vlan', ...base, '--vf', 'mvtap0', '--mac-vlan', `${MAC(20)},0`, '--mac-vlan', `${MAC(21)},0`]).code).toBe(0);
    const set = run(['iov', 'set', ...base, '--vf', 'mvtap0', '--profile', 'web']);
    expect(set.code, set.err + set.out).toBe(0);
    await until(() => (JSON.parse(run(['iov', 'status', ...base]).out) as { status: string }).status === 'SUCCESS', 10_000, 'iovnl status SUCCESS');
    const row = await stationRow(20);
    expect(row).toMatchObject({ typeId: 300, typeVersion: 1 });
    expect((row?.['filters'] as { mac: string }[]).map((f) => f.mac)).toEqual([MAC(20), MAC(21)]);
    expect(run(['iov', 'unset', ...base, '--vf', 'mvtap0']).code).toBe(0);
    await until(async () => (await stationRow(20))?.['state'] === 'END', 10_000, 'de-associated');
    expect((JSON.parse(run(['iov', 'status', ...base]).out) as { status: string }).status).toBe('SUCCESS');
    expect((JSON.parse(run(['iov', 'status', ...base.slice(0, 2), '--uuid', UUID(99), '--pid-file', pidFile, '--json']).out) as { status: string }).status).toBe('UNKNOWN');
  });

  it('refuses a missing or unknown VF interface, an unknown profile and an unknown uplink with errno', () => {
    const base = ['-i', lab.station.ifname, '--uuid', UUID(22), '--pid-file', pidFile, '--json'];
    const errnoOf = (r: { out: string }) => (JSON.parse(r.out) as { errno: number }).errno;
    expect(errnoOf(run(['iov', 'set', ...base, '--vf', 'nosuchvf0', '--profile', 'web']))).toBe(19); // ENODEV
    expect(errnoOf(run(['iov', 'set', ...base, '--vf', 'mvtap0', '--profile', 'nosuch']))).toBe(19);
    expect(errnoOf(run(['iov', 'set', '-i', 'nosuch0', '--uuid', UUID(22), '--pid-file', pidFile, '--json', '--vf', 'mvtap0', '--profile', 'web']))).toBe(19);
    expect(errnoOf(run(['iov', 'unset', ...base, '--vf', 'mvtap0']))).toBe(19); // no such VSI
  });
});

describe('netlink: vdpd killed and restarted under libvirt', () => {
  it('status polls fail cleanly while vdpd is down, then report the VSI restored from the state file; the requester still gets notified', async () => {
    const a = nl('assoc', 50, 300);
    expect(a.code, a.err).toBe(0);
    await sleep(500); // the state file is written within 200 ms of a change
    await station.stop('SIGKILL');
    const down = run(['nl-raw', Buffer.from(encodeLibvirtGetLink({ ifindex: 0, ifname: lab.station.ifname, seq: 1, pid: 0 })).toString('hex'), '--pid-file', pidFile, '--json']);
    expect(down.code).toBe(4); // nobody holds the port: unreachable, never a stale answer
    sc.close();
    sc = await station.start();
    expect(readFileSync(pidFile).subarray(0, 12).toString()).toMatch(new RegExp(`^${station.proc!.pid}\\n`));
    await until(() => statusOf(50).response === 0, 20_000, 'the restored VSI to be re-associated');
    expect(await stationRow(50)).toMatchObject({ state: expect.stringMatching(/ASSOCIATED|TXMIT_KA/) });
    // the netlink requester survived the restart with the VSI (state file)
    const persisted = JSON.parse(readFileSync(station.stateFile, 'utf8')) as { interfaces: Record<string, { vsiid: string; requester?: { via: string } }[]> };
    const mine = persisted.interfaces[lab.station.ifname]!.find((v) => v.vsiid === UUID(50).replace(/-/g, ''));
    expect(mine?.requester?.via).toBe('netlink');
  });
});

describe('netlink: bad input and access', () => {
  const raw = (bytes: Uint8Array | Buffer) => JSON.parse(run(['nl-raw', Buffer.from(bytes).toString('hex'), '--pid-file', pidFile, '--json']).out) as { reply: string | null; errno: number | null };
  const good = () => Buffer.from(encodeLibvirtSetLink({ ifindex: 0, ifname: lab.station.ifname, mac: MAC(30), vlan: 0, mgrId: 7, typeId: 300, typeVersion: 1, instanceUuid: Buffer.from(UUID(30).replace(/-/g, ''), 'hex'), request: 2, seq: 5, pid: 0 }));

  it('answers malformed requests with EINVAL and changes nothing; the daemon keeps serving', async () => {
    const before = ((await sc.call({ op: 'status', iface: lab.station.ifname })) as unknown[]).length;
    const g = good();
    // truncated inside the attributes (nlmsg_len adjusted so the header is consistent)
    const trunc = Buffer.from(g.subarray(0, 60));
    trunc.writeUInt32LE(60, 0);
    expect(raw(trunc).errno).toBe(22);
    // an attribute whose length runs past the message
    const badLen = Buffer.from(g);
    badLen.writeUInt16LE(0xfff0, 32);
    expect(raw(badLen).errno).toBe(22);
    // IFLA_VF_VLAN with VID 5000
    const vlanAt = g.indexOf(Buffer.from([0x10, 0x00, 0x02, 0x00])) + 8;
    const badVid = Buffer.from(g);
    badVid.writeUInt32LE(5000, vlanAt);
    expect(raw(badVid).errno).toBe(22);
    // a wrong message type
    const wrongType = Buffer.from(g);
    wrongType.writeUInt16LE(44, 4);
    expect(raw(wrongType).errno).toBe(95);
    // a header that lies about its length gets no answer (no trustworthy header) but is counted
    const lying = Buffer.from(g);
    lying.writeUInt32LE(9999, 0);
    expect(raw(lying).reply).toBeNull();
    const after = ((await sc.call({ op: 'status', iface: lab.station.ifname })) as unknown[]).length;
    expect(after).toBe(before);
    const c = (await sc.call({ op: 'counters' })) as { netlink: { malformed: number; refused: Record<string, number> } };
    expect(c.netlink.malformed).toBeGreaterThanOrEqual(4);
    expect(c.netlink.refused['EINVAL']).toBeGreaterThanOrEqual(3);
    expect(raw(g).errno).toBe(0); // still serving
  });

  it('refuses an unknown interface with ENODEV', () => {
    const m = Buffer.from(encodeLibvirtGetLink({ ifindex: 0, ifname: 'nosuch0', seq: 1, pid: 0 }));
    expect(raw(m).errno).toBe(19);
  });

  it('refuses a sender without CAP_NET_ADMIN with EPERM (the kernel already refuses its sendto; vdpd checks the credentials too, see the unit test)', async () => {
    const r = run(['assoc', '-i', lab.station.ifname, '--via', 'netlink', '--pid-file', pidFile, '--mgrid', '7', '--type-id', '300', '--type-version', '1', '--uuid', UUID(40), '--filter', `0-${MAC(40)}`], { unprivileged: true });
    expect(r.code, r.err).toBe(3);
    expect(r.err).toMatch(/Operation not permitted/);
    expect(r.err).toMatch(/CAP_NET_ADMIN/);
    expect(await stationRow(40)).toBeUndefined();
  });
});

void sleep;
