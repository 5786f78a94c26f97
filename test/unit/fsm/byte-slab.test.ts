import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSlab } from '../../../fsm/byte-slab.js';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { vsiKey, type Outcome } from '../../../fsm/vsi.js';
import { uuidToString } from '../../../pdu/bytes.js';
import { decodeFrame } from '../../../pdu/frame.js';
import { vdpEntries } from '../../../pdu/vdp.js';
import { testVsi } from './vsis.js';

describe('ByteSlab', () => {
  it('copies are equal to their sources, independent of them and of each other, whatever the sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 60 }), fc.integer({ min: 16, max: 1024 }), (inputs, slabBytes) => {
        const slab = new ByteSlab(slabBytes);
        const originals = inputs.map((b) => Uint8Array.from(b));
        const copies = inputs.map((b) => slab.copy(b));
        for (const b of inputs) b.fill(0xee); // the callers reuse their buffers
        copies.forEach((c, i) => expect(Array.from(c)).toEqual(Array.from(originals[i]!)));
        for (const c of copies) {
          if (c.length > slabBytes >> 2) expect(c.byteLength).toBe(c.buffer.byteLength); // a buffer of its own
          else if (c.length > 0) expect(c.buffer.byteLength).toBe(slabBytes);
        }
      }),
    );
  });

  it('packs 16-octet IDs 64 to a 1 KiB slab', () => {
    const slab = new ByteSlab();
    const ids = Array.from({ length: 130 }, (_, i) => slab.copy(new Uint8Array(16).fill(i)));
    expect(new Set(ids.map((v) => v.buffer)).size).toBe(3);
    expect(ids[63]!.buffer).toBe(ids[0]!.buffer);
    expect(ids[64]!.buffer).not.toBe(ids[0]!.buffer);
    ids.forEach((v, i) => expect(v.every((x) => x === i)).toBe(true));
  });
});

describe('the engines keep their own packed copies of the VSIIDs', () => {
  it('a caller reusing its VSIID buffer after a command changes nothing in either engine, on the wire or in the keys', () => {
    const lab = new BackToBack({ keepFrames: true }).start();
    const wires = [1, 2, 3].map(testVsi);
    const ids = wires.map((w) => uuidToString(w.vsiid));
    const keys = wires.map((w) => vsiKey(w));
    for (const w of wires) {
      let out: Outcome | undefined;
      void lab.station.command('assoc', w).outcome.then((o) => (out = o));
      lab.runUntil(() => out !== undefined || lab.station.get(vsiKey(w))?.pendingCmd === false, 60_000);
      expect(lab.station.get(vsiKey(w))?.state).toBe('ASSOCIATED');
    }
    for (const w of wires) w.vsiid.fill(0); // the caller's buffers, reused
    const recs = keys.map((k) => lab.station.get(k)!);
    recs.forEach((r, i) => expect(uuidToString(r.wire.vsiid)).toBe(ids[i]));
    expect(recs[1]!.wire.vsiid.buffer).toBe(recs[0]!.wire.vsiid.buffer); // one slab
    expect(lab.bridge.list().map((v) => v.vsiid).sort()).toEqual([...ids].sort());
    // keep-alives carry the VSIIDs the commands gave
    lab.frames.length = 0;
    lab.advance(12_000);
    const sent = lab.frames.filter((f) => f.from === 'a').flatMap((f) => {
      const d = decodeFrame(f.frame);
      return d.kind === 'ecp22' && d.vdp ? vdpEntries(d.vdp).map((e) => uuidToString(e.vsi.vsiid)) : [];
    });
    expect(new Set(sent)).toEqual(new Set(ids));
  });
});
