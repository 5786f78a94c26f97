/**
 * Re-sending against a bridge that answers a packed burst slowly and in order (lldpad's
 * bridge answers one VSI per ECPDU): while answers to older requests keep coming, a copy of
 * a later request would only be answered twice, so the station holds its re-sends; a request
 * the bridge really dropped (it answered later ones) is still re-sent.
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { testVsi } from './vsis.js';
import type { BridgeDecision } from '../../../fsm/vdp-bridge-engine.js';

const vsi = testVsi;

describe('re-sends against a slow bridge', () => {
  it('a bridge answering 200 VSIs in order, one every 5 ms: each request sent once, all associated', () => {
    let n = 0;
    const b = new BackToBack({ policy: (): BridgeDecision => ({ action: 'accept', delayMs: 5 * ++n }) }).start();
    for (let i = 1; i <= 200; i++) b.station.command('assoc', vsi(i));
    b.advance(3000);
    expect(b.station.list().filter((r) => r.state === 'ASSOCIATED')).toHaveLength(200);
    expect(b.station.counters.resends).toBe(0);
    expect(b.station.counters.resendsHeld).toBeGreaterThan(0);
    expect(b.station.counters.requestsSent).toBe(200);
  });

  it('a request waiting in the station\'s own queue is not re-sent: the resend timer starts on the wire', () => {
    // one VSI per ECPDU and 1 ms each way: the last of 200 requests waits ~0.4 s in the
    // queue, many resend intervals; re-queueing a queued request would send nothing new
    const b = new BackToBack({ stationEngine: { maxTlvsPerEcpdu: 1 }, stationToBridge: { delayMs: 1 }, bridgeToStation: { delayMs: 1 } }).start();
    for (let i = 1; i <= 200; i++) b.station.command('assoc', vsi(i));
    b.advance(5000);
    expect(b.station.list().filter((r) => r.state === 'ASSOCIATED')).toHaveLength(200);
    expect(b.station.counters.requestsSent).toBe(200);
    expect(b.station.counters.resends).toBe(0);
  });

  it('a request the bridge dropped while it answered later ones is re-sent', () => {
    // one VSI per ECPDU; the bridge's VDP loses the third ULPDU although its ECP acknowledged
    // it (lldpad's single VDP buffer overwritten by the next ECPDU)
    const b = new BackToBack({ stationEngine: { maxTlvsPerEcpdu: 1 } }).start();
    const receive = b.bridge.receive.bind(b.bridge);
    let n = 0;
    b.bridge.receive = (ulpdu: Uint8Array): void => {
      if (++n !== 3) receive(ulpdu);
    };
    for (let i = 1; i <= 10; i++) b.station.command('assoc', vsi(i));
    b.advance(3000);
    expect(b.station.list().filter((r) => r.state === 'ASSOCIATED')).toHaveLength(10);
    expect(b.station.counters.resends).toBe(1);
  });
});
