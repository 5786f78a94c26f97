/**
 * Live capture with libpcap (the `cap` binding) for `vdpctl capture`: any interface, e.g.
 * a switch mirror port between a real host and a real switch, with a BPF filter. libpcap
 * through `cap` opens the interface in promiscuous mode, as tcpdump does by default — a
 * mirror port needs it; vdpd's own daemon sockets never use it.
 */
import { createRequire } from 'node:module';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(ev: 'packet', cb: (nbytes: number, truncated: boolean) => void): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

const require = createRequire(import.meta.url);

export const DEFAULT_FILTER = 'ether proto 0x88cc or ether proto 0x8940 or ether proto 0x88b7 or (vlan and (ether proto 0x88cc or ether proto 0x8940))';

export interface LiveCapture {
  linkType: string;
  stop(): void;
}

export function startCapture(o: { ifname: string; filter?: string; onPacket: (frame: Uint8Array, ns: bigint) => void }): LiveCapture {
  const { Cap } = require('cap') as CapModule;
  const c = new Cap();
  const buf = Buffer.alloc(65536);
  const linkType = c.open(o.ifname, o.filter ?? DEFAULT_FILTER, 10 * 1024 * 1024, buf);
  c.on('packet', (n) => o.onPacket(new Uint8Array(buf.subarray(0, n)), BigInt(Date.now()) * 1_000_000n));
  return { linkType, stop: () => c.close() };
}
