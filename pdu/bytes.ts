import { PduError } from './errors.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Lower-case hex of a byte range, no separators. Without a separator the text is made
 * natively in one flat piece: concatenating it pair by pair left a rope of 16 to 32 nodes
 * per Manager ID or VSIID, garbage on every command, state-file row and status answer.
 */
export function toHex(b: Uint8Array, sep = ''): string {
  if (!sep) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? sep : '') + HEX[b[i]!];
  return s;
}

/** value of a hex digit's char code, or -1 */
function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** a separator fromHex skips: ':', '.', '-' or white space */
function hexSeparator(c: number): boolean {
  return c === 0x3a || c === 0x2e || c === 0x2d || c === 0x20 || /\s/.test(String.fromCharCode(c));
}

/**
 * Parse hex with optional separators (spaces, ':', '-', '.'). Throws PduError on odd length
 * or bad digits. Reads the char codes in place: every command parses its VSIID and Manager
 * ID, and a cleaned copy plus a substring per octet was ~0.7 KB of garbage per VSI.
 */
export function fromHex(s: string): Uint8Array {
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (nibble(c) >= 0) digits++;
    else if (!hexSeparator(c)) digits = -Infinity;
  }
  if (!(digits >= 0) || digits % 2 !== 0) {
    throw new PduError('bytes', 'bad-value', 'hex', -1, `not a hex string: ${JSON.stringify(s.slice(0, 40))}`);
  }
  const out = new Uint8Array(digits / 2);
  let j = 0;
  let hi = -1;
  for (let i = 0; i < s.length; i++) {
    const v = nibble(s.charCodeAt(i));
    if (v < 0) continue;
    if (hi < 0) hi = v;
    else {
      out[j++] = (hi << 4) | v;
      hi = -1;
    }
  }
  return out;
}

/** MAC addresses travel through the code as 'aa:bb:cc:dd:ee:ff' (lower case): cheap to compare, key and print. */
export type Mac = string;

const HI: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => HEX[i]!.charCodeAt(0));
const LO: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => HEX[i]!.charCodeAt(1));
const COLON = 0x3a;

// built in one piece (String.fromCharCode) rather than by concatenation: a concatenated
// string is a tree of rope nodes that costs ~3× the memory of the flat text it stands for,
// and decoded MACs are kept for as long as a VSI lives
export function macToString(b: Uint8Array, off = 0): Mac {
  const b0 = b[off]!;
  const b1 = b[off + 1]!;
  const b2 = b[off + 2]!;
  const b3 = b[off + 3]!;
  const b4 = b[off + 4]!;
  const b5 = b[off + 5]!;
  return String.fromCharCode(HI[b0]!, LO[b0]!, COLON, HI[b1]!, LO[b1]!, COLON, HI[b2]!, LO[b2]!, COLON, HI[b3]!, LO[b3]!, COLON, HI[b4]!, LO[b4]!, COLON, HI[b5]!, LO[b5]!);
}


/** six pairs of hex digits, each pair but the last followed by ':' or '-' */
export function isMac(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 17) return false;
  for (let i = 0; i < 6; i++) {
    if (nibble(s.charCodeAt(3 * i)) < 0 || nibble(s.charCodeAt(3 * i + 1)) < 0) return false;
    if (i < 5) {
      const sep = s.charCodeAt(3 * i + 2);
      if (sep !== 0x3a && sep !== 0x2d) return false;
    }
  }
  return true;
}

/**
 * Write a MAC ('aa:bb:cc:dd:ee:ff' or with '-') into `out` at `off`. Throws PduError (encode)
 * on a malformed string, before writing anything. Reads the char codes in place: every
 * frame and every filter entry encoded goes through here, and a regular expression's match
 * was seven strings of garbage each time.
 */
export function macInto(mac: Mac, out: Uint8Array, off: number, field = 'mac'): void {
  if (!tryMacInto(mac, out, off)) throw macError(field, mac);
}

/** macInto without the error: false (and nothing written) for a malformed MAC; the caller names the field (macError) */
export function tryMacInto(mac: Mac, out: Uint8Array, off: number): boolean {
  if (!isMac(mac)) return false;
  for (let i = 0; i < 6; i++) out[off + i] = (nibble(mac.charCodeAt(3 * i)) << 4) | nibble(mac.charCodeAt(3 * i + 1));
  return true;
}

/** the error for a malformed MAC in `field` */
export function macError(field: string, mac: unknown): PduError {
  return new PduError('bytes', 'bad-value', field, -1, `not a MAC address: ${JSON.stringify(mac)}`);
}

export function macToBytes(mac: Mac, field = 'mac'): Uint8Array {
  const out = new Uint8Array(6);
  macInto(mac, out, 0, field);
  return out;
}

export function normalizeMac(mac: string): Mac {
  return macToString(macToBytes(mac));
}

