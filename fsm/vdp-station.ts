/**
 * The VDP station state machine, one per VSI (802.1Qbg clause 41 as lldpad's vdp22sm.c
 * implements it, reference §5.2, with the defects of §8.4 fixed). lldpad's states map
 * onto these as follows:
 *
 *   INIT            INIT
 *   STATION_PROC    STATION_PROC + STATION_PROCWAIT(_2): a command sent, waiting for the bridge
 *   PREASSOCIATED   PREASSOC_NEW → WAIT_SYSCMD(_2) with a confirmed PreAssoc / PreAssoc-RR
 *   ASSOCIATED      ASSOC_NEW / ASSOC_COMPL → WAIT_SYSCMD(_2) with a confirmed Assoc
 *   TXMIT_KA        TXMIT_KA + TXMIT_KAWAIT(_2): keep-alive sent, waiting for the bridge
 *   TXMIT_DEASSOC   TXMIT_DEASSOC + TXMIT_DEAWAIT: station de-associates after a KEEP on a keep-alive
 *   END             END
 *
 * The machine is pure: the engine keeps (state, context) per VSI, advances it with the
 * transition table compiled from this definition (fsm/compiled.ts, checked against xstate's
 * `transition`), and performs the returned actions (send, timers, outcome, notify). Every
 * transition carries a reason so logs and replay can say why.
 */
import { assign, setup } from 'xstate';
import type { VsiMode } from '../pdu/types.js';

export type StationState = 'INIT' | 'STATION_PROC' | 'PREASSOCIATED' | 'ASSOCIATED' | 'TXMIT_KA' | 'TXMIT_DEASSOC' | 'END';

export interface StationContext {
  /** the mode requested and kept alive (lldpad vsi_mode) */
  mode: VsiMode;
  /** the mode the bridge confirmed (lldpad cc_vsi_mode); null before the first success */
  confirmed: VsiMode | null;
  /** last response status octet, -1 before any */
  status: number;
  /** why the last transition happened */
  reason: string;
}

/** Every field of `from` written into `to` (the engine keeps one context object per record). */
export function copyStationContext(to: StationContext, from: StationContext): void {
  to.mode = from.mode;
  to.confirmed = from.confirmed;
  to.status = from.status;
  to.reason = from.reason;
}

export type StationEvent =
  | { type: 'CMD'; mode: VsiMode }
  /** a response TLV for this VSI; `filtersOk` = the returned filters match the request (§4.6) */
  | { type: 'RESPONSE'; mode: VsiMode; status: number; filtersOk: boolean }
  /**
   * a De-Associate the bridge sent on its own; `requestDelivered` = ECP has delivered (the
   * bridge's ECP acknowledged) the request this VSI is waiting on, if any
   */
  | { type: 'UNSOLICITED_DEASSOC'; requestDelivered: boolean }
  | { type: 'RESEND_DUE' }
  | { type: 'ECP_ABANDONED' }
  | { type: 'RESP_TIMEOUT' }
  | { type: 'KA_DUE' }
  | { type: 'LINK_DOWN' }
  | { type: 'LINK_UP' };

/** Effects the engine performs, in order. */
export type StationEffect =
  | 'sendRequest' // queue the VSI TLV (current mode) for ECP and arm respWaitDelay + the resend timer
  | 'resend' // queue the same request again (recovery), re-arm the resend timer
  | 'stopRespTimers'
  | 'startKeepAlive'
  | 'stopKeepAlive'
  | 'outcomeSuccess'
  | 'outcomeError'
  | 'outcomeTimeout'
  | 'outcomeDeassocByBridge'
  | 'outcomeSuperseded'
  | 'notifyEnded' // a confirmed VSI ended without a pending command: tell the requester (libvirt)
  | 'adoptFilters'; // take the bridge's VID/PCP values

const RESPONSE = 0x40;
const KEEP = 0x20;
const HARD = 0x10;

const code = (s: number): number => s & 0x0f;
const isKeep = (s: number): boolean => code(s) !== 0 && (s & KEEP) !== 0;
/** lldpad: a KEEP or HARD bit with code 0 counts as success */
const isError = (s: number): boolean => code(s) !== 0;

