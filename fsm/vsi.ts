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

// manager IDs repeat across thousands of VSIs: remember the hex of the last few seen
let lastMgr: Uint8Array | undefined;
let lastMgrHex = '';

function mgrHex(m: Uint8Array): string {
  if (lastMgr !== undefined && lastMgr.length === m.length) {
    let same = true;
    for (let i = 0; i < m.length; i++) if (lastMgr[i] !== m[i]) { same = false; break; }
    if (same) return lastMgrHex;
  }
  lastMgr = m.slice();
  lastMgrHex = toHex(m);
  return lastMgrHex;
}

export function vsiKey(v: { managerId: Uint8Array; typeId: number; typeVersion: number; vsiidFormat: number; vsiid: Uint8Array }): VsiKey {
  return `${mgrHex(v.managerId)}/${v.typeId}/${v.typeVersion}/${v.vsiidFormat}/${toHex(v.vsiid)}`;
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
