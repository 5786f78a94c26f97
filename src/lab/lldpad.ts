/**
 * Debian's lldpad as a real 802.1Qbg peer inside a network namespace (bridge or station
 * role), for the lab, the demo and the integration tests. What it takes to run two of them
 * (or one next to anything else) on one machine:
 *  - lldpad 1.1 keeps its "already running" marker in POSIX shm (/dev/shm/lldpad.state) and
 *    its pid file at /run/lldpad.pid: each instance gets a private mount namespace with its
 *    own directories bind-mounted over /run and /dev/shm (unshare --ipc alone no longer helps);
 *  - the VDP role is latched when ECP/VDP start, so `evbmode` must be in the -f config file
 *    before lldpad starts (setting it later with lldptool leaves a "bridge" that never answers);
 *  - stdout is block-buffered into the log file unless run under stdbuf -oL;
 *  - EVB must be enabled (lldptool) and negotiated before VDP requests are accepted.
 * Only the pid this object started is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, nsExec, requireCommand } from './netns.js';

export interface LldpadEvb {
  rte?: number;
  retries?: number;
  rwd?: number;
  rka?: number;
  rrreq?: boolean;
  rrcap?: boolean;
  gpid?: boolean;
}

export interface LldpadOptions {
  ns: string;
  ifname: string;
  role: 'bridge' | 'station';
  stateDir: string;
  evb?: LldpadEvb;
  /** lldpad -V level (default 4, warnings) */
  logLevel?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LldpadPeer {
  private proc: ChildProcess | undefined;
  pid = 0;

  private constructor(readonly o: LldpadOptions) {}

  static async start(o: LldpadOptions): Promise<LldpadPeer> {
    requireCommand('lldpad', 'lldpad');
    requireCommand('lldptool', 'lldpad');
    const p = new LldpadPeer(o);
    await p.launch();
    return p;
  }

  get confPath(): string {
    return join(this.o.stateDir, 'lldpad.conf');
  }

  get logPath(): string {
    return join(this.o.stateDir, 'lldpad.log');
  }

  private writeConfig(): void {
    const e = this.o.evb ?? {};
    const lines = [
      `enableTx = true;`,
      `evbmode = "${this.o.role}";`,
      `evbrrreq = ${this.o.role === 'station' ? (e.rrreq ?? true) : false};`,
      `evbrrcap = ${this.o.role === 'bridge' ? (e.rrcap ?? true) : false};`,
      `evbgpid = ${e.gpid ?? false};`,
    ];
    if (e.rte !== undefined) lines.push(`ecprte = ${e.rte};`);
    if (e.retries !== undefined) lines.push(`ecpretries = ${e.retries};`);
    if (e.rwd !== undefined) lines.push(`vdprwd = ${e.rwd};`);
    if (e.rka !== undefined) lines.push(`vdprka = ${e.rka};`);
    writeFileSync(
      this.confPath,
      `# written by vdpd's lab (src/lab/lldpad.ts); lldpad may rewrite it\ndcbx :\n{\n  version = "1.0";\n  dcbx_version = 2;\n};\nnearest_customer_bridge :\n{\n  ${this.o.ifname} :\n  {\n    adminStatus = 3;\n    tlvid0080c20d :\n    {\n      ${lines.join('\n      ')}\n    };\n  };\n};\n`,
    );
  }

  private async launch(): Promise<void> {
    const d = this.o.stateDir;
    mkdirSync(join(d, 'run'), { recursive: true });
    mkdirSync(join(d, 'shm'), { recursive: true });
    rmSync(join(d, 'run', 'lldpad.pid'), { force: true });
    rmSync(join(d, 'shm', 'lldpad.state'), { force: true });
    this.writeConfig();
    const log = openSync(this.logPath, 'a');
    const inner = `mount --bind '${d}/run' /run && mount --bind '${d}/shm' /dev/shm && exec stdbuf -oL -eL lldpad -V ${this.o.logLevel ?? 4} -f '${this.confPath}'`;
    // the exec chain keeps the pid: ip → unshare → sh → lldpad all replace themselves
    this.proc = spawn('ip', ['netns', 'exec', this.o.ns, 'unshare', '--ipc', '--mount', '--propagation', 'private', 'sh', '-c', inner], { stdio: ['ignore', log, log] });
    this.pid = this.proc.pid ?? 0;
    for (let i = 0; i < 100; i++) {
      if (this.proc.exitCode !== null) throw new LabError(`lldpad (${this.o.role}) exited at start: ${this.logText().slice(-500)}`);
      try {
        nsExec(this.o.ns, 'lldptool', ['-p']);
        break;
      } catch {
        await sleep(100);
      }
      if (i === 99) throw new LabError(`lldpad (${this.o.role}) did not answer lldptool within 10 s`);
    }
    // idempotent with the config file; the CLI path is what makes lldpad transmit at once
    // (lldptool exits non-zero when a value is already set; the config file is what counts)
    const ifn = this.o.ifname;
    for (const args of [
      ['-L', '-i', ifn, '-g', 'ncb', 'adminStatus=rxtx'],
      ['-T', '-i', ifn, '-g', 'ncb', '-V', 'evb', '-c', 'enabletx=yes'],
      ['-T', '-i', ifn, '-g', 'ncb', '-V', 'evb', '-c', `evbmode=${this.o.role}`],
      ['-T', '-i', ifn, '-g', 'ncb', '-V', 'evb', '-c', this.o.role === 'station' ? 'evbrrreq=yes' : 'evbrrcap=yes'],
    ]) {
      try {
        nsExec(this.o.ns, 'lldptool', args);
      } catch {
        // already configured
      }
    }
  }

  /** the neighbour's EVB TLV as lldpad sees it (mode:bridge / mode:station), '' when none */
  neighbourEvb(): string {
    try {
      return nsExec(this.o.ns, 'lldptool', ['-t', '-n', '-i', this.o.ifname, '-g', 'ncb', '-V', 'evb']);
    } catch {
      return '';
    }
  }

  async waitEvbNegotiated(timeoutMs = 30_000): Promise<void> {
    const want = this.o.role === 'bridge' ? 'mode:station' : 'mode:bridge';
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.neighbourEvb().includes(want)) return;
      await sleep(100);
    }
    throw new LabError(`lldpad (${this.o.role}) saw no EVB TLV from the peer within ${timeoutMs} ms`);
  }

  /**
   * A VDP request from an lldpad station through vdptool (`-W` waits up to 5 s for the
   * bridge's answer). `filters` use vdptool's syntax: `<vlan16>[-<mac>[-<gid>]]`.
   */
  vdptool(req: { mode: 'assoc' | 'preassoc' | 'preassoc-rr' | 'deassoc'; mgrid2: string; typeId: number; typeVersion: number; uuid: string; hints?: 'none' | 'to' | 'from'; filters: string[]; wait?: boolean }): { ok: boolean; responseSeen: boolean; output: string } {
    const args = ['-i', this.o.ifname, '-T'];
    if (req.wait !== false) args.push('-W');
    args.push('-V', req.mode, '-c', `mode=${req.mode}`, '-c', `mgrid2=${req.mgrid2}`, '-c', `typeid=${req.typeId}`, '-c', `typeidver=${req.typeVersion}`, '-c', `uuid=${req.uuid}`, '-c', `hints=${req.hints ?? 'none'}`);
    for (const f of req.filters) args.push('-c', `filter=${f}`);
    try {
      const out = nsExec(this.o.ns, 'vdptool', args);
      return { ok: true, responseSeen: /Response from VDP/.test(out), output: out };
    } catch (e) {
      return { ok: false, responseSeen: false, output: (e as Error).message };
    }
  }

  /** The station's last response for a VSI (lldpad shows it in the `hints` field): 0 success, 255 none yet, 'missing'. */
  vdptoolQuery(uuid: string, mode = 'assoc'): number | 'missing' {
    try {
      const out = nsExec(this.o.ns, 'vdptool', ['-i', this.o.ifname, '-t', '-V', mode, '-c', `uuid=${uuid}`]);
      const m = /hints = (\d+)/.exec(out);
      return m ? Number(m[1]) : 'missing';
    } catch {
      return 'missing';
    }
  }

  /** lldpad's station refuses VDP requests for a while after EVB is negotiated: probe until it takes one. */
  async waitVdpReady(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      const r = this.vdptool({ mode: 'deassoc', mgrid2: 'probe', typeId: 1, typeVersion: 1, uuid: '76647000-0000-4000-8000-ffffffffffff', filters: ['100-02:76:64:ff:ff:ff'], wait: false });
      last = r.output;
      if (!/not supported|not found|inactive/i.test(r.output)) return;
      await sleep(100);
    }
    throw new LabError(`lldpad station VDP not ready: ${last.slice(0, 200)}`);
  }

  alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  rssKb(): number {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  logText(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }
}
