/**
 * vdpctl assoc | preassoc | preassoc-rr | deassoc | status | list | watch | counters |
 * interfaces — the client side of vdpd's local API (src/api/).
 */
import type { Command } from 'commander';
import { ApiClient } from '../../api/client.js';
import { ApiError, EXIT, exitCodeFor, type CommandOutcome } from '../../api/protocol.js';
import { VsiSpecError, vsiSpecToWire, type FilterSpec, type HintName, type VsiSpec, type VsiidFormatName } from '../../api/vsi-spec.js';
import type { VsiMode } from '../../../pdu/types.js';
import { DEFAULT_PID_FILE, runViaNetlink } from './netlink.js';

export const DEFAULT_SOCKET = process.env['VDPD_SOCKET'] ?? '/run/vdpd/vdpd.sock';

/**
 * A filter entry, in vdptool's syntax `<vlan16>[-<mac>[-<gid>]]` or `<vlan16>--<gid>`
 * (vlan16 = the whole PS/PCP/VID field, decimal or 0x hex), or as key=value pairs:
 * `vid=100,mac=02:00:00:00:00:01,gid=7,pcp=3,ps`.
 */
export function parseFilter(text: string): FilterSpec {
  const bad = (why: string): never => {
    throw new VsiSpecError('filter', `${JSON.stringify(text)}: ${why}`);
  };
  if (text.includes('=')) {
    const f: FilterSpec = { vid: -1 };
    for (const part of text.split(',')) {
      const [k, v] = part.split('=', 2) as [string, string | undefined];
      const num = (): number => {
        const n = Number(v);
        if (v === undefined || v === '' || !Number.isInteger(n)) bad(`${k} needs an integer`);
        return n;
      };
      switch (k.trim()) {
        case 'vid':
          f.vid = num();
          break;
        case 'mac':
          if (!v) bad('mac needs a value');
          f.mac = v;
          break;
        case 'gid':
        case 'groupId':
          f.groupId = num();
          break;
        case 'pcp':
          f.pcp = num();
          break;
        case 'ps':
          f.ps = v === undefined || v === '1' || v === 'true';
          break;
        default:
          bad(`unknown key ${k}`);
      }
    }
    if (f.vid < 0) bad('vid is required');
    return f;
  }
  const m = /^(0x[0-9a-fA-F]+|\d+)(?:-([0-9a-fA-F:]{17})?(?:-(\d+))?)?$/.exec(text);
  if (!m) bad('expected <vlan16>[-<mac>[-<gid>]], <vlan16>--<gid> or vid=..,mac=..');
  const vlan16 = Number(m![1]);
  if (vlan16 > 0xffff) bad('vlan16 is at most 65535 (PS bit 15, PCP bits 14..12, VID bits 11..0)');
  const f: FilterSpec = { vid: vlan16 & 0xfff, pcp: (vlan16 >> 12) & 7, ps: (vlan16 & 0x8000) !== 0 };
  if (m![2] !== undefined) f.mac = m![2];
  if (m![3] !== undefined) f.groupId = Number(m![3]);
  return f;
}

interface VsiOpts {
  iface: string;
  mgrid: string;
  typeId: string;
  typeVersion: string;
  uuid?: string;
  vsiid?: string;
  vsiidFormat: VsiidFormatName;
  filter: string[];
  hints: HintName;
  wait?: string | boolean;
  json?: boolean;
  socket: string;
  via: string;
  pidFile: string;
  linkdev?: string;
  poll: boolean;
  follow?: string;
}

function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}

function specFrom(o: VsiOpts): VsiSpec {
  const vsiid = o.uuid ?? o.vsiid;
  if (vsiid === undefined) throw new VsiSpecError('vsiid', 'give --uuid (or --vsiid with --vsiid-format)');
  const managerId = /^\d+$/.test(o.mgrid) ? Number(o.mgrid) : o.mgrid;
  return {
    managerId,
    typeId: Number(o.typeId),
    typeVersion: Number(o.typeVersion),
    vsiidFormat: o.vsiidFormat,
    vsiid,
    filters: o.filter.map(parseFilter),
    hints: o.hints,
  };
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}

