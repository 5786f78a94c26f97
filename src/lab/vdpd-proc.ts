/** A vdpd daemon process inside a namespace, with its API client: for the lab, the demo and the tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ApiClient } from '../api/client.js';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../daemon/memory.js';
import { LabError } from './netns.js';

// the compiled daemon, whether this module runs compiled (dist/src/lab) or from source (src/lab, tests)
const DIST = import.meta.dirname.includes(`${sep}dist${sep}`) ? join(import.meta.dirname, '..') : join(import.meta.dirname, '..', '..', 'dist', 'src');
export const VDPD = join(DIST, 'cli', 'vdpd.js');
export const VDPCTL = join(DIST, 'cli', 'vdpctl.cjs');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface VdpdProcOptions {
  ns: string;
  dir: string;
  /** YAML config text */
  config: string;
  name?: string;
  extraArgs?: string[];
}

export class VdpdProc {
  proc: ChildProcess | undefined;
  output = '';
  readonly socket: string;
  readonly stateFile: string;
  readonly configPath: string;

  constructor(readonly o: VdpdProcOptions) {
    const name = o.name ?? 'vdpd';
    mkdirSync(o.dir, { recursive: true });
    this.socket = join(o.dir, `${name}.sock`);
    this.stateFile = join(o.dir, `${name}.state.json`);
    this.configPath = join(o.dir, `${name}.yaml`);
    writeFileSync(this.configPath, o.config);
  }

  async start(timeoutMs = 10_000): Promise<ApiClient> {
    this.proc = spawn('ip', ['netns', 'exec', this.o.ns, process.execPath, ...DAEMON_NODE_FLAGS, ...(process.env['VDPD_NODE_ARGS'] ? process.env['VDPD_NODE_ARGS'].split(' ') : []), VDPD, '-c', this.configPath, '--socket', this.socket, '--state', this.stateFile, ...(this.o.extraArgs ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...DAEMON_ENV, ...process.env },
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.proc.exitCode !== null) throw new LabError(`vdpd exited at start (${this.proc.exitCode}): ${this.output.slice(-800)}`);
      if (existsSync(this.socket)) {
        try {
          const c = await ApiClient.connect(this.socket, 1000);
          await c.call({ op: 'ping' });
          return c;
        } catch {
          // not listening yet
        }
      }
      await sleep(50);
    }
    throw new LabError(`vdpd did not come up within ${timeoutMs} ms: ${this.output.slice(-800)}`);
  }

  /** wait until every interface reports EVB negotiated */
  async waitEvb(c: ApiClient, timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const ifs = (await c.call({ op: 'interfaces' })) as { evb: string }[];
      if (ifs.length > 0 && ifs.every((i) => i.evb === 'EVB_NEGOTIATED')) return;
      await sleep(100);
    }
    throw new LabError(`EVB not negotiated within ${timeoutMs} ms`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 8000);
    const code = await done;
    clearTimeout(t);
    return code;
  }
}
