/** Buffered stdout: tools print 100,000-line outputs; one write per line would dominate. */
export class BufferedOut {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly fd = 1,
    private readonly limit = 1 << 16,
  ) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.limit) this.flush();
  }

  line(s: string): void {
    this.write(s + '\n');
  }

  /** Writes synchronously so output order is exact even when the process exits right after. */
  async flushAsync(): Promise<void> {
    this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    writeAllSync(this.fd, data);
  }
}

/**
 * `doc` as one JSON document with a line per top-level member and, for a top-level array,
 * a line per element (decode's --json has a line per frame the same way): `grep` finds a
 * VSI's whole timeline on one line, and `JSON.parse` / `jq` read it like any JSON. Compact
 * inside a line: a replay's report indented by two spaces was 3.3 MB against 1.9 MB, and
 * each piece is serialised on its own, so nothing builds (and then flattens) one string of
 * the whole document.
 */
export function writeJsonLines(out: BufferedOut, doc: object): void {
  let first = true;
  for (const [key, v] of Object.entries(doc) as [string, unknown][]) {
    const lines = Array.isArray(v) && v.length > 0 ? (v as unknown[]) : undefined;
    const text = lines ? '' : (JSON.stringify(v) as string | undefined);
    // a member JSON has no value for (undefined, a function) is left out, as JSON.stringify does
    if (text === undefined) continue;
    out.write(`${first ? '{' : ',\n'}${JSON.stringify(key)}:`);
    first = false;
    if (lines) {
      for (let i = 0; i < lines.length; i++) out.write(`${i === 0 ? '[\n' : ',\n'}${(JSON.stringify(lines[i]) as string | undefined) ?? 'null'}`);
      out.write('\n]');
    } else out.write(text);
  }
  out.write(first ? '{}\n' : '}\n');
}

import { writeSync } from 'node:fs';

/** UTF-16 code units encoded at a time (UTF-8 needs at most 3 octets for each) */
const PIECE = 1 << 16;
let scratch: Buffer | undefined;

/**
 * `data` to `fd`, encoded a piece at a time into one reused buffer: a fresh buffer the size of
 * a replay's JSON (megabytes) cost a page fault per 4 KiB, more than the encoding itself
 * (3.2 MB: ~15 ms against ~10 on a VM).
 */
function writeAllSync(fd: number, data: string): void {
  scratch ??= Buffer.allocUnsafeSlow(3 * PIECE);
  for (let i = 0; i < data.length; ) {
    let j = Math.min(i + PIECE, data.length);
    // never split a surrogate pair: each half alone would be encoded as U+FFFD
    const last = data.charCodeAt(j - 1);
    if (j < data.length && last >= 0xd800 && last <= 0xdbff) j--;
    const n = scratch.write(j - i === data.length ? data : data.slice(i, j), 0, 'utf8');
    writeOctets(fd, scratch, n);
    i = j;
  }
}

function writeOctets(fd: number, buf: Buffer, len: number): void {
  let off = 0;
  while (off < len) {
    try {
      off += writeSync(fd, buf, off, len - off);
    } catch (e) {
      // stdout as a non-blocking pipe: wait for the reader instead of losing output
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        continue;
      }
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
      throw e;
    }
  }
}
