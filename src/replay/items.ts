/**
 * VDP TLVs as the replay's `VdpItem`s. A capture repeats the same VSI TLVs over and over
 * (every keep-alive, every response), so an item is made once per distinct (Manager ID,
 * VSI TLV octets) and the same immutable object is handed out for every repeat: a repeat
 * costs a hash over the TLV's octets instead of a decode and leaves no garbage behind.
 */
import { uuidToString } from '../../pdu/bytes.js';
import { filterText, managerIdText, VSIID_FORMAT_NAMES, vsiidText } from '../../pdu/describe.js';
import { PduError } from '../../pdu/errors.js';
import {
  VDP_STATUS_HARD,
  VDP_STATUS_KEEP,
  VDP_STATUS_RESPONSE,
  VDP_TLV_DEASSOC,
  VDP_TLV_END,
  VDP_TLV_MGRID,
  VDP_TLV_ORG,
  VDP_TLV_PREASSOC,
  VSI_TLV_MODE,
  type VdpDraftTlv,
  type VsiMode,
  type VsiTlv,
} from '../../pdu/types.js';
import { decodeVsiTlv } from '../../pdu/vdp.js';

export interface VdpItem {
  readonly mode: VsiMode;
  /** raw status octet (draft VDP: the response octet) */
  readonly status: number;
  /** bit 6 of the status octet; undefined for draft VDP (decided by the sender's role) */
  readonly responseBit: boolean | undefined;
  readonly reason: number;
  readonly keep: boolean;
  readonly hard: boolean;
  readonly vsiid: string;
  readonly vsiidFormat: string;
  readonly managerId: string;
  readonly typeId: number;
  readonly typeVersion: number;
  readonly filters: readonly string[];
  readonly draft: boolean;
  /** a small number per distinct `vsiid` text, from the VdpItems that made the item (the VDP tracker's index) */
  readonly key: number;
}

/** Numbers for VSIID texts: 0, 1, 2, … in order of first appearance. */
export class VsiKeys {
  private keys = new Map<string, number>();

  of(vsiid: string): number {
    let k = this.keys.get(vsiid);
    if (k === undefined) {
      k = this.keys.size;
      this.keys.set(vsiid, k);
    }
    return k;
  }
}

/** What a VSI TLV says but for its status octet: shared by a request and its responses (items.ts VdpItems). */
interface VsiBody extends Pick<VdpItem, 'mode' | 'vsiid' | 'vsiidFormat' | 'managerId' | 'typeId' | 'typeVersion' | 'filters' | 'key'> {
  /** its items (VdpTracker's), one per status octet met: two nearly always, a request's and its responses' */
  first: VdpItem | undefined;
  second: VdpItem | undefined;
  more: VdpItem[] | undefined;
}

function vsiBody(t: VsiTlv, managerId: string, keys: VsiKeys): VsiBody {
  const vsiid = vsiidText(t.vsiidFormat, t.vsiid);
  return {
    mode: t.mode,
    vsiid,
    vsiidFormat: VSIID_FORMAT_NAMES[t.vsiidFormat] ?? `reserved (${t.vsiidFormat})`,
    managerId,
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    filters: t.filters.map(filterText),
    key: keys.of(vsiid),
    first: undefined,
    second: undefined,
    more: undefined,
  };
}

/** the item of a VDP22 VSI TLV: its body with the status octet `s` */
function withStatus(b: VsiBody, s: number): VdpItem {
  return {
    mode: b.mode,
    status: s,
    responseBit: (s & VDP_STATUS_RESPONSE) !== 0,
    reason: s & 0x0f,
    keep: (s & VDP_STATUS_KEEP) !== 0,
    hard: (s & VDP_STATUS_HARD) !== 0,
    vsiid: b.vsiid,
    vsiidFormat: b.vsiidFormat,
    managerId: b.managerId,
    typeId: b.typeId,
    typeVersion: b.typeVersion,
    filters: b.filters,
    draft: false,
    key: b.key,
  };
}

/** A VDP22 VSI TLV with the text of the Manager ID that applies to it. */
export function vsiItem(t: VsiTlv, managerId: string, keys: VsiKeys): VdpItem {
  return withStatus(vsiBody(t, managerId, keys), t.status);
}

/** A draft VDP TLV; its mode octet 0..3 is the VDP22 TLV type 1..4 minus one. Reserved modes give no item. */
export function draftItem(t: VdpDraftTlv, keys: VsiKeys): VdpItem | undefined {
  const mode = VSI_TLV_MODE[t.mode + 1];
  if (mode === undefined) return undefined;
  const vsiid = uuidToString(t.instanceUuid);
  return {
    mode,
    status: t.response,
    responseBit: undefined,
    reason: t.response,
    keep: false,
    hard: false,
    vsiid,
    vsiidFormat: 'UUID',
    managerId: String(t.managerId),
    typeId: t.typeId,
    typeVersion: t.typeVersion,
    filters: t.filters.map((f) => `${f.mac}/${f.vlan & 0xfff}`),
    draft: true,
    key: keys.of(vsiid),
  };
}

