/** Encoders refuse values that do not fit their fields, with the field named; decoders name the offset. */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../pdu/bytes.js';
import { PduError } from '../../../pdu/errors.js';
import { encodeEthernet } from '../../../pdu/ethernet.js';
import { encodeEvbData } from '../../../pdu/evb.js';
import { decodeFrame } from '../../../pdu/frame.js';
import { decodeVdpUlpdu, encodeVdpEntries, encodeVsiTlv, MAX_FILTERS } from '../../../pdu/vdp.js';
import { validateVsi } from '../../../pdu/validate.js';
import type { EvbTlv, VsiTlv } from '../../../pdu/types.js';

const vsi: VsiTlv = {
  kind: 'vsi',
  mode: 'assoc',
  status: 0,
  typeId: 0x123456,
  typeVersion: 1,
  vsiidFormat: 5,
  vsiid: fromHex('76647000000040008000000000000001'),
  filterFormat: 2,
  filters: [{ mac: '02:76:64:00:00:01', vid: 100, pcp: 0, ps: false }],
};

function refusal(fn: () => unknown): PduError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PduError);
    return e as PduError;
  }
  throw new Error('accepted');
}

describe('encoder refusals', () => {
  it('VID > 4095, PCP > 7, type ID >= 2^24, version > 255, VSIID length', () => {
    expect(refusal(() => encodeVsiTlv({ ...vsi, filters: [{ ...vsi.filters[0]!, vid: 4096 }] }))).toMatchObject({ code: 'out-of-range', field: 'vsi.filters[0].vid' });
    expect(refusal(() => encodeVsiTlv({ ...vsi, filters: [{ ...vsi.filters[0]!, pcp: 8 }] }))).toMatchObject({ code: 'out-of-range', field: 'vsi.filters[0].pcp' });
    expect(refusal(() => encodeVsiTlv({ ...vsi, typeId: 1 << 24 }))).toMatchObject({ code: 'out-of-range', field: 'vsi.typeId' });
    expect(refusal(() => encodeVsiTlv({ ...vsi, typeVersion: 256 }))).toMatchObject({ code: 'out-of-range', field: 'vsi.typeVersion' });
    expect(refusal(() => encodeVsiTlv({ ...vsi, vsiid: new Uint8Array(15) }))).toMatchObject({ field: 'vsi.vsiid' });
    expect(refusal(() => encodeVsiTlv({ ...vsi, filters: [{ vid: 1, pcp: 0, ps: false }] }))).toMatchObject({ code: 'bad-value', field: 'vsi.filters[0].mac' });
    // a malformed MAC names its entry; the same through a packed ULPDU
    const bad = { ...vsi, filters: [vsi.filters[0]!, { ...vsi.filters[0]!, mac: '02:00:00:00:00:zz' }] };
    expect(refusal(() => encodeVsiTlv(bad))).toMatchObject({ code: 'bad-value', field: 'vsi.filters[1].mac' });
    expect(refusal(() => encodeVdpEntries([{ managerId: new Uint8Array(16), vsi: bad, org: [] }]))).toMatchObject({ code: 'bad-value', field: 'vsi.filters[1].mac' });
  });

  it('more filter entries than the 9-bit TLV length holds (243/60/81/40)', () => {
    expect(MAX_FILTERS).toEqual({ 1: 243, 2: 60, 3: 81, 4: 40 });
    const many = Array.from({ length: 61 }, (_, i) => ({ mac: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`, vid: 5, pcp: 0, ps: false }));
    expect(() => encodeVsiTlv({ ...vsi, filters: many.slice(0, 60) })).not.toThrow();
    expect(refusal(() => encodeVsiTlv({ ...vsi, filters: many }))).toMatchObject({ code: 'too-big', field: 'vsi.filters' });
  });

  it('EVB fields out of range and frames over the MTU', () => {
    const evb: EvbTlv = { bgid: false, rrcap: false, rrctr: false, bridgeReserved: 0, sgid: false, rrreq: false, rrstat: 0, stationReserved: 0, r: 8, rte: 0, evbMode: 2, rolRwd: false, rwd: 0, rkaReserved: 0, rolRka: false, rka: 0 };
    expect(refusal(() => encodeEvbData(evb))).toMatchObject({ field: 'evb.r' });
    expect(refusal(() => encodeEvbData({ ...evb, r: 0, rka: 32 }))).toMatchObject({ field: 'evb.rka' });
    expect(refusal(() => encodeEthernet({ dst: '01:80:c2:00:00:00', src: '02:00:00:00:00:01', ethertype: 0x8940 }, new Uint8Array(1501)))).toMatchObject({ code: 'too-big' });
    expect(refusal(() => encodeEthernet({ dst: 'nonsense', src: '02:00:00:00:00:01', ethertype: 0x8940 }, new Uint8Array(1)))).toMatchObject({ field: 'dst' });
  });
});

describe('decoder errors name the byte offset in the frame', () => {
  it('a VSI TLV whose length disagrees with its entry count', () => {
    // the Assoc request of reference §4.10 with the entry count changed from 1 to 2 (frame offset 61)
    const frame = fromHex('0180c2000000027664700001894010010001 0a107664706c616200000000000000000000 062100123456010576647000000040008000000000000001020002027664000001 0064');
    const e = refusal(() => decodeFrame(frame));
    expect(e).toMatchObject({ layer: 'vdp', code: 'bad-length', offset: 61 });
    expect(e.message).toMatch(/2 entries of 8 octets need length 41, TLV length is 33/);
  });

  it('a TLV running past the end, a bad manager ID length, a bad filter format', () => {
    expect(refusal(() => decodeVdpUlpdu(fromHex('0a10 7664'), 18))).toMatchObject({ code: 'truncated', offset: 18 });
    expect(refusal(() => decodeVdpUlpdu(fromHex('0a0f' + '00'.repeat(15)), 18))).toMatchObject({ code: 'bad-length', field: 'mgrid' });
    const badFormat = fromHex('0621 00 123456 01 05 76647000000040008000000000000001 09 0001 027664000001 0064');
    expect(refusal(() => decodeVdpUlpdu(badFormat, 36))).toMatchObject({ code: 'unsupported', offset: 36 + 24 });
  });

  it('an LLDPDU that does not start with Chassis ID, Port ID, TTL', () => {
    const frame = fromHex('0180c2000000027664700002 88cc 06020078 020704027664700002 040703027664700002 0000');
    expect(refusal(() => decodeFrame(frame))).toMatchObject({ layer: 'lldp', code: 'bad-value' });
  });
});

describe('semantic validation', () => {
  it('accepts the capture VSI and VID 1, refuses what the standard forbids', () => {
    expect(validateVsi(vsi, { groupIds: false })).toEqual([]);
    expect(validateVsi({ ...vsi, filters: [{ ...vsi.filters[0]!, vid: 1 }] }, { groupIds: false })).toEqual([]);
    const codes = (t: VsiTlv, gid = false): number[] => validateVsi(t, { groupIds: gid }).map((p) => p.code);
    expect(codes({ ...vsi, vsiid: new Uint8Array(16) })).toEqual([1]);
    expect(codes({ ...vsi, filters: [] })).toEqual([1]);
    expect(codes({ ...vsi, filters: [{ ...vsi.filters[0]!, mac: '01:00:5e:00:00:01' }] })).toEqual([5]);
    expect(codes({ ...vsi, filterFormat: 3, filters: [{ groupId: 7, vid: 3, pcp: 0, ps: false }] })).toEqual([1]);
    expect(codes({ ...vsi, filterFormat: 3, filters: [{ groupId: 7, vid: 3, pcp: 0, ps: false }] }, true)).toEqual([]);
    expect(codes({ ...vsi, filterFormat: 3, filters: [{ groupId: 0, vid: 3, pcp: 0, ps: false }] }, true)).toEqual([5]);
    expect(codes({ ...vsi, filterFormat: 1, filters: [{ vid: 0, pcp: 0, ps: false }, { vid: 5, pcp: 0, ps: false }] })).toEqual([5]);
    expect(codes({ ...vsi, vsiidFormat: 1, vsiid: fromHex('00000000000000000000ff000a000001') })).toEqual([1]);
  });
});
