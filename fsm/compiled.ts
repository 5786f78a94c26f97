/**
 * The per-VSI machines are flat (atomic states under the root, guarded transitions,
 * `assign` and named actions, eventless `always` hops): at start-up their xstate definition
 * is compiled into a lookup table, state × event type → the candidate transitions in
 * document order, each with its guard, its target, its context assignments and the names
 * of the actions xstate would execute (exit of the source, the transition's own, entry of
 * the target, then whatever `always` hop follows). Stepping a VSI is then a table look-up,
 * the guards and assignments of the machine itself, and no snapshot.
 *
 * xstate stays the single source of truth: everything is read from the machine (its state
 * nodes, transitions, guards and assignment functions), anything the compiler does not
 * understand (nested or parallel states, history, delays, invoked actors, wildcard events,
 * raise/sendTo, inline action functions, actions on the initial transition) throws at
 * start-up, and a property test (test/unit/fsm/compiled.test.ts) checks `step` against
 * xstate's own `transition` (via StoredMachine) on random states, contexts and events.
 *
 * `step` hands back the names of the actions for the caller to perform (the VSI engines,
 * which act on the final context). `run` performs them itself, as a running xstate actor
 * does: in document order, each named action called with the context of that moment, so
 * an action may see a context that a later `assign` of the same macrostep replaces. The
 * per-port ECP machines (fsm/ecp.ts) run this way: their actions transmit, arm timers and
 * pull the next ULPDU, and an actor per port cost more to compile and run than the rest of
 * a 10,000-VSI burst's state machines together (BENCHMARKS.md, vs-lldpad).
 */
import type { AnyStateMachine, EventFromLogic } from 'xstate';

interface XTransition {
  guard?: unknown;
  target?: readonly XNode[];
  actions: readonly unknown[];
  reenter: boolean;
  source: XNode;
}

interface XNode {
  key: string;
  type: string;
  parent?: XNode;
  states: Record<string, XNode>;
  entry: readonly unknown[];
  exit: readonly unknown[];
  transitions: Map<string, XTransition[]>;
  always?: XTransition[];
  config: { after?: unknown; invoke?: unknown; history?: unknown };
}

type Guard<C, E> = (args: { context: C; event: E }, params: undefined) => boolean;
type Assigner<C, E> = (context: C, event: E) => C;
type ActionFn<C, E> = (args: { context: C; event: E }, params: undefined) => void;
/** one action of a transition, in document order: a context assignment or a named action */
type Op<C, E> = { assign: Assigner<C, E>; act?: undefined } | { assign?: undefined; act: ActionFn<C, E> };

interface Compiled<C, E> {
  guard: Guard<C, E> | undefined;
  /** target state index, or -1 for a targetless transition */
  target: number;
  assigns: readonly Assigner<C, E>[];
  /** action names in xstate's execution order (exit, transition, entry; final-state exits) */
  effects: readonly string[];
  /** effects followed by each `always` hop of the target (memo by hop) */
  chained: Map<Compiled<C, E>, readonly string[]> | undefined;
  /** assigns and named actions interleaved as written (for `run`) */
  ops: readonly Op<C, E>[];
}

interface StateEntry<C, E> {
  name: string;
  final: boolean;
  on: Map<string, readonly Compiled<C, E>[]>;
  always: readonly Compiled<C, E>[] | undefined;
  /** entry actions (for `enter`, the initial state's) */
  entry: readonly Op<C, E>[];
}

export interface StepResult<C> {
  value: string;
  context: C;
  actions: readonly string[];
}

export interface RunResult<C> {
  value: string;
  context: C;
}

const NONE: readonly string[] = Object.freeze([]);

export class CompiledMachine<M extends AnyStateMachine, C extends object> {
  private readonly states: StateEntry<C, EventFromLogic<M>>[] = [];
  private readonly index = new Map<string, number>();
  /** index of the initial state (for `enter`) */
  private readonly initial: number;

