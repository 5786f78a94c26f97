/** Raw AF_PACKET sockets between two namespaces: byte-exact delivery, bursts, no promiscuous mode. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsExec, VethLab } from '../../src/lab/netns.js';
import { prepare, ROOT } from './helpers.js';

const SELFTEST = join(ROOT, 'dist', 'src', 'io', 'selftest.js');
let lab: VethLab;

beforeAll(() => {
  prepare();
  lab = new VethLab().up();
});
afterAll(() => lab?.cleanup());

function receiver(ethertype: string, count: number, timeoutMs: number): Promise<{ received: number; distinct: number; first: string[]; kernel: { packets: number; drops: number }; promisc: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', lab.bridge.ns, process.execPath, SELFTEST, 'recv', lab.bridge.ifname, ethertype, String(count), String(timeoutMs)]);
    let out = '';
    let ready: () => void = () => {};
    const readyP = new Promise<void>((r) => (ready = r));
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) ready();
    });
    p.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
      else reject(new Error(`receiver said: ${out}`));
    });
    (receiver as unknown as { ready: Promise<void> }).ready = readyP;
  });
}

async function withReceiver(ethertype: string, count: number, timeoutMs: number, send: () => void) {
  const r = receiver(ethertype, count, timeoutMs);
  await (receiver as unknown as { ready: Promise<void> }).ready;
  send();
  return r;
}

describe('AF_PACKET sockets through koffi', () => {
  it('a 10,000-frame burst to the group address arrives complete, byte-exact, without drops or promiscuous mode', async () => {
    const r = await withReceiver('8940', 10_000, 15_000, () => {
      nsExec(lab.station.ns, process.execPath, [SELFTEST, 'send', lab.station.ifname, '8940', '10000']);
    });
    expect(r.received).toBe(10_000);
    expect(r.distinct).toBe(10_000);
    expect(r.kernel.drops).toBe(0);
    expect(r.promisc).toBe(false);
    expect(r.first[0]).toBe(`0180c2000000${lab.station.mac.replace(/:/g, '')}894000000000${'00'.repeat(42)}`);
  });

  it('the ECP socket does not get LLDP frames, nor frames to a unicast MAC that is not ours', async () => {
    const lldp = `0180c2000000${lab.station.mac.replace(/:/g, '')}88cc${'00'.repeat(46)}`;
    const otherUnicast = `020000000099${lab.station.mac.replace(/:/g, '')}8940${'00'.repeat(46)}`;
    const good = `0180c2000000${lab.station.mac.replace(/:/g, '')}8940${'11'.repeat(46)}`;
    const r = await withReceiver('8940', 1, 3000, () => {
      nsExec(lab.station.ns, process.execPath, [SELFTEST, 'send', lab.station.ifname, '88cc', '3', lldp]);
      nsExec(lab.station.ns, process.execPath, [SELFTEST, 'send', lab.station.ifname, '8940', '3', otherUnicast]);
      nsExec(lab.station.ns, process.execPath, [SELFTEST, 'send', lab.station.ifname, '8940', '1', good]);
    });
    expect(r.received).toBe(1);
    expect(r.first).toEqual([good]);
  });
});

describe('vdpctl capture (libpcap)', () => {
  it('records the LLDP/ECP frames crossing an interface and nothing else', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { parsePcap } = await import('../../pdu/pcap.js');
    const out = join(mkdtempSync(join(tmpdir(), 'vdpd-cap-')), 'mirror');
    const cap = spawn('ip', ['netns', 'exec', lab.bridge.ns, process.execPath, join(ROOT, 'dist', 'src', 'cli', 'vdpctl.cjs'), 'capture', lab.bridge.ifname, out, '--count', '5', '--duration', '10', '--quiet']);
    let err = '';
    cap.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    const mac = lab.station.mac.replace(/:/g, '');
    nsExec(lab.station.ns, process.execPath, [SELFTEST, 'send', lab.station.ifname, '0800', '3', `ffffffffffff${mac}0800${'00'.repeat(46)}`]);
    nsExec(lab.station.ns, process.execPath, [SELFTEST, 'send', lab.station.ifname, '8940', '5']);
    const code = await new Promise<number | null>((r) => cap.on('exit', r));
    expect(code, err).toBe(0);
    const recs = parsePcap(new Uint8Array(readFileSync(`${out}.pcap`)));
    expect(recs).toHaveLength(5);
    expect(recs.every((r) => r.data[12] === 0x89 && r.data[13] === 0x40)).toBe(true);
  });
});
