/**
 * The daemon's state file: every VSI it was asked to keep, so a restart (even after
 * SIGKILL) re-associates them instead of tearing VMs off the network (lldpad keeps VSI
 * state in memory only). Written atomically — temp file, fsync, rename, fsync of the
 * directory — so a crash leaves either the old or the new file, never half of one.
 * Mode 0600: it names every VM on the host.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
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

/** The file's text up to its interfaces (one format for both writers); `}}` closes it. */
function stateHead(): string {
  return `{"version":${STATE_VERSION},"writtenAt":${JSON.stringify(new Date().toISOString())},"interfaces":{`;
}

/** The file's text, each interface's records given as the text of a JSON array. */
function stateText(ifaces: readonly (readonly [name: string, arrayJson: string])[]): string {
  return `${stateHead()}${ifaces.map(([n, a]) => `${JSON.stringify(n)}:${a}`).join(',')}}}`;
}

export function writeStateAtomic(path: string, state: Omit<StateFile, 'version' | 'writtenAt'>): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  // as JSON.stringify of the whole object would: members whose value is undefined are left out
  const text = stateText(Object.entries(state.interfaces).flatMap(([n, v]) => (v === undefined ? [] : [[n, JSON.stringify(v)] as const])));
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
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

/** Per interface, the records to save, in chunks (consumed over several event-loop turns). */
export type StateSource = () => [iface: string, chunks: Iterable<unknown[]>][];

/**
 * Coalesces many changes into one write: a burst of 10,000 associations must not write
 * the file 10,000 times, but a change must reach the disk within `delayMs`. Serialising
 * 10,000 VSIs takes ~100 ms of CPU and fsync can take as long again, so a write never
 * holds the event loop: the records are serialised a chunk per turn and the file is
 * written, synced and renamed on the thread pool. One write runs at a time; changes
 * made meanwhile are written by the next one.
 */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private seq = 0;
  writes = 0;
  failures = 0;
  /** CPU time on the event loop of the last write (serialisation), ms */
  lastWriteMs = 0;
  /** the same summed over every write, ms (ping: what saving the state costs a burst) */
  totalWriteMs = 0;

  constructor(
    private readonly path: string,
    private readonly source: StateSource,
    private readonly onError: (e: Error) => void,
    private readonly delayMs = 200,
  ) {}

  markDirty(): void {
    this.dirty = true;
    if (this.timer || this.running) return;
    // space the writes so that serialising takes at most a tenth of the loop's time
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.writeAsync();
      },
      Math.max(this.delayMs, 10 * this.lastWriteMs),
    );
  }

  /** resolves when no write is running or due */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private writeAsync(): Promise<void> {
    this.dirty = false;
    const run = this.writeStreamed(this.seq++)
      .then(
        () => {
          this.writes++;
        },
        (e: unknown) => {
          this.failures++;
          this.onError(e as Error);
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.dirty) this.markDirty();
      });
    this.running = run;
    return run;
  }

  /**
   * The atomic write of `writeStateAtomic`, on the thread pool, with the records serialised
   * a chunk at a time and each chunk written as soon as it is made: the next chunk is only
   * built once the write of the one before is back (other work runs in between). The file
   * of 10,000 VSIs was built whole first, as a string of some megabytes copied three times
   * (joined, framed, encoded) in fresh pages, several times in a burst.
   */
  private async writeStreamed(seq: number): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}-${seq}`;
    let cpu = 0;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await writeAll(fh, stateHead());
        let firstIface = true;
        for (const [name, chunks] of this.source()) {
          await writeAll(fh, `${firstIface ? '' : ','}${JSON.stringify(name)}:[`);
          firstIface = false;
          let first = true;
          // the chunks' making counts too (the engine builds each record's object when asked):
          // the spacing of the writes (markDirty) follows what a write really costs the loop
          const it = chunks[Symbol.iterator]();
          for (;;) {
            const t = performance.now();
            const next = it.next();
            let part: Buffer | undefined;
            if (!next.done && next.value.length > 0) {
              // the chunk's array brackets become the separator before it (or nothing) and nothing
              const b = Buffer.from(JSON.stringify(next.value));
              if (!first) b[0] = 0x2c; // ','
              part = b.subarray(first ? 1 : 0, b.length - 1);
              first = false;
            }
            cpu += performance.now() - t;
            if (next.done) break;
            if (part) await writeAll(fh, part);
          }
          await writeAll(fh, ']');
        }
        await writeAll(fh, '}}');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    } finally {
      this.lastWriteMs = cpu;
      this.totalWriteMs += cpu;
    }
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  /** Write now, synchronously (shutdown): waits for nothing, so call `idle()` first. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.dirty = false;
    try {
      const interfaces: Record<string, unknown> = {};
      for (const [name, chunks] of this.source()) interfaces[name] = [...chunks].flat();
      writeStateAtomic(this.path, { interfaces });
      this.writes++;
    } catch (e) {
      this.failures++;
      this.onError(e as Error);
    }
  }
}

/** all of it: a write to a file may take fewer octets than it was given */
async function writeAll(fh: FileHandle, data: Uint8Array | string): Promise<void> {
  let b = typeof data === 'string' ? Buffer.from(data) : data;
  while (b.length > 0) {
    const { bytesWritten } = await fh.write(b);
    b = b.subarray(bytesWritten);
  }
}
