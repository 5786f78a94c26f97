/**
 * Running lldpad's clients (lldptool, vdptool) inside a namespace without throwing: their
 * answers ("FAILED: …", exit 1) are data for the harness, and the sync variant serves the
 * quick queries tests make inline.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  /** exit status; -1 when killed (timeout) or not started */
  code: number;
  stdout: string;
  stderr: string;
  /** stdout followed by stderr: lldpad's tools print their verdicts to either */
  output: string;
  ms: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
}

const nsArgs = (ns: string, cmd: string, args: string[]) => ['netns', 'exec', ns, cmd, ...args];

export function nsRunSync(ns: string, cmd: string, args: string[], o: RunOptions = {}): RunResult {
  const t0 = performance.now();
  const r = spawnSync('ip', nsArgs(ns, cmd, args), {
    encoding: 'utf8',
    input: o.input,
    timeout: o.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = r.stdout ?? '';
  const stderr = r.stderr ?? (r.error ? String(r.error.message) : '');
  return { code: r.status ?? -1, stdout, stderr, output: stdout + stderr, ms: performance.now() - t0 };
}

export function nsRun(ns: string, cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn('ip', nsArgs(ns, cmd, args), { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // the child is ours (ip → cmd keeps one pid), so the timeout may signal it
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    p.on('error', (e) => (stderr += e.message));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, output: stdout + stderr, ms: performance.now() - t0 });
    });
    if (o.input !== undefined) p.stdin?.end(o.input);
  });
}
