import { describe, expect, it } from 'vitest';
import { encodeVdpEntries } from '../../../pdu/vdp.js';
import { encodeFrame } from '../../../pdu/frame.js';
import { uuidToBytes } from '../../../pdu/bytes.js';
import { VDP_STATUS_RESPONSE } from '../../../pdu/types.js';
import { vsiKey } from '../../../fsm/vsi.js';
import { FrameTap } from '../../../src/lab/driver/tap.js';

const ST = '02:00:00:00:00:01';
const BR = '02:00:00:00:00:02';
const DST = '01:80:c2:00:00:00';
const MGR = new Uint8Array(16).fill(0x41);
const VSI = { kind: 'vsi' as const, mode: 'assoc' as const, status: 0, typeId: 7, typeVersion: 1, vsiidFormat: 5, vsiid: uuidToBytes('00000000-0000-4000-8000-000000000001'), filterFormat: 1, filters: [{ ps: false, pcp: 0, vid: 100 }] };
const KEY = vsiKey({ ...VSI, managerId: MGR });

function vdp(src: string, seq: number, response: boolean): Uint8Array {
  const ulpdu = encodeVdpEntries([{ managerId: MGR, vsi: { ...VSI, status: response ? VDP_STATUS_RESPONSE : 0 }, org: [] }]);
  return encodeFrame({ kind: 'ecp22', eth: { dst: DST, src, ethertype: 0x8940 }, ecp: { version: 1, op: 0, subtype: 1, sequence: seq, ulpdu } });
}

function tapAt(clock: { t: number }): FrameTap {
  return new FrameTap({ mac: ST, now: () => clock.t });
}

describe('FrameTap command response times', () => {
  it('a command runs from its first transmission to its first answer; answers to its re-sends do not restart it', () => {
    const clock = { t: 0 };
    const tap = tapAt(clock);
    tap.beginCommand(KEY);
    tap.write(0n, vdp(ST, 1, false)); // t=0 request
    clock.t = 100;
    tap.write(0n, vdp(ST, 2, false)); // re-send before any answer
    clock.t = 150;
    tap.write(0n, vdp(BR, 1, true)); // the bridge's (delayed) answer
    clock.t = 151;
    tap.write(0n, vdp(ST, 3, false)); // sent before the station read the answer
    clock.t = 152;
    tap.write(0n, vdp(BR, 2, true)); // the answer to that re-send
    tap.endCommand(KEY);
    expect(tap.cmdResponseMs).toEqual([150]);
    expect(tap.kaResponseMs).toEqual([]);
  });

  it('the next command for the same VSI is timed afresh; keep-alives between are keep-alives', () => {
    const clock = { t: 0 };
    const tap = tapAt(clock);
    tap.beginCommand(KEY);
    tap.write(0n, vdp(ST, 1, false));
    clock.t = 20;
    tap.write(0n, vdp(BR, 1, true));
    tap.endCommand(KEY);
    clock.t = 1000;
    tap.write(0n, vdp(ST, 2, false)); // keep-alive
    clock.t = 1003;
    tap.write(0n, vdp(BR, 2, true));
    clock.t = 2000;
    tap.beginCommand(KEY);
    tap.write(0n, vdp(ST, 3, false));
    clock.t = 2040;
    tap.write(0n, vdp(BR, 3, true));
    tap.endCommand(KEY);
    expect(tap.cmdResponseMs).toEqual([20, 40]);
    expect(tap.kaResponseMs).toEqual([3]);
    expect(tap.kaRequests).toBe(1);
  });
});
