/**
 * Network namespaces and veth pairs for the lab, the demo and the integration tests.
 * Every namespace name carries a unique suffix so parallel runs never collide, and
 * cleanup() removes only what this object created.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export class LabError extends Error {
  override readonly name = 'LabError';
}

/** Fail loudly (not skip) when the lab cannot run here. */
export function requireLabPrivileges(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the namespace lab needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): run as root');
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new LabError('iproute2 (`ip`) is missing: apt-get install iproute2');
  }
}

export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function requireCommand(cmd: string, debianPackage: string): void {
  if (!haveCommand(cmd)) throw new LabError(`\`${cmd}\` is missing: apt-get install ${debianPackage}`);
}

function ip(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new LabError(`ip ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
  }
}

export function uniqueSuffix(): string {
  return `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
}

export interface VethEnd {
  ns: string;
  ifname: string;
  mac: string;
}

/** Run a command inside a namespace and return stdout (throws LabError with stderr on failure). */
export function nsExec(ns: string, cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
      encoding: 'utf8',
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new LabError(`[${ns}] ${cmd} ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
  }
}

/** Start a long-running process inside a namespace. */
export function nsSpawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/**
 * Two namespaces joined by a veth pair:  <prefix>-st/<stIf>  <==>  <prefix>-br/<brIf>.
 * IPv6 is disabled inside both so captures hold only what the test sends.
 */
export class VethLab {
  readonly station: VethEnd;
  readonly bridge: VethEnd;
  private created: string[] = [];

  constructor(
    readonly prefix = `vdpt${uniqueSuffix()}`,
    opts: { stationMac?: string; bridgeMac?: string; stationIf?: string; bridgeIf?: string } = {},
  ) {
    this.station = { ns: `${prefix}-st`, ifname: opts.stationIf ?? 'vdpst0', mac: opts.stationMac ?? '02:76:64:70:00:01' };
    this.bridge = { ns: `${prefix}-br`, ifname: opts.bridgeIf ?? 'vdpbr0', mac: opts.bridgeMac ?? '02:76:64:70:00:02' };
  }

  up(): this {
    requireLabPrivileges();
    for (const end of [this.station, this.bridge]) {
      ip(['netns', 'add', end.ns]);
      this.created.push(end.ns);
      nsExec(end.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      ip(['-n', end.ns, 'link', 'set', 'lo', 'up']);
    }
    ip([
      'link', 'add', this.station.ifname, 'netns', this.station.ns, 'address', this.station.mac,
      'type', 'veth', 'peer', 'name', this.bridge.ifname, 'netns', this.bridge.ns, 'address', this.bridge.mac,
    ]);
    this.setLink('station', true);
    this.setLink('bridge', true);
    return this;
  }

  setLink(side: 'station' | 'bridge', up: boolean): void {
    const end = side === 'station' ? this.station : this.bridge;
    ip(['-n', end.ns, 'link', 'set', end.ifname, up ? 'up' : 'down']);
  }

  /** Random ingress loss on one side (this kernel has no sch_netem): nftables netdev hook. 100: everything dropped. */
  setLoss(side: 'station' | 'bridge', percent: number): void {
    const end = side === 'station' ? this.station : this.bridge;
    try {
      nsExec(end.ns, 'nft', ['delete', 'table', 'netdev', 'vdplab']);
    } catch {
      // no table yet
    }
    if (percent <= 0) return;
    const rules = `table netdev vdplab {
  chain ing {
    type filter hook ingress device "${end.ifname}" priority 0; policy accept;
    ${percent >= 100 ? '' : `numgen random mod 100 < ${Math.round(percent)} `}counter drop
  }
}
`;
    nsExec(end.ns, 'nft', ['-f', '-'], rules);
  }

  /** Remove both namespaces (the veth pair goes with them). Never throws. */
  cleanup(): void {
    for (const ns of this.created.splice(0).reverse()) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}
