/**
 * The VDP bridge state machine, one per VSI (reference §5.6, lldpad's vdp22br with its
 * defects fixed: the confirmed mode is tracked, so a keep-alive is answered from BR_WAITCMD
 * without re-running the resource decision, and a DeAssoc ends the record at once instead
 * of 15.76 s later).
 *
 *   BR_INIT → BR_PROCESS (resource decision, bounded by resourceWaitDelay)
 *           → BR_WAITCMD (associated / pre-associated; toutKeepAlive running)
 *           → BR_END
 */
import { assign, setup } from 'xstate';
import type { VsiMode } from '../pdu/types.js';

export type BridgeState = 'BR_INIT' | 'BR_PROCESS' | 'BR_WAITCMD' | 'BR_END';

/** What the policy decided for a request. */
export interface BridgeDecision {
  action: 'accept' | 'reject' | 'keep' | 'ignore';
  /** VDP reason code for reject/keep (1..15) */
  reason?: number;
  hard?: boolean;
  /** VID given to filter entries that asked for VID 0 */
  assignVid?: number;
  /** PCP put on entries whose PS bit is clear */
  pcp?: number;
  /** answer only after this long (resource allocation in progress) */
  delayMs?: number;
  /** de-associate the VSI on the bridge's own initiative this long after accepting it */
  deassocAfterMs?: number;
  /** lab fault: leave this share (0..100) of the ECP ACKs for ECPDUs carrying this VSI unsent */
  dropAckPercent?: number;
}

export interface BridgeContext {
  /** mode of the request being processed / last processed */
  mode: VsiMode;
  /** confirmed mode, null before the first accepted request */
  confirmed: VsiMode | null;
  reason: string;
}

export type BridgeEvent =
  | { type: 'REQUEST'; mode: VsiMode; sameFilters: boolean }
  | { type: 'DECIDED'; decision: BridgeDecision }
  | { type: 'RWD_EXPIRED' }
  | { type: 'TOUT_KA' }
  | { type: 'ADMIN_DEASSOC'; why: string };

export type BridgeEffect =
  | 'decide' // ask the policy (engine answers with DECIDED, maybe later), arm resourceWaitDelay
  | 'replyAccepted' // reply with the request's TLV type, status 0x40, filters as assigned
  | 'replyRejected' // reply with the request's TLV type, status 0x40 | code (| HARD)
  | 'replyKeep' // reply with status 0x40 | KEEP | code
  | 'replyAlive' // keep-alive answered: same TLV, status 0x40
  | 'unsolicitedDeassoc' // DeAssoc TLV without the response bit
  | 'startToutKeepAlive'
  | 'stopTimers';

type Ev<T extends BridgeEvent['type']> = Extract<BridgeEvent, { type: T }>;
const fx = (...n: BridgeEffect[]) => n.map((type) => ({ type }));

export const bridgeMachine = setup({
  types: { context: {} as BridgeContext, events: {} as BridgeEvent, input: {} as { mode: VsiMode } },
  actions: {
    decide: () => {},
    replyAccepted: () => {},
    replyRejected: () => {},
    replyKeep: () => {},
    replyAlive: () => {},
    unsolicitedDeassoc: () => {},
    startToutKeepAlive: () => {},
    stopTimers: () => {},
  },
  guards: {
    keepAlive: ({ context, event }) => event.type === 'REQUEST' && event.sameFilters && event.mode === context.confirmed,
    accepted: ({ event }) => event.type === 'DECIDED' && event.decision.action === 'accept',
    acceptedDeassoc: ({ context, event }) => event.type === 'DECIDED' && event.decision.action === 'accept' && context.mode === 'deassoc',
    kept: ({ event }) => event.type === 'DECIDED' && event.decision.action === 'keep',
    ignored: ({ event }) => event.type === 'DECIDED' && event.decision.action === 'ignore',
    hasConfirmed: ({ context }) => context.confirmed !== null,
  },
}).createMachine({
  id: 'vdp-bridge',
  context: ({ input }) => ({ mode: input?.mode ?? 'assoc', confirmed: null, reason: 'created' }),
  initial: 'BR_INIT',
  states: {
    BR_INIT: {
      on: { REQUEST: { target: 'BR_PROCESS', actions: [assign(({ event }) => ({ mode: (event as Ev<'REQUEST'>).mode, reason: `station-${(event as Ev<'REQUEST'>).mode}` })), ...fx('decide')] } },
    },
    BR_PROCESS: {
      on: {
        DECIDED: [
          { guard: 'acceptedDeassoc', target: 'BR_END', actions: [assign({ confirmed: null, reason: 'deassoc-accepted' }), ...fx('stopTimers', 'replyAccepted')] },
          { guard: 'accepted', target: 'BR_WAITCMD', actions: [assign(({ context }) => ({ confirmed: context.mode, reason: 'resources-allocated' })), ...fx('stopTimers', 'replyAccepted')] },
          {
            guard: 'kept',
            target: 'BR_KEEP',
            actions: [assign(({ event }) => ({ reason: `keep(code=${(event as Ev<'DECIDED'>).decision.reason ?? 4})` })), ...fx('stopTimers', 'replyKeep')],
          },
          { guard: 'ignored', actions: assign({ reason: 'policy-ignores-request' }) },
          { target: 'BR_END', actions: [assign(({ event }) => ({ confirmed: null, reason: `rejected(code=${(event as Ev<'DECIDED'>).decision.reason ?? 4})` })), ...fx('stopTimers', 'replyRejected')] },
        ],
        RWD_EXPIRED: { target: 'BR_END', actions: [assign({ reason: 'resource-wait-delay-expired' }), ...fx('stopTimers', 'unsolicitedDeassoc')] },
        ADMIN_DEASSOC: { target: 'BR_END', actions: [assign(({ event }) => ({ reason: (event as Ev<'ADMIN_DEASSOC'>).why })), ...fx('stopTimers', 'unsolicitedDeassoc')] },
      },
    },
    // a KEEP answer: the previous state stays, or the record goes if there was none
    BR_KEEP: { always: [{ guard: 'hasConfirmed', target: 'BR_WAITCMD', actions: assign(({ context }) => ({ mode: context.confirmed! })) }, { target: 'BR_END' }] },
    BR_WAITCMD: {
      entry: fx('startToutKeepAlive'),
      on: {
        REQUEST: [
          { guard: 'keepAlive', target: 'BR_WAITCMD', reenter: true, actions: [assign({ reason: 'keepalive' }), ...fx('stopTimers', 'replyAlive')] },
          { target: 'BR_PROCESS', actions: [assign(({ event }) => ({ mode: (event as Ev<'REQUEST'>).mode, reason: `station-${(event as Ev<'REQUEST'>).mode}` })), ...fx('stopTimers', 'decide')] },
        ],
        TOUT_KA: { target: 'BR_END', actions: [assign({ reason: 'keepalive-timeout' }), ...fx('unsolicitedDeassoc')] },
        ADMIN_DEASSOC: { target: 'BR_END', actions: [assign(({ event }) => ({ reason: (event as Ev<'ADMIN_DEASSOC'>).why })), ...fx('stopTimers', 'unsolicitedDeassoc')] },
      },
    },
    BR_END: { type: 'final' },
  },
});
