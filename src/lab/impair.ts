#!/usr/bin/env node
/**
 * A link impairment box for the lab (this kernel has no sch_netem): forwards every frame
 * between two interfaces of a middle namespace, dropping, duplicating and delaying each
 * direction as asked. Promiscuous mode on the two lab veths (the middle box is a wire, not
 * a host). Prints one JSON line of counters on SIGTERM/SIGINT and exits.
 *
 *   node impair.js --a ma --b mb [--loss-ab 10] [--loss-ba 10] [--dup 5] [--delay 20] [--jitter 10] [--seed 1]
 *
 * Loss and duplication are percentages per direction (--loss sets both); --delay/--jitter in
 * ms: each frame waits delay ± jitter, so frames may be reordered by jitter. New settings
 * arrive as JSON lines on stdin ({"lossAb":10,"lossBa":10,"dup":0,"delay":0,"jitter":0}) and
 * apply at once: changing them never interrupts the link. Each line is answered {"applied":…}.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AF_PACKET, check, EAGAIN, errno, htons, libc, MSG_DONTWAIT, PACKET_ADD_MEMBERSHIP, PACKET_OUTGOING, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET } from '../io/libc.js';
import { linkInfo } from '../io/packet-socket.js';
import { reactor } from '../io/reactor.js';

const ETH_P_ALL = 3;
const PACKET_MR_PROMISC = 1;

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    loss: { type: 'string' },
    'loss-ab': { type: 'string' },
    'loss-ba': { type: 'string' },
    dup: { type: 'string', default: '0' },
    delay: { type: 'string', default: '0' },
    jitter: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
  },
});

// a small seeded PRNG so a run can be repeated
let state = Number(values.seed) >>> 0 || 1;
function random(): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
}

interface Side {
  name: string;
  ifindex: number;
  fd: number;
}

function open(name: string): Side {
  const ifindex = linkInfo(name).ifindex;
  const fd = check('socket', libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  const sll = Buffer.alloc(20);
  sll.writeUInt16LE(AF_PACKET, 0);
  sll.writeUInt16LE(htons(ETH_P_ALL), 2);
  sll.writeInt32LE(ifindex, 4);
  check('bind', libc.bind(fd, sll, 20));
  const mreq = Buffer.alloc(16);
  mreq.writeInt32LE(ifindex, 0);
  mreq.writeUInt16LE(PACKET_MR_PROMISC, 4);
  check('PACKET_ADD_MEMBERSHIP(promisc)', libc.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16));
  return { name, ifindex, fd };
}

const a = open(values.a!);
const b = open(values.b!);
const pct = (v: string | undefined, d: number) => (v === undefined ? d : Number(v) / 100);
const loss = { ab: pct(values['loss-ab'], pct(values.loss, 0)), ba: pct(values['loss-ba'], pct(values.loss, 0)) };
let dup = Number(values.dup) / 100;
let delay = Number(values.delay);
let jitter = Number(values.jitter);
// the box's own stalls: a frozen box is lost frames both ways, which a test should tell from the daemons'
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const counters = {
  ab: { rx: 0, dropped: 0, duplicated: 0, sent: 0 },
  ba: { rx: 0, dropped: 0, duplicated: 0, sent: 0 },
  loop: {
    get maxMs(): number {
      return Math.round(loopDelay.max / 1e4) / 100;
    },
  },
};

function send(to: Side, frame: Buffer, c: { sent: number }): void {
  const sll = Buffer.alloc(20);
  sll.writeUInt16LE(AF_PACKET, 0);
  sll.writeInt32LE(to.ifindex, 4);
  if (Number(libc.sendto(to.fd, frame, frame.length, 0, sll, 20)) >= 0) c.sent++;
}

function forward(from: Side, to: Side, dir: 'ab' | 'ba'): void {
  const buf = Buffer.alloc(65536);
  const addr = Buffer.alloc(20);
  const alen = [20];
  const c = counters[dir];
  reactor().add({
    fd: from.fd,
    onReadable: () => {
      for (let i = 0; i < 4096; i++) {
        alen[0] = 20;
        const n = Number(libc.recvfrom(from.fd, buf, buf.length, MSG_DONTWAIT, addr, alen));
        if (n < 0) {
          if (errno() !== EAGAIN) process.stderr.write(`impair: recv on ${from.name} failed (errno ${errno()})\n`);
          return;
        }
        if (addr.readUInt8(10) === PACKET_OUTGOING) continue; // our own forwarding
        c.rx++;
        if (random() < loss[dir]) {
          c.dropped++;
          continue;
        }
        const frame = Buffer.from(buf.subarray(0, n));
        const copies = random() < dup ? 2 : 1;
        if (copies === 2) c.duplicated++;
        for (let k = 0; k < copies; k++) {
          const wait = delay + (jitter > 0 ? (random() * 2 - 1) * jitter : 0);
          if (wait <= 0) send(to, frame, c);
          else setTimeout(() => send(to, frame, c), wait);
        }
      }
    },
  });
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    try {
      const v = JSON.parse(line) as { lossAb?: number; lossBa?: number; dup?: number; delay?: number; jitter?: number };
      if (v.lossAb !== undefined) loss.ab = v.lossAb / 100;
      if (v.lossBa !== undefined) loss.ba = v.lossBa / 100;
      if (v.dup !== undefined) dup = v.dup / 100;
      if (v.delay !== undefined) delay = v.delay;
      if (v.jitter !== undefined) jitter = v.jitter;
      process.stdout.write(JSON.stringify({ applied: { loss, dup, delay, jitter }, counters }) + '\n');
    } catch (e) {
      process.stdout.write(JSON.stringify({ error: (e as Error).message }) + '\n');
    }
  }
});

forward(a, b, 'ab');
forward(b, a, 'ba');
process.stdout.write(JSON.stringify({ ready: true, a: a.name, b: b.name, loss, dup, delay, jitter }) + '\n');
const stop = (): void => {
  process.stdout.write(JSON.stringify({ counters }) + '\n');
  // unwatch first: exit() would otherwise wait for the thread-pool poll() that watches them
  for (const s of [a, b]) {
    reactor().remove(s.fd);
    libc.close(s.fd);
  }
  setTimeout(() => process.exit(0), 50);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
