/**
 * Every ULPDU vdpd sends ends with an End TLV. lldpad copies each ULPDU over the previous one
 * in one buffer and walks TLVs until a type-0 header, not to the ULPDU's length
 * (qbg/vdp22sm.c vdp22_input): without the End TLV, a short ULPDU after a long one is read
 * with the long one's stale VSI TLVs behind it, and lldpad answers them all again. Here
 * both engines' receive paths read through such a buffer, as lldpad's would.
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { testVsi } from './vsis.js';

/** lldpad's VDP input: one buffer, overwritten per ULPDU, read up to the first type-0 TLV header */
function staleBufferReader(receive: (ulpdu: Uint8Array) => void): { read: (ulpdu: Uint8Array) => void; ends: boolean[] } {
  const buf = new Uint8Array(1500);
  const ends: boolean[] = [];
  return {
    ends,
    read(ulpdu: Uint8Array): void {
      buf.set(ulpdu, 0);
      let p = 0;
      while (p + 2 <= buf.length && buf[p]! >> 1 !== 0) p += 2 + (((buf[p]! & 1) << 8) | buf[p + 1]!);
      ends.push(ulpdu.length >= 2 && ulpdu[ulpdu.length - 2] === 0 && ulpdu[ulpdu.length - 1] === 0);
      receive(buf.slice(0, Math.min(p, buf.length)));
    },
  };
}

describe('End TLV after the VSI TLVs', () => {
  it('a long packed ULPDU then short ones: a buffer-walking peer sees only the VSIs sent, both ways', () => {
    const b = new BackToBack().start();
    const atBridge = staleBufferReader(b.bridge.receive.bind(b.bridge));
    b.bridge.receive = atBridge.read;
    const atStation = staleBufferReader(b.station.receive.bind(b.station));
    b.station.receive = atStation.read;
    for (let i = 1; i <= 40; i++) b.station.command('assoc', testVsi(i));
    b.advance(2000);
    // short ULPDUs after the long one: one de-associate, then one new VSI, each on its own
    b.station.command('deassoc', testVsi(1));
    b.advance(500);
    b.station.command('assoc', testVsi(41));
    b.advance(500);
    // exactly what was sent reached the bridge: 40 + 1 + 1 requests, no stale copies
    expect(b.bridge.counters.requests + b.bridge.counters.keepAlives).toBe(b.station.counters.tlvsSent);
    expect(b.bridge.counters.requests).toBe(42);
    expect(b.station.counters.unknownVsi).toBe(0);
    expect(b.station.list().filter((r) => r.state === 'ASSOCIATED')).toHaveLength(40);
    expect(atBridge.ends.length).toBeGreaterThan(2);
    expect(atBridge.ends.every(Boolean)).toBe(true);
    expect(atStation.ends.every(Boolean)).toBe(true);
  });
});
