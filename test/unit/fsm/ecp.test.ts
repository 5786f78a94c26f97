import { describe, expect, it } from 'vitest';
import { decodeEcp22, encodeEcp22 } from '../../../pdu/ecp.js';
import type { Ecp22Pdu } from '../../../pdu/types.js';
import { EcpPort, nextSeq } from '../../../fsm/ecp.js';
import { SimLink, type Impairment } from '../../../fsm/sim/link.js';
import { VirtualTimers } from '../../../fsm/timers.js';
import type { EcpUlp, UlpduOut } from '../../../fsm/ulp.js';

/** A trivial ULP: a queue of numbered ULPDUs to send, and a log of what arrived (attached through `asUlp`). */
class TestUlp {
  queue: number[] = [];
  delivered: number[] = [];
  abandoned: number[] = [];
  received: number[] = [];
  pull(): UlpduOut | undefined {
    const n = this.queue.shift();
    if (n === undefined) return undefined;
    return { ulpdu: Uint8Array.of(n >> 8, n & 0xff, 0xaa, 0xbb), token: n };
  }
  delivered_(t: unknown): void {
    this.delivered.push(t as number);
  }
  abandonedCb(t: unknown): void {
    this.abandoned.push(t as number);
  }
  receive(u: Uint8Array): void {
    this.received.push((u[0]! << 8) | u[1]!);
  }
  asUlp(): EcpUlp {
    return { pull: () => this.pull(), delivered: (t) => this.delivered_(t), abandoned: (t) => this.abandonedCb(t), receive: (x) => this.receive(x) };
  }
}

function pair(timers: VirtualTimers, link: SimLink, r = 3, rte = 8) {
  // ECP PDUs cross the link as bytes (header + ULPDU), like the real port does
  const mk = (side: 'a' | 'b') =>
    new EcpPort({ id: side, timers, r, rte, transmit: (pdu) => link.sender(side)(encodeEcp22(pdu)) });
  const a = mk('a');
  const b = mk('b');
  link.attach('a', (bytes) => a.receive(decodeEcp22(bytes)));
  link.attach('b', (bytes) => b.receive(decodeEcp22(bytes)));
  const ua = new TestUlp();
  const ub = new TestUlp();
  a.attach(ua.asUlp());
  b.attach(ub.asUlp());
  return { a, b, ua, ub };
}