async function withClient<T>(socket: string, fn: (c: ApiClient) => Promise<T>): Promise<T> {
  let client: ApiClient;
  try {
    client = await ApiClient.connect(socket);
  } catch (e) {
    process.stderr.write(`vdpctl: ${(e as Error).message}\n`);
    process.exit(EXIT.unreachable);
  }
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function failLocal(e: unknown): never {
  if (e instanceof VsiSpecError) {
    process.stderr.write(`vdpctl: invalid VSI: ${e.message}\n`);
    process.exit(EXIT.usage);
  }
  if (e instanceof ApiError) {
    process.stderr.write(`vdpctl: refused (${e.code}): ${e.message}\n`);
    process.exit(e.code === 'ECONNRESET' ? EXIT.unreachable : EXIT.rejected);
  }
  throw e;
}

function describeOutcome(o: CommandOutcome): string {
  switch (o.kind) {
    case 'success':
      return `success${o.latencyMs !== undefined ? ` in ${o.latencyMs.toFixed(1)} ms` : ''}`;
    case 'bridge-error':
      return `bridge error ${o.reason}: ${o.reasonText ?? ''}${o.keep ? ' (keep: previous state kept)' : ''}${o.hard ? ' (hard)' : ''}`;
    case 'timeout':
      return 'no response from the bridge within respWaitDelay';
    case 'no-bridge':
      return 'no bridge: EVB not negotiated or ECP frames unacknowledged';
    case 'deassoc-by-bridge':
      return 'de-associated by the bridge';
    case 'pending':
      return 'in progress (not answered yet)';
  }
}

function addVsiCommand(program: Command, mode: VsiMode, summary: string): void {
  program
    .command(mode)
    .description(summary)
    .requiredOption('-i, --iface <name>', 'interface facing the bridge')
    .requiredOption('--mgrid <id>', 'VSI manager ID: name (ASCII), 0..255, hex:<digits> or uuid:<uuid>')
    .requiredOption('--type-id <n>', 'VSI type ID (0..16777215)')
    .requiredOption('--type-version <n>', 'VSI type version (0..255)')
    .option('--uuid <uuid>', 'VSI instance UUID (VSIID format uuid)')
    .option('--vsiid <id>', 'VSIID in the chosen --vsiid-format')
    .option('--vsiid-format <f>', 'uuid | mac | ipv4 | ipv6 | local', 'uuid')
    .option('--filter <f>', 'filter entry, repeatable: <vlan16>[-<mac>[-<gid>]] or vid=..,mac=..,gid=..,pcp=..,ps', collect, [])
    .option('--hints <h>', 'migration hints: none | to (M bit) | from (S bit)', 'none')
    .option('--wait [seconds]', 'wait for the bridge response (default 30 s)')
    .option('--json', 'JSON output')
    .option('--socket <path>', 'vdpd API socket', DEFAULT_SOCKET)
    .option('--via <path>', 'api (vdpd\'s socket) | netlink (RTM_SETLINK/GETLINK as libvirt sends them)', 'api')
    .option('--pid-file <path>', 'with --via netlink: the daemon\'s pid file (its netlink port)', DEFAULT_PID_FILE)
    .option('--linkdev <ifname>', 'with --via netlink: the VM\'s device (macvtap/VLAN); the root device is found from it (default: --iface)')
    .option('--no-poll', 'with --via netlink: do not poll for the result (libvirt\'s re-associate)')
    .option('--follow <seconds>', 'with --via netlink: stay, print unsolicited notifications and re-associate as libvirt does')
    .action(async (o: VsiOpts) => {
      let spec: VsiSpec;
      let wire;
      try {
        spec = specFrom(o);
        wire = vsiSpecToWire(spec); // refuse bad input here, with exit code 2, before talking to vdpd
      } catch (e) {
        failLocal(e);
      }
      if (o.via === 'netlink') {
        await runViaNetlink(mode, o.linkdev ?? o.iface, wire, { pidFile: o.pidFile, poll: o.poll, ...(o.follow !== undefined ? { follow: Number(o.follow) } : {}), ...(o.json ? { json: true } : {}) });
      } else if (o.via !== 'api') {
        failLocal(new VsiSpecError('via', 'api or netlink'));
      }
      const waitMs = o.wait === undefined ? undefined : o.wait === true ? 30_000 : Number(o.wait) * 1000;
      if (waitMs !== undefined && !(waitMs >= 0)) failLocal(new VsiSpecError('wait', 'seconds must be a number'));
      const res = (await withClient(o.socket, (c) =>
        c.call(waitMs === undefined ? { op: 'command', iface: o.iface, mode, vsi: spec } : { op: 'command', iface: o.iface, mode, vsi: spec, waitMs }),
      ).catch(failLocal)) as { outcome?: CommandOutcome };
      const outcome = res.outcome;
      if (!outcome || waitMs === undefined) {
        print(o.json, res, () => `${mode}: accepted`);
        process.exit(EXIT.success);
      }
      print(o.json, res, () => `${mode}: ${describeOutcome(outcome)}`);
      process.exit(exitCodeFor(outcome));
    });
}

interface QueryOpts {
  iface?: string;
  uuid?: string;
  json?: boolean;
  socket: string;
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

export function registerVsiCommands(program: Command): void {
  addVsiCommand(program, 'preassoc', 'pre-associate a VSI (register it with the bridge without activating it)');
  addVsiCommand(program, 'preassoc-rr', 'pre-associate a VSI with resource reservation');
  addVsiCommand(program, 'assoc', 'associate a VSI (the bridge activates its filters)');
  addVsiCommand(program, 'deassoc', 'de-associate a VSI');

  program
    .command('status')
    .description("a VSI's state, or every VSI on an interface")
    .option('-i, --iface <name>', 'interface')
    .option('--uuid <uuid>', 'VSI instance UUID / VSIID text')
    .option('--json', 'JSON output')
    .option('--socket <path>', 'vdpd API socket', DEFAULT_SOCKET)
    .action(async (o: QueryOpts) => {
      const res = await withClient(o.socket, (c) => {
        const req: { op: 'status'; iface?: string; vsiid?: string } = { op: 'status' };
        if (o.iface !== undefined) req.iface = o.iface;
        if (o.uuid !== undefined) req.vsiid = o.uuid;
        return c.call(req);
      }).catch(failLocal);
      print(o.json, res, () => (Array.isArray(res) ? table(res as Record<string, unknown>[]) : JSON.stringify(res, null, 2)));
    });

  program
    .command('list')
    .description('VSI table (station: requested VSIs; bridge: associated VSIs)')
    .option('-i, --iface <name>', 'interface')
    .option('--json', 'JSON output')
    .option('--socket <path>', 'vdpd API socket', DEFAULT_SOCKET)
    .action(async (o: QueryOpts) => {
      const res = await withClient(o.socket, (c) => c.call(o.iface === undefined ? { op: 'list' } : { op: 'list', iface: o.iface })).catch(failLocal);
      print(o.json, res, () => table(res as Record<string, unknown>[]));
    });

  program
    .command('interfaces')
    .description('interfaces, their role, EVB state and negotiated parameters')
    .option('--json', 'JSON output')
    .option('--socket <path>', 'vdpd API socket', DEFAULT_SOCKET)
    .action(async (o: QueryOpts) => {
      const res = await withClient(o.socket, (c) => c.call({ op: 'interfaces' })).catch(failLocal);
      print(o.json, res, () => table(res as Record<string, unknown>[]));
    });

  program
    .command('counters')
    .description('per-interface counters: frames, retries, failures, VDP commands by result')
    .option('-i, --iface <name>', 'interface')
    .option('--json', 'JSON output')
    .option('--socket <path>', 'vdpd API socket', DEFAULT_SOCKET)
    .action(async (o: QueryOpts) => {
      const res = await withClient(o.socket, (c) => c.call(o.iface === undefined ? { op: 'counters' } : { op: 'counters', iface: o.iface })).catch(failLocal);
      print(o.json, res, () => JSON.stringify(res, null, 2));
    });

  program
    .command('watch')
    .description('stream state changes and VDP outcomes as they happen')
    .option('--json', 'one JSON object per line')
    .option('--socket <path>', 'vdpd API socket', DEFAULT_SOCKET)
    .action(async (o: QueryOpts) => {
      let client: ApiClient;
      try {
        client = await ApiClient.connect(o.socket);
      } catch (e) {
        process.stderr.write(`vdpctl: ${(e as Error).message}\n`);
        process.exit(EXIT.unreachable);
      }
      await client.watch((ev) => {
        const e = ev as { text?: string };
        process.stdout.write(o.json || e.text === undefined ? JSON.stringify(ev) + '\n' : e.text + '\n');
      });
      await new Promise<void>(() => {});
    });
}
