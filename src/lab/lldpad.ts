/**
 * Debian's lldpad (1.1) as a real 802.1Qbg peer inside a network namespace, bridge or
 * station role, driven with lldptool/vdptool: the counterpart for vdpd's integration
 * tests, the demo lab and the benchmarks. Pitfalls it handles:
 *  - "lldpad already running": this lldpad keeps its marker in POSIX shm
 *    (/dev/shm/lldpad.state, not SysV — `unshare --ipc` alone no longer isolates) and its pid
 *    file at /run/lldpad.pid. Each instance runs in a private mount namespace with
 *    <stateDir>/run and <stateDir>/shm bind-mounted over /run and /dev/shm.
 *  - One pid throughout: ip netns exec → unshare → sh → stdbuf → lldpad all exec, so the
 *    child we spawn *is* lldpad, and only that pid is ever signalled (SIGKILL after a timeout,
 *    and at process exit if a caller forgot stop()).
 *  - The clif socket (@/com/intel/lldpad) is abstract, hence per network namespace:
 *    `ip netns exec NS lldptool|vdptool` reaches this namespace's daemon; start() checks that
 *    the daemon answering is the one it started.
 *  - The VDP22 role is latched when lldpad starts ECP/VDP, so `evbmode` (and timers) go into
 *    the -f config file before start (lldptool later would leave a "bridge" that drops every
 *    request while ECP still acks it).
 *  - lldpad logs with printf to stdout: block-buffered into the log file unless run under
 *    `stdbuf -oL -eL`.
 *  - Readiness is three steps: the clif answers; EVB is negotiated (the neighbour's EVB TLV
 *    shows the other role); VDP is usable. A station refuses requests ("not found or
 *    inactive", then "VDP protocol not supported") until EVB pushes its values; a bridge's
 *    VDP instance starts with all-zero timers (toutKeepAlive 30 µs: it would de-associate at
 *    once) until the next LLDPDU it sends or receives after the instance exists.
 *  - Link down while its ECP waits on the ack timer of its last ECPDU (a few ms after every
 *    transmission, longer when the ACK is lost): lldpad frees the ECP instance without
 *    cancelling that timer, which then runs on freed memory and lldpad dies (general
 *    protection fault in dmesg). A test that takes the link down holds ECP towards lldpad
 *    for a moment first.
 *  - IPv6 must be off in the namespaces (VethLab does it), or captures fill with router
 *    solicitations.
 * The bridge role answers every request with success (stub resource decision) and cannot be
 * listed (`vdptool -t`: "Command not applicable"); a capture shows what it did.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nsRun, nsRunSync, type RunResult } from './lldpad-exec.js';
import { evbSettings, renderLldpadConfig, type LldpadEvb, type LldpadRole } from './lldpad-config.js';
import {
  batchQueryScript,
  batchRequestScript,
  parseBatchQueryOutput,
  parseBatchRequestOutput,
  parseVdptoolVsis,
  resultFromOutput,
  vdptoolArgs,
  vdptoolQueryArgs,
  type BatchOptions,
  type BatchResult,
  type VdptoolRequest,
  type VdptoolResult,
  type VdptoolVsi,
} from './lldpad-vdptool.js';
import { parseEvbTlvView, parseLldpStats, type EvbTlvView, type LldpStats } from './lldpad-lldptool.js';
import { LabError, requireCommand } from './netns.js';

export type { LldpadEvb, LldpadRole } from './lldpad-config.js';
export { parseEvbTlvView, parseLldpStats, type EvbTlvView, type LldpStats } from './lldpad-lldptool.js';
export type { BatchItemResult, BatchOptions, BatchResult, VdpMode, VdptoolRequest, VdptoolResult, VdptoolVsi } from './lldpad-vdptool.js';

export interface LldpadOptions {
  ns: string;
  ifname: string;
  role: LldpadRole;
  /** private to this instance: config, log, run/ and shm/ bind-mount sources */
  stateDir: string;
  evb?: LldpadEvb;
  /** lldpad -V level (default 4 = warnings, lldpad's own default; 7 = debug) */
  logLevel?: number;
  /** how long start() waits for the clif (default 10 s) */
  startTimeoutMs?: number;
}

export interface ProcStats {
  pid: number;
  rssKb: number;
  hwmKb: number;
  /** utime + stime in clock ticks (see clockTicksPerSecond) */
  cpuTicks: number;
}

