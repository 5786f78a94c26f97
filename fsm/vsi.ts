/**
 * VSI identity, commands, outcomes and the rules for which command may follow which.
 *
 * Key: (VSI Manager ID, type ID, type version, VSIID format, VSIID). lldpad adds the filter
 * format to the key, so a second request with another format silently became a second
 * record; vdpd refuses it instead (EINVAL), which is what an operator means.
 *
 * Command ordering (reference §5.4, decided explicitly):
 *   no record      + PreAssoc / PreAssoc-RR / Assoc → record created, request sent
 *   no record      + DeAssoc                        → EINVAL, nothing sent (lldpad test 114)
 *   record         + DeAssoc                        → always allowed, supersedes a pending command
 *   command pending + anything but DeAssoc           → EBUSY
 *   record         + a lower mode than the current   → EINVAL (Assoc → PreAssoc, lldpad test 108)
 *   record         + the same or a higher mode       → sent (Assoc → Assoc re-sends, PreAssoc → PreAssoc-RR → Assoc)
 *   filter format or list differs from the record    → EINVAL (de-associate first)
 */
import { Buffer } from 'node:buffer';
import { toHex } from '../pdu/bytes.js';
import { VSI_MODE_TLV, type FilterEntry, type VsiMode } from '../pdu/types.js';

/** The wire values of a VSI (what the client API and netlink produce). */
export interface VsiWire {
  managerId: Uint8Array;
  typeId: number;
  typeVersion: number;
  vsiidFormat: number;
  vsiid: Uint8Array;
  filterFormat: number;
  filters: FilterEntry[];
  /** VDP_HINT_M / VDP_HINT_S */
  hints: number;
  org?: { oui: number; data: Uint8Array }[];
}

export type VsiKey = string;

const HEXCH = new TextEncoder().encode('0123456789abcdef');
let kbuf = Buffer.allocUnsafe(128);

function putHex(b: Uint8Array, p: number): number {
  for (let i = 0; i < b.length; i++) {
    const x = b[i]!;
    kbuf[p++] = HEXCH[x >> 4]!;
    kbuf[p++] = HEXCH[x & 15]!;
  }
  return p;
}

function putUint(x: number, p: number): number {
  if (x >= 10) p = putUint(Math.floor(x / 10), p);
  kbuf[p] = 0x30 + (x % 10);
  return p + 1;
}

const plainUint = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

/**
 * `<manager ID hex>/<type ID>/<type version>/<VSIID format>/<VSIID hex>`. Written into a
 * scratch buffer and read out as one flat string: keys live as long as their VSI in both
 * engines' tables, and a key built by concatenation is a rope of a dozen nodes (~3× the
 * memory of its 80 characters).
 */
export function vsiKey(v: { managerId: Uint8Array; typeId: number; typeVersion: number; vsiidFormat: number; vsiid: Uint8Array }): VsiKey {
  const { managerId: m, typeId, typeVersion, vsiidFormat, vsiid } = v;
  if (!(m instanceof Uint8Array && vsiid instanceof Uint8Array && plainUint(typeId) && plainUint(typeVersion) && plainUint(vsiidFormat))) {
    // not wire values (a caller's mistake, refused later): the same text, built the simple way
    return `${toHex(m)}/${typeId}/${typeVersion}/${vsiidFormat}/${toHex(vsiid)}`;
  }
  const need = 2 * (m.length + vsiid.length) + 40;
  if (kbuf.length < need) kbuf = Buffer.allocUnsafe(need);
  let p = putHex(m, 0);
  kbuf[p++] = 0x2f;
  p = putUint(typeId, p);
  kbuf[p++] = 0x2f;
  p = putUint(typeVersion, p);
  kbuf[p++] = 0x2f;
  p = putUint(vsiidFormat, p);
  kbuf[p++] = 0x2f;
  p = putHex(vsiid, p);
  return kbuf.toString('latin1', 0, p);
}

export const MODE_RANK: Record<VsiMode, number> = VSI_MODE_TLV;

export type CommandErrorCode = 'EINVAL' | 'EBUSY' | 'ENODEV' | 'EPROTONOSUPPORT' | 'EOPNOTSUPP' | 'E2BIG';

export const ERRNO: Record<CommandErrorCode, number> = { EINVAL: 22, EBUSY: 16, ENODEV: 19, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95, E2BIG: 7 };

/** A command refused before anything was sent. */
export class VdpCommandError extends Error {
  override readonly name = 'VdpCommandError';
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
  }
  get errno(): number {
    return ERRNO[this.code];
  }
}

