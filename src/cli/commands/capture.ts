/** vdpctl capture IFACE FILE.pcap: record LLDP/ECP frames seen on any interface (libpcap + BPF). */
import type { Command } from 'commander';
import { decodeFrame } from '../../../pdu/frame.js';
import { summarizeFrame } from '../../../pdu/describe.js';
import { PduError } from '../../../pdu/errors.js';
import { DEFAULT_FILTER, startCapture } from '../../io/capture.js';
import { PcapWriter } from '../../pcap/file.js';

export function registerCaptureCommand(program: Command): void {
  program
    .command('capture')
    .description('capture LLDP/ECP frames on an interface (e.g. a switch mirror port) to a pcap file')
    .argument('<iface>', 'interface')
    .argument('<file>', 'output file (.pcap is added when missing)')
    .option('--filter <bpf>', 'BPF filter', DEFAULT_FILTER)
    .option('--count <n>', 'stop after N frames')
    .option('--duration <s>', 'stop after S seconds')
    .option('--quiet', 'do not print a line per frame')
    .action((iface: string, file: string, o: { filter: string; count?: string; duration?: string; quiet?: boolean }) => {
      const w = new PcapWriter({ path: file.replace(/\.pcap$/, '') });
      let n = 0;
      const max = o.count ? Number(o.count) : Infinity;
      let cap: ReturnType<typeof startCapture>;
      const stop = (): void => {
        cap.stop();
        w.close();
        process.stderr.write(`vdpctl capture: ${n} frames written to ${w.files[0] ?? file}\n`);
        process.exit(0);
      };
      try {
        cap = startCapture({
          ifname: iface,
          filter: o.filter,
          onPacket: (frame) => {
            w.write(PcapWriter.now(), frame);
            n++;
            if (!o.quiet) {
              let line: string;
              try {
                line = summarizeFrame(decodeFrame(frame));
              } catch (e) {
                line = e instanceof PduError ? `MALFORMED ${e.message}` : String(e);
              }
              process.stdout.write(`${String(n).padStart(6)}  ${line}\n`);
            }
            if (n >= max) stop();
          },
        });
      } catch (e) {
        process.stderr.write(`vdpctl capture: cannot capture on ${iface}: ${(e as Error).message}\n`);
        process.exit(2);
      }
      if (o.duration) setTimeout(stop, Number(o.duration) * 1000);
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
