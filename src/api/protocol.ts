/**
 * vdpd's local client API: newline-delimited JSON over a unix stream socket.
 * One request per line, each answered by one line with the same `id`; `watch`
 * keeps the connection open and streams events. JSON so any language can drive it.
 */
import type { VsiSpec } from './vsi-spec.js';
import type { VsiMode } from '../../pdu/types.js';

export type ApiRequest =
  | { id: number; op: 'command'; iface: string; mode: VsiMode; vsi: VsiSpec; waitMs?: number }
  | { id: number; op: 'status'; iface?: string; vsiid?: string }
  | { id: number; op: 'list'; iface?: string }
  | { id: number; op: 'interfaces' }
  | { id: number; op: 'counters'; iface?: string }
  | { id: number; op: 'watch' }
  | { id: number; op: 'ping' };

export type ApiOp = ApiRequest['op'];
export const API_OPS: readonly ApiOp[] = ['command', 'status', 'list', 'interfaces', 'counters', 'watch', 'ping'];

/**
 * The outcome of a VDP command as the client sees it. `pending` only when the client did
 * not wait (or its wait ran out before the bridge answered).
 */
export type OutcomeKind =
  | 'success'
  | 'bridge-error' // the bridge answered with a non-zero reason
  | 'timeout' // no VDP response within respWaitDelay
  | 'no-bridge' // EVB not negotiated / ECP abandoned: nobody answers on the link
  | 'deassoc-by-bridge' // the bridge de-associated the VSI (unsolicited) before or instead of answering
  | 'pending';

export interface CommandOutcome {
  kind: OutcomeKind;
  /** VDP reason code for bridge-error */
  reason?: number;
  reasonText?: string;
  keep?: boolean;
  hard?: boolean;
  /** filters as the bridge answered them (VID 0 / QoS replaced) */
  vsi?: VsiSpec;
  latencyMs?: number;
}

export interface ApiErrorBody {
  /** errno-style name: EINVAL, EBUSY, ENODEV, EPROTONOSUPPORT, EOPNOTSUPP, EBADREQ, ... */
  code: string;
  message: string;
}

/**
 * A result already serialised to JSON: a handler that builds a big answer (the status of
 * 10,000 VSIs) a chunk per event-loop turn hands over the text instead of an object.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

export type ApiResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ApiErrorBody }
  | { id: number; event: unknown };

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Client exit codes: one per VDP outcome, so scripts can branch without parsing text. */
export const EXIT = {
  success: 0,
  usage: 2,
  rejected: 3, // refused locally (EINVAL, EBUSY, ...) before anything was sent
  unreachable: 4, // daemon not running / socket not accessible
  /** 10 + VDP reason code (11 invalid format … 15 invalid VID/GroupID/MAC) */
  bridgeErrorBase: 10,
  timeout: 20,
  noBridge: 21,
  deassocByBridge: 22,
  pending: 23,
} as const;

export function exitCodeFor(o: CommandOutcome): number {
  switch (o.kind) {
    case 'success':
      return EXIT.success;
    case 'bridge-error':
      return EXIT.bridgeErrorBase + Math.min(9, Math.max(1, o.reason ?? 4));
    case 'timeout':
      return EXIT.timeout;
    case 'no-bridge':
      return EXIT.noBridge;
    case 'deassoc-by-bridge':
      return EXIT.deassocByBridge;
    case 'pending':
      return EXIT.pending;
  }
}

const MAX_LINE = 1 << 20;

/** Validates the envelope of a request line; the handler validates the rest. */
export function parseRequestLine(line: string): ApiRequest {
  if (line.length > MAX_LINE) throw new ApiError('EBADREQ', `request longer than ${MAX_LINE} characters`);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new ApiError('EBADREQ', `not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError('EBADREQ', 'a request is a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o['id'] !== 'number' || !Number.isSafeInteger(o['id'])) throw new ApiError('EBADREQ', 'id must be an integer');
  if (typeof o['op'] !== 'string' || !API_OPS.includes(o['op'] as ApiOp)) {
    throw new ApiError('EBADREQ', `op must be one of ${API_OPS.join(', ')}`);
  }
  for (const k of ['iface', 'vsiid'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new ApiError('EBADREQ', `${k} must be a string`);
  }
  if (o['op'] === 'command') {
    if (typeof o['iface'] !== 'string') throw new ApiError('EBADREQ', 'command needs iface');
    if (!['preassoc', 'preassoc-rr', 'assoc', 'deassoc'].includes(o['mode'] as string)) {
      throw new ApiError('EBADREQ', 'mode must be preassoc, preassoc-rr, assoc or deassoc');
    }
    if (typeof o['vsi'] !== 'object' || o['vsi'] === null) throw new ApiError('EBADREQ', 'command needs vsi');
    if (o['waitMs'] !== undefined && (typeof o['waitMs'] !== 'number' || o['waitMs'] < 0)) {
      throw new ApiError('EBADREQ', 'waitMs must be a non-negative number');
    }
  }
  return o as unknown as ApiRequest;
}

export const MAX_REQUEST_LINE = MAX_LINE;
