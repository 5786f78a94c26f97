/**
 * The daemon's state file: every VSI it was asked to keep, so a restart (even after
 * SIGKILL) re-associates them instead of tearing VMs off the network (lldpad keeps VSI
 * state in memory only). Written atomically — temp file, fsync, rename, fsync of the
 * directory — so a crash leaves either the old or the new file, never half of one.
 * Mode 0600: it names every VM on the host.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const STATE_VERSION = 1;

export interface StateFile {
  version: number;
  writtenAt: string;
  /** per interface: whatever the interface's engine exported (plain JSON) */
  interfaces: Record<string, unknown>;
}

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

export function readState(path: string): StateFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(`cannot read state file ${path}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new StateFileError(`state file ${path} is not JSON: ${(e as Error).message}`);
  }
  const o = v as Partial<StateFile>;
  if (typeof o !== 'object' || o === null || o.version !== STATE_VERSION || typeof o.interfaces !== 'object' || o.interfaces === null) {
    throw new StateFileError(`state file ${path} has an unknown layout (version ${String(o?.version)})`);
  }
  return o as StateFile;
}

export function writeStateAtomic(path: string, state: Omit<StateFile, 'version' | 'writtenAt'>): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const body: StateFile = { version: STATE_VERSION, writtenAt: new Date().toISOString(), interfaces: state.interfaces };
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(body));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // the rename itself must reach the disk before we claim the state is saved
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * Coalesces many changes into one write: a burst of 10,000 associations must not write
 * the file 10,000 times, but a change must reach the disk within `delayMs`.
 */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  writes = 0;
  failures = 0;

  constructor(
    private readonly path: string,
    private readonly collect: () => Record<string, unknown>,
    private readonly onError: (e: Error) => void,
    private readonly delayMs = 200,
  ) {}

  /** how long the last write blocked the event loop */
  lastWriteMs = 0;

  markDirty(): void {
    if (this.timer) return;
    // a big table takes long to serialise and fsync: space the writes so that writing
    // takes at most a fifth of the time (10,000 VSIs ≈ 1 MB ≈ 20 ms → every 200 ms; 100,000 → every 1 s or more)
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(this.delayMs, 5 * this.lastWriteMs),
    );
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const t0 = performance.now();
    try {
      writeStateAtomic(this.path, { interfaces: this.collect() });
      this.writes++;
      this.lastWriteMs = performance.now() - t0;
    } catch (e) {
      this.failures++;
      this.onError(e as Error);
    }
  }
}