export function isMulticastMac(mac: Mac): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** RFC 4122 string order: 16 octets <-> 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'. */
export function uuidToString(b: Uint8Array, off = 0): string {
  // one flat string, like macToString, with the 36 codes as plain arguments: apply() over a
  // scratch array took ~3 µs a call until V8 optimised it, and the replay names thousands
  // of VSIs in its first frames, before that
  const x0 = b[off]!, x1 = b[off + 1]!, x2 = b[off + 2]!, x3 = b[off + 3]!;
  const x4 = b[off + 4]!, x5 = b[off + 5]!, x6 = b[off + 6]!, x7 = b[off + 7]!;
  const x8 = b[off + 8]!, x9 = b[off + 9]!, x10 = b[off + 10]!, x11 = b[off + 11]!;
  const x12 = b[off + 12]!, x13 = b[off + 13]!, x14 = b[off + 14]!, x15 = b[off + 15]!;
  return String.fromCharCode(
    HI[x0]!, LO[x0]!, HI[x1]!, LO[x1]!, HI[x2]!, LO[x2]!, HI[x3]!, LO[x3]!, DASH,
    HI[x4]!, LO[x4]!, HI[x5]!, LO[x5]!, DASH,
    HI[x6]!, LO[x6]!, HI[x7]!, LO[x7]!, DASH,
    HI[x8]!, LO[x8]!, HI[x9]!, LO[x9]!, DASH,
    HI[x10]!, LO[x10]!, HI[x11]!, LO[x11]!, HI[x12]!, LO[x12]!, HI[x13]!, LO[x13]!, HI[x14]!, LO[x14]!, HI[x15]!, LO[x15]!,
  );
}

const DASH = 0x2d;

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

export function uuidToBytes(s: string, field = 'uuid'): Uint8Array {
  if (!UUID_RE.test(s)) throw new PduError('bytes', 'bad-value', field, -1, `not a UUID: ${JSON.stringify(s)}`);
  return fromHex(s);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Bounds-checked big-endian reader. `base` is the absolute offset of `buf[0]` in the
 * top-level buffer so that errors name the byte where the frame went wrong.
 */
export class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly layer: string,
    readonly base = 0,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Absolute offset of the next byte. */
  get at(): number {
    return this.base + this.pos;
  }

  need(n: number, field: string): void {
    if (this.buf.length - this.pos < n) {
      throw new PduError(this.layer, 'truncated', field, this.at, `need ${n} octet(s), ${this.buf.length - this.pos} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u24(field: string): number {
    this.need(3, field);
    const v = (this.buf[this.pos]! << 16) | (this.buf[this.pos + 1]! << 8) | this.buf[this.pos + 2]!;
    this.pos += 3;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    this.pos += 4;
    return v;
  }

  /** A view (not a copy) of the next n octets. */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next n octets: for values that outlive the frame buffer. */
  copy(n: number, field: string): Uint8Array {
    return this.bytes(n, field).slice();
  }

  mac(field: string): Mac {
    this.need(6, field);
    const s = macToString(this.buf, this.pos);
    this.pos += 6;
    return s;
  }

  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }

  error(code: 'bad-length' | 'bad-value' | 'unsupported', field: string, detail: string, at = this.at): PduError {
    return new PduError(this.layer, code, field, at, detail);
  }
}

/** Growable big-endian writer for encoders. */
export class Writer {
  private buf: Uint8Array;
  pos = 0;
  constructor(
    readonly layer: string,
    initial = 128,
  ) {
    this.buf = new Uint8Array(initial);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.room(3);
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  mac(mac: Mac, field = 'mac'): this {
    this.room(6);
    macInto(mac, this.buf, this.pos, field);
    this.pos += 6;
    return this;
  }

  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Patch a big-endian u16 at an earlier position (TLV headers written before their value). */
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  /**
   * `n` octets at the end, for the caller to fill in `out` from the returned offset (a
   * TLV built in place instead of in an array of its own that is then copied in).
   */
  take(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** the buffer `take` handed out room in: valid until the next write, which may grow it */
  get out(): Uint8Array {
    return this.buf;
  }

  /** The octets written. The writer is done: a writer sized exactly hands over its buffer itself. */
  finish(): Uint8Array {
    return this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
  }
}

/** Encoding guard: refuse a value outside [min, max] with a clear error. */
export function checkRange(layer: string, field: string, v: number, min: number, max: number): void {
  if (!inRange(v, min, max)) throw rangeError(layer, field, v, min, max);
}

/** checkRange's test, for a hot path that builds the field's name only for the error */
export function inRange(v: number, min: number, max: number): boolean {
  return Number.isInteger(v) && v >= min && v <= max;
}

/** checkRange's error */
export function rangeError(layer: string, field: string, v: number, min: number, max: number): PduError {
  return new PduError(layer, 'out-of-range', field, -1, `${v} not an integer in ${min}..${max}`);
}
