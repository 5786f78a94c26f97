/**
 * vdpctl through netlink, the way libvirt drives lldpad (`--via netlink` on assoc, preassoc,
 * preassoc-rr, deassoc) and the iovnl requests (`vdpctl iov set|unset|status|mac-vlan`).
 * The daemon is found through its lldpad-style pid file.
 */
import type { Command } from 'commander';
import { EXIT, exitCodeFor, type CommandOutcome } from '../../api/protocol.js';
import { uuidToString } from '../../../pdu/bytes.js';
import { reasonText } from '../../../pdu/describe.js';
import type { VsiWire } from '../../../fsm/vsi.js';
import { LibvirtClient, NetlinkClientError, type PortOp, type VportProfile } from '../../netlink-client/libvirt.js';
import { IOV_STATUS, type IovMacVlan } from '../../../netlink/iovnl.js';
import type { VdpdExtension } from '../../../netlink/vdpd-ext.js';

export const DEFAULT_PID_FILE = process.env['VDPD_PID_FILE'] ?? '/var/run/lldpad.pid';

/** libvirt's messages carry a 1-octet manager ID, one MAC and one VLAN: the rest goes in vdpd's extension. */
export function profileFromWire(linkdev: string, w: VsiWire): VportProfile {
  const f0 = w.filters[0]!;
  const mgrOneOctet = w.managerId.every((b, i) => i === 0 || b === 0);
  const simple = mgrOneOctet && w.vsiidFormat === 5 && w.filterFormat === 2 && w.filters.length === 1 && w.hints === 0 && !f0.ps;
  const ext: VdpdExtension | undefined = simple
    ? undefined
    : {
        managerId: w.managerId,
        vsiidFormat: w.vsiidFormat,
        vsiid: w.vsiid,
        hints: w.hints,
        filterFormat: w.filterFormat,
        filters: w.filters.map((f) => ({ ps: f.ps, pcp: f.pcp, vid: f.vid, ...(f.mac !== undefined ? { mac: f.mac } : {}), ...(f.groupId !== undefined ? { groupId: f.groupId } : {}) })),
      };
  return {
    linkdev,
    mac: f0.mac ?? '00:00:00:00:00:00',
    mgrId: w.managerId[0]!,
    typeId: w.typeId,
    typeVersion: w.typeVersion,
    // GETLINK finds the VSI by instance UUID: non-UUID VSIIDs still need one in the request
    instanceUuid: w.vsiidFormat === 5 ? uuidToString(w.vsiid) : uuidToString(new Uint8Array(16).map((_, i) => w.vsiid[i] ?? 0)),
    ...(ext ? { ext } : {}),
  };
}

export function outcomeOfResponse(response: number, ms: number): CommandOutcome {
  if (response === 0) return { kind: 'success', latencyMs: ms };
  if (response === 0x105) return { kind: 'timeout' };
  const reason = response & 0x0f;
  return { kind: 'bridge-error', reason, reasonText: reasonText(reason), keep: (response & 0x20) !== 0, hard: (response & 0x10) !== 0 };
}

export interface NetlinkRunOpts {
  pidFile: string;
  poll: boolean;
  follow?: number;
  json?: boolean;
}

function out(json: boolean | undefined, v: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(v) + '\n' : text + '\n');
}

function openClient(pidFile: string): LibvirtClient {
  try {
    return new LibvirtClient(pidFile);
  } catch (e) {
    process.stderr.write(`vdpctl: netlink socket: ${(e as Error).message}\n`);
    process.exit(EXIT.unreachable);
  }
}

