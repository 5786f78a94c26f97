import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../pdu/bytes.js';
import { decodeEvbData, encodeEvbData } from '../../../pdu/evb.js';
import { decodeFrame } from '../../../pdu/frame.js';
import { findEvb } from '../../../pdu/lldp.js';
import { EvbAgent } from '../../../fsm/evb.js';
import { negotiate, operativeOf, type EvbPolicy } from '../../../fsm/evb-rules.js';
import { VirtualTimers } from '../../../fsm/timers.js';
import type { TransitionRecord } from '../../../fsm/transitions.js';
import { captureFrames } from '../../helpers/captures.js';

const station: EvbPolicy = { role: 'station', rrreq: true, rrcap: false, gpid: false, r: 3, rte: 8, rwd: 20, rka: 20 };
const bridge: EvbPolicy = { role: 'bridge', rrreq: false, rrcap: true, gpid: false, r: 3, rte: 8, rwd: 20, rka: 20 };
const octets = (hex: string) => decodeEvbData(fromHex(hex));
const hex = (t: ReturnType<typeof negotiate>) => toHex(encodeEvbData(t));

describe('EVB negotiation', () => {
  it('reproduces lldpad’s negotiation byte for byte (captures/lldpad-evb22-negotiation.pcap)', () => {
    const seen = captureFrames('lldpad-evb22-negotiation.pcap').map((f) => {
      const d = decodeFrame(f);
      if (d.kind !== 'lldp') throw new Error('not LLDP');
      return findEvb(d.lldpdu)!;
    });
    // bridge start: nothing heard yet
    expect(hex(negotiate(bridge, undefined))).toBe('0200685414');
    // station answers the bridge's first TLV
    expect(hex(negotiate(station, seen[0]))).toBe('020468b434');
    // bridge answers the station: RRCTR granted, ROL set on ties
    expect(hex(negotiate(bridge, seen[1]))).toBe('0304687434');
    expect(hex(negotiate(station, seen[2]))).toBe('030568b434');
    expect(hex(negotiate(bridge, seen[3]))).toBe('0305687434');
    // and the steady state stays put
    expect(hex(negotiate(station, seen[4]))).toBe('030568b434');
    // station with nothing heard: RRSTAT 3
    expect(negotiate(station, undefined).rrstat).toBe(3);
  });

  const peerBridge = (o: Partial<EvbPolicy>) => negotiate({ ...bridge, ...o }, undefined);
  const peerStation = (o: Partial<EvbPolicy>) => negotiate({ ...station, ...o }, undefined);

  it('lldpad evb22 tests 1–6: reflective relay combinations', () => {
    // 1 neither wants RR
    expect(negotiate({ ...station, rrreq: false }, peerBridge({ rrcap: false }))).toMatchObject({ rrreq: false, rrctr: false, rrstat: 0 });
    // 2 bridge offers RR, station does not request it
    expect(negotiate(bridge, peerStation({ rrreq: false }))).toMatchObject({ rrcap: true, rrctr: false });
    // 3 station requests RR, bridge cannot
    expect(negotiate(bridge as EvbPolicy & { rrcap: boolean }, peerStation({}))).toMatchObject({ rrctr: true });
    expect(negotiate({ ...bridge, rrcap: false }, peerStation({}))).toMatchObject({ rrcap: false, rrctr: false, rrreq: true });
    // 4 station requests, bridge grants → station reports RRSTAT 1
    const granted = negotiate(bridge, peerStation({}));
    expect(negotiate(station, granted)).toMatchObject({ rrstat: 1, rrctr: true });
    expect(operativeOf(negotiate(station, granted)).rr).toBe(true);
    // 5 bridge withdraws RR
    const withdrawn = negotiate({ ...bridge, rrcap: false }, negotiate(station, granted));
    expect(negotiate(station, withdrawn)).toMatchObject({ rrstat: 0, rrctr: false });
    // 6 station stops requesting
    expect(negotiate(bridge, negotiate({ ...station, rrreq: false }, granted))).toMatchObject({ rrctr: false });
  });

  it('lldpad evb22 tests 7–14: remote exponents and retries higher/lower → max, ROL when the peer’s value wins or ties', () => {
    for (const key of ['rte', 'rka', 'rwd', 'r'] as const) {
      const max = key === 'r' ? 7 : 25;
      const hi = negotiate(station, peerBridge({ [key]: max }));
      const lo = negotiate({ ...station, [key]: max }, peerBridge({ [key]: 1 }));
      expect(hi[key]).toBe(max);
      expect(lo[key]).toBe(max);
      if (key === 'rka') {
        expect(hi.rolRka).toBe(true);
        expect(lo.rolRka).toBe(false);
      }
      if (key === 'rwd') {
        expect(hi.rolRwd).toBe(true);
        expect(lo.rolRwd).toBe(false);
      }
    }
  });

  it('lldpad evb22 tests 20–24: group IDs usable only when both sides offer them', () => {
    const both = negotiate({ ...station, gpid: true }, peerBridge({ gpid: true }));
    expect(operativeOf(both).gpid).toBe(true);
    expect(operativeOf(negotiate(station, peerBridge({ gpid: true }))).gpid).toBe(false); // 20
    expect(operativeOf(negotiate({ ...station, gpid: true }, peerBridge({ gpid: false }))).gpid).toBe(false); // 21
    expect(operativeOf(negotiate({ ...bridge, gpid: true }, negotiate({ ...station, gpid: true }, undefined))).gpid).toBe(true); // 22 bridge side
    expect(operativeOf(negotiate({ ...station, gpid: true }, peerBridge({ gpid: false }))).gpid).toBe(false); // 23 withdrawn
  });

  it('the agent waits for a peer, negotiates, pushes new operative values, and falls back when the peer goes', () => {
    const timers = new VirtualTimers();
    const log: TransitionRecord[] = [];
    const ops: number[] = [];
    const ready: boolean[] = [];
    const a = new EvbAgent({ id: 'eth0', policy: station, timers, onTransition: (r) => log.push(r), onOperative: (o) => ops.push(o.rka), onReady: (r) => ready.push(r) });
    expect(a.state).toBe('EVB_WAIT_PEER');
    expect(a.ready).toBe(false);
    // another station is no peer
    a.receive(peerStation({}));
    expect(a.state).toBe('EVB_WAIT_PEER');
    a.receive(peerBridge({ rka: 22 }));
    expect(a.state).toBe('EVB_NEGOTIATED');
    expect(a.operative).toMatchObject({ rka: 22, r: 3, rte: 8 });
    a.receive(peerBridge({ rka: 24, rte: 14 }));
    expect(a.operative).toMatchObject({ rka: 24, rte: 14 });
    a.peerGone('neighbour-ttl-0');
    expect(a.state).toBe('EVB_WAIT_PEER');
    expect(a.operative).toMatchObject({ rka: 20, rte: 8 });
    a.receive(peerBridge({}));
    a.receive(undefined); // an LLDPDU without the EVB TLV
    expect(a.state).toBe('EVB_WAIT_PEER');
    // pushed on each change and again when negotiation completes with values equal to ours
    expect(ops).toEqual([22, 24, 20, 20]);
    expect(ready).toEqual([true, false, true, false]);
    expect(log.map((r) => `${r.from}->${r.to}:${r.reason}`)).toEqual([
      'EVB_WAIT_PEER->EVB_NEGOTIATED:peer-evb-tlv',
      'EVB_NEGOTIATED->EVB_WAIT_PEER:neighbour-ttl-0',
      'EVB_WAIT_PEER->EVB_NEGOTIATED:peer-evb-tlv',
      'EVB_NEGOTIATED->EVB_WAIT_PEER:peer-stopped-evb',
    ]);
    void octets;
  });
});