  constructor(readonly machine: M) {
    type E = EventFromLogic<M>;
    const root = machine.root as unknown as XNode;
    const guards = (machine.implementations.guards ?? {}) as Record<string, unknown>;
    const named = (machine.implementations.actions ?? {}) as Record<string, unknown>;
    const fail = (why: string): never => {
      throw new Error(`CompiledMachine(${machine.id}): ${why}`);
    };
    if (root.transitions.size > 0 || root.always || root.entry.length > 0) fail('root-level transitions or actions are not supported');
    const nodes = Object.values(root.states);
    nodes.forEach((n, i) => {
      if (n.type !== 'atomic' && n.type !== 'final') fail(`state ${n.key} is ${n.type}; only flat machines compile`);
      if (n.config.after || n.config.invoke) fail(`state ${n.key} has delays or invoked actors`);
      this.index.set(n.key, i);
    });

    const guardOf = (g: unknown): Guard<C, E> | undefined => {
      if (g === undefined) return undefined;
      if (typeof g === 'string') {
        const fn = guards[g];
        if (typeof fn !== 'function') fail(`guard ${g} is not implemented`);
        return fn as Guard<C, E>;
      }
      if (typeof g === 'function' && !('resolve' in g)) return g as Guard<C, E>;
      return fail('only named or inline predicate guards compile');
    };
    // context assignment exactly as xstate's resolveAssign: a partial update merged into a copy
    const assignerOf = (a: { assignment: unknown }): Assigner<C, E> => {
      const asg = a.assignment;
      if (typeof asg === 'function') {
        const f = asg as (args: { context: C; event: E }, params: undefined) => Partial<C>;
        return (context, event) => ({ ...context, ...f({ context, event }, undefined) });
      }
      const entries = Object.entries(asg as Record<string, unknown>);
      return (context, event) => {
        const upd: Record<string, unknown> = {};
        for (const [k, v] of entries) upd[k] = typeof v === 'function' ? (v as (args: { context: C; event: E }, params: undefined) => unknown)({ context, event }, undefined) : v;
        return { ...context, ...upd } as C;
      };
    };
    const split = (actions: readonly unknown[], assigns: Assigner<C, E>[], effects: string[], ops: Op<C, E>[]): void => {
      const effect = (name: string): void => {
        const fn = named[name];
        if (typeof fn !== 'function') fail(`action ${name} is not implemented`);
        effects.push(name);
        ops.push({ act: fn as ActionFn<C, E> });
      };
      for (const a of actions) {
        if (typeof a === 'function') {
          const fa = a as unknown as { type?: string; assignment?: unknown };
          if (fa.type !== 'xstate.assign') fail(`action ${fa.type ?? '(inline)'} is not compilable (only assign and named actions)`);
          const asg = assignerOf(fa as { assignment: unknown });
          assigns.push(asg);
          ops.push({ assign: asg });
        } else if (a && typeof a === 'object' && typeof (a as { type: unknown }).type === 'string') {
          const o = a as { type: string; params?: unknown };
          if (o.params !== undefined) fail(`action ${o.type} has params`);
          effect(o.type);
        } else if (typeof a === 'string') {
          effect(a);
        } else {
          fail('unknown action form');
        }
      }
    };
    const compile = (t: XTransition): Compiled<C, E> => {
      const src = t.source;
      const tgt = t.target;
      if (tgt && tgt.length !== 1) fail(`transition from ${src.key} has ${tgt.length} targets`);
      const to = tgt?.[0];
      if (to && to.parent !== root) fail(`target ${to.key} is not a top-level state`);
      const assigns: Assigner<C, E>[] = [];
      const effects: string[] = [];
      const ops: Op<C, E>[] = [];
      // a flat machine exits the source and enters the target unless the transition is
      // targetless or targets the source itself without `reenter` (xstate's transition domain)
      const moves = to !== undefined && (to !== src || t.reenter);
      if (moves) split(src.exit, assigns, effects, ops);
      split(t.actions, assigns, effects, ops);
      if (moves) {
        split(to.entry, assigns, effects, ops);
        // reaching a top-level final state: xstate runs the exit actions of every active node
        if (to.type === 'final') {
          split(to.exit, assigns, effects, ops);
          split(root.exit, assigns, effects, ops);
        }
      }
      return { guard: guardOf(t.guard), target: to ? this.index.get(to.key)! : -1, assigns, effects: effects.length ? effects : NONE, chained: undefined, ops };
    };
    for (const n of nodes) {
      const on = new Map<string, readonly Compiled<C, E>[]>();
      for (const [type, list] of n.transitions) {
        if (type === '*' || type.endsWith('.*')) fail(`wildcard event descriptor ${type} in ${n.key}`);
        on.set(type, list.map(compile));
      }
      const always = n.always?.map(compile);
      if (always?.some((a) => a.target < 0)) fail(`targetless eventless transition in ${n.key}`);
      const entry: Op<C, E>[] = [];
      split(n.entry, [], [], entry);
      this.states.push({ name: n.key, final: n.type === 'final', on, always, entry });
    }
    const init = (root as unknown as { initial?: { target?: readonly XNode[]; actions?: readonly unknown[] } }).initial;
    if (init?.actions?.length) fail('actions on the initial transition are not supported');
    const first = init?.target?.[0];
    const si = first ? this.index.get(first.key) : undefined;
    this.initial = si ?? fail('no top-level initial state');
  }

  /** The state names, in definition order. */
  get stateNames(): string[] {
    return this.states.map((s) => s.name);
  }

  private pick(list: readonly Compiled<C, EventFromLogic<M>>[], context: C, event: EventFromLogic<M>): Compiled<C, EventFromLogic<M>> | undefined {
    for (const t of list) if (t.guard === undefined || t.guard({ context, event }, undefined)) return t;
    return undefined;
  }

