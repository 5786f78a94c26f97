/**
 * The one error type every codec throws. Decoders never throw anything else:
 * a frame from the wire is untrusted input, and callers (daemon, replay, decode
 * CLI) count and log a PduError instead of crashing.
 */
export type PduErrorCode =
  | 'truncated' // fewer octets than the structure needs
  | 'bad-length' // a length field disagrees with the data or the standard
  | 'bad-value' // a field holds a value the standard forbids
  | 'out-of-range' // encoding: a value does not fit its field
  | 'too-big' // encoding: the result would not fit its container (TLV, frame)
  | 'unsupported'; // a version/format this codec does not handle

export class PduError extends Error {
  override readonly name = 'PduError';
  constructor(
    /** which codec raised it, e.g. 'vdp', 'lldp', 'ecp', 'pcap' */
    readonly layer: string,
    readonly code: PduErrorCode,
    /** field or structure name, e.g. 'vsi.filters[2].vid' */
    readonly field: string,
    /** byte offset (from the start of the buffer handed to the top-level decoder) where it went wrong; -1 for encoding errors */
    readonly offset: number,
    detail: string,
  ) {
    super(`${layer}: ${code} at ${offset >= 0 ? `offset ${offset}` : 'encode'} (${field}): ${detail}`);
  }

  toJSON(): { layer: string; code: PduErrorCode; field: string; offset: number; message: string } {
    return { layer: this.layer, code: this.code, field: this.field, offset: this.offset, message: this.message };
  }
}

export function isPduError(e: unknown): e is PduError {
  return e instanceof PduError;
}