/** How a command (or a keep-alive) ended, as the station saw it. */
export type Outcome =
  | { kind: 'success'; mode: VsiMode; filters: FilterEntry[]; latencyMs: number }
  | { kind: 'bridge-error'; mode: VsiMode; reason: number; keep: boolean; hard: boolean; status: number }
  | { kind: 'timeout'; mode: VsiMode }
  | { kind: 'no-bridge'; mode: VsiMode }
  | { kind: 'deassoc-by-bridge'; mode: VsiMode }
  | { kind: 'superseded'; mode: VsiMode };

export function filtersEqualForKey(a: FilterEntry[], b: FilterEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.mac !== b[i]!.mac || a[i]!.groupId !== b[i]!.groupId) return false;
  }
  return true;
}

/**
 * Does a response's filter list match the request (lldpad's cmp_fdata1, reference §4.6)?
 * Same count and order, same MAC and group ID; a non-zero requested VID must come back
 * unchanged; with PS set the whole PS/PCP/VID field must come back unchanged. Otherwise
 * the bridge may assign VID (for VID 0) and PCP, and the station adopts them.
 */
export function responseFiltersMatch(requested: FilterEntry[], returned: FilterEntry[]): boolean {
  if (requested.length !== returned.length) return false;
  for (let i = 0; i < requested.length; i++) {
    const q = requested[i]!;
    const r = returned[i]!;
    if (q.mac !== r.mac || q.groupId !== r.groupId) return false;
    if (q.vid !== 0 && r.vid !== q.vid) return false;
    if (q.ps && (r.ps !== q.ps || r.pcp !== q.pcp || r.vid !== q.vid)) return false;
  }
  return true;
}

/**
 * The same filter list, field for field and with the same keys in the same order (so it
 * prints the same): a response that confirms the list the record already holds.
 */
export function sameFilterList(a: FilterEntry[], b: FilterEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.mac !== y.mac || x.groupId !== y.groupId || x.vid !== y.vid || x.pcp !== y.pcp || x.ps !== y.ps) return false;
    const sx = keyOrder(x);
    if (sx < 0 || sx !== keyOrder(y)) return sx < 0 && sameKeys(x, y);
  }
  return true;
}

/**
 * A filter entry's keys in order as one number (3 bits a key), or -1 for a key that is not
 * a filter field. for-in reads V8's enumeration cache: Object.keys made two arrays per entry
 * for every response a station received.
 */
function keyOrder(f: FilterEntry): number {
  let sig = 0;
  for (const k in f) {
    const v = k === 'ps' ? 1 : k === 'pcp' ? 2 : k === 'vid' ? 3 : k === 'groupId' ? 4 : k === 'mac' ? 5 : 0;
    if (v === 0) return -1;
    sig = sig * 8 + v;
  }
  return sig;
}

function sameKeys(x: FilterEntry, y: FilterEntry): boolean {
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  if (kx.length !== ky.length) return false;
  for (let k = 0; k < kx.length; k++) if (kx[k] !== ky[k]) return false;
  return true;
}

export interface ExistingVsi {
  mode: VsiMode;
  busy: boolean;
  ended: boolean;
  filterFormat: number;
  filters: FilterEntry[];
}

/** Returns the refusal for a command, or undefined when it may go ahead. */
export function checkCommand(existing: ExistingVsi | undefined, mode: VsiMode, w: VsiWire): VdpCommandError | undefined {
  if (!existing || existing.ended) {
    if (mode === 'deassoc') return new VdpCommandError('EINVAL', 'de-associate of a VSI that is not known');
    return undefined;
  }
  if (w.filterFormat !== existing.filterFormat) {
    return new VdpCommandError('EINVAL', `filter format ${w.filterFormat} differs from the VSI's ${existing.filterFormat}: de-associate first`);
  }
  if (!filtersEqualForKey(w.filters, existing.filters)) {
    return new VdpCommandError('EINVAL', 'filter list differs from the VSI’s: de-associate first');
  }
  if (mode === 'deassoc') return undefined;
  if (existing.busy) return new VdpCommandError('EBUSY', `a ${existing.mode} request for this VSI is still waiting for the bridge`);
  if (MODE_RANK[mode] < MODE_RANK[existing.mode]) {
    return new VdpCommandError('EINVAL', `${mode} may not follow ${existing.mode}`);
  }
  return undefined;
}