  /**
   * Advance a stored (state, context) by one event: the next state, context and the names of
   * the actions to perform, in order (the same as StoredMachine.step, without a snapshot).
   * The returned `actions` array is shared: read it, do not keep or change it.
   */
  step(value: string, context: C, event: EventFromLogic<M>): StepResult<C> {
    let si = this.index.get(value);
    if (si === undefined) throw new Error(`CompiledMachine(${this.machine.id}): unknown state ${value}`);
    let st = this.states[si]!;
    if (st.final) return { value, context, actions: NONE };
    let ctx = context;
    let actions: readonly string[] = NONE;
    const cands = st.on.get(event.type);
    const t = cands && this.pick(cands, ctx, event);
    if (t) {
      for (const a of t.assigns) ctx = a(ctx, event);
      actions = t.effects;
      if (t.target >= 0) {
        si = t.target;
        st = this.states[si]!;
      }
    }
    // eventless hops (xstate selects them after every event, with that event)
    let first = true;
    while (st.always && !st.final) {
      const hop = this.pick(st.always, ctx, event);
      if (!hop) break;
      for (const a of hop.assigns) ctx = a(ctx, event);
      if (first && t) {
        // the usual case, one hop after a transition: the joined list is kept with the transition
        const memo = (t.chained ??= new Map());
        let joined = memo.get(hop);
        if (!joined) {
          joined = actions.length === 0 ? hop.effects : hop.effects.length === 0 ? actions : [...actions, ...hop.effects];
          memo.set(hop, joined);
        }
        actions = joined;
      } else if (hop.effects.length > 0) {
        actions = actions.length === 0 ? hop.effects : [...actions, ...hop.effects];
      }
      first = false;
      si = hop.target;
      st = this.states[si]!;
    }
    return { value: st.name, context: ctx, actions };
  }

  private exec(ops: readonly Op<C, EventFromLogic<M>>[], context: C, event: EventFromLogic<M>): C {
    let ctx = context;
    for (const op of ops) {
      if (op.assign) ctx = op.assign(ctx, event);
      else op.act({ context: ctx, event }, undefined);
    }
    return ctx;
  }

  /** eventless hops from state `si` (guards see the context after the actions before them) */
  private settle(si: number, context: C, event: EventFromLogic<M>): RunResult<C> {
    let st = this.states[si]!;
    let ctx = context;
    while (st.always && !st.final) {
      const hop = this.pick(st.always, ctx, event);
      if (!hop) break;
      ctx = this.exec(hop.ops, ctx, event);
      st = this.states[hop.target]!;
    }
    return { value: st.name, context: ctx };
  }

  /**
   * Advance (state, context) by one event, performing the actions as a running xstate actor
   * would (see the top of this file). An event no transition takes performs no action; the
   * eventless hops are still looked at, as xstate does (and `step`).
   */
  run(value: string, context: C, event: EventFromLogic<M>): RunResult<C> {
    const si = this.index.get(value);
    if (si === undefined) throw new Error(`CompiledMachine(${this.machine.id}): unknown state ${value}`);
    const st = this.states[si]!;
    if (st.final) return { value, context };
    const cands = st.on.get(event.type);
    const t = cands && this.pick(cands, context, event);
    if (!t) return this.settle(si, context, event);
    const ctx = this.exec(t.ops, context, event);
    return this.settle(t.target >= 0 ? t.target : si, ctx, event);
  }

  /** A copy of the context the machine's definition starts with (a plain object there). */
  get initialContext(): C {
    const c = (this.machine.config as { context?: unknown }).context;
    if (typeof c !== 'object' || c === null) throw new Error(`CompiledMachine(${this.machine.id}): the initial context is not a plain object`);
    return { ...(c as C) };
  }

  /** Start in the machine's initial state: its entry actions, then its eventless hops (an actor's start). */
  enter(context: C, event: EventFromLogic<M>): RunResult<C> {
    return this.settle(this.initial, this.exec(this.states[this.initial]!.entry, context, event), event);
  }
}

/**
 * One machine stepped as an xstate actor would run it: its state and context, actions
 * performed as the machine goes (CompiledMachine.run), and an event sent by one of its own
 * actions (an ACK timer set to 0, a ULP that kicks from `delivered`) waits until the
 * current one is done, as in an actor's mailbox. Stopped, it ignores events.
 */
export class MachineRunner<M extends AnyStateMachine, C extends object> {
  value = '';
  context: C;
  private busy = false;
  private queue: EventFromLogic<M>[] = [];
  private running = false;

  constructor(
    private readonly m: CompiledMachine<M, C>,
    private readonly onChange?: (from: string, to: string) => void,
  ) {
    this.context = m.initialContext;
  }

  start(): void {
    this.running = true;
    const r = this.m.enter(this.context, { type: 'xstate.init' } as EventFromLogic<M>);
    this.value = r.value;
    this.context = r.context;
  }

  send(event: EventFromLogic<M>): void {
    if (!this.running) return;
    if (this.busy) {
      this.queue.push(event);
      return;
    }
    this.busy = true;
    try {
      let ev: EventFromLogic<M> | undefined = event;
      while (ev !== undefined && this.running) {
        const from = this.value;
        const r = this.m.run(from, this.context, ev);
        this.value = r.value;
        this.context = r.context;
        if (r.value !== from) this.onChange?.(from, r.value);
        ev = this.queue.shift();
      }
    } finally {
      this.busy = false;
      this.queue.length = 0;
    }
  }

  stop(): void {
    this.running = false;
  }
}
