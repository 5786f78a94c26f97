/**
 * The ECP machines run compiled (MachineRunner over CompiledMachine.run), not as xstate
 * actors. Against a real xstate actor of the same definition, on random event sequences:
 * the same states, contexts and calls to the port (transmissions, timers, pulls, ULP
 * callbacks, in order), including events an action sends back to its own machine (queued
 * until the current one is done, as in an actor's mailbox).
 */
import fc from 'fast-check';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { CompiledMachine, MachineRunner } from '../../../fsm/compiled.js';
import { rxMachine, txMachine, type RxContext, type RxDeps, type RxEvent, type TxContext, type TxDeps, type TxEvent } from '../../../fsm/ecp.js';
import type { Ecp22Pdu } from '../../../pdu/types.js';

/** answers from a script (repeated), every call logged */
function scripted<T>(script: readonly T[]): () => T {
  let i = 0;
  return () => script[i++ % script.length]!;
}

interface TxScript {
  data: boolean[];
  gap: boolean[];
  /** `delivered` sends KICK to its own machine (a ULP that kicks when told) */
  kickOnDelivered: boolean[];
  r: number;
}

function txDeps(s: TxScript, log: string[], self: () => (e: TxEvent) => void): TxDeps {
  const data = scripted(s.data);
  const gap = scripted(s.gap);
  const kick = scripted(s.kickOnDelivered);
  let token = 0;
  const tok = (c: TxContext): string => String(c.current?.token ?? '-');
  return {
    pull: () => {
      const u = data() ? { ulpdu: Uint8Array.of(++token), token } : undefined;
      log.push(`pull ${u?.token ?? '-'}`);
      return u;
    },
    send: (c) => log.push(`send seq=${c.seq} try=${c.retries} ${tok(c)}`),
    armAckTimer: () => log.push('arm'),
    cancelAckTimer: () => log.push('cancel'),
    armGap: () => {
      const g = gap();
      log.push(`gap ${g}`);
      return g;
    },
    delivered: (c) => {
      log.push(`delivered ${tok(c)}`);
      if (kick()) self()({ type: 'KICK' });
    },
    abandoned: (c, why) => log.push(`abandoned ${tok(c)} ${why}`),
    maxRetries: () => s.r,
  };
}

const txScript: fc.Arbitrary<TxScript> = fc.record({
  data: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  gap: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
  kickOnDelivered: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
  r: fc.integer({ min: 0, max: 3 }),
});
const txEvent: fc.Arbitrary<TxEvent> = fc.oneof(
  fc.constantFrom<TxEvent>({ type: 'KICK' }, { type: 'ACK_TIMER' }, { type: 'GAP_DONE' }, { type: 'PORT_DOWN' }),
  fc.integer({ min: 0, max: 4 }).map((seq): TxEvent => ({ type: 'ACK', seq })),
);

const view = (c: TxContext) => ({ seq: c.seq, retries: c.retries, token: c.current?.token });

describe('ECP machines compiled agree with xstate actors', () => {
  it('TX: states, contexts and the port calls, in order', () => {
    fc.assert(
      fc.property(txScript, fc.array(txEvent, { minLength: 1, maxLength: 12 }), (script, events) => {
        const logA: string[] = [];
        const logB: string[] = [];
        const actor = createActor(txMachine(txDeps(script, logA, () => (e) => actor.send(e))));
        const runner: MachineRunner<ReturnType<typeof txMachine>, TxContext> = new MachineRunner(
          new CompiledMachine(txMachine(txDeps(script, logB, () => (e) => runner.send(e)))),
        );
        actor.start();
        runner.start();
        for (const ev of [{ type: 'KICK' } as TxEvent, ...events]) {
          actor.send(ev);
          runner.send(ev);
          const snap = actor.getSnapshot();
          expect(runner.value).toBe(snap.value);
          expect(view(runner.context)).toEqual(view(snap.context));
          expect(logB).toEqual(logA);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('RX: states, contexts and the ACKs, deliveries and duplicates, in order', () => {
    const pdu = (sequence: number): Ecp22Pdu => ({ version: 1, op: 0, subtype: 1, sequence, ulpdu: new Uint8Array(0) });
    const rxEvent: fc.Arbitrary<RxEvent> = fc.oneof(
      fc.integer({ min: 1, max: 4 }).map((s): RxEvent => ({ type: 'REQ', pdu: pdu(s) })),
      fc.constant<RxEvent>({ type: 'PORT_DOWN' }),
    );
    const deps = (recent: () => boolean, log: string[]): RxDeps => ({
      recentlyDelivered: (seq) => {
        const r = recent();
        log.push(`recent ${seq} ${r}`);
        return r;
      },
      ack: (p) => log.push(`ack ${p.sequence}`),
      deliver: (p) => log.push(`deliver ${p.sequence}`),
      duplicate: (p) => log.push(`duplicate ${p.sequence}`),
    });
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.array(rxEvent, { minLength: 1, maxLength: 12 }), (recent, events) => {
        const logA: string[] = [];
        const logB: string[] = [];
        const actor = createActor(rxMachine(deps(scripted(recent), logA))).start();
        const runner = new MachineRunner<ReturnType<typeof rxMachine>, RxContext>(new CompiledMachine(rxMachine(deps(scripted(recent), logB))));
        runner.start();
        for (const ev of events) {
          actor.send(ev);
          runner.send(ev);
          expect(runner.value).toBe(actor.getSnapshot().value);
          expect(runner.context).toEqual(actor.getSnapshot().context);
          expect(logB).toEqual(logA);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a stopped runner ignores events, and reports each state change once', () => {
    const changes: string[] = [];
    const log: string[] = [];
    const runner = new MachineRunner<ReturnType<typeof rxMachine>, RxContext>(
      new CompiledMachine(rxMachine({ recentlyDelivered: () => false, ack: (p) => log.push(`ack ${p.sequence}`), deliver: () => {}, duplicate: () => {} })),
      (from, to) => changes.push(`${from}->${to}`),
    );
    runner.start();
    runner.send({ type: 'REQ', pdu: { version: 1, op: 0, subtype: 1, sequence: 5, ulpdu: new Uint8Array(0) } });
    // RX_NEW_ECPDU is transient: the macrostep ends in RX_WAIT again, no change to report
    expect(changes).toEqual([]);
    expect(runner.context).toEqual({ lastSeq: 5, first: false });
    runner.stop();
    runner.send({ type: 'REQ', pdu: { version: 1, op: 0, subtype: 1, sequence: 6, ulpdu: new Uint8Array(0) } });
    expect(log).toEqual(['ack 5']);
    expect(runner.context.lastSeq).toBe(5);
  });
});
