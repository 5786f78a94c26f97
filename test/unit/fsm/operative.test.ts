/**
 * EVB hands its operative values to ECP and VDP when negotiation completes, not only when
 * they differ from the local config: with both sides configured alike (RKA 16) and nothing
 * else changing (no reflective relay), the engines used to keep the standard's defaults
 * (RKA 20), so the station sent its keep-alives every 10.5 s while the bridge's
 * toutKeepAlive was computed from its defaults too — and against a bridge that had learnt
 * RKA 16 from another change, every VSI was timed out (a CI failure of the lab driver test).
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { evbTimerMs } from '../../../fsm/ulp.js';
import { testVsi } from './vsis.js';

const vsi = testVsi;

describe('operative EVB values reach VDP when the peer agrees with the local config', () => {
  it('RKA 16 on both sides, nothing else negotiated: keep-alives every 655 ms', () => {
    const same = { rka: 16, rwd: 14, rte: 9 };
    const b = new BackToBack({ station: same, bridge: { ...same, rrcap: false } }).start();
    expect(b.stationPort.operative).toMatchObject(same);
    expect(b.stationPort.operative.rr).toBe(false);
    for (let i = 1; i <= 5; i++) b.station.command('assoc', vsi(i));
    b.advance(200);
    const t0 = b.station.counters.keepAlives;
    b.advance(10 * evbTimerMs(16));
    // ten periods: about ten keep-alives per VSI (the first one a period after the response)
    const per = (b.station.counters.keepAlives - t0) / 5;
    expect(per).toBeGreaterThanOrEqual(9);
    expect(per).toBeLessThanOrEqual(11);
    expect(b.station.list().filter((r) => r.state === 'ASSOCIATED' || r.state === 'TXMIT_KA')).toHaveLength(5);
  });

  it('the bridge times a silent station out after toutKeepAlive of the negotiated RKA, not the default', () => {
    const same = { rka: 14, rte: 8 };
    const b = new BackToBack({ station: same, bridge: { ...same, rrcap: false } }).start();
    for (let i = 1; i <= 3; i++) b.station.command('assoc', vsi(i));
    b.advance(100);
    expect(b.bridge.counters.unsolicitedDeassoc).toBe(0);
    b.station.linkDown(); // the station goes silent
    // toutKeepAlive at RKA 14 ≈ 1.5 × (164 ms + 7 × 2.56 ms) ≈ 0.27 s; the default RKA 20 would be 15.7 s
    b.advance(1000);
    expect(b.bridge.counters.unsolicitedDeassoc).toBe(3);
  });
});
