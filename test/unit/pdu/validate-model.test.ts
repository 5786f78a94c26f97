/**
 * validateVsi runs for every VSI a station sends and a bridge receives, so it is written for
 * speed (no closures, Set or field names per entry). These properties hold it to the plain
 * definition it replaced: the same problems, in the same order, for any VSI TLV, including
 * the bad ones (duplicate MACs, group MACs, VID 4095, group ID 0, all-zero VSIIDs).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUnicastMac, validateVsi, type VsiProblem } from '../../../pdu/validate.js';
import type { VsiTlv } from '../../../pdu/types.js';
import { vsi } from './arbitraries.js';

function plainIsUnicastMac(mac: string): boolean {
  return mac !== '00:00:00:00:00:00' && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

function allZero(b: Uint8Array, from = 0, to = b.length): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** the definition, written plainly (reason codes 1 invalid format, 5 invalid VID/GroupID/MAC) */
function plainValidate(t: VsiTlv, groupIds: boolean): VsiProblem[] {
  const p: VsiProblem[] = [];
  const fmt = (field: string, reason: string): void => void p.push({ field, reason, code: 1 });
  const addr = (field: string, reason: string): void => void p.push({ field, reason, code: 5 });
  const v = t.vsiid;
  if (t.vsiidFormat === 1) {
    if (!allZero(v, 0, 10) || v[10] !== 0xff || v[11] !== 0xff) fmt('vsiid', 'IPv4 VSIID must be ::ffff:a.b.c.d');
    else if (allZero(v, 12, 16)) fmt('vsiid', 'IPv4 VSIID is 0.0.0.0');
  } else if (t.vsiidFormat === 2) {
    if (allZero(v)) fmt('vsiid', 'IPv6 VSIID is all zero');
  } else if (t.vsiidFormat === 3) {
    if (!allZero(v, 0, 10)) fmt('vsiid', 'MAC VSIID must have 10 leading zero octets');
    if (allZero(v, 10, 16) || (v[10]! & 1) === 1) fmt('vsiid', 'MAC VSIID must be a unicast address');
  } else if (t.vsiidFormat === 5) {
    if (allZero(v)) fmt('vsiid', 'UUID VSIID is all zero');
  } else if (t.vsiidFormat !== 4) fmt('vsiidFormat', `VSIID format ${t.vsiidFormat} is not 1..5`);
  if (t.filters.length === 0) fmt('filters', 'a VSI TLV needs at least one filter entry');
  if ((t.filterFormat === 3 || t.filterFormat === 4) && !groupIds) fmt('filterFormat', 'group ID filter formats need group IDs negotiated (BGID and SGID)');
  let vidZero = 0;
  const macs = new Set<string>();
  t.filters.forEach((f, i) => {
    if (f.vid === 4095) addr(`filters[${i}].vid`, 'VID 4095 is reserved');
    if (f.vid === 0) vidZero++;
    if (f.mac !== undefined) {
      if (!plainIsUnicastMac(f.mac)) addr(`filters[${i}].mac`, `${f.mac} is not a unicast MAC address`);
      if (macs.has(f.mac)) addr(`filters[${i}].mac`, `${f.mac} appears twice`);
      macs.add(f.mac);
    }
    if (f.groupId === 0) addr(`filters[${i}].groupId`, 'group ID 0 is not allowed');
  });
  if (t.filterFormat === 1 && vidZero > 0 && t.filters.length > 1) addr('filters', 'with filter format VID, VID 0 may only be the single entry');
  return p;
}

/** VSIs with the troubles validateVsi looks for made likely: few MACs (duplicates), zero and 4095 VIDs, zero VSIIDs */
const troubled: fc.Arbitrary<VsiTlv> = fc
  .tuple(vsi, fc.constantFrom('02:00:00:00:00:01', '03:00:00:00:00:01', '00:00:00:00:00:00', '0a:bb:cc:dd:ee:ff'), fc.boolean(), fc.integer({ min: 0, max: 6 }), fc.boolean())
  .map(([t, m, zeroId, format, atFirst]) => ({
    ...t,
    vsiidFormat: format === 0 ? 0 : format === 6 ? 9 : t.vsiidFormat,
    vsiid: zeroId ? new Uint8Array(16) : t.vsiid,
    filters: t.filters.map((f, i) => ({ ...f, ...(f.mac !== undefined && ((i === 0 && atFirst) || i === 2 || i === 3 || i === 5) ? { mac: m } : {}), ...(i === 2 ? { vid: 4095 } : i === 3 ? { vid: 0 } : {}) })),
  }));

describe('validateVsi against its plain definition', () => {
  it('finds the same problems in the same order', () => {
    fc.assert(
      fc.property(fc.oneof(vsi, troubled), fc.boolean(), (t, groupIds) => {
        expect(validateVsi(t, { groupIds })).toEqual(plainValidate(t, groupIds));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads the group bit of a MAC as parseInt of its first two characters does', () => {
    fc.assert(fc.property(fc.string({ maxLength: 18 }), (s) => isUnicastMac(s) === plainIsUnicastMac(s)), { numRuns: 5000 });
    const macLike = fc.stringMatching(/^[0-9a-fA-F+ -][0-9a-fA-FxX: -]:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    fc.assert(fc.property(macLike, (s) => isUnicastMac(s) === plainIsUnicastMac(s)), { numRuns: 5000 });
    for (const s of ['00:00:00:00:00:00', '01:00:00:00:00:00', '02:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'FE:00:00:00:00:00', '']) expect(isUnicastMac(s)).toBe(plainIsUnicastMac(s));
  });
});
