/**
 * lldpad's footprint, for tools that look for lldpad rather than talk to it:
 * - the pid file libvirt reads before every request (`/var/run/lldpad.pid`): the decimal
 *   pid, a newline, NUL padding to 32 octets, mode 0600, removed on exit — as lldpad writes it;
 * - the client-interface address `@/com/intel/lldpad` (abstract, per network namespace):
 *   ping `P` → `R00PPONG<pid>`, attach `A…` → `R00A`, detach `D` → `R00D`, level `L…` → `R00L`.
 *   Module commands (vdptool/lldptool queries, `M…`) get lldpad's "invalid" status `R04`:
 *   vdpd's own API (vdpctl) replaces them.
 * Holding the address also keeps a second lldpad (or vdpd) from starting in the namespace.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { UnixDgramSocket } from '../io/unix-dgram.js';
import type { Logger } from '../log.js';

export const CLIF_NAME = '/com/intel/lldpad';

export function clifReply(req: Buffer, pid: number): Buffer {
  const c = String.fromCharCode(req[0] ?? 0);
  switch (c) {
    case 'P':
      return Buffer.from(`R00PPONG${pid}`);
    case 'A':
    case 'D':
    case 'L':
      return Buffer.from(`R00${c}`);
    default:
      return Buffer.from('R04');
  }
}

export class ClifServer {
  readonly counters = { requests: 0, pings: 0, refused: 0 };
  private sock: UnixDgramSocket | undefined;

  constructor(private readonly log: Logger) {}

  start(): void {
    try {
      this.sock = UnixDgramSocket.bindAbstract(CLIF_NAME);
    } catch (e) {
      throw new Error(`cannot take lldpad's client address @${CLIF_NAME}: ${(e as Error).message} — lldpad (or another vdpd) already runs in this network namespace`);
    }
    this.sock.listen((d) => {
      this.counters.requests++;
      const reply = clifReply(d.data, process.pid);
      if (d.data[0] === 0x50) this.counters.pings++;
      if (reply.toString() === 'R04') this.counters.refused++;
      this.sock?.sendTo(reply, d.from);
    });
    this.log.info({ address: `@${CLIF_NAME}` }, 'lldpad-compatible client address bound');
  }

  close(): void {
    this.sock?.close();
  }
}

/** Write lldpad's pid file; refuses when it names another live process (lldpad running). */
export function writePidFile(path: string): void {
  try {
    const other = parseInt(readFileSync(path, 'utf8').replace(/\0/g, '').trim(), 10);
    if (other > 0 && other !== process.pid) {
      try {
        process.kill(other, 0);
        const comm = readFileSync(`/proc/${other}/comm`, 'utf8').trim();
        if (comm === 'lldpad' || comm.startsWith('node') || comm === 'vdpd') throw new Error(`${path} names running process ${other} (${comm}): stop it first`);
      } catch (e) {
        if ((e as Error).message.includes('stop it first')) throw e;
        // stale: the process is gone
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const b = Buffer.alloc(32);
  b.write(`${process.pid}\n`);
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, b, 0, 32, 0);
  } finally {
    closeSync(fd);
  }
}

export function removePidFile(path: string): void {
  try {
    const pid = parseInt(readFileSync(path, 'utf8').replace(/\0/g, '').trim(), 10);
    if (pid === process.pid) unlinkSync(path);
  } catch {
    // already gone
  }
}