/** One libvirt-style operation; with --follow, stay and re-associate on an unsolicited disassociate, as libvirt does. */
export async function runViaNetlink(mode: PortOp, linkdev: string, w: VsiWire, o: NetlinkRunOpts): Promise<never> {
  const client = openClient(o.pidFile);
  const p = profileFromWire(linkdev, w);
  try {
    const r = await client.op(p, mode, { poll: o.poll });
    const outcome: CommandOutcome = o.poll ? outcomeOfResponse(r.response, r.totalMs) : { kind: 'pending' };
    out(o.json, { via: 'netlink', mode, uuid: p.instanceUuid, response: o.poll ? r.response : null, polls: r.polls, ackMs: r.ackMs, totalMs: r.totalMs, outcome }, `${mode} (netlink): ${o.poll ? `IFLA_PORT_RESPONSE ${r.response} after ${r.polls} poll(s), ${r.totalMs.toFixed(1)} ms` : `acknowledged in ${r.ackMs.toFixed(1)} ms`}`);
    if (o.follow && o.follow > 0) {
      client.onNotification((n) => {
        const port = n.request.ports[0] ?? n.request.self;
        out(o.json, { event: 'unsolicited', from: n.from, request: port?.request ?? null, uuid: port?.instanceUuid ? uuidToString(port.instanceUuid) : null }, `unsolicited RTM_SETLINK from port ${n.from}: request ${port?.request}`);
        if (port?.request === 3 && port.instanceUuid && uuidToString(port.instanceUuid) === p.instanceUuid) {
          // libvirt re-associates at once, "setlink only" (no polling)
          client.op(p, 'assoc', { poll: false }).then(
            () => out(o.json, { event: 're-associated', uuid: p.instanceUuid }, `re-associated ${p.instanceUuid}`),
            (e: unknown) => out(o.json, { event: 're-associate-failed', error: (e as Error).message }, `re-associate failed: ${(e as Error).message}`),
          );
        }
      });
      await new Promise((r) => setTimeout(r, o.follow! * 1000));
    }
    client.close();
    process.exit(exitCodeFor(outcome));
  } catch (e) {
    client.close();
    if (e instanceof NetlinkClientError) {
      process.stderr.write(`vdpctl: ${e.message}\n`);
      process.exit(e.kind === 'no-daemon' || e.kind === 'ack-timeout' ? EXIT.unreachable : e.kind === 'refused' ? EXIT.rejected : e.kind === 'poll-timeout' ? EXIT.timeout : EXIT.rejected);
    }
    throw e;
  }
}

function parseUuid(s: string): Uint8Array {
  const h = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(h)) {
    process.stderr.write(`vdpctl: ${JSON.stringify(s)} is not a UUID\n`);
    process.exit(EXIT.usage);
  }
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