describe('ECP22', () => {
  it('sequence numbers start at 1, increase per ECPDU and skip 0 on wrap', () => {
    expect(nextSeq(0)).toBe(1);
    expect(nextSeq(41)).toBe(42);
    expect(nextSeq(0xffff)).toBe(1);
    const timers = new VirtualTimers();
    const sent: Ecp22Pdu[] = [];
    const port = new EcpPort({ id: 'x', timers, transmit: (p) => sent.push(p) });
    const u = new TestUlp();
    port.attach(u.asUlp());
    u.queue.push(1, 2);
    port.kick();
    expect(sent.map((p) => p.sequence)).toEqual([1]);
    port.receive({ version: 1, op: 1, subtype: 1, sequence: 1, ulpdu: new Uint8Array(0) });
    // advances on the ACK at once, not on the ack timer
    expect(sent.map((p) => p.sequence)).toEqual([1, 2]);
    expect(u.delivered).toEqual([1]);
  });

  it('retransmits the identical ECPDU every ackTimer (RTE 8 = 2.56 ms) and abandons after R+1 transmissions', () => {
    const timers = new VirtualTimers();
    const sent: [number, Ecp22Pdu][] = [];
    const port = new EcpPort({ id: 'x', timers, r: 3, rte: 8, transmit: (p) => sent.push([timers.now(), p]) });
    const u = new TestUlp();
    port.attach(u.asUlp());
    u.queue.push(7, 8);
    port.kick();
    timers.advance(2.56 * 3 + 0.001);
    expect(sent.map(([t]) => +t.toFixed(2))).toEqual([0, 2.56, 5.12, 7.68]);
    expect(new Set(sent.map(([, p]) => p.sequence))).toEqual(new Set([1]));
    expect(u.abandoned).toEqual([]); // the last transmission gets its full ack window
    timers.advance(2.56);
    expect(u.abandoned).toEqual([7]);
    expect(port.counters).toMatchObject({ txReq: 2, txRetransmit: 3, abandoned: 1 });
    // the next ULPDU goes out with the next sequence number
    expect(sent.at(-1)![1].sequence).toBe(2);
  });

  it('R and RTE changes apply to the next transmission', () => {
    const timers = new VirtualTimers();
    const times: number[] = [];
    const port = new EcpPort({ id: 'x', timers, r: 1, rte: 8, transmit: () => times.push(timers.now()) });
    const u = new TestUlp();
    port.attach(u.asUlp());
    port.setParams(2, 14);
    u.queue.push(1);
    port.kick();
    timers.advance(1000);
    expect(times.map((t) => +t.toFixed(2))).toEqual([0, 163.84, 327.68]);
  });

  it('acks every request, delivers a retransmission once, drops bad versions, ops and subtypes', () => {
    const timers = new VirtualTimers();
    const acks: number[] = [];
    const port = new EcpPort({ id: 'x', timers, transmit: (p) => p.op === 1 && acks.push(p.sequence) });
    const u = new TestUlp();
    port.attach({ pull: () => u.pull(), delivered: () => {}, abandoned: () => {}, receive: (x) => u.receive(x) });
    const req = (seq: number, n: number, extra: Partial<Ecp22Pdu> = {}): void =>
      port.receive({ version: 1, op: 0, subtype: 1, sequence: seq, ulpdu: Uint8Array.of(0, n), ...extra });
    req(5, 1);
    req(5, 1);
    req(5, 1);
    req(6, 2);
    req(9, 3);
    req(9, 3, { version: 15 });
    req(10, 4, { subtype: 15 });
    req(11, 5, { subtype: 2 });
    req(12, 6, { op: 2 });
    expect(acks).toEqual([5, 5, 5, 6, 9]);
    expect(u.received).toEqual([1, 2, 3]);
    expect(port.counters.rxDuplicate).toBe(2);
    expect(port.counters.rxDropped).toEqual({ version: 1, subtype: 1, 'subtype-pecsp': 1, op: 1 });
    // an ACK for a sequence number that is not outstanding is counted and ignored
    port.receive({ version: 1, op: 1, subtype: 1, sequence: 77, ulpdu: new Uint8Array(0) });
    expect(port.counters.rxAckUnexpected).toBe(1);
  });

  it('under loss, duplication and reordering every ULPDU is delivered exactly once or reported abandoned', () => {
    const cases: Partial<Impairment>[] = [
      { lossPercent: 10 },
      { lossPercent: 30 },
      { duplicatePercent: 30 },
      { reorderPercent: 30, jitterMs: 1 },
      { lossPercent: 20, duplicatePercent: 20, reorderPercent: 20, jitterMs: 0.5 },
    ];
    for (const [ci, imp] of cases.entries()) {
      for (let seed = 1; seed <= 8; seed++) {
        const timers = new VirtualTimers();
        const link = new SimLink(timers, { seed: seed * 101 + ci, a: imp, b: imp });
        const { a, b, ua, ub } = pair(timers, link);
        const n = 200;
        for (let i = 1; i <= n; i++) ua.queue.push(i);
        a.kick();
        timers.runAll(60_000);
        // every ULPDU reached the peer once, or the sender was told it was abandoned
        const got = new Set(ub.received);
        expect(ub.received.length, `case ${ci} seed ${seed}`).toBe(got.size);
        for (let i = 1; i <= n; i++) {
          const fate = (got.has(i) ? 1 : 0) + (ua.abandoned.includes(i) ? 2 : 0) + (ua.delivered.includes(i) ? 4 : 0);
          // delivered+acked (5), abandoned although it arrived (3: all ACKs lost), or lost and abandoned (2)
          expect([5, 3, 2], `case ${ci} seed ${seed} ulpdu ${i} fate ${fate}`).toContain(fate);
        }
        expect(ua.delivered.length + ua.abandoned.length).toBe(n);
        if ((imp.lossPercent ?? 0) > 0) expect(a.counters.txRetransmit).toBeGreaterThan(0);
        if ((imp.lossPercent ?? 0) === 0) expect(ua.abandoned).toEqual([]);
        void b;
      }
    }
  });

  it('reports abandonment when nobody answers and restarts at sequence 1 after link down/up', () => {
    const timers = new VirtualTimers();
    const sent: Ecp22Pdu[] = [];
    const port = new EcpPort({ id: 'x', timers, transmit: (p) => sent.push(p) });
    const u = new TestUlp();
    const why: string[] = [];
    port.attach({ pull: () => u.pull(), delivered: () => {}, abandoned: (t, w) => why.push(`${String(t)}:${w}`), receive: () => {} });
    u.queue.push(1, 2, 3);
    port.kick();
    port.linkDown();
    expect(why).toEqual(['1:port-down']);
    port.linkUp();
    expect(sent.at(-1)!.sequence).toBe(1);
    expect(sent.at(-1)!.ulpdu[1]).toBe(2);
  });
});
