/**
 * NetlinkService's own checks on real sockets: credentials (CAP_NET_ADMIN read from /proc of
 * a real unprivileged process), unknown interfaces, malformed datagrams — and the libvirt
 * client's root-device walk over a sysfs-shaped tree.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { NetlinkSocket } from '../../../src/io/netlink-socket.js';
import { hasNetAdmin, NetlinkService } from '../../../src/daemon/netlink-service.js';
import { encodeLibvirtGetLink } from '../../../netlink/port-request.js';
import { findRootDevice } from '../../../src/netlink-client/libvirt.js';

const log = pino({ level: 'silent' });

function replyOn(s: NetlinkSocket): Promise<Uint8Array> {
  return new Promise((resolve) => s.listen((d) => resolve(d.data)));
}

describe('netlink service checks', () => {
  const sockets: NetlinkSocket[] = [];
  afterAll(() => sockets.forEach((s) => s.close()));

  it('reads CAP_NET_ADMIN from /proc: this test process has it, a setpriv-dropped process has not', async () => {
    expect(hasNetAdmin(process.pid)).toBe(true);
    const p = spawn('setpriv', ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', 'sleep', '5']);
    await new Promise((r) => setTimeout(r, 300));
    try {
      expect(hasNetAdmin(p.pid!)).toBe(false);
    } finally {
      p.kill();
    }
    expect(hasNetAdmin(2 ** 22 + 12345)).toBe(false); // no such process
  });

  it('answers EPERM to a request whose sender lacks CAP_NET_ADMIN, ENODEV for an unknown interface, nothing for garbage', async () => {
    const svcSock = NetlinkSocket.client();
    const client = NetlinkSocket.client();
    sockets.push(svcSock, client);
    const svc = new NetlinkService({ ifaces: new Map(), profiles: {}, log, socket: svcSock });
    const req = encodeLibvirtGetLink({ ifindex: 0, ifname: 'nosuch0', seq: 77, pid: 0 });
    const p = spawn('setpriv', ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', 'sleep', '5']);
    await new Promise((r) => setTimeout(r, 300));
    let reply = replyOn(client);
    svc.onDatagram({ data: req, srcPort: client.port, creds: { pid: p.pid!, uid: 0, gid: 0 } });
    svc.flushReplies();
    p.kill();
    let r = Buffer.from(await reply);
    expect(r.readUInt16LE(4)).toBe(2); // NLMSG_ERROR
    expect(r.readInt32LE(16)).toBe(-1); // -EPERM
    expect(r.readUInt32LE(8)).toBe(77); // seq copied
    expect(svc.counters.permissionDenied).toBe(1);
    client.close();
    const client2 = NetlinkSocket.client();
    sockets.push(client2);
    reply = replyOn(client2);
    svc.onDatagram({ data: req, srcPort: client2.port, creds: { pid: process.pid, uid: 0, gid: 0 } });
    svc.flushReplies();
    r = Buffer.from(await reply);
    expect(r.readInt32LE(16)).toBe(-19); // -ENODEV
    svc.onDatagram({ data: Uint8Array.of(1, 2, 3), srcPort: client2.port, creds: { pid: process.pid, uid: 0, gid: 0 } });
    expect(svc.counters.malformed).toBe(1);
  });
});

describe('libvirt client: root device walk (lower_* links, VLAN ID from /proc/net/vlan)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vdpd-sys-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const net = join(root, 'net');
  const vlan = join(root, 'vlan');
  mkdirSync(net);
  mkdirSync(vlan);
  const dev = (name: string, ifindex: number, lower?: string) => {
    mkdirSync(join(net, name));
    writeFileSync(join(net, name, 'ifindex'), `${ifindex}\n`);
    if (lower) symlinkSync(join(net, lower), join(net, name, `lower_${lower}`));
  };
  dev('eth0', 2);
  dev('eth0.100', 3, 'eth0');
  dev('macvtap0', 4, 'eth0.100');
  writeFileSync(join(vlan, 'eth0.100'), 'eth0.100  VID: 100\t REORDER_HDR: 1  dev->priv_flags: 1\n');

  it('macvtap → VLAN device → physical: root eth0, VLAN 100', () => {
    expect(findRootDevice('macvtap0', { net, vlan })).toEqual({ ifname: 'eth0', ifindex: 2, vlan: 100, path: ['macvtap0', 'eth0.100', 'eth0'] });
  });

  it('a physical device is its own root, VLAN 0; an unknown one is an error', () => {
    expect(findRootDevice('eth0', { net, vlan })).toMatchObject({ ifname: 'eth0', vlan: 0 });
    expect(() => findRootDevice('nosuch', { net, vlan })).toThrow(/no interface nosuch/);
  });
});