/** The dummy VSI the readiness probe de-associates: refused locally once VDP is usable, nothing on the wire. */
const PROBE: VdptoolRequest = {
  mode: 'deassoc',
  mgrid2: 'probe',
  typeId: 1,
  typeVersion: 1,
  uuid: '76647000-0000-4000-8000-ffffffffffff',
  filters: ['100-02:76:64:ff:ff:ff'],
  wait: false,
};
const NOT_READY = /not supported|not found|inactive/i;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pids of every running peer of this process, so a crashed test run leaves no lldpad behind */
const live = new Set<number>();
let exitHookInstalled = false;
function track(pid: number): void {
  live.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

let clkTck: number | undefined;
/** USER_HZ, the unit of cpuTicks() (100 on mainstream Linux builds) */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export class LldpadPeer {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** lldpad's pid (0 before the first start) */
  pid = 0;
  readonly stateDir: string;

  private constructor(readonly o: LldpadOptions) {
    this.stateDir = resolve(o.stateDir);
  }

  /** Start lldpad in `ns`, wait until its clif answers, switch LLDP/EVB on; EVB/VDP readiness is separate (waitEvbNegotiated, waitVdpReady). */
  static async start(o: LldpadOptions): Promise<LldpadPeer> {
    requireCommand('lldpad', 'lldpad');
    requireCommand('lldptool', 'lldpad');
    requireCommand('vdptool', 'lldpad');
    requireCommand('unshare', 'util-linux');
    requireCommand('stdbuf', 'coreutils');
    const p = new LldpadPeer(o);
    mkdirSync(p.stateDir, { recursive: true });
    writeFileSync(p.confPath, renderLldpadConfig(o.ifname, o.role, o.evb));
    await p.launch();
    return p;
  }

  get role(): LldpadRole {
    return this.o.role;
  }
  get ns(): string {
    return this.o.ns;
  }
  get ifname(): string {
    return this.o.ifname;
  }
  get confPath(): string {
    return join(this.stateDir, 'lldpad.conf');
  }
  get logPath(): string {
    return join(this.stateDir, 'lldpad.log');
  }
  /** where lldpad's /run/lldpad.pid lands (visible from outside thanks to the bind mount) */
  get pidFilePath(): string {
    return join(this.stateDir, 'run', 'lldpad.pid');
  }
  /** where lldpad's POSIX shm /lldpad.state lands */
  get shmStatePath(): string {
    return join(this.stateDir, 'shm', 'lldpad.state');
  }

  private async launch(): Promise<void> {
    const d = this.stateDir;
    for (const sub of ['run', 'shm']) mkdirSync(join(d, sub), { recursive: true });
    // a SIGKILLed predecessor leaves its marker behind; lldpad would refuse to start
    rmSync(this.pidFilePath, { force: true });
    rmSync(this.shmStatePath, { force: true });
    if (!existsSync(this.confPath)) writeFileSync(this.confPath, renderLldpadConfig(this.o.ifname, this.o.role, this.o.evb));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const inner = `mount --bind ${q(join(d, 'run'))} /run && mount --bind ${q(join(d, 'shm'))} /dev/shm && exec stdbuf -oL -eL lldpad -V ${this.o.logLevel ?? 4} -f ${q(this.confPath)}`;
    const log = openSync(this.logPath, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn('ip', ['netns', 'exec', this.o.ns, 'unshare', '--ipc', '--mount', '--propagation', 'private', 'sh', '-c', inner], { stdio: ['ignore', log, log] });
      if (proc.pid === undefined) throw new LabError(`could not start lldpad in ${this.o.ns}`);
      writeSync(log, `--- vdpd lab: ${this.o.role} lldpad pid ${proc.pid} started ${new Date().toISOString()}\n`);
    } finally {
      closeSync(log);
    }
    this.proc = proc;
    this.pid = proc.pid;
    track(this.pid);
    const pid = this.pid;
    this.exited = new Promise<void>((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) r();
      else proc.once('exit', () => r());
    }).then(() => {
      live.delete(pid);
    });

    const end = Date.now() + (this.o.startTimeoutMs ?? 10_000);
    let last: RunResult | undefined;
    for (;;) {
      if (!this.alive()) throw new LabError(`${this.o.role} lldpad (pid ${pid}) exited at start-up: ${this.logTail(600)}`);
      last = await nsRun(this.o.ns, 'lldptool', ['-p'], { timeoutMs: 5000 });
      if (last.code === 0) {
        const answered = Number(last.stdout.trim());
        // another lldpad in this namespace would answer the clif instead of ours
        if (answered !== pid) {
          await this.stop('SIGKILL');
          throw new LabError(`${this.o.ns}: the clif is answered by lldpad pid ${answered}, not by the one started (${pid})`);
        }
        break;
      }
      if (Date.now() > end) {
        await this.stop('SIGKILL');
        throw new LabError(`${this.o.role} lldpad (pid ${pid}) did not answer lldptool within ${this.o.startTimeoutMs ?? 10_000} ms: ${last.output.trim()} / ${this.logTail(400)}`);
      }
      await sleep(50);
    }
    await this.configureEvb();
  }

  /**
   * The CLI path of the settings the config file carries, as the lab script does: it makes
   * lldpad transmit at once instead of at its next timer tick. lldptool answers "Failed 0d"
   * (exit 1) for a value that is already set, so a refusal counts only if lldpad then reports
   * a different value.
   */
  private async configureEvb(): Promise<void> {
    const ifn = this.o.ifname;
    const admin = await nsRun(this.o.ns, 'lldptool', ['-L', '-i', ifn, '-g', 'ncb', 'adminStatus=rxtx']);
    if (admin.code !== 0) throw new LabError(`lldptool -L adminStatus=rxtx on ${this.o.ns}/${ifn}: ${admin.output.trim()}`);
    const cli = (v: string) => (v === 'true' ? 'yes' : v === 'false' ? 'no' : v.replace(/"/g, ''));
    const want = new Map(evbSettings(this.o.role, this.o.evb));
    for (const key of ['enableTx', 'evbmode', this.o.role === 'station' ? 'evbrrreq' : 'evbrrcap', 'evbgpid']) {
      const value = cli(want.get(key)!);
      const set = await nsRun(this.o.ns, 'lldptool', ['-T', '-i', ifn, '-g', 'ncb', '-V', 'evb', '-c', `${key}=${value}`]);
      if (set.code === 0) continue;
      const now = await nsRun(this.o.ns, 'lldptool', ['-t', '-i', ifn, '-g', 'ncb', '-V', 'evb', '-c', key]);
      if (now.stdout.trim() !== `${key}=${value}`) {
        throw new LabError(`lldptool could not set EVB ${key}=${value} on ${this.o.ns}/${ifn}: ${set.output.trim()} (now: ${now.output.trim()})`);
      }
    }
  }

  // ---- process --------------------------------------------------------------------

  /** Our lldpad is running (the child has not exited and /proc still has it). */
  alive(): boolean {
    const p = this.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null && existsSync(`/proc/${this.pid}`);
  }

  /** how our lldpad ended ("running" while it runs): the exit code or the signal, e.g. SIGSEGV */
  exitStatus(): string {
    const p = this.proc;
    if (!p || (p.exitCode === null && p.signalCode === null)) return 'running';
    return p.signalCode ? `killed by ${p.signalCode}` : `exit code ${p.exitCode}`;
  }

  /** Stop our lldpad (only its recorded pid): `signal`, then SIGKILL after `killAfterMs`. Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 5000): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    await this.exited;
    clearTimeout(t);
  }

  /** Stop (default SIGTERM) if running, then start again from the config file lldpad left behind. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }

  /** Remove the state directory (config, log, run/, shm/). Refuses while lldpad runs: its bind mounts point there. */
  removeStateDir(): void {
    if (this.alive()) throw new LabError(`lldpad pid ${this.pid} still runs on ${this.stateDir}; stop() it first`);
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  procStats(): ProcStats | undefined {
    if (!this.alive()) return undefined;
    const status = readProc(this.pid, 'status');
    const stat = readProc(this.pid, 'stat');
    if (status === undefined || stat === undefined) return undefined;
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    // fields after the parenthesised comm: state is field 3, utime/stime are 14/15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid: this.pid, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), cpuTicks: Number(f[11]) + Number(f[12]) };
  }

  rssKb(): number {
    return this.procStats()?.rssKb ?? 0;
  }

  cpuTicks(): number {
    return this.procStats()?.cpuTicks ?? 0;
  }

  logText(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  private logTail(n: number): string {
    return this.logText().slice(-n).trim();
  }

  /** The mount and network namespace inodes of our lldpad (to prove isolation). */
  namespaces(): { mnt: string; net: string } | undefined {
    try {
      return { mnt: readlinkSync(`/proc/${this.pid}/ns/mnt`), net: readlinkSync(`/proc/${this.pid}/ns/net`) };
    } catch {
      return undefined;
    }
  }

  // ---- LLDP / EVB -----------------------------------------------------------------

  /** The neighbour's EVB TLV as lldpad shows it (`mode:bridge` / `mode:station`), '' when none. */
  neighbourEvb(): string {
    const r = nsRunSync(this.o.ns, 'lldptool', ['-t', '-n', '-i', this.o.ifname, '-g', 'ncb', '-V', 'evb']);
    return r.code === 0 ? r.stdout : '';
  }

  /** The EVB TLV lldpad transmits (the operative, negotiated values). */
  localEvb(): string {
    const r = nsRunSync(this.o.ns, 'lldptool', ['-t', '-i', this.o.ifname, '-g', 'ncb', '-V', 'evb']);
    return r.code === 0 ? r.stdout : '';
  }

  neighbourEvbView(): EvbTlvView | undefined {
    return parseEvbTlvView(this.neighbourEvb());
  }

  localEvbView(): EvbTlvView | undefined {
    return parseEvbTlvView(this.localEvb());
  }

  async lldpStats(): Promise<LldpStats | undefined> {
    const r = await nsRun(this.o.ns, 'lldptool', ['-S', '-i', this.o.ifname, '-g', 'ncb'], { timeoutMs: 5000 });
    return r.code === 0 ? parseLldpStats(r.stdout) : undefined;
  }

  /** Until lldpad has the peer's EVB TLV (its neighbour view shows the other role). */
  async waitEvbNegotiated(timeoutMs = 30_000): Promise<void> {
    const want = this.o.role === 'bridge' ? 'mode:station' : 'mode:bridge';
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await nsRun(this.o.ns, 'lldptool', ['-t', '-n', '-i', this.o.ifname, '-g', 'ncb', '-V', 'evb'], { timeoutMs: 5000 });
      if (r.code === 0 && r.stdout.includes(want)) return;
      if (!this.alive()) throw new LabError(`${this.o.role} lldpad (pid ${this.pid}) died while waiting for EVB: ${this.logTail(400)}`);
      if (Date.now() > end) throw new LabError(`${this.o.role} lldpad saw no EVB TLV with ${want} from its peer within ${timeoutMs} ms (last: ${r.output.trim() || 'nothing'})`);
      await sleep(100);
    }
  }

  /**
   * Until lldpad's VDP22 can be used. Station: the probe de-associate is refused for
   * parameters ("Invalid parameters") instead of for lack of VDP/EVB, which happens when EVB
   * pushes its values (timers and evbon together). Bridge: the VDP instance exists (`vdptool -t`
   * says "Command not applicable" instead of "not found or inactive") and an LLDPDU has been
   * sent or received since, so EVB has pushed real timers into it (lldpad creates the instance
   * right after its first LLDPDU, so a second one sent proves it too).
   */
  async waitVdpReady(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    let base: number | undefined;
    for (;;) {
      if (!this.alive()) throw new LabError(`${this.o.role} lldpad (pid ${this.pid}) died while waiting for VDP: ${this.logTail(400)}`);
      if (this.o.role === 'station') {
        const r = await nsRun(this.o.ns, 'vdptool', vdptoolArgs(this.o.ifname, PROBE), { timeoutMs: 5000 });
        last = r.output.trim();
        if (r.code === 0 || !NOT_READY.test(r.output)) return;
      } else {
        const r = await nsRun(this.o.ns, 'vdptool', vdptoolQueryArgs(this.o.ifname, 'assoc'), { timeoutMs: 5000 });
        last = r.output.trim();
        if (!NOT_READY.test(r.output)) {
          const s = await this.lldpStats();
          if (s) {
            if (s.tx >= 2) return;
            if (base === undefined) base = s.tx + s.rx;
            else if (s.tx + s.rx > base) return;
            last = `VDP instance up, waiting for an EVB push (lldp tx ${s.tx} rx ${s.rx})`;
          }
        }
      }
      if (Date.now() > end) throw new LabError(`${this.o.role} lldpad VDP22 not ready after ${timeoutMs} ms: ${last.slice(0, 200)}`);
      await sleep(50);
    }
  }

  // ---- VDP through vdptool (station role) -----------------------------------------

  /** One VDP request from this lldpad station (vdptool -T; -W unless wait: false). */
  async vdptoolRequest(req: VdptoolRequest): Promise<VdptoolResult> {
    const r = await nsRun(this.o.ns, 'vdptool', vdptoolArgs(this.o.ifname, req), { timeoutMs: 15_000 });
    return resultFromOutput(r.code, r.output, r.ms);
  }

  /** Synchronous vdptoolRequest (blocks the event loop up to vdptool's 5 s wait) with the older `output` name. */
  vdptool(req: VdptoolRequest): VdptoolResult & { output: string } {
    const r = nsRunSync(this.o.ns, 'vdptool', vdptoolArgs(this.o.ifname, req), { timeoutMs: 15_000 });
    return { ...resultFromOutput(r.code, r.output, r.ms), output: r.output };
  }

  /** The station's last response for a VSI (lldpad shows it as `hints`): 0 success, 255 none yet, 'missing' when not listed under `mode`. */
  vdptoolQuery(uuid: string, mode = 'assoc'): number | 'missing' {
    const r = nsRunSync(this.o.ns, 'vdptool', vdptoolQueryArgs(this.o.ifname, mode, uuid));
    const v = r.code === 0 ? parseVdptoolVsis(r.stdout).find((x) => x.uuid.toLowerCase() === uuid.toLowerCase()) : undefined;
    return v?.hints ?? 'missing';
  }

  /** The station's VSI listing for a mode (one 4 KB clif message: empty above ~30 VSIs; bridge role: LabError). */
  vdptoolList(mode = 'assoc'): VdptoolVsi[] {
    const r = nsRunSync(this.o.ns, 'vdptool', vdptoolQueryArgs(this.o.ifname, mode));
    if (r.code !== 0) throw new LabError(`vdptool -t -V ${mode} on ${this.o.ns}/${this.o.ifname}: ${r.output.trim()}`);
    return parseVdptoolVsis(r.stdout);
  }

  private scriptSeq = 0;

  /** bash script inside the namespace; a file per run, so concurrent batches cannot overwrite each other */
  private async runScript(name: string, script: string, timeoutMs: number): Promise<RunResult> {
    const file = join(this.stateDir, `${name}-${++this.scriptSeq}.sh`);
    writeFileSync(file, script);
    try {
      return await nsRun(this.o.ns, 'bash', [file], { timeoutMs });
    } finally {
      rmSync(file, { force: true });
    }
  }

  /**
   * Many requests in one bash run inside the namespace (one namespace entry instead of one
   * per VSI), sequential by default or from `parallel` concurrent loops. With `wait: false`
   * requests this is a burst; follow it with vdptoolQueryBatch to see the answers.
   */
  async vdptoolBatch(reqs: VdptoolRequest[], o: BatchOptions & { timeoutMs?: number } = {}): Promise<BatchResult> {
    const script = batchRequestScript(this.o.ifname, reqs, o);
    const t0 = performance.now();
    const r = await this.runScript('vdptool-batch', script, o.timeoutMs ?? Math.max(60_000, reqs.length * 6000));
    const res = parseBatchRequestOutput(reqs, r.stdout, performance.now() - t0);
    if (r.code !== 0) throw new LabError(`vdptool batch script failed (${r.code}): ${r.stderr.trim().slice(0, 300)}`);
    return res;
  }

  /** vdptoolQuery for many VSIs in one namespace entry. */
  async vdptoolQueryBatch(uuids: string[], mode = 'assoc', timeoutMs = 120_000): Promise<Map<string, number | 'missing'>> {
    const r = await this.runScript('vdptool-query', batchQueryScript(this.o.ifname, uuids, mode), timeoutMs);
    if (r.code !== 0) throw new LabError(`vdptool query script failed (${r.code}): ${r.stderr.trim().slice(0, 300)}`);
    return parseBatchQueryOutput(uuids, r.stdout);
  }
}
