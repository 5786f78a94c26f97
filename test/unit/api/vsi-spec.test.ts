import { describe, expect, it } from 'vitest';
import { toHex } from '../../../pdu/bytes.js';
import { managerIdToBytes, managerIdToString, vsiSpecToWire, vsiWireToSpec, VsiSpecError, type VsiSpec } from '../../../src/api/vsi-spec.js';

const base: VsiSpec = {
  managerId: 'vdplab',
  typeId: 0x123456,
  typeVersion: 1,
  vsiid: '76647000-0000-4000-8000-000000000001',
  filters: [{ vid: 100, mac: '02:76:64:00:00:01' }],
};

describe('VSI spec', () => {
  it('encodes manager IDs explicitly', () => {
    expect(toHex(managerIdToBytes('vdplab'))).toBe('7664706c616200000000000000000000');
    expect(toHex(managerIdToBytes('ascii:beef'))).toBe('62656566000000000000000000000000');
    expect(toHex(managerIdToBytes('hex:beef'))).toBe('beef0000000000000000000000000000');
    expect(toHex(managerIdToBytes(7))).toBe('07000000000000000000000000000000');
    expect(toHex(managerIdToBytes('uuid:76647000-0000-4000-8000-000000000001'))).toBe('76647000000040008000000000000001');
    expect(managerIdToString(managerIdToBytes('vdplab'))).toBe('ascii:vdplab');
    expect(managerIdToString(managerIdToBytes(7))).toBe('hex:07000000000000000000000000000000');
    expect(() => managerIdToBytes(256)).toThrow(VsiSpecError);
    expect(() => managerIdToBytes('seventeen-chars-x')).toThrow(/1\.\.16 printable/);
  });

  it('maps the capture VSI to wire values and back', () => {
    const w = vsiSpecToWire(base);
    expect(w.vsiidFormat).toBe(5);
    expect(w.filterFormat).toBe(2);
    expect(toHex(w.vsiid)).toBe('76647000000040008000000000000001');
    expect(w.filters).toEqual([{ vid: 100, pcp: 0, ps: false, mac: '02:76:64:00:00:01' }]);
    const back = vsiWireToSpec(w);
    expect(back).toMatchObject({ managerId: 'ascii:vdplab', vsiidFormat: 'uuid', filterFormat: 'mac-vid', hints: 'none' });
    expect(vsiSpecToWire(back)).toEqual(w);
  });

  it('infers every filter format and VSIID format', () => {
    expect(vsiSpecToWire({ ...base, filters: [{ vid: 0 }] }).filterFormat).toBe(1);
    expect(vsiSpecToWire({ ...base, filters: [{ vid: 5, groupId: 9 }] }).filterFormat).toBe(3);
    expect(vsiSpecToWire({ ...base, filters: [{ vid: 5, groupId: 9, mac: '02:00:00:00:00:01' }] }).filterFormat).toBe(4);
    expect(toHex(vsiSpecToWire({ ...base, vsiidFormat: 'ipv4', vsiid: '10.1.2.3' }).vsiid)).toBe('00000000000000000000ffff0a010203');
    expect(toHex(vsiSpecToWire({ ...base, vsiidFormat: 'ipv6', vsiid: 'fe80::1' }).vsiid)).toBe('fe800000000000000000000000000001');
    expect(toHex(vsiSpecToWire({ ...base, vsiidFormat: 'mac', vsiid: '02:00:00:00:00:09' }).vsiid)).toBe('00000000000000000000020000000009');
    expect(vsiSpecToWire({ ...base, hints: 'to' }).hints).toBe(0x10);
    expect(vsiSpecToWire({ ...base, hints: 'from' }).hints).toBe(0x20);
  });

  it('refuses bad fields with the field name', () => {
    expect(() => vsiSpecToWire({ ...base, typeId: 1 << 24 })).toThrow(/typeId: must be an integer 0\.\.16777215/);
    expect(() => vsiSpecToWire({ ...base, filters: [{ vid: 4096, mac: '02:00:00:00:00:01' }] })).toThrow(/filters\[0\]\.vid/);
    expect(() => vsiSpecToWire({ ...base, filters: [] })).toThrow(/at least one filter/);
    expect(() => vsiSpecToWire({ ...base, filterFormat: 'mac-vid', filters: [{ vid: 3 }] })).toThrow(/needs a MAC/);
    expect(() => vsiSpecToWire({ ...base, vsiid: 'not-a-uuid' })).toThrow(/not a UUID/);
    expect(() => vsiSpecToWire({ ...base, vsiidFormat: 'ipv4', vsiid: '300.1.1.1' })).toThrow(/not an IPv4/);
  });
});
