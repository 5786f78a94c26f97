import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../../src/api/client.js';
import { ApiError, exitCodeFor, RawJson } from '../../../src/api/protocol.js';
import { ApiServer, type ApiHandler } from '../../../src/api/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rawExchange(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => s.write(text));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        s.destroy();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
}

describe('client API server', () => {
  it('answers requests, refuses malformed lines with a typed error, streams watch events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdpd-api-'));
    dirs.push(dir);
    const listeners = new Set<(e: unknown) => void>();
    const handler: ApiHandler = {
      async handle(req) {
        if (req.op === 'ping') return { pong: true };
        if (req.op === 'status') throw new ApiError('ENODEV', 'unknown interface');
        if (req.op === 'list') return new RawJson('[{"vsiid":"a"},{"vsiid":"b"}]');
        return { op: req.op };
      },
      watch(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const server = new ApiServer(join(dir, 'run', 'vdpd.sock'), handler);
    await server.listen();
    expect(statSync(server.path).mode & 0o777).toBe(0o660);

    const client = await ApiClient.connect(server.path);
    expect(await client.call({ op: 'ping' })).toEqual({ pong: true });
    await expect(client.call({ op: 'status', iface: 'nope0' })).rejects.toMatchObject({ code: 'ENODEV' });
    // a result the handler serialised itself arrives as the same JSON
    expect(await client.call({ op: 'list' })).toEqual([{ vsiid: 'a' }, { vsiid: 'b' }]);
    // a burst of requests in one write, answered in full (handled a slice per turn)
    const many = await Promise.all(Array.from({ length: 3000 }, () => client.call({ op: 'ping' })));
    expect(many.every((r) => (r as { pong: boolean }).pong)).toBe(true);

    const bad = await rawExchange(server.path, '{"id": 1, "op": "explode"}\n');
    expect(JSON.parse(bad)).toMatchObject({ ok: false, error: { code: 'EBADREQ' } });
    const notJson = await rawExchange(server.path, '{{{\n');
    expect(JSON.parse(notJson)).toMatchObject({ ok: false, error: { code: 'EBADREQ' } });
    expect(server.stats.badRequests).toBe(2);

    const events: unknown[] = [];
    await client.watch((e) => events.push(e));
    for (const l of listeners) l({ type: 'state-change', to: 'ASSOCIATED' });
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([{ type: 'state-change', to: 'ASSOCIATED' }]);
    client.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(listeners.size).toBe(0);
    await server.close();
  });

  it('the client writes the calls made in one turn together: 2,000 calls, a few writes, every one answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdpd-api-'));
    dirs.push(dir);
    const handler: ApiHandler = {
      async handle() {
        return { pong: true };
      },
      watch: () => () => {},
    };
    const server = new ApiServer(join(dir, 'vdpd.sock'), handler);
    await server.listen();
    const client = await ApiClient.connect(server.path);
    const writes = vi.spyOn(Socket.prototype, 'write');
    try {
      const all = Promise.all(Array.from({ length: 2000 }, () => client.call({ op: 'ping' })));
      const answers = await all;
      expect(answers).toHaveLength(2000);
      expect(answers.every((a) => (a as { pong: boolean }).pong)).toBe(true);
      // ~30 octets a request line: ~60 KB, one or two writes (only request lines name the op)
      const fromClient = writes.mock.calls.filter((c) => typeof c[0] === 'string' && c[0].includes('"op":"ping"')).length;
      expect(fromClient).toBeGreaterThan(0);
      expect(fromClient).toBeLessThanOrEqual(4);
    } finally {
      writes.mockRestore();
      client.close();
      await server.close();
    }
  });

  it('maps every outcome to a distinct exit code', () => {
    const codes = [
      exitCodeFor({ kind: 'success' }),
      exitCodeFor({ kind: 'bridge-error', reason: 2 }),
      exitCodeFor({ kind: 'bridge-error', reason: 5 }),
      exitCodeFor({ kind: 'timeout' }),
      exitCodeFor({ kind: 'no-bridge' }),
      exitCodeFor({ kind: 'deassoc-by-bridge' }),
    ];
    expect(codes).toEqual([0, 12, 15, 20, 21, 22]);
  });
});