function parseMacVlan(s: string): IovMacVlan {
  const m = /^([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?:[,/@](\d+))?$/.exec(s);
  if (!m || Number(m[2] ?? 0) > 4095) {
    process.stderr.write(`vdpctl: ${JSON.stringify(s)}: expected MAC[,VID] (VID 0..4095)\n`);
    process.exit(EXIT.usage);
  }
  return { mac: m[1]!.toLowerCase(), vid: Number(m[2] ?? 0), pcp: 0, ps: false };
}

interface IovOpts {
  iface: string;
  vf?: string;
  uuid: string;
  profile?: string;
  typeId?: string;
  typeVersion?: string;
  mgrid?: string;
  macVlan: string[];
  request?: string;
  hostUuid?: string;
  pidFile: string;
  json?: boolean;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

export function registerIovCommands(program: Command): void {
  const iov = program.command('iov').description('iovnl requests (RTM_SETIOV / RTM_GETIOV) to vdpd over netlink');
  const common = (c: Command): Command =>
    c
      .requiredOption('-i, --iface <name>', 'uplink interface (the VDP port)')
      .requiredOption('--uuid <uuid>', 'guest instance UUID (the VSIID)')
      .option('--pid-file <path>', 'daemon pid file (its netlink port)', DEFAULT_PID_FILE)
      .option('--json', 'JSON output');
  const run = async (o: IovOpts, cmd: 'SET_PORT_PROFILE' | 'UNSET_PORT_PROFILE' | 'GET_PORT_PROFILE_STATUS' | 'SET_MAC_VLAN'): Promise<never> => {
    const client = openClient(o.pidFile);
    try {
      const r = await client.iov({
        cmd,
        ifname: o.iface,
        ...(o.vf !== undefined ? { vfIfname: o.vf } : {}),
        instanceUuid: parseUuid(o.uuid),
        ...(o.profile !== undefined ? { profile: o.profile } : {}),
        ...(o.typeId !== undefined ? { typeId: Number(o.typeId) } : {}),
        ...(o.typeVersion !== undefined ? { typeVersion: Number(o.typeVersion) } : {}),
        ...(o.mgrid !== undefined ? { managerId: Uint8Array.from(Buffer.from(o.mgrid.replace(/-/g, '').padEnd(32, '0'), 'hex')) } : {}),
        ...(o.hostUuid !== undefined ? { hostUuid: parseUuid(o.hostUuid) } : {}),
        ...(o.request !== undefined ? { request: ['preassoc', 'preassoc-rr', 'assoc'].indexOf(o.request) } : {}),
        macVlans: o.macVlan.map(parseMacVlan),
      });
      client.close();
      if ('errno' in r) {
        out(o.json, { cmd, errno: r.errno }, r.errno === 0 ? `${cmd}: accepted` : `${cmd}: refused, errno ${r.errno}`);
        process.exit(r.errno === 0 ? EXIT.success : EXIT.rejected);
      }
      const json = { cmd, ifname: r.ifname, uuid: uuidToString(r.instanceUuid), status: r.status, statusCode: IOV_STATUS[r.status], vdpStatus: r.vdpStatus ?? null };
      out(o.json, json, `${json.uuid} on ${json.ifname}: ${r.status}${r.vdpStatus !== undefined ? ` (VDP status 0x${r.vdpStatus.toString(16)})` : ''}`);
      process.exit(EXIT.success);
    } catch (e) {
      client.close();
      process.stderr.write(`vdpctl: ${(e as Error).message}\n`);
      process.exit(e instanceof NetlinkClientError && (e.kind === 'no-daemon' || e.kind === 'ack-timeout') ? EXIT.unreachable : EXIT.rejected);
    }
  };
  common(iov.command('set').description('SET_PORT_PROFILE: associate (or pre-associate) the VM interface'))
    .requiredOption('--vf <ifname>', 'the VM interface (must exist)')
    .option('--profile <name>', 'profile name from the config (netlink.profiles)')
    .option('--type-id <n>', 'VSI type ID')
    .option('--type-version <n>', 'VSI type version')
    .option('--mgrid <hex>', '16-octet VSI manager ID in hex')
    .option('--mac-vlan <mac[,vid]>', 'filter, repeatable (default: the VF MAC, VID 0)', collect, [])
    .option('--request <r>', 'preassoc | preassoc-rr | assoc (default assoc)')
    .option('--host-uuid <uuid>', 'host UUID (metadata)')
    .action((o: IovOpts) => run(o, 'SET_PORT_PROFILE'));
  common(iov.command('unset').description('UNSET_PORT_PROFILE: de-associate'))
    .requiredOption('--vf <ifname>', 'the VM interface (must exist)')
    .action((o: IovOpts) => run({ ...o, macVlan: [] }, 'UNSET_PORT_PROFILE'));
  common(iov.command('status').description('GET_PORT_PROFILE_STATUS')).action((o: IovOpts) => run({ ...o, macVlan: [] }, 'GET_PORT_PROFILE_STATUS'));
  common(iov.command('mac-vlan').description('SET_MAC_VLAN: the MAC/VLAN list for the next SET_PORT_PROFILE'))
    .requiredOption('--vf <ifname>', 'the VM interface (must exist)')
    .option('--mac-vlan <mac[,vid]>', 'filter, repeatable', collect, [])
    .action((o: IovOpts) => run(o, 'SET_MAC_VLAN'));
}

export function describeResponse(r: number): string {
  return r === 0 ? 'success' : r === 0x105 ? 'error (no answer from the bridge)' : `bridge error ${r & 0x0f}: ${reasonText(r & 0x0f)}`;
}

/** `vdpctl nl-raw HEX`: send raw bytes to the daemon's netlink port and print its reply (lab and fuzz use). */
export function registerNlRawCommand(program: Command): void {
  program
    .command('nl-raw')
    .description('send one raw netlink datagram (hex) to the daemon\'s port and print the reply')
    .argument('<hex>', 'the datagram, hex')
    .option('--pid-file <path>', 'daemon pid file (its netlink port)', DEFAULT_PID_FILE)
    .option('--timeout <ms>', 'reply wait', '2000')
    .option('--json', 'JSON output')
    .action(async (hex: string, o: { pidFile: string; timeout: string; json?: boolean }) => {
      const bytes = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
      const { NetlinkSocket } = await import('../../io/netlink-socket.js');
      const { readDaemonPid } = await import('../../netlink-client/libvirt.js');
      let dst: number;
      try {
        dst = readDaemonPid(o.pidFile);
      } catch (e) {
        process.stderr.write(`vdpctl: ${(e as Error).message}\n`);
        process.exit(EXIT.unreachable);
      }
      const s = NetlinkSocket.client();
      const reply = new Promise<Uint8Array | undefined>((resolve) => {
        const t = setTimeout(() => resolve(undefined), Number(o.timeout));
        s.listen((d) => {
          clearTimeout(t);
          resolve(d.data);
        });
      });
      try {
        s.sendOrThrow(bytes, dst);
      } catch (e) {
        s.close();
        process.stderr.write(`vdpctl: ${(e as Error).message}\n`);
        process.exit(EXIT.unreachable);
      }
      const r = await reply;
      s.close();
      // NLMSG_ERROR: the errno is the s32 after the 16-octet header
      const errno = r && r.length >= 20 && Buffer.from(r).readUInt16LE(4) === 2 ? -Buffer.from(r).readInt32LE(16) : null;
      out(o.json, { reply: r ? Buffer.from(r).toString('hex') : null, errno }, r ? `reply ${Buffer.from(r).toString('hex')}${errno !== null ? ` (errno ${errno})` : ''}` : 'no reply');
      process.exit(r ? EXIT.success : EXIT.timeout);
    });
}
