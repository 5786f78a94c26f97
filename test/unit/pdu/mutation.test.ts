/**
 * Robustness: random and mutated frames through the decoders give a value or a PduError,
 * never another exception and never a hang. Frames come from the real captures and from
 * generated valid frames, then get bit flips, truncation, extension and length-field damage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeFrame, summarizeFrame } from '../../../pdu/describe.js';
import { PduError } from '../../../pdu/errors.js';
import { decodeFrame } from '../../../pdu/frame.js';
import { encodeEthernet } from '../../../pdu/ethernet.js';
import { encodeEcp22 } from '../../../pdu/ecp.js';
import { encodeLldpdu } from '../../../pdu/lldp.js';
import { encodeVdpEntries } from '../../../pdu/vdp.js';
import { parsePcap } from '../../../pdu/pcap.js';
import { validateVsi } from '../../../pdu/validate.js';
import { captureFrames } from '../../helpers/captures.js';
import { lldpdu, vdpEntry } from './arbitraries.js';

/** xorshift32: deterministic, so a failure can be reproduced from the seed */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const kind = r() % 6;
  let b = src.slice();
  switch (kind) {
    case 0: {
      const flips = 1 + (r() % 4);
      for (let i = 0; i < flips; i++) b[r() % b.length]! ^= 1 << (r() % 8);
      break;
    }
    case 1:
      b = b.slice(0, r() % (b.length + 1));
      break;
    case 2: {
      const ext = new Uint8Array(b.length + 1 + (r() % 40));
      ext.set(b);
      for (let i = b.length; i < ext.length; i++) ext[i] = r() & 0xff;
      b = ext;
      break;
    }
    case 3: {
      // damage something that looks like a TLV length: the 9 low bits of a random 16-bit word
      const at = 14 + (r() % Math.max(1, b.length - 15));
      if (at + 1 < b.length) {
        b[at] = (b[at]! & 0xfe) | (r() & 1);
        b[at + 1] = r() & 0xff;
      }
      break;
    }
    case 4:
      for (let i = 0; i < b.length; i++) if (r() % 16 === 0) b[i] = r() & 0xff;
      break;
    default: {
      const n = r() % 200;
      b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = r() & 0xff;
      if (n >= 14 && r() % 2) {
        b[12] = r() % 2 ? 0x89 : 0x88;
        b[13] = r() % 2 ? 0x40 : 0xcc;
      }
    }
  }
  return b;
}

describe('mutation: decoders only ever return a value or a PduError', () => {
  it('survives 120,000 mutated and random frames', () => {
    const seeds: Uint8Array[] = [
      ...captureFrames('lldpad-vdp22-assoc-deassoc.pcap'),
      ...captureFrames('lldpad-evb22-negotiation.pcap').slice(0, 4),
      ...captureFrames('lldpad-vdp22-bridge-term-restart.pcap').slice(0, 2),
    ];
    for (const pdu of fc.sample(lldpdu, 20)) seeds.push(encodeEthernet({ dst: '01:80:c2:00:00:00', src: '02:00:00:00:00:01', ethertype: 0x88cc }, encodeLldpdu(pdu)));
    for (const entries of fc.sample(fc.array(vdpEntry, { minLength: 1, maxLength: 6 }), 20)) {
      seeds.push(encodeEthernet({ dst: '01:80:c2:00:00:00', src: '02:00:00:00:00:01', ethertype: 0x8940 }, encodeEcp22({ version: 1, op: 0, subtype: 1, sequence: 7, ulpdu: encodeVdpEntries(entries) })));
    }
    const r = rng(0x5eed);
    let values = 0;
    let errors = 0;
    const codes = new Map<string, number>();
    for (let i = 0; i < 120_000; i++) {
      const frame = mutate(seeds[r() % seeds.length]!, r);
      try {
        const f = decodeFrame(frame);
        describeFrame(f);
        summarizeFrame(f);
        if (f.kind === 'ecp22' && f.vdp) for (const t of f.vdp.tlvs) if (t.kind === 'vsi') validateVsi(t, { groupIds: false });
        values++;
      } catch (e) {
        if (!(e instanceof PduError)) throw new Error(`frame ${Buffer.from(frame).toString('hex')} raised ${String(e)}`);
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(frame.length);
        codes.set(`${e.layer}/${e.code}`, (codes.get(`${e.layer}/${e.code}`) ?? 0) + 1);
        errors++;
      }
    }
    expect(values + errors).toBe(120_000);
    expect(values).toBeGreaterThan(1000);
    expect(errors).toBeGreaterThan(1000);
    // damage is caught by the layer it hits
    for (const k of ['ethernet/truncated', 'lldp/truncated', 'vdp/bad-length', 'ecp/truncated']) expect(codes.get(k) ?? 0, k).toBeGreaterThan(0);
  });

  it('mutated pcap files give records or a PduError', () => {
    const r = rng(42);
    const header = Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
    for (let i = 0; i < 5000; i++) {
      const body = new Uint8Array(r() % 120);
      for (let j = 0; j < body.length; j++) body[j] = r() % 4 === 0 ? r() & 0xff : 0;
      const file = new Uint8Array(header.length + body.length);
      file.set(header);
      file.set(body, header.length);
      if (r() % 3 === 0) file[r() % file.length] = r() & 0xff;
      try {
        parsePcap(file);
      } catch (e) {
        if (!(e instanceof PduError)) throw e;
      }
    }
  });
});
