/**
 * A station keeps one Manager ID array per manager, not one per VSI: 10,000 VSIs of one
 * manager share it. The last manager seen is checked first (a burst is one manager's).
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { fromHex } from '../../../pdu/bytes.js';
import { testVsi } from './vsis.js';

const other = fromHex('00112233445566778899aabbccddeeff');

describe('shared Manager IDs', () => {
  it('records of one manager share one array, whichever array each command brought; another manager keeps its own', () => {
    const b = new BackToBack({}).start();
    const r1 = b.station.command('assoc', testVsi(1)).record;
    const r2 = b.station.command('assoc', testVsi(2)).record;
    const r3 = b.station.command('assoc', { ...testVsi(3), managerId: Uint8Array.from(other) }).record;
    const r4 = b.station.command('assoc', { ...testVsi(4), managerId: Uint8Array.from(other) }).record;
    const r5 = b.station.command('assoc', testVsi(5)).record;
    expect(r2.wire.managerId).toBe(r1.wire.managerId);
    expect(r5.wire.managerId).toBe(r1.wire.managerId);
    expect(r4.wire.managerId).toBe(r3.wire.managerId);
    expect(r3.wire.managerId).not.toBe(r1.wire.managerId);
    expect([...r3.wire.managerId]).toEqual([...other]);
    expect([...r1.wire.managerId]).toEqual([...testVsi(1).managerId]);
    b.advance(1000);
    expect(b.station.list().filter((r) => r.state === 'ASSOCIATED')).toHaveLength(5);
  });
});
