/** Round-trip properties: encode(any valid value) then decode gives the value back, for every codec. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEcp22, decodeEcpDraft, encodeEcp22, encodeEcpDraft } from '../../../pdu/ecp.js';
import { decodeEthernet, encodeEthernet } from '../../../pdu/ethernet.js';
import { decodeCdcpData, decodeEvbData, decodeEvbDraftData, encodeCdcpData, encodeEvbData, encodeEvbDraftData } from '../../../pdu/evb.js';
import { decodeFrame, encodeFrame } from '../../../pdu/frame.js';
import { decodeLldpdu, encodeLldpdu } from '../../../pdu/lldp.js';
import { decodeVdpUlpdu, decodeVsiTlv, encodeVdpEntries, encodeVdpUlpdu, encodeVsiTlv, vdpEntries } from '../../../pdu/vdp.js';
import { decodeVdpDraftTlvs, encodeVdpDraftTlvs } from '../../../pdu/vdp-draft.js';
import { parsePcap, serializePcapHeader, serializePcapRecord } from '../../../pdu/pcap.js';
import type { EthernetHeader, VdpDraftTlv } from '../../../pdu/types.js';
import { bytes16, cdcp, evb, evbDraft, lldpdu, mac, vdpEntry, vdpTlv, vsi } from './arbitraries.js';

const RUNS = { numRuns: 300 };

const ethHeader: fc.Arbitrary<EthernetHeader> = fc
  .record({
    dst: mac,
    src: mac,
    ethertype: fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8),
    tag: fc.option(fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), vid: fc.integer({ min: 0, max: 4095 }) }), { nil: undefined }),
  })
  .map(({ dst, src, ethertype, tag }) => (tag ? { dst, src, ethertype, vlan: tag } : { dst, src, ethertype }));

describe('round trips', () => {
  it('Ethernet header, with and without a tag', () => {
    fc.assert(
      fc.property(ethHeader, fc.uint8Array({ maxLength: 100 }), (h, payload) => {
        const bytes = encodeEthernet(h, payload, false);
        const d = decodeEthernet(bytes);
        expect(d.eth).toEqual(h);
        expect(d.payload).toEqual(payload);
        expect(encodeEthernet(h, payload, true).length).toBe(Math.max(60, bytes.length));
      }),
      RUNS,
    );
  });

  it('EVB, draft EVB and CDCP TLV bodies', () => {
    fc.assert(fc.property(evb, (t) => {
      expect(decodeEvbData(encodeEvbData(t))).toEqual(t);
    }), RUNS);
    fc.assert(fc.property(evbDraft, (t) => {
      expect(decodeEvbDraftData(encodeEvbDraftData(t))).toEqual(t);
    }), RUNS);
    fc.assert(fc.property(cdcp, (t) => {
      expect(decodeCdcpData(encodeCdcpData(t))).toEqual(t);
    }), RUNS);
  });

  it('LLDPDUs with every TLV kind', () => {
    fc.assert(
      fc.property(lldpdu, (pdu) => {
        const bytes = encodeLldpdu(pdu);
        const d = decodeLldpdu(bytes);
        expect(d.lldpdu).toEqual(pdu);
        expect(d.trailer.length).toBe(0);
      }),
      RUNS,
    );
  });

  it('ECP22 and draft ECP headers', () => {
    fc.assert(
      fc.property(
        fc.record({ version: fc.integer({ min: 0, max: 15 }), op: fc.integer({ min: 0, max: 3 }), subtype: fc.integer({ min: 0, max: 1023 }), sequence: fc.integer({ min: 0, max: 0xffff }), ulpdu: fc.uint8Array({ maxLength: 64 }) }),
        (p) => {
          expect(decodeEcp22(encodeEcp22(p))).toEqual(p);
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.record({ oui: fc.constant(0x001b3f), protocolId: fc.integer({ min: 0, max: 0xffff }), subtype: fc.integer({ min: 0, max: 255 }), mode: fc.integer({ min: 0, max: 255 }), sequence: fc.integer({ min: 0, max: 0xffff }), payload: fc.uint8Array({ maxLength: 64 }) }),
        (p) => {
          expect(decodeEcpDraft(encodeEcpDraft(p))).toEqual(p);
        },
      ),
      RUNS,
    );
  });

  it('VSI TLVs of all four filter formats and all VSIID formats', () => {
    fc.assert(
      fc.property(vsi, (t) => {
        const b = encodeVsiTlv(t);
        expect(decodeVsiTlv(b[0]! >> 1, b, 2, ((b[0]! & 1) << 8) | b[1]!)).toEqual(t);
      }),
      RUNS,
    );
  });

  it('VDP ULPDUs: arbitrary TLV sequences and packed entries', () => {
    fc.assert(
      fc.property(fc.array(vdpTlv, { maxLength: 6 }), fc.integer({ min: 0, max: 30 }), (tlvs, pad) => {
        const u = { tlvs, trailer: new Uint8Array(pad) };
        const bytes = encodeVdpUlpdu(u);
        expect(decodeVdpUlpdu(bytes)).toEqual(u);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.array(vdpEntry, { minLength: 1, maxLength: 5 }), (entries) => {
        expect(vdpEntries(decodeVdpUlpdu(encodeVdpEntries(entries)))).toEqual(entries);
        // with an End TLV the entries are the same and the End shows up as the trailer
        const withEnd = decodeVdpUlpdu(encodeVdpEntries(entries, { end: true }));
        expect(vdpEntries(withEnd)).toEqual(entries);
        expect(withEnd.trailer).toEqual(new Uint8Array(2));
      }),
      RUNS,
    );
  });

  it('draft VDP TLVs', () => {
    const draft: fc.Arbitrary<VdpDraftTlv> = fc.record({
      mode: fc.integer({ min: 0, max: 3 }),
      response: fc.integer({ min: 0, max: 255 }),
      managerId: fc.integer({ min: 0, max: 255 }),
      typeId: fc.integer({ min: 0, max: 0xffffff }),
      typeVersion: fc.integer({ min: 0, max: 255 }),
      instanceUuid: bytes16,
      filterFormat: fc.constant(2),
      filters: fc.array(fc.record({ mac, vlan: fc.integer({ min: 0, max: 0xffff }) }), { maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.array(draft, { maxLength: 3 }), (tlvs) => {
        const d = decodeVdpDraftTlvs(encodeVdpDraftTlvs(tlvs));
        expect(d.tlvs).toEqual(tlvs);
        expect(d.trailer).toEqual(new Uint8Array(2));
      }),
      RUNS,
    );
  });

  it('whole frames: encodeFrame(decodeFrame(x)) === x for generated LLDP and ECP frames', () => {
    fc.assert(
      fc.property(mac, lldpdu, (src, pdu) => {
        const bytes = encodeEthernet({ dst: '01:80:c2:00:00:00', src, ethertype: 0x88cc }, encodeLldpdu(pdu));
        expect(encodeFrame(decodeFrame(bytes))).toEqual(bytes);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(mac, fc.integer({ min: 0, max: 0xffff }), fc.array(vdpEntry, { minLength: 1, maxLength: 4 }), (src, seq, entries) => {
        const ulpdu = encodeVdpEntries(entries);
        const bytes = encodeEthernet({ dst: '01:80:c2:00:00:00', src, ethertype: 0x8940 }, encodeEcp22({ version: 1, op: 0, subtype: 1, sequence: seq, ulpdu }));
        const f = decodeFrame(bytes);
        expect(f.kind).toBe('ecp22');
        if (f.kind === 'ecp22') expect(vdpEntries(f.vdp!)).toEqual(entries);
        expect(encodeFrame(f)).toEqual(bytes);
      }),
      RUNS,
    );
  });

  it('pcap records (µs and ns) round-trip with exact timestamps', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ sec: fc.integer({ min: 0, max: 2 ** 32 - 1 }), nsec: fc.integer({ min: 0, max: 999_999_999 }), data: fc.uint8Array({ maxLength: 80 }) }), { maxLength: 8 }), fc.boolean(), (recs, ns) => {
        const parts = [serializePcapHeader({ nanoseconds: ns })];
        for (const r of recs) parts.push(serializePcapRecord(BigInt(r.sec) * 1_000_000_000n + BigInt(ns ? r.nsec : r.nsec - (r.nsec % 1000)), r.data, ns));
        const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          buf.set(p, o);
          o += p.length;
        }
        const back = parsePcap(buf);
        expect(back.map((r) => r.data)).toEqual(recs.map((r) => r.data));
        expect(back.map((r) => r.ns)).toEqual(recs.map((r) => BigInt(r.sec) * 1_000_000_000n + BigInt(ns ? r.nsec : r.nsec - (r.nsec % 1000))));
      }),
      { numRuns: 100 },
    );
  });
});
