#!/usr/bin/env node
/**
 * A burst of libvirt-format RTM_SETLINK requests to a daemon's netlink port, from this
 * process (run it inside the daemon's network namespace). Prints one JSON object: how many
 * were sent and acknowledged, errors by errno, and the ack latency percentiles (send → ack).
 * Flow control is the kernel's: when the daemon's receive queue is full, sendto returns
 * EAGAIN and the request is sent again a moment later (libvirt's sends block instead);
 * nothing is dropped silently.
 *
 *   node netlink-burst.js --pid-file F --ifname IF --count N [--type-id T] [--mode assoc]
 */
import { parseArgs } from 'node:util';
import { readDaemonPid } from '../netlink-client/libvirt.js';
import { NetlinkSocket } from '../io/netlink-socket.js';
import { encodeLibvirtSetLink } from '../../netlink/port-request.js';
import { parseMessages } from '../../netlink/nlmsg.js';

const { values } = parseArgs({
  options: {
    'pid-file': { type: 'string', default: '/var/run/lldpad.pid' },
    ifname: { type: 'string' },
    count: { type: 'string', default: '10000' },
    'type-id': { type: 'string', default: '500' },
    mode: { type: 'string', default: 'assoc' },
    'uuid-base': { type: 'string', default: '0' },
  },
});
const n = Number(values.count);
const dst = readDaemonPid(values['pid-file']!);
const sock = NetlinkSocket.client(64 * 1024 * 1024);
const request = ['preassoc', 'preassoc-rr', 'assoc', 'deassoc'].indexOf(values.mode!);
const base = Number(values['uuid-base']);
const sentAt = new Float64Array(n);
const lat: number[] = [];
const errors: Record<string, number> = {};
let acked = 0;
let eagain = 0;

const done = new Promise<void>((resolve) => {
  sock.listen((d) => {
    for (const m of parseMessages(d.data)) {
      const i = m.seq - 1;
      if (m.type !== 2 || i < 0 || i >= n) continue;
      const err = -Buffer.from(m.payload).readInt32LE(0);
      if (err !== 0) errors[err] = (errors[err] ?? 0) + 1;
      lat.push(performance.now() - sentAt[i]!);
      if (++acked === n) resolve();
    }
  });
});

const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const k = base + i;
  const hex = k.toString(16).padStart(12, '0');
  const msg = encodeLibvirtSetLink({
    ifindex: 0,
    ifname: values.ifname!,
    mac: `02:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}:7e`,
    vlan: 0,
    mgrId: 7,
    typeId: Number(values['type-id']),
    typeVersion: 1,
    instanceUuid: Buffer.from(`b0b5${hex.padStart(28, '0')}`, 'hex'),
    request,
    seq: i + 1,
    pid: sock.port,
  });
  sentAt[i] = performance.now();
  while (!sock.send(msg, dst)) {
    eagain++;
    await new Promise((r) => setImmediate(r));
    sentAt[i] = performance.now();
  }
  // let acks be read while sending, as a real client's event loop would
  if (i % 256 === 255) await new Promise((r) => setImmediate(r));
}
const sendMs = performance.now() - t0;
const timeout = new Promise<void>((r) => setTimeout(r, 60_000));
await Promise.race([done, timeout]);
const totalMs = performance.now() - t0;
lat.sort((a, b) => a - b);
const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]! : null);
process.stdout.write(JSON.stringify({ sent: n, acked, errors, eagain, sendMs, totalMs, ackP50Ms: pct(50), ackP99Ms: pct(99), ackMaxMs: lat.length ? lat[lat.length - 1] : null }) + '\n');
sock.close();
process.exit(0);
