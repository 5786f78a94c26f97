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
      this.sock.write(JSON.stringify({ ...req, id }) + '\n');
    });
  }

  /** Stream events until close(); resolves once the daemon confirmed the subscription. */
  async watch(listener: (event: unknown) => void): Promise<void> {
    const id = this.nextId++;
    this.watchers.set(id, listener);
    await new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(JSON.stringify({ op: 'watch', id }) + '\n');
    });
  }

  close(): void {
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
