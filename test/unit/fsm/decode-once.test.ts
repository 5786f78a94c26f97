/**
 * A VDP request is decoded once: the port checks whole frames (VDP included) before ECP
 * sees them, and hands that decode up through ECP to the VDP engine with the ULPDU.
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { tryVdpEntries, vdpEntries } from '../../../pdu/vdp.js';
import type { VdpUlpdu } from '../../../pdu/types.js';
import { testVsi } from './vsis.js';

describe('one decode per received ULPDU', () => {
  it('station and bridge engines get the port\'s decode with every ULPDU, the same entries a decode of the octets gives', () => {
    const b = new BackToBack().start();
    const seen: { side: string; ulpdu: Uint8Array; decoded: VdpUlpdu | undefined }[] = [];
    for (const [side, engine] of [['station', b.station], ['bridge', b.bridge]] as const) {
      const receive = engine.receive.bind(engine);
      engine.receive = (ulpdu: Uint8Array, decoded?: VdpUlpdu) => {
        seen.push({ side, ulpdu: ulpdu.slice(), decoded });
        receive(ulpdu, decoded);
      };
    }
    for (let i = 1; i <= 30; i++) b.station.command('assoc', testVsi(i));
    b.advance(3000);
    expect(b.station.list().filter((v) => v.state === 'ASSOCIATED')).toHaveLength(30);
    expect(seen.filter((s) => s.side === 'station').length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.side === 'bridge').length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.decoded).toBeDefined();
      expect(vdpEntries(s.decoded!)).toEqual(tryVdpEntries(s.ulpdu));
    }
  });
});
