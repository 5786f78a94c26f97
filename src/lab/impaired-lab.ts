/**
 * Three namespaces in a row — station, an impairment box, bridge — for fault tests:
 *
 *   <prefix>-st/vdpst0 <==> <prefix>-mid/impa0 [impair.js: loss, duplication, delay]   <prefix>-mid/mb <==> <prefix>-br/vdpbr0
 *
 * The box forwards every frame between ma and mb (src/lab/impair.ts); its settings can be
 * changed by starting it again.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join, sep } from 'node:path';
import { LabError, nsExec, nsSpawn, requireLabPrivileges, uniqueSuffix, type VethEnd } from './netns.js';

const DIST = import.meta.dirname.includes(`${sep}dist${sep}`) ? join(import.meta.dirname, '..') : join(import.meta.dirname, '..', '..', 'dist', 'src');
export const IMPAIR = join(DIST, 'lab', 'impair.js');

export interface Impairment {
  /** percent lost station → bridge and bridge → station */
  lossToBridge?: number;
  lossToStation?: number;
  dup?: number;
  delayMs?: number;
  jitterMs?: number;
  seed?: number;
}

function ip(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new LabError(`ip ${args.join(' ')}: ${(err.stderr?.toString() ?? err.message).trim()}`);
  }
}

export class ImpairedLab {
  readonly station: VethEnd;
  readonly bridge: VethEnd;
  readonly mid: string;
  private created: string[] = [];
  private box: ChildProcess | undefined;
  boxOutput = '';

  constructor(readonly prefix = `vdpi${uniqueSuffix()}`) {
    this.station = { ns: `${prefix}-st`, ifname: 'vdpst0', mac: '02:76:64:70:00:01' };
    this.bridge = { ns: `${prefix}-br`, ifname: 'vdpbr0', mac: '02:76:64:70:00:02' };
    this.mid = `${prefix}-mid`;
  }

  up(): this {
    requireLabPrivileges();
    for (const ns of [this.station.ns, this.mid, this.bridge.ns]) {
      ip(['netns', 'add', ns]);
      this.created.push(ns);
      nsExec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ip(['link', 'add', this.station.ifname, 'netns', this.station.ns, 'address', this.station.mac, 'type', 'veth', 'peer', 'name', 'impa0', 'netns', this.mid]);
    ip(['link', 'add', this.bridge.ifname, 'netns', this.bridge.ns, 'address', this.bridge.mac, 'type', 'veth', 'peer', 'name', 'impb0', 'netns', this.mid]);
    for (const [ns, dev] of [[this.station.ns, this.station.ifname], [this.mid, 'impa0'], [this.mid, 'impb0'], [this.bridge.ns, this.bridge.ifname]] as const) ip(['-n', ns, 'link', 'set', 'dev', dev, 'up']);
    return this;
  }

  /**
   * Apply these settings: the first call starts the box, later calls change it in place
   * (no gap in forwarding). Returns the box's counters up to now (cumulative).
   */
  async impair(i: Impairment = {}): Promise<Record<string, Record<string, number>> | undefined> {
    if (this.box && this.box.exitCode === null) {
      const mark = this.boxOutput.length;
      this.box.stdin!.write(JSON.stringify({ lossAb: i.lossToBridge ?? 0, lossBa: i.lossToStation ?? 0, dup: i.dup ?? 0, delay: i.delayMs ?? 0, jitter: i.jitterMs ?? 0 }) + '\n');
      const end = Date.now() + 5000;
      while (!this.boxOutput.slice(mark).includes('"applied"')) {
        if (Date.now() > end) throw new LabError(`impairment box did not take the new settings: ${this.boxOutput.slice(mark)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const line = this.boxOutput.slice(mark).split('\n').find((l) => l.includes('"applied"'))!;
      return (JSON.parse(line) as { counters: Record<string, Record<string, number>> }).counters;
    }
    const args = [IMPAIR, '--a', 'impa0', '--b', 'impb0', '--loss-ab', String(i.lossToBridge ?? 0), '--loss-ba', String(i.lossToStation ?? 0), '--dup', String(i.dup ?? 0), '--delay', String(i.delayMs ?? 0), '--jitter', String(i.jitterMs ?? 0), '--seed', String(i.seed ?? 1)];
    const p = nsSpawn(this.mid, process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.box = p;
    this.boxOutput = '';
    p.stdout!.on('data', (d: Buffer) => (this.boxOutput += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (this.boxOutput += d.toString()));
    const end = Date.now() + 10_000;
    while (!this.boxOutput.includes('"ready":true')) {
      if (p.exitCode !== null) throw new LabError(`impairment box exited: ${this.boxOutput}`);
      if (Date.now() > end) throw new LabError(`impairment box did not start: ${this.boxOutput}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  /** Stop the box; returns its counters (frames received, dropped, duplicated, sent per direction). */
  async stopBox(): Promise<Record<string, Record<string, number>> | undefined> {
    const p = this.box;
    this.box = undefined;
    if (!p || p.exitCode !== null) return undefined;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await done;
    const line = this.boxOutput.split('\n').find((l) => l.includes('"counters"'));
    return line ? (JSON.parse(line) as { counters: Record<string, Record<string, number>> }).counters : undefined;
  }

  /** Remove the namespaces (the veths go with them). Never throws. */
  async cleanup(): Promise<void> {
    try {
      await this.stopBox();
    } catch {
      // gone
    }
    for (const ns of this.created.splice(0).reverse()) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}
