/**
 * Golden vectors: the real frames two lldpad peers exchanged (captures/), and the hex the
 * reference documents. Each decodes to the expected fields and re-encodes to the same bytes.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, uuidToString } from '../../../pdu/bytes.js';
import { decodeFrame, encodeFrame } from '../../../pdu/frame.js';
import { findEvb } from '../../../pdu/lldp.js';
import { summarizeFrame } from '../../../pdu/describe.js';
import { vdpEntries } from '../../../pdu/vdp.js';
import type { DecodedFrame, EvbTlv, VsiTlv } from '../../../pdu/types.js';
import { captureFiles, captureFrames } from '../../helpers/captures.js';

function ecp(f: DecodedFrame): Extract<DecodedFrame, { kind: 'ecp22' }> {
  if (f.kind !== 'ecp22') throw new Error(`expected ECP, got ${f.kind}`);
  return f;
}
function vsiOf(f: DecodedFrame): VsiTlv {
  const e = vdpEntries(ecp(f).vdp!);
  expect(e).toHaveLength(1);
  return e[0]!.vsi;
}
function evbOf(f: DecodedFrame): EvbTlv {
  if (f.kind !== 'lldp') throw new Error(`expected LLDP, got ${f.kind}`);
  return findEvb(f.lldpdu)!;
}
function evbOctets(frame: Uint8Array): string {
  // EVB TLV body: after fe 09 00 80 c2 0d, 5 octets
  const h = toHex(frame);
  const i = h.indexOf('fe090080c20d');
  return h.slice(i + 12, i + 22);
}

describe('golden vectors from the lldpad captures', () => {
  it('every frame of every capture decodes and re-encodes byte for byte', () => {
    let n = 0;
    for (const file of captureFiles()) {
      for (const [i, frame] of captureFrames(file).entries()) {
        const f = decodeFrame(frame);
        expect(toHex(encodeFrame(f)), `${file} #${i + 1}`).toBe(toHex(frame));
        n++;
      }
    }
    expect(n).toBeGreaterThan(50_000);
  });

  it('reference §2.2: the bridge LLDPDU (60 octets, TTL 120, EVB, End, zero pad)', () => {
    const hex = '0180c2000000027664700002 88cc 020704027664700002 040703027664700002 06020078 fe090080c20d0305687434 0000 0000000000000000000000';
    const bytes = fromHex(hex);
    expect(bytes.length).toBe(60);
    const f = decodeFrame(bytes);
    if (f.kind !== 'lldp') throw new Error('not LLDP');
    expect(f.eth).toEqual({ dst: '01:80:c2:00:00:00', src: '02:76:64:70:00:02', ethertype: 0x88cc });
    const [chassis, port, ttl, evb, end] = f.lldpdu.tlvs;
    expect(chassis).toEqual({ kind: 'chassis-id', subtype: 4, id: fromHex('027664700002') });
    expect(port).toEqual({ kind: 'port-id', subtype: 3, id: fromHex('027664700002') });
    expect(ttl).toEqual({ kind: 'ttl', seconds: 120 });
    expect(evb).toMatchObject({ kind: 'evb', rrcap: true, rrctr: true, rrreq: true, rrstat: 1, r: 3, rte: 8, evbMode: 1, rolRwd: true, rwd: 20, rolRka: true, rka: 20 });
    expect(end).toEqual({ kind: 'end' });
    expect(f.trailer).toEqual(new Uint8Array(11));
    expect(toHex(encodeFrame(f))).toBe(toHex(bytes));
  });

  it('reference §2.3.4: the five EVB negotiation steps decode to the documented fields', () => {
    const frames = captureFrames('lldpad-evb22-negotiation.pcap');
    expect(frames.slice(0, 5).map(evbOctets)).toEqual(['0200685414', '020468b434', '0304687434', '030568b434', '0305687434']);
    const [b1, s2, b3, s4, b5] = frames.slice(0, 5).map((x) => evbOf(decodeFrame(x)));
    expect(b1).toMatchObject({ bgid: false, rrcap: true, rrctr: false, sgid: false, rrreq: false, rrstat: 0, r: 3, rte: 8, evbMode: 1, rolRwd: false, rwd: 20, rolRka: false, rka: 20 });
    expect(s2).toMatchObject({ rrcap: true, rrctr: false, rrreq: true, rrstat: 0, evbMode: 2, rolRwd: true, rolRka: true });
    expect(b3).toMatchObject({ rrcap: true, rrctr: true, rrreq: true, rrstat: 0, evbMode: 1, rolRwd: true, rolRka: true });
    expect(s4).toMatchObject({ rrctr: true, rrstat: 1, evbMode: 2 });
    expect(b5).toMatchObject({ rrctr: true, rrstat: 1, evbMode: 1 });
  });

  it('reference §3.1/§4.10: the Assoc request, its ACK, the response and the station ACK', () => {
    const frames = captureFrames('lldpad-vdp22-assoc-keepalive-deassoc.pcap');
    const req = frames[0]!;
    expect(toHex(req)).toBe(
      '0180c2000000027664700001894010010001' +
        '0a107664706c616200000000000000000000' +
        '062100123456010576647000000040008000000000000001020001027664000001' +
        '0064',
    );
    const r = ecp(decodeFrame(req));
    expect(r.ecp).toMatchObject({ version: 1, op: 0, subtype: 1, sequence: 1 });
    const e = vdpEntries(r.vdp!)[0]!;
    expect(new TextDecoder().decode(e.managerId.subarray(0, 6))).toBe('vdplab');
    expect(e.vsi).toMatchObject({ mode: 'assoc', status: 0, typeId: 0x123456, typeVersion: 1, vsiidFormat: 5, filterFormat: 2 });
    expect(uuidToString(e.vsi.vsiid)).toBe('76647000-0000-4000-8000-000000000001');
    expect(e.vsi.filters).toEqual([{ mac: '02:76:64:00:00:01', vid: 100, pcp: 0, ps: false }]);
    expect(r.vdp!.trailer.length).toBe(0); // no End TLV since lldpad 61b69da

    const ack = frames[1]!;
    expect(toHex(ack)).toBe('0180c2000000027664700002894014010001');
    expect(ack.length).toBe(18);
    expect(ecp(decodeFrame(ack)).ecp).toMatchObject({ version: 1, op: 1, subtype: 1, sequence: 1, ulpdu: new Uint8Array(0) });
    expect(toHex(encodeFrame(decodeFrame(ack)))).toBe(toHex(ack));

    const rsp = vsiOf(decodeFrame(frames[2]!));
    expect(rsp.status).toBe(0x40);
    expect(ecp(decodeFrame(frames[2]!)).eth.src).toBe('02:76:64:70:00:02');
  });

  it('PreAssoc → PreAssoc-RR → Assoc → DeAssoc with independent sequence spaces', () => {
    const frames = captureFrames('lldpad-vdp22-assoc-deassoc.pcap').map((x) => decodeFrame(x));
    const modes = [0, 2, 4, 6, 8, 10, 12, 14].map((i) => [vsiOf(frames[i]!).mode, vsiOf(frames[i]!).status, ecp(frames[i]!).ecp.sequence]);
    expect(modes).toEqual([
      ['preassoc', 0x00, 9],
      ['preassoc', 0x40, 10],
      ['preassoc-rr', 0x00, 10],
      ['preassoc-rr', 0x40, 11],
      ['assoc', 0x00, 11],
      ['assoc', 0x40, 12],
      ['deassoc', 0x00, 12],
      ['deassoc', 0x40, 13],
    ]);
    expect(summarizeFrame(frames[2]!)).toBe(
      'ECP REQ seq=10 sub=1 MgrID=vdplab | PreAssoc[RSP|success] type=1193046/1 76647000-0000-4000-8000-000000000002 MAC/VID 02:76:64:00:00:02/100',
    );
  });

  it('keep-alives are byte-identical requests but for the sequence number', () => {
    const frames = captureFrames('lldpad-vdp22-assoc-keepalive-deassoc.pcap');
    const a = toHex(frames[0]!).slice(36);
    const k1 = toHex(frames[4]!).slice(36);
    expect(k1).toBe(a);
    expect(ecp(decodeFrame(frames[4]!)).ecp.sequence).toBe(2);
  });

  it('the bridge shutdown LLDPDU: TTL 0, no EVB TLV', () => {
    const f = decodeFrame(captureFrames('lldpad-vdp22-bridge-term-restart.pcap')[0]!);
    if (f.kind !== 'lldp') throw new Error('not LLDP');
    expect(f.lldpdu.tlvs.map((t) => t.kind)).toEqual(['chassis-id', 'port-id', 'ttl', 'end']);
    expect(f.lldpdu.tlvs[2]).toEqual({ kind: 'ttl', seconds: 0 });
    expect(summarizeFrame(f)).toBe('LLDP TTL=0 (shutdown) End');
  });

  it('the bridge-initiated DeAssoc has status 0x00 (no response bit)', () => {
    const frames = captureFrames('lldpad-vdp22-bug-stale-bridge-timer.pcap').map((x) => decodeFrame(x));
    const unsolicited = frames.filter((f) => f.kind === 'ecp22' && f.eth.src === '02:76:64:70:00:02' && f.vdp && vdpEntries(f.vdp)[0]?.vsi.mode === 'deassoc' && vdpEntries(f.vdp)[0]!.vsi.status === 0);
    expect(unsolicited).toHaveLength(3);
    expect(unsolicited.map((f) => uuidToString(vsiOf(f).vsiid).slice(-2))).toEqual(['15', '16', '17']);
  });

  it('retransmissions carry the same sequence number and identical bytes', () => {
    const frames = captureFrames('lldpad-ecp22-loss20-retransmit.pcap');
    // #20..#23: four transmissions of seq 4 (reference captures README)
    const four = frames.slice(19, 23);
    expect(new Set(four.map((x) => toHex(x))).size).toBe(1);
    expect(ecp(decodeFrame(four[0]!)).ecp.sequence).toBe(4);
  });
});
