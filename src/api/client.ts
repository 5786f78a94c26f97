/** Client side of the local API, used by vdpctl, the lab driver and the tests. */
import { connect, type Socket } from 'node:net';
import { ApiError, type ApiRequest, type ApiResponse } from './protocol.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type ApiCall = DistributiveOmit<ApiRequest, 'id'>;

export class ApiClient {
  private nextId = 1;
  private buf = '';
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private watchers = new Map<number, (event: unknown) => void>();
  /** request lines made in this turn, written together at its end (see send) */
  private out = '';

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    const fail = (e: Error): void => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new ApiError('ECONNRESET', 'vdpd closed the connection')));
  }

  static connect(path: string, timeoutMs = 3000): Promise<ApiClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ApiError('ETIMEDOUT', `no answer from vdpd at ${path}`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new ApiClient(sock));
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ApiError(e.code ?? 'ECONNREFUSED', `cannot reach vdpd at ${path}: ${e.message}`));
      });
    });
  }

  call(req: ApiCall): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(JSON.stringify({ ...req, id }) + '\n');
    });
  }

  /**
   * Calls made in one turn leave in one write at its end, as the server gathers its answers:
   * a caller starting 10,000 commands at once made 10,000 write(2)s, ~0.1 s of CPU that the
   * daemon it drives could have used. The daemon reads the lines as it read them before.
   */
  private send(line: string): void {
    if (this.out.length === 0) process.nextTick(() => this.flush());
    this.out += line;
    if (this.out.length >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const text = this.out;
    this.out = '';
    if (!this.sock.destroyed) this.sock.write(text);
  }

  /** Stream events until close(); resolves once the daemon confirmed the subscription. */
  async watch(listener: (event: unknown) => void): Promise<void> {
    const id = this.nextId++;
    this.watchers.set(id, listener);
    await new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(JSON.stringify({ op: 'watch', id }) + '\n');
    });
  }

  close(): void {
    this.flush();
    this.sock.end();
    this.sock.destroy();
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: ApiResponse;
      try {
        msg = JSON.parse(line) as ApiResponse;
      } catch {
        continue;
      }
      if ('event' in msg) {
        this.watchers.get(msg.id)?.(msg.event);
        continue;
      }
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new ApiError(msg.error.code, msg.error.message));
    }
  }
}

/** gathered request lines are written at this size at the latest (one write of many MB would hold the caller's loop) */
const FLUSH_BYTES = 64 * 1024;
