import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, uuidToBytes } from '../../../pdu/bytes.js';
import { decodeIov, decodeIovStatus, encodeIov, encodeIovStatus, RTM_GETIOV, RTM_SETIOV } from '../../../netlink/iovnl.js';
import { NetlinkError, parseMessages } from '../../../netlink/nlmsg.js';
import { decodeSetLink, encodeLibvirtSetLink, setLinkToVdp } from '../../../netlink/port-request.js';
import { decodeVdpdExtension, IFLA_VDPD_VSI22 } from '../../../netlink/vdpd-ext.js';
import { AttrWriter, parseAttrs } from '../../../netlink/nlmsg.js';

const UUID = uuidToBytes('76647000-0000-4000-8000-0000000000aa');
const one = (b: Uint8Array) => parseMessages(b)[0]!;

describe('iovnl codec', () => {
  it('SET_PORT_PROFILE: header {family, cmd, pad}, attributes, golden bytes', () => {
    const b = encodeIov({ cmd: 'SET_PORT_PROFILE', seq: 1, pid: 2, ifname: 'eth0', vfIfname: 'tap0', profile: 'web', instanceUuid: UUID, macVlans: [{ mac: '02:00:00:00:00:01', vid: 100, pcp: 0, ps: false }] });
    expect(toHex(b)).toBe(
      '60000000' + '5300' + '0100' + '01000000' + '02000000' + // nlmsghdr: RTM_SETIOV 83
        '00010000' + // iovmsg: family 0, cmd 1, pad
        '0900010065746830' + '00000000' + // IFNAME "eth0"
        '0900020074617030' + '00000000' + // VF_IFNAME "tap0"
        '0800030077656200' + // PORT_PROFILE "web"
        '14001300' + toHex(UUID) + // INSTANCE_UUID (19)
        '18001480' + '0a000700020000000001' + '0000' + '06000800' + '6400' + '0000', // MAC_VLAN nest
    );
    const r = decodeIov(one(b));
    expect(r).toMatchObject({ cmd: 'SET_PORT_PROFILE', ifname: 'eth0', vfIfname: 'tap0', profile: 'web', macVlans: [{ mac: '02:00:00:00:00:01', vid: 100 }] });
    expect(r.msgType).toBe(RTM_SETIOV);
  });

  it('round-trips every command', () => {
    const mac = fc.tuple(fc.integer({ min: 0, max: 0x7f }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 5, maxLength: 5 })).map(([a, r]) => [a & 0xfe, ...r].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    fc.assert(
      fc.property(
        fc.constantFrom('SET_PORT_PROFILE', 'UNSET_PORT_PROFILE', 'GET_PORT_PROFILE_STATUS', 'SET_MAC_VLAN'),
        fc.array(fc.record({ mac, vid: fc.integer({ min: 0, max: 4095 }), pcp: fc.integer({ min: 0, max: 7 }), ps: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 0xffffff }),
        (cmd, macVlans, typeId) => {
          const good = macVlans.filter((m) => m.mac !== '00:00:00:00:00:00');
          fc.pre(good.length > 0);
          const b = encodeIov({ cmd, seq: 9, pid: 0, ifname: 'up0', vfIfname: 'vf0', instanceUuid: UUID, typeId, typeVersion: 3, macVlans: good });
          const r = decodeIov(one(b));
          expect(r.cmd).toBe(cmd);
          expect(r.macVlans).toEqual(good);
          expect(r.typeId).toBe(typeId);
          expect(r.msgType).toBe(cmd === 'GET_PORT_PROFILE_STATUS' ? RTM_GETIOV : RTM_SETIOV);
        },
      ),
    );
  });

  it('applies the review: missing VF, missing instance UUID, no profile or type, the flat MAC form and a multicast MAC are errors', () => {
    const base = { seq: 1, pid: 0, ifname: 'up0', vfIfname: 'vf0', instanceUuid: UUID, profile: 'p' };
    const err = (x: Parameters<typeof encodeIov>[0]) => {
      try {
        decodeIov(one(encodeIov(x)));
      } catch (e) {
        expect(e).toBeInstanceOf(NetlinkError);
        return (e as NetlinkError).path;
      }
      return 'accepted';
    };
    const { vfIfname: _v, ...noVf } = base;
    expect(err({ ...noVf, cmd: 'SET_PORT_PROFILE' })).toBe('IOV_ATTR_VF_IFNAME');
    const { instanceUuid: _u, ...noUuid } = base;
    expect(err({ ...noUuid, cmd: 'SET_PORT_PROFILE' })).toBe('IOV_ATTR_INSTANCE_UUID');
    const { profile: _p, ...noProfile } = base;
    expect(err({ ...noProfile, cmd: 'SET_PORT_PROFILE' })).toBe('IOV_ATTR_VSI_TYPE_ID');
    expect(err({ ...base, cmd: 'SET_MAC_VLAN', macVlans: [{ mac: '01:00:5e:00:00:01', vid: 1, pcp: 0, ps: false }] })).toMatch(/IOV_ATTR_MAC_ADDR/);
    expect(err({ ...base, cmd: 'SET_MAC_VLAN' })).toBe('IOV_ATTR_MAC_VLAN');
    // GET_PORT_PROFILE_STATUS needs no VF
    expect(err({ ...noVf, cmd: 'GET_PORT_PROFILE_STATUS' })).toBe('accepted');
    // the proposal's flat MAC_ADDR attribute at the top level
    const flat = encodeIov({ ...base, cmd: 'SET_PORT_PROFILE' });
    const w = new AttrWriter().attr(7, Uint8Array.of(2, 0, 0, 0, 0, 1)).finish();
    const m = one(flat);
    const withFlat = new Uint8Array(16 + m.payload.length + w.length);
    withFlat.set(flat.subarray(0, 16));
    withFlat.set(m.payload, 16);
    withFlat.set(w, 16 + m.payload.length);
    new DataView(withFlat.buffer).setUint32(0, withFlat.length, true);
    expect(() => decodeIov(one(withFlat))).toThrow(/IOV_ATTR_MAC_VLAN/);
  });

  it('status reply round-trips', () => {
    const b = encodeIovStatus({ seq: 4 }, { ifname: 'eth0', instanceUuid: UUID, status: 'ERROR', vdpStatus: 0x23 });
    expect(decodeIovStatus(one(b))).toEqual({ ifname: 'eth0', instanceUuid: UUID, status: 'ERROR', vdpStatus: 0x23 });
  });

  it('mutated requests give a request or a NetlinkError, never another exception', () => {
    const b = encodeIov({ cmd: 'SET_PORT_PROFILE', seq: 1, pid: 2, ifname: 'eth0', vfIfname: 'tap0', profile: 'web', instanceUuid: UUID, macVlans: [{ mac: '02:00:00:00:00:01', vid: 100, pcp: 0, ps: false }] });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(b.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(b.length), (flips, cut) => {
        const x = b.slice(0, Math.max(16, cut));
        for (const [i, v] of flips) if (i < x.length) x[i] = v;
        try {
          for (const m of parseMessages(x)) decodeIov(m);
        } catch (e) {
          expect(e).toBeInstanceOf(NetlinkError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('vdpd extension attribute (IFLA_VDPD_VSI22)', () => {
  const ext = { managerId: new Uint8Array(16).fill(0xab), vsiidFormat: 5, hints: 0x10, filterFormat: 4, filters: [{ ps: true, pcp: 5, vid: 100, mac: '02:00:00:00:00:09', groupId: 42 }] };
  it('carries the 16-octet manager ID, hints, group IDs and PS/PCP into the VDP request', () => {
    const b = encodeLibvirtSetLink({ ifindex: 2, ifname: 'eth0', mac: '02:00:00:00:00:09', vlan: 0, mgrId: 1, typeId: 5, typeVersion: 1, instanceUuid: UUID, request: 2, seq: 1, pid: 1, ext });
    const v = setLinkToVdp(decodeSetLink(one(b)));
    expect(v.managerId).toEqual(ext.managerId);
    expect(v).toMatchObject({ hints: 0x10, filterFormat: 4, filters: [{ mac: '02:00:00:00:00:09', groupId: 42, vid: 100, pcp: 5, ps: true }] });
  });

  it('is ignored when its first member is not the magic (a future kernel attribute of that number)', () => {
    const w = new AttrWriter().begin(IFLA_VDPD_VSI22).u32(1, 0x12345678).end().finish();
    expect(decodeVdpdExtension(parseAttrs(w, 0, 'x')[0]!)).toBeUndefined();
  });

  it('without the extension, a libvirt request keeps lldpad\'s mapping (manager ID in octet 0, format MAC/VID)', () => {
    const b = encodeLibvirtSetLink({ ifindex: 2, ifname: 'eth0', mac: '02:00:00:00:00:09', vlan: 7, mgrId: 9, typeId: 5, typeVersion: 1, instanceUuid: UUID, request: 0, seq: 1, pid: 1 });
    const v = setLinkToVdp(decodeSetLink(one(b)));
    expect([...v.managerId]).toEqual([9, ...new Array(15).fill(0)]);
    expect(v).toMatchObject({ mode: 'preassoc', filterFormat: 2, filters: [{ mac: '02:00:00:00:00:09', vid: 7 }] });
  });

  it('refuses a filter that does not match its format', () => {
    const bad = { ...ext, filters: [{ ps: false, pcp: 0, vid: 1, mac: '02:00:00:00:00:09' }] };
    const b = encodeLibvirtSetLink({ ifindex: 2, ifname: 'eth0', mac: '02:00:00:00:00:09', vlan: 0, mgrId: 1, typeId: 5, typeVersion: 1, instanceUuid: UUID, request: 2, seq: 1, pid: 1, ext: bad });
    expect(() => decodeSetLink(one(b))).toThrow(/filter format 4 needs/);
  });
});
