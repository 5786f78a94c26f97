import { describe, expect, it } from 'vitest';
import { fromHex, toHex, uuidToBytes } from '../../../pdu/bytes.js';
import { buildAck, NetlinkError, parseAttrs, parseMessages } from '../../../netlink/nlmsg.js';
import {
  decodeGetLink,
  decodeSetLink,
  encodeGetLinkReply,
  encodeLibvirtGetLink,
  encodeLibvirtSetLink,
  encodeUnsolicited,
  IFLA_PORT_REQUEST,
  IFLA_VF_PORT,
  IFLA_VF_PORTS,
  setLinkToVdp,
} from '../../../netlink/port-request.js';

const UUID = uuidToBytes('76647000-0000-4000-8000-000000000001');

/** libvirt's ASSOCIATE for one VSI, written out by hand from the reference layout (§6.1.3). */
const GOLDEN =
  // nlmsghdr: len 156, RTM_SETLINK 19, NLM_F_REQUEST, seq 7, pid 4242
  '9c000000 1300 0100 07000000 92100000' +
  // ifinfomsg: family 0, index 2
  '00 00 0000 02000000 00000000 00000000' +
  // IFLA_IFNAME "eth0"
  '0900 0300 65746830 00 000000' +
  // IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_MAC {vf=-1, mac}, IFLA_VF_VLAN {vf=-1, vlan 100, qos 0} } }
  '4000 1680 3c00 0180' +
  '2800 0100 ffffffff 027664000001 0000' + '00'.repeat(24) +
  '1000 0200 ffffffff 64000000 00000000' +
  // IFLA_VF_PORTS { IFLA_VF_PORT { VSI_TYPE {mgr 7, type 0x123456 LE, v1}, INSTANCE_UUID, REQUEST 2 } }
  '3000 1880 2c00 0180' +
  '0c00 0300 07 563412 01 000000' +
  '1400 0400 76647000000040008000000000000001' +
  '0500 0600 02 000000';