/** keys from this length on are compared by Buffer.compare */
const NATIVE_COMPARE = 64;
/** keys longer than this are hashed over a sample of their octets */
const SAMPLE_OVER = 96;

/** A key's octets are `block[off..off + len)`: a copy in the table's key arena. */
interface Slot<V> {
  block: Buffer;
  off: number;
  len: number;
  value: V;
  next: Slot<V> | undefined;
}

/** key arena blocks grow from FIRST_BLOCK octets to BLOCK (a table per Manager ID: most stay small) */
const FIRST_BLOCK = 256;
const BLOCK = 64 * 1024;

/**
 * Values keyed by a run of octets, looked up in place: a hash over the octets, then an
 * octet compare. No key object is made on a lookup (building a string key per VSI TLV
 * was once the replay's largest single cost), nor on a store: the key's octets are copied
 * into an arena of large blocks (a Buffer per key cost two Buffer constructions, ~2 µs
 * each before V8 optimised them, and a capture's first frames store thousands of keys).
 * Cleared when it reaches `limit` entries so a capture of ever-new TLVs cannot grow it
 * without bound.
 */
export class ByteTable<V> {
  private slots = new Map<number, Slot<V>>();
  private n = 0;
  private block: Buffer | undefined;
  private used = 0;
  private blockSize = FIRST_BLOCK / 2;

  constructor(private readonly limit: number) {}

  /**
   * FNV-1a style over 32-bit little-endian words (a quarter of the multiplications), then
   * the odd octets. A key longer than SAMPLE_OVER (a whole ULPDU) is hashed over a sample:
   * its first and last 16 octets and 8 words spread between them. Equal keys still hash
   * equal, and a lookup always compares every octet (get), so a sample only costs a compare
   * when two keys of one length share it; hashing every octet of each ULPDU was most of
   * the replay's decoding time.
   */
  static hash(b: Uint8Array, start: number, end: number): number {
    const len = end - start;
    let h = 0x811c9dc5 ^ len;
    // the word reads are written out: until V8 optimises this (a cold replay runs much of
    // its capture before it does), a call per word cost more than the rest of the hash
    if (len > SAMPLE_OVER) {
      // the first and last 16 octets, then 8 words spread between them
      for (let k = 0; k < 16; k += 4) {
        const i = start + k;
        const j = end - 4 - k;
        h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) ^ (b[j]! | (b[j + 1]! << 8) | (b[j + 2]! << 16) | (b[j + 3]! << 24)), 0x01000193);
      }
      const step = Math.floor((len - 36) / 8);
      for (let k = 1; k <= 8; k++) {
        const i = start + 16 + k * step;
        h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
      }
      return h ^ (h >>> 15);
    }
    let i = start;
    for (const last = end - 4; i <= last; i += 4) h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
    for (; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return h ^ (h >>> 15);
  }

  get(h: number, b: Uint8Array, start: number, end: number): V | undefined {
    const len = end - start;
    for (let s = this.slots.get(h); s !== undefined; s = s.next) {
      if (s.len !== len) continue;
      const k = s.block;
      const off = s.off;
      if (len >= NATIVE_COMPARE) {
        // a whole ULPDU: memcmp beats an octet loop in JS once past the call's cost
        if (k.compare(b, start, end, off, off + len) === 0) return s.value;
        continue;
      }
      let i = 0;
      while (i < len && k[off + i] === b[start + i]) i++;
      if (i === len) return s.value;
    }
    return undefined;
  }

  set(h: number, b: Uint8Array, start: number, end: number, value: V): void {
    if (this.n >= this.limit) {
      this.slots.clear();
      this.n = 0;
      this.block = undefined;
    }
    const len = end - start;
    let block = this.block;
    if (block === undefined || this.used + len > block.length) {
      this.blockSize = Math.min(BLOCK, this.blockSize * 2);
      block = this.block = Buffer.allocUnsafeSlow(Math.max(this.blockSize, len));
      this.used = 0;
    }
    const off = this.used;
    this.used += len;
    // a plain view to copy from (a Buffer's subarray() runs Buffer's constructor)
    if (len > 0) block.set(new Uint8Array(b.buffer, b.byteOffset + start, len), off);
    this.slots.set(h, { block, off, len, value, next: this.slots.get(h) });
    this.n++;
  }
}

interface Manager {
  text: string;
  /**
   * bodies by TLV type (1..4) and the octets after the status: a request and its response
   * differ in the status octet only, and a body costs a decode and the texts of its VSIID
   * and filters, which a capture's first frames make thousands of
   */
  bodies: (ByteTable<VsiBody> | undefined)[];
}

const MANAGER_ID_LEN = 16;
const NO_ITEMS: readonly VdpItem[] = [];

