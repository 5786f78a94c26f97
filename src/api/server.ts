/**
 * Unix-socket server for the client API. The socket file is created 0660 in a 0750
 * directory: only root (and the socket's group) may talk to vdpd, so an unprivileged
 * user cannot change a VSI through it.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { turnBudget } from '../io/turn-budget.js';
import { ApiError, MAX_REQUEST_LINE, parseRequestLine, RawJson, type ApiRequest, type ApiResponse } from './protocol.js';

export interface ApiHandler {
  /** answer one request; throw ApiError for a typed refusal */
  handle(req: Exclude<ApiRequest, { op: 'watch' }>): Promise<unknown>;
  /** subscribe to events for `watch`; returns the unsubscribe function */
  watch(listener: (event: unknown) => void): () => void;
}

export interface ApiServerStats {
  connections: number;
  requests: number;
  badRequests: number;
  /** the longest slice of request lines handled in one event-loop turn, ms (ping) */
  maxSliceMs: number;
}

export class ApiServer {
  readonly stats: ApiServerStats = { connections: 0, requests: 0, badRequests: 0, maxSliceMs: 0 };
  private server: Server | undefined;
  private sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly handler: ApiHandler,
    private readonly log: (level: 'warn' | 'debug', msg: string, extra?: Record<string, unknown>) => void = () => {},
  ) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    // A stale socket from a killed daemon would make listen() fail with EADDRINUSE.
    rmSync(this.path, { force: true });
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o660);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }

  private accept(sock: Socket): void {
    this.stats.connections++;
    this.sockets.add(sock);
    let buf = '';
    let unwatch: (() => void) | undefined;
    // The answers to one ECPDU's worth of responses leave in one write, not one syscall each
    // (at most CORK_BYTES at a time: one giant write would hold the loop instead), joined
    // into one string: a corked socket's writev encodes every answer separately, twice the
    // CPU of one joined write.
    let pending = '';
    const flush = (): void => {
      if (pending.length === 0) return;
      const text = pending;
      pending = '';
      if (!sock.destroyed) sock.write(text);
    };
    const send = (msg: ApiResponse): void => {
      if (sock.destroyed) return;
      const text = ('result' in msg && msg.result instanceof RawJson ? `{"id":${msg.id},"ok":true,"result":${msg.result.text}}` : JSON.stringify(msg)) + '\n';
      if (pending.length === 0) process.nextTick(flush);
      pending += text;
      if (pending.length > CORK_BYTES) flush();
    };
    sock.setEncoding('utf8');
    // A burst of thousands of requests arrives in 64 KB reads of ~200 lines each: lines are
    // handled for at most SLICE_MS per event-loop turn (the socket paused meanwhile), so
    // the engine's timers and the wire are never held up behind the API.
    let draining = false;
    const drain = (): void => {
      const t0 = performance.now();
      drainSlice(t0);
      const took = performance.now() - t0;
      if (took > this.stats.maxSliceMs) this.stats.maxSliceMs = took;
    };
    const drainSlice = (t0: number): void => {
      draining = false;
      const turn = turnBudget();
      turn.begin();
      let nl: number;
      for (let n = 0; (nl = buf.indexOf('\n')) >= 0; n++) {
        if (n > 0 && (performance.now() - t0 > SLICE_MS || turn.over())) {
          draining = true;
          sock.pause();
          setImmediate(() => {
            if (sock.destroyed) return;
            drain();
            if (!draining) sock.resume();
          });
          return;
        }
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.length > 0) this.line(line, send, (w) => {
          unwatch?.();
          unwatch = w;
        });
      }
    };
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_LINE && !buf.includes('\n')) {
        this.stats.badRequests++;
        send({ id: 0, ok: false, error: { code: 'EBADREQ', message: 'request line too long' } });
        flush(); // the refusal must leave before the connection goes
        sock.destroy();
        return;
      }
      if (!draining) drain();
    });
    const done = (): void => {
      unwatch?.();
      unwatch = undefined;
      this.sockets.delete(sock);
    };
    sock.on('close', done);
    sock.on('error', done);
  }

  /** one request line: answered through `send`; a watch hands its unsubscribe to `setWatch` */
  private line(line: string, send: (msg: ApiResponse) => void, setWatch: (unwatch: () => void) => void): void {
    this.stats.requests++;
    let req: ApiRequest;
    try {
      req = parseRequestLine(line);
    } catch (e) {
      this.stats.badRequests++;
      const err = e instanceof ApiError ? e : new ApiError('EBADREQ', String(e));
      this.log('warn', 'bad client request', { code: err.code, reason: err.message });
      send({ id: 0, ok: false, error: { code: err.code, message: err.message } });
      return;
    }
    if (req.op === 'watch') {
      const id = req.id;
      setWatch(this.handler.watch((event) => send({ id, event })));
      send({ id, ok: true, result: { watching: true } });
      return;
    }
    // the callbacks keep the id and the op, not the whole request: a command waits for its
    // outcome, and 10,000 parsed requests would wait with it
    const { id, op } = req;
    this.handler.handle(req).then(
      (result) => send({ id, ok: true, result }),
      (e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError('EINTERNAL', e instanceof Error ? e.message : String(e));
        if (!(e instanceof ApiError)) this.log('warn', 'client request failed', { op, error: err.message });
        send({ id, ok: false, error: { code: err.code, message: err.message } });
      },
    );
  }
}

/** the longest stretch of request handling per event-loop turn */
const SLICE_MS = 5;
/** answers gathered into one write */
const CORK_BYTES = 64 * 1024;