type Ev<T extends StationEvent['type']> = Extract<StationEvent, { type: T }>;

const fx = (...names: StationEffect[]) => names.map((n) => ({ type: n }));

export const stationMachine = setup({
  types: {
    context: {} as StationContext,
    events: {} as StationEvent,
    input: {} as { mode: VsiMode },
  },
  actions: {
    sendRequest: () => {},
    resend: () => {},
    stopRespTimers: () => {},
    startKeepAlive: () => {},
    stopKeepAlive: () => {},
    outcomeSuccess: () => {},
    outcomeError: () => {},
    outcomeTimeout: () => {},
    outcomeDeassocByBridge: () => {},
    outcomeSuperseded: () => {},
    notifyEnded: () => {},
    adoptFilters: () => {},
  },
  guards: {
    responseOk: ({ event }) => event.type === 'RESPONSE' && event.filtersOk && !isError(event.status),
    responseKeep: ({ event }) => event.type === 'RESPONSE' && event.filtersOk && isKeep(event.status),
    responseIsDeassoc: ({ event }) => event.type === 'RESPONSE' && event.mode === 'deassoc',
    wantsDeassoc: ({ context }) => context.mode === 'deassoc',
    confirmedAssoc: ({ context }) => context.confirmed === 'assoc',
    confirmedPre: ({ context }) => context.confirmed === 'preassoc' || context.confirmed === 'preassoc-rr',
    cmdIsAssoc: ({ event }) => event.type === 'CMD' && event.mode === 'assoc',
    respModeAssoc: ({ event }) => event.type === 'RESPONSE' && event.mode === 'assoc',
    deassocAnswered: ({ context, event }) => context.mode === 'deassoc' && event.type === 'RESPONSE' && event.mode === 'deassoc',
    /**
     * A De-Associate that reached us before the bridge's ECP had even received our pending
     * Assoc/PreAssoc (or keep-alive): the bridge sent it about the association before that
     * request (it timed out a restarting station's VSI, say), and it will answer the request
     * on its own; ending the VSI here would leave the bridge holding an association the
     * station dropped (lldpad ends it). After delivery it may be the bridge's answer (a
     * resource-wait timeout), and ends the VSI as before.
     */
    staleDeassoc: ({ context, event }) => event.type === 'UNSOLICITED_DEASSOC' && !event.requestDelivered && context.mode !== 'deassoc',
    /** the answer to an earlier request (a keep-alive still in flight when the command came), not to this one */
    staleResponse: ({ context, event }) => event.type === 'RESPONSE' && event.mode !== context.mode && event.mode !== 'deassoc' && !isError(event.status),
  },
}).createMachine({
  id: 'vdp-station',
  // input is absent when a stored VSI is re-hydrated (resolveState): the stored context replaces this
  context: ({ input }) => ({ mode: input?.mode ?? 'assoc', confirmed: null, status: -1, reason: 'created' }),
  initial: 'INIT',
  states: {
    INIT: {
      on: {
        CMD: { target: 'STATION_PROC', actions: [assign(({ event }) => ({ mode: (event as Ev<'CMD'>).mode, reason: `command-${(event as Ev<'CMD'>).mode}` })), ...fx('sendRequest')] },
      },
    },

    STATION_PROC: {
      on: {
        RESPONSE: [
          // the answer to our de-associate, successful or not: the VSI is gone either way
          {
            guard: 'deassocAnswered',
            target: 'END',
            actions: [
              assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, confirmed: null, reason: isError((event as Ev<'RESPONSE'>).status) ? `bridge-response-error(code=${code((event as Ev<'RESPONSE'>).status)})` : 'bridge-response-success' })),
              ...fx('stopRespTimers'),
              { type: 'outcomeSuccess' },
            ],
          },
          // an answer to the request before this command (e.g. the keep-alive in flight when a
          // DeAssoc was asked for): not ours — taking it would end the VSI without sending the
          // DeAssoc, and the bridge would keep it
          { guard: 'staleResponse', actions: assign(({ event }) => ({ reason: `stale-response(${(event as Ev<'RESPONSE'>).mode})-ignored` })) },
          // lldpad's bridge answers failures with a DeAssoc TLV carrying the error
          {
            guard: 'responseIsDeassoc',
            target: 'END',
            actions: [assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, reason: `bridge-response-deassoc(code=${code((event as Ev<'RESPONSE'>).status)})` })), ...fx('stopRespTimers', 'outcomeError')],
          },
          {
            guard: 'responseOk',
            target: 'ASSOC_OR_PRE',
            actions: [
              assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, confirmed: (event as Ev<'RESPONSE'>).mode, reason: 'bridge-response-success' })),
              ...fx('stopRespTimers', 'adoptFilters', 'outcomeSuccess'),
            ],
          },
          // KEEP: refused, previous state kept — and keep-alives go on with the confirmed mode (lldpad kept the refused one)
          {
            guard: 'responseKeep',
            target: 'ASSOC_OR_PRE',
            actions: [
              assign(({ event, context }) => ({
                status: (event as Ev<'RESPONSE'>).status,
                mode: context.confirmed ?? context.mode,
                reason: `keep-refusal(code=${code((event as Ev<'RESPONSE'>).status)})`,
              })),
              ...fx('stopRespTimers', 'outcomeError'),
            ],
          },
          {
            target: 'END',
            actions: [
              assign(({ event }) => {
                const e = event as Ev<'RESPONSE'>;
                return { status: e.filtersOk ? e.status : RESPONSE | 5, reason: e.filtersOk ? `bridge-response-error(code=${code(e.status)}${e.status & HARD ? ',hard' : ''})` : 'bridge-response-filter-mismatch' };
              }),
              ...fx('stopRespTimers', 'outcomeError'),
            ],
          },
        ],
        UNSOLICITED_DEASSOC: [
          { guard: 'staleDeassoc', actions: assign({ reason: 'stale-deassoc-ignored' }) },
          { target: 'END', actions: [assign({ status: 0, reason: 'unsolicited-deassoc' }), ...fx('stopRespTimers', 'outcomeDeassocByBridge')] },
        ],
        RESEND_DUE: { actions: [assign({ reason: 'response-overdue' }), ...fx('resend')] },
        ECP_ABANDONED: { actions: [assign({ reason: 'ecp-abandoned' }), ...fx('resend')] },
        RESP_TIMEOUT: { target: 'END', actions: [assign({ reason: 'resp-wait-delay-expired' }), ...fx('stopRespTimers', 'outcomeTimeout')] },
        // only DeAssoc reaches a busy VSI (the engine answers EBUSY to the rest)
        CMD: { target: 'STATION_PROC', reenter: true, actions: [...fx('outcomeSuperseded'), assign(({ event }) => ({ mode: (event as Ev<'CMD'>).mode, reason: `command-${(event as Ev<'CMD'>).mode}` })), ...fx('sendRequest')] },
        LINK_UP: { actions: [assign({ reason: 'link-up' }), ...fx('resend')] },
      },
    },

    // transient: pick the steady state that matches the confirmed mode
    ASSOC_OR_PRE: {
      always: [{ guard: 'confirmedAssoc', target: 'ASSOCIATED' }, { guard: 'confirmedPre', target: 'PREASSOCIATED' }, { target: 'END' }],
    },

    PREASSOCIATED: {
      entry: fx('startKeepAlive'),
      exit: fx('stopKeepAlive'),
      on: {
        KA_DUE: { target: 'TXMIT_KA', actions: [assign({ reason: 'keepalive-due' }), ...fx('sendRequest')] },
        CMD: { target: 'STATION_PROC', actions: [assign(({ event }) => ({ mode: (event as Ev<'CMD'>).mode, reason: `command-${(event as Ev<'CMD'>).mode}` })), ...fx('sendRequest')] },
        UNSOLICITED_DEASSOC: { target: 'END', actions: [assign({ status: 0, confirmed: null, reason: 'unsolicited-deassoc' }), ...fx('notifyEnded')] },
        LINK_UP: { target: 'TXMIT_KA', actions: [assign({ reason: 'link-up' }), ...fx('sendRequest')] },
      },
    },

    ASSOCIATED: {
      entry: fx('startKeepAlive'),
      exit: fx('stopKeepAlive'),
      on: {
        KA_DUE: { target: 'TXMIT_KA', actions: [assign({ reason: 'keepalive-due' }), ...fx('sendRequest')] },
        CMD: { target: 'STATION_PROC', actions: [assign(({ event }) => ({ mode: (event as Ev<'CMD'>).mode, reason: `command-${(event as Ev<'CMD'>).mode}` })), ...fx('sendRequest')] },
        UNSOLICITED_DEASSOC: { target: 'END', actions: [assign({ status: 0, confirmed: null, reason: 'unsolicited-deassoc' }), ...fx('notifyEnded')] },
        LINK_UP: { target: 'TXMIT_KA', actions: [assign({ reason: 'link-up' }), ...fx('sendRequest')] },
      },
    },

    TXMIT_KA: {
      on: {
        RESPONSE: [
          { guard: 'responseIsDeassoc', target: 'END', actions: [assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, reason: 'bridge-response-deassoc' })), ...fx('stopRespTimers', 'notifyEnded')] },
          { guard: 'responseOk', target: 'ASSOC_OR_PRE', actions: [assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, reason: 'keepalive-acknowledged' })), ...fx('stopRespTimers', 'adoptFilters')] },
          // KEEP on the keep-alive of an Assoc: the bridge no longer wants it — de-associate (lldpad, test 121)
          { guard: 'responseKeep', target: 'TXMIT_DEASSOC', actions: [assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, mode: 'deassoc' as VsiMode, reason: 'keep-on-keepalive' })), ...fx('stopRespTimers', 'sendRequest')] },
          { target: 'END', actions: [assign(({ event }) => ({ status: (event as Ev<'RESPONSE'>).status, reason: `keepalive-error(code=${code((event as Ev<'RESPONSE'>).status)})` })), ...fx('stopRespTimers', 'notifyEnded')] },
        ],
        UNSOLICITED_DEASSOC: [
          { guard: 'staleDeassoc', actions: assign({ reason: 'stale-deassoc-ignored' }) },
          { target: 'END', actions: [assign({ status: 0, reason: 'unsolicited-deassoc' }), ...fx('stopRespTimers', 'notifyEnded')] },
        ],
        RESEND_DUE: { actions: [assign({ reason: 'keepalive-response-overdue' }), ...fx('resend')] },
        ECP_ABANDONED: { actions: [assign({ reason: 'ecp-abandoned' }), ...fx('resend')] },
        RESP_TIMEOUT: { target: 'END', actions: [assign({ reason: 'resp-wait-delay-expired' }), ...fx('stopRespTimers', 'notifyEnded')] },
        CMD: { target: 'STATION_PROC', actions: [assign(({ event }) => ({ mode: (event as Ev<'CMD'>).mode, reason: `command-${(event as Ev<'CMD'>).mode}` })), ...fx('stopRespTimers', 'sendRequest')] },
        LINK_UP: { actions: [assign({ reason: 'link-up' }), ...fx('resend')] },
      },
    },

    TXMIT_DEASSOC: {
      on: {
        RESPONSE: { target: 'END', actions: [assign({ reason: 'deassoc-acknowledged' }), ...fx('stopRespTimers', 'notifyEnded')] },
        UNSOLICITED_DEASSOC: { target: 'END', actions: [assign({ reason: 'unsolicited-deassoc' }), ...fx('stopRespTimers', 'notifyEnded')] },
        RESEND_DUE: { actions: fx('resend') },
        ECP_ABANDONED: { actions: fx('resend') },
        RESP_TIMEOUT: { target: 'END', actions: [assign({ reason: 'resp-wait-delay-expired' }), ...fx('stopRespTimers', 'notifyEnded')] },
        LINK_UP: { actions: fx('resend') },
      },
    },

    END: { type: 'final' },
  },
});
