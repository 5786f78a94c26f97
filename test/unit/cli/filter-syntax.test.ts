import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src/cli/commands/vsi.js';

describe('vdpctl filter syntax', () => {
  it("reads vdptool's <vlan16>[-<mac>[-<gid>]] and <vlan16>--<gid>", () => {
    expect(parseFilter('100-02:76:64:00:00:01')).toEqual({ vid: 100, pcp: 0, ps: false, mac: '02:76:64:00:00:01' });
    expect(parseFilter('0')).toEqual({ vid: 0, pcp: 0, ps: false });
    // 61442 = 0xF002: PS 1, PCP 7, VID 2 (lldpad test vm2_206)
    expect(parseFilter('61442')).toEqual({ vid: 2, pcp: 7, ps: true });
    expect(parseFilter('0x8002-02:00:00:00:00:01-7')).toEqual({ vid: 2, pcp: 0, ps: true, mac: '02:00:00:00:00:01', groupId: 7 });
    expect(parseFilter('5--9')).toEqual({ vid: 5, pcp: 0, ps: false, groupId: 9 });
  });

  it('reads key=value form', () => {
    expect(parseFilter('vid=7,mac=02:00:00:00:00:02,pcp=3,ps')).toEqual({ vid: 7, mac: '02:00:00:00:00:02', pcp: 3, ps: true });
    expect(parseFilter('vid=0,gid=42')).toEqual({ vid: 0, groupId: 42 });
  });

  it('refuses nonsense with the filter text', () => {
    expect(() => parseFilter('70000')).toThrow(/at most 65535/);
    expect(() => parseFilter('abc')).toThrow(/"abc"/);
    expect(() => parseFilter('mac=02:00:00:00:00:01')).toThrow(/vid is required/);
    expect(() => parseFilter('vid=1,colour=blue')).toThrow(/unknown key colour/);
  });
});
