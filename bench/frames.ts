/** Representative frames for the benchmarks, built with vdpd's own encoders. */
import { fromHex } from '../pdu/bytes.js';
import { encodeEcp22 } from '../pdu/ecp.js';
import { encodeEthernet } from '../pdu/ethernet.js';
import { encodeLldpdu } from '../pdu/lldp.js';
import { encodeVdpEntries } from '../pdu/vdp.js';
import type { Lldpdu, VdpEntry } from '../pdu/types.js';

export const STATION = '02:76:64:70:00:01';
export const NCB = '01:80:c2:00:00:00';

export const lldpdu: Lldpdu = {
  tlvs: [
    { kind: 'chassis-id', subtype: 4, id: fromHex('027664700001') },
    { kind: 'port-id', subtype: 3, id: fromHex('027664700001') },
    { kind: 'ttl', seconds: 120 },
    { kind: 'evb', bgid: false, rrcap: true, rrctr: true, bridgeReserved: 0, sgid: false, rrreq: true, rrstat: 1, stationReserved: 0, r: 3, rte: 8, evbMode: 2, rolRwd: true, rwd: 20, rkaReserved: 0, rolRka: true, rka: 20 },
    { kind: 'end' },
  ],
};

export function entry(i: number, status = 0): VdpEntry {
  const id = fromHex(`7664700000004000800000${i.toString(16).padStart(10, '0')}`);
  return {
    managerId: fromHex('7664706c616200000000000000000000'),
    vsi: {
      kind: 'vsi',
      mode: 'assoc',
      status,
      typeId: 0x123456,
      typeVersion: 1,
      vsiidFormat: 5,
      vsiid: id,
      filterFormat: 2,
      filters: [{ mac: `02:76:64:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, vid: 100, pcp: 0, ps: false }],
    },
    org: [],
  };
}

export function lldpFrame(): Uint8Array {
  return encodeEthernet({ dst: NCB, src: STATION, ethertype: 0x88cc }, encodeLldpdu(lldpdu));
}

export const BRIDGE = '02:76:64:70:00:02';

export function ecpFrame(seq: number, entries: VdpEntry[], src = STATION): Uint8Array {
  return encodeEthernet({ dst: NCB, src, ethertype: 0x8940 }, encodeEcp22({ version: 1, op: 0, subtype: 1, sequence: seq, ulpdu: encodeVdpEntries(entries) }));
}

export function ackFrame(seq: number, src = BRIDGE): Uint8Array {
  return encodeEthernet({ dst: NCB, src, ethertype: 0x8940 }, encodeEcp22({ version: 1, op: 1, subtype: 1, sequence: seq, ulpdu: new Uint8Array(0) }), false);
}

/** The bridge's LLDPDU: EVB TLV in bridge mode. */
export function bridgeLldpFrame(): Uint8Array {
  const tlvs = lldpdu.tlvs.map((t) =>
    t.kind === 'evb' ? { ...t, evbMode: 1 } : t.kind === 'chassis-id' || t.kind === 'port-id' ? { ...t, id: fromHex('027664700002') } : t,
  );
  return encodeEthernet({ dst: NCB, src: BRIDGE, ethertype: 0x88cc }, encodeLldpdu({ tlvs }));
}
