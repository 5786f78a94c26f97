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

import { writeSync } from 'node:fs';

function writeAllSync(fd: number, data: string): void {
  const buf = Buffer.from(data, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
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
