/**
 * Thousands of VSIs cannot each hold an xstate actor (4–5 KiB) or even a full snapshot
 * (~1.6 KiB with its node list). A VSI stores only its state name and a small context; to
 * advance it we rebuild a snapshot from a per-state template (resolved once per state) with
 * the VSI's context, and run the machine's pure transition function on it.
 *
 * xstate's exported `transition()` builds a throw-away actor (and its initial snapshot) on
 * every call, which dominated the cost at 10,000 VSIs; the machines here invoke no child
 * actors, so one inert actor scope per machine is reused and the actions it would execute
 * are collected instead (exactly what `transition()` does, without the allocation).
 *
 * The engines step VSIs with CompiledMachine (fsm/compiled.ts), a table compiled from the
 * same definitions; this class is the reference it is tested against.
 */
import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventFromLogic } from 'xstate';

export class StoredMachine<M extends AnyStateMachine, C extends object> {
  private templates = new Map<string, AnyMachineSnapshot>();
  private collected: string[] = [];
  private scope: AnyActorScope;

  constructor(readonly machine: M) {
    const self = createActor(machine);
    this.scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (a: { type: string }) => {
        this.collected.push(a.type);
      },
    } as unknown as AnyActorScope;
  }

  private snapshot(value: string, context: C): AnyMachineSnapshot {
    let t = this.templates.get(value);
    if (!t) {
      t = this.machine.resolveState({ value, context }) as AnyMachineSnapshot;
      this.templates.set(value, t);
    }
    return { ...t, context } as AnyMachineSnapshot;
  }

  /** Advance a stored (state, context); returns the next state, context and the action names to perform, in order. */
  step(value: string, context: C, event: EventFromLogic<M>): { value: string; context: C; actions: string[] } {
    this.collected = [];
    const next = this.machine.transition(this.snapshot(value, context) as never, event, this.scope) as unknown as { value: unknown; context: C };
    return { value: String(next.value), context: next.context, actions: this.collected };
  }
}
