/**
 * The compiled lookup tables the engines step VSIs with must agree with xstate's own
 * `transition` (StoredMachine) on every state, context and event: next state, next context
 * and the actions, in order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompiledMachine } from '../../../fsm/compiled.js';
import { StoredMachine } from '../../../fsm/stored.js';
import { stationMachine, type StationContext, type StationEvent } from '../../../fsm/vdp-station.js';
import { bridgeMachine, type BridgeContext, type BridgeEvent } from '../../../fsm/vdp-bridge.js';
import type { VsiMode } from '../../../pdu/types.js';

const modes: VsiMode[] = ['preassoc', 'preassoc-rr', 'assoc', 'deassoc'];
const mode = fc.constantFrom(...modes);
const confirmed = fc.constantFrom<VsiMode | null>(null, ...modes);
// status octets that matter: response bit, KEEP, HARD, codes 0..15
const status = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x40, 0x60, 0x50, 0x41, 0x63, 0x52, 0x20, 0x10));
const reason = fc.constantFrom('created', 'command-assoc', 'bridge-response-success', 'resp-wait-delay-expired', 'keepalive');

const stationEvent: fc.Arbitrary<StationEvent> = fc.oneof(
  mode.map((m) => ({ type: 'CMD' as const, mode: m })),
  fc.record({ mode, status, filtersOk: fc.boolean() }).map((r) => ({ type: 'RESPONSE' as const, ...r })),
  fc.boolean().map((requestDelivered): StationEvent => ({ type: 'UNSOLICITED_DEASSOC', requestDelivered })),
  fc.constantFrom<StationEvent>({ type: 'RESEND_DUE' }, { type: 'ECP_ABANDONED' }, { type: 'RESP_TIMEOUT' }, { type: 'KA_DUE' }, { type: 'LINK_DOWN' }, { type: 'LINK_UP' }),
);
const stationCtx: fc.Arbitrary<StationContext> = fc.record({ mode, confirmed, status, reason });

const decision = fc.record(
  {
    action: fc.constantFrom('accept' as const, 'reject' as const, 'keep' as const, 'ignore' as const),
    reason: fc.integer({ min: 1, max: 15 }),
    hard: fc.boolean(),
    assignVid: fc.integer({ min: 0, max: 4095 }),
    delayMs: fc.integer({ min: 0, max: 100 }),
  },
  { requiredKeys: ['action'] },
);
const bridgeEvent: fc.Arbitrary<BridgeEvent> = fc.oneof(
  fc.record({ mode, sameFilters: fc.boolean() }).map((r) => ({ type: 'REQUEST' as const, ...r })),
  decision.map((d) => ({ type: 'DECIDED' as const, decision: d })),
  fc.constantFrom<BridgeEvent>({ type: 'RWD_EXPIRED' }, { type: 'TOUT_KA' }),
  fc.constantFrom('admin-deassoc', 'policy-deassoc-after').map((why) => ({ type: 'ADMIN_DEASSOC' as const, why })),
);
const bridgeCtx: fc.Arbitrary<BridgeContext> = fc.record({ mode, confirmed, reason });

function stateNames(m: { root: { states: Record<string, unknown> } }): string[] {
  return Object.keys(m.root.states);
}

/** random start state, context and event sequence: the compiled step and xstate's agree at every step */
function agree<C>(ref: { step(v: string, c: C, e: never): { value: string; context: C; actions: readonly unknown[] } }, fast: typeof ref, states: string[], ctx: fc.Arbitrary<C>, event: fc.Arbitrary<unknown>): void {
  fc.assert(
    fc.property(fc.constantFrom(...states), ctx, fc.array(event, { minLength: 1, maxLength: 6 }), (s0, c0, events) => {
      let a = { value: s0, context: c0 };
      let b = { value: s0, context: c0 };
      for (const ev of events) {
        const x = ref.step(a.value, a.context, ev as never);
        const y = fast.step(b.value, b.context, ev as never);
        expect(y.value).toBe(x.value);
        expect(y.context).toStrictEqual(x.context);
        expect([...y.actions]).toEqual(x.actions);
        a = x;
        b = y;
      }
    }),
    { numRuns: 3000 },
  );
}

describe('compiled machines agree with xstate', () => {
  it('station: every state, context and event (including the transient ASSOC_OR_PRE)', () => {
    const ref = new StoredMachine<typeof stationMachine, StationContext>(stationMachine);
    const fast = new CompiledMachine<typeof stationMachine, StationContext>(stationMachine);
    expect(fast.stateNames).toEqual(stateNames(stationMachine));
    agree<StationContext>(ref, fast, stateNames(stationMachine), stationCtx, stationEvent);
  });

  it('bridge: every state, context and event (including the transient BR_KEEP)', () => {
    const ref = new StoredMachine<typeof bridgeMachine, BridgeContext>(bridgeMachine);
    const fast = new CompiledMachine<typeof bridgeMachine, BridgeContext>(bridgeMachine);
    expect(fast.stateNames).toEqual(stateNames(bridgeMachine));
    agree<BridgeContext>(ref, fast, stateNames(bridgeMachine), bridgeCtx, bridgeEvent);
  });

  it('run: assigns and named actions in document order, each action with the context of its moment, as an actor runs them', async () => {
    const { assign, createActor, setup } = await import('xstate');
    const make = (seen: number[]) =>
      setup({
        types: { context: {} as { n: number }, events: {} as { type: 'GO' } },
        actions: { note: ({ context }) => void seen.push(context.n) },
      }).createMachine({
        context: { n: 0 },
        initial: 'a',
        states: {
          a: { on: { GO: { target: 'b', actions: ['note', assign({ n: 1 }), 'note'] } }, exit: ['note', assign({ n: 5 })] },
          b: { entry: ['note', assign({ n: 2 }), 'note'], always: { target: 'c', actions: ['note', assign({ n: 3 })] } },
          c: { entry: 'note' },
        },
      });
    const byActor: number[] = [];
    const actor = createActor(make(byActor)).start();
    actor.send({ type: 'GO' });
    const byRun: number[] = [];
    const fast = new CompiledMachine<ReturnType<typeof make>, { n: number }>(make(byRun));
    const r = fast.run('a', fast.initialContext, { type: 'GO' });
    expect(byActor).toEqual([0, 5, 1, 1, 2, 2, 3]);
    expect(byRun).toEqual(byActor);
    expect(r).toEqual({ value: 'c', context: actor.getSnapshot().context });
  });

  it('refuses machines it cannot compile faithfully', async () => {
    const { createMachine } = await import('xstate');
    const nested = createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } });
    expect(() => new CompiledMachine(nested)).toThrow(/flat/);
    const inline = createMachine({ initial: 'a', states: { a: { on: { GO: { target: 'b', actions: () => {} } } }, b: {} } });
    expect(() => new CompiledMachine(inline)).toThrow(/not compilable/);
    const delayed = createMachine({ initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } });
    expect(() => new CompiledMachine(delayed)).toThrow(/delays/);
    // `enter` would skip them
    const initialActions = createMachine({ initial: { target: 'a', actions: 'go' }, states: { a: {} } }, { actions: { go: () => {} } });
    expect(() => new CompiledMachine(initialActions)).toThrow(/initial transition/);
  });
});