describe('libvirt netlink contract', () => {
  it('builds libvirt’s ASSOCIATE byte for byte (type id little-endian: 0x123456 ⇔ 56 34 12)', () => {
    const built = encodeLibvirtSetLink({ ifindex: 2, ifname: 'eth0', mac: '02:76:64:00:00:01', vlan: 100, mgrId: 7, typeId: 0x123456, typeVersion: 1, instanceUuid: UUID, request: 2, seq: 7, pid: 4242 });
    expect(toHex(built)).toBe(GOLDEN.replace(/\s/g, ''));
  });

  it('decodes it into the VDP request', () => {
    const [msg] = parseMessages(fromHex(GOLDEN));
    const req = decodeSetLink(msg!);
    expect(req).toMatchObject({ ifindex: 2, ifname: 'eth0', seq: 7, pid: 4242, vfs: [{ mac: '02:76:64:00:00:01', vlan: 100, qos: 0 }] });
    expect(req.ports[0]).toMatchObject({ vsiType: { mgrId: 7, typeId: 0x123456, typeVersion: 1 }, request: 2 });
    const vdp = setLinkToVdp(req);
    expect(vdp).toMatchObject({ mode: 'assoc', typeId: 0x123456, typeVersion: 1, vsiidFormat: 5, filterFormat: 2, filters: [{ mac: '02:76:64:00:00:01', vid: 100, pcp: 0, ps: false }] });
    expect(toHex(vdp.managerId)).toBe('07' + '00'.repeat(15));
    expect(toHex(vdp.vsiid)).toBe(toHex(UUID));
  });

  it('acks with NLMSG_ERROR: 36 octets, error 0 or −errno, the request header copied', () => {
    const [msg] = parseMessages(fromHex(GOLDEN));
    const ack = buildAck(msg!, 0, 99);
    expect(ack.length).toBe(36);
    expect(toHex(ack)).toBe('24000000' + '0200' + '0000' + '07000000' + '63000000' + '00000000' + GOLDEN.replace(/\s/g, '').slice(0, 32));
    const nack = buildAck(msg!, 22);
    expect(new DataView(nack.buffer).getInt32(16, true)).toBe(-22);
  });

  it('answers status polls like lldpad: NLMSG_DONE, one IFLA_VF_PORT per VSI, no response while in progress', () => {
    const poll = parseMessages(encodeLibvirtGetLink({ ifindex: 2, ifname: 'eth0', seq: 9, pid: 4242 }))[0]!;
    const req = decodeGetLink(poll);
    expect(req).toEqual({ ifindex: 2, ifname: 'eth0', seq: 9, pid: 4242 });
    const reply = parseMessages(encodeGetLinkReply(req, [{ instanceUuid: UUID, response: 0 }, { instanceUuid: uuidToBytes('76647000-0000-4000-8000-000000000002') }]))[0]!;
    expect(reply.type).toBe(3);
    expect(reply.seq).toBe(9);
    const ports = parseAttrs(reply.payload.subarray(16), 32, 'x').find((a) => a.type === IFLA_VF_PORTS)!;
    const list = parseAttrs(ports.value, 0, 'p').filter((a) => a.type === IFLA_VF_PORT);
    expect(list).toHaveLength(2);
    const first = parseAttrs(list[0]!.value, 0, 'q');
    expect(first.map((a) => a.type)).toEqual([4, 1, 7]);
    expect(parseAttrs(list[1]!.value, 0, 'q').map((a) => a.type)).toEqual([4, 1]);
  });

  it('sends the unsolicited disassociate with a one-octet IFLA_PORT_REQUEST = 3', () => {
    const m = parseMessages(encodeUnsolicited({ ifname: 'eth0', seq: 7, pid: 1234, vfs: [{ mac: '02:76:64:00:00:01', vlan: 205, qos: 0 }], mgrId: 7, typeId: 0x123456, typeVersion: 1, instanceUuid: UUID }))[0]!;
    expect(m.type).toBe(19);
    expect(m.pid).toBe(1234);
    const req = decodeSetLink({ ...m, type: 19 });
    expect(req.vfs).toEqual([{ mac: '02:76:64:00:00:01', vlan: 205, qos: 0 }]);
    expect(req.ports[0]!.request).toBe(3);
    const ports = parseAttrs(m.payload.subarray(16), 32, 'x').find((a) => a.type === IFLA_VF_PORTS)!;
    const port = parseAttrs(parseAttrs(ports.value, 0, 'p')[0]!.value, 0, 'q');
    expect(port.find((a) => a.type === IFLA_PORT_REQUEST)!.value.length).toBe(1);
  });

  it('accepts a 2-octet IFLA_PORT_REQUEST and attributes without NLA_F_NESTED', () => {
    const g = fromHex(GOLDEN);
    // request attribute: '0500 0600 02' → '0600 0600 02 00'
    const i = toHex(g).indexOf('0500060002000000') / 2;
    g[i] = 6;
    g[i + 5] = 0;
    // clear NLA_F_NESTED on IFLA_VFINFO_LIST
    const j = toHex(g).indexOf('40001680') / 2;
    g[j + 3] = 0;
    const req = decodeSetLink(parseMessages(g)[0]!);
    expect(req.ports[0]!.request).toBe(2);
    expect(req.vfs).toHaveLength(1);
  });

  it('refuses malformed messages with an errno and the attribute path', () => {
    const bad = (hex: string): NetlinkError => {
      try {
        decodeSetLink(parseMessages(fromHex(hex))[0]!);
      } catch (e) {
        expect(e).toBeInstanceOf(NetlinkError);
        return e as NetlinkError;
      }
      throw new Error('accepted');
    };
    const g = GOLDEN.replace(/\s/g, '');
    // request 9
    expect(bad(g.replace('0500060002000000', '0500060009000000')).path).toMatch(/IFLA_PORT_REQUEST/);
    // nla_len pointing past the message
    expect(bad(g.replace('40001680', 'ff001680')).errno).toBe('EINVAL');
    // a VF_VLAN struct that is too short
    expect(bad(g.replace('10000200ffffffff6400000000000000', '08000200ffffffff' + '0000000000000000')).path).toMatch(/IFLA_VFINFO_LIST\/IFLA_VF_INFO\[0\]/);
    // no IFLA_VFINFO_LIST at all
    const noVf = encodeLibvirtSetLink({ ifindex: 2, ifname: 'eth0', mac: '02:76:64:00:00:01', vlan: 100, mgrId: 7, typeId: 1, typeVersion: 1, instanceUuid: UUID, request: 2, seq: 1, pid: 1 });
    const hex = toHex(noVf).replace(/40001680.*?(?=30001880)/, '');
    const fixed = fromHex(hex);
    new DataView(fixed.buffer).setUint32(0, fixed.length, true);
    expect(bad(toHex(fixed)).path).toBe('IFLA_VFINFO_LIST');
    expect(() => parseMessages(fromHex('0400'))).toThrow(NetlinkError);
  });

  it('mutated messages give a request or a NetlinkError, never another exception', () => {
    const src = fromHex(GOLDEN);
    let x = 12345;
    const rnd = (): number => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8);
    let ok = 0;
    let err = 0;
    for (let i = 0; i < 100_000; i++) {
      const m = src.slice(0, rnd() % 3 === 0 ? rnd() % src.length : src.length);
      for (let k = 0; k < 1 + (rnd() % 4); k++) if (m.length) m[rnd() % m.length] ^= 1 << (rnd() % 8);
      try {
        for (const msg of parseMessages(m)) setLinkToVdp(decodeSetLink(msg));
        ok++;
      } catch (e) {
        if (!(e instanceof NetlinkError)) throw new Error(`${toHex(m)}: ${String(e)}`);
        err++;
      }
    }
    expect(ok).toBeGreaterThan(0);
    expect(err).toBeGreaterThan(0);
  });
});