/** Interned items of VDP22 ULPDUs. */
export class VdpItems {
  /**
   * whole ULPDUs (padding included): keep-alives and their responses repeat the same
   * ULPDU, so most ECPDUs cost one hash and one compare, not one per VSI TLV
   */
  private ulpdus = new ByteTable<readonly VdpItem[]>(4096);
  private managers = new ByteTable<Manager>(10_000);
  /** VSI TLVs before any Manager ID TLV: pdu/vdp.ts vdpEntries gives them 16 zero octets */
  private readonly noManager: Manager = { text: managerIdText(new Uint8Array(MANAGER_ID_LEN)), bodies: [] };

  /** the keys of every item made here, whichever way */
  readonly keys = new VsiKeys();

  /** The item of a VSI TLV the general decoder decoded (same Manager ID cache as the ULPDU walk). */
  vsiItem(t: VsiTlv, managerId: Uint8Array): VdpItem {
    return vsiItem(t, this.manager(managerId, 0).text, this.keys);
  }

  /** The item of a draft VDP TLV (undefined for a reserved mode). */
  draftItem(t: VdpDraftTlv): VdpItem | undefined {
    return draftItem(t, this.keys);
  }

  private manager(b: Uint8Array, at: number): Manager {
    const end = at + MANAGER_ID_LEN;
    const h = ByteTable.hash(b, at, end);
    let m = this.managers.get(h, b, at, end);
    if (m === undefined) {
      m = { text: managerIdText(b.subarray(at, end)), bodies: [] };
      this.managers.set(h, b, at, end, m);
    }
    return m;
  }

  /**
   * The VSI TLVs of a VDP22 ULPDU (b[start..end), padding included) as items, or undefined
   * when the ULPDU is not well formed; the caller then decodes the frame with the general
   * decoder, which names the problem. The walk is pdu/vdp.ts decodeVdpUlpdu + vdpEntries
   * (stop at End or a lone zero octet; a Manager ID TLV applies to the VSI TLVs after it;
   * organisational and unknown TLVs carry nothing the replay uses).
   */
  ofUlpdu(b: Uint8Array, start: number, end: number): readonly VdpItem[] | undefined {
    const h = ByteTable.hash(b, start, end);
    const known = this.ulpdus.get(h, b, start, end);
    if (known !== undefined) return known;
    const items = this.walk(b, start, end);
    if (items !== undefined) this.ulpdus.set(h, b, start, end, items);
    return items;
  }

  private walk(b: Uint8Array, start: number, end: number): readonly VdpItem[] | undefined {
    let out: VdpItem[] | undefined;
    let mgr = this.noManager;
    let p = start;
    while (p < end) {
      if (end - p < 2) {
        if (b[p] === 0) break;
        return undefined;
      }
      const type = b[p]! >> 1;
      const len = ((b[p]! & 1) << 8) | b[p + 1]!;
      if (type === VDP_TLV_END) break;
      const next = p + 2 + len;
      if (next > end) return undefined;
      if (type >= VDP_TLV_PREASSOC && type <= VDP_TLV_DEASSOC) {
        const it = this.vsi(mgr, type, b, p, next);
        if (it === undefined) return undefined;
        (out ??= []).push(it);
      } else if (type === VDP_TLV_MGRID) {
        if (len !== MANAGER_ID_LEN) return undefined;
        mgr = this.manager(b, p + 2);
      } else if (type === VDP_TLV_ORG && len < 3) {
        return undefined;
      }
      p = next;
    }
    return out ?? NO_ITEMS;
  }

  /** the item of the VSI TLV at b[at..end) (header included); undefined when it does not decode */
  private vsi(mgr: Manager, type: number, b: Uint8Array, at: number, end: number): VdpItem | undefined {
    const body = this.body(mgr, type, b, at, end);
    if (body === undefined) return undefined;
    const s = b[at + 2]!;
    if (body.first?.status === s) return body.first;
    if (body.second?.status === s) return body.second;
    if (body.more) for (const it of body.more) if (it.status === s) return it;
    const it = withStatus(body, s);
    if (body.first === undefined) body.first = it;
    else if (body.second === undefined) body.second = it;
    else (body.more ??= []).push(it);
    return it;
  }

  /** the body of the VSI TLV at b[at..end): the octets after its status octet, under its type */
  private body(mgr: Manager, type: number, b: Uint8Array, at: number, end: number): VsiBody | undefined {
    const table = (mgr.bodies[type] ??= new ByteTable(200_000));
    const from = at + 3;
    const h = ByteTable.hash(b, from, end);
    let body = table.get(h, b, from, end);
    if (body === undefined) {
      let t: VsiTlv;
      try {
        t = decodeVsiTlv(type, b, at + 2, end - at - 2, at);
      } catch (e) {
        if (e instanceof PduError) return undefined;
        throw e;
      }
      body = vsiBody(t, mgr.text, this.keys);
      table.set(h, b, from, end, body);
    }
    return body;
  }
}
