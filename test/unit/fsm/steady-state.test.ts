/**
 * An associated VSI's keep-alives leave nothing new behind in its record: the same context
 * object and (while the bridge confirms the same mode and list) the same outcome; its
 * keep-alive deadline is a slot in the engine's DueQueue, not a timer entry of its own. Each of these lives a keep-alive period, long enough to be
 * promoted, so a new one per period was old-generation garbage at 10,000 VSIs.
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { VirtualTimers } from '../../../fsm/timers.js';
import { copyStationContext, stationMachine, type StationContext } from '../../../fsm/vdp-station.js';
import { evbTimerMs } from '../../../fsm/ulp.js';
import { createActor } from 'xstate';
import { testVsi } from './vsis.js';

describe('timer entries armed again', () => {
  it('a fired or cancelled handle is reused; a pending one is not', () => {
    const t = new VirtualTimers();
    const fired: number[] = [];
    const h1 = t.afterCall(10, (n: number) => fired.push(n), 1);
    t.advance(10);
    expect(fired).toEqual([1]);
    const h2 = t.afterCall(5, (n: number) => fired.push(n), 2, h1);
    expect(h2).toBe(h1);
    expect(h2.at).toBe(15);
    const pending = t.afterCall(100, (n: number) => fired.push(n), 3);
    const h3 = t.afterCall(1, (n: number) => fired.push(n), 4, pending);
    expect(h3).not.toBe(pending);
    t.cancel(h2);
    const h4 = t.afterCall(2, (n: number) => fired.push(n), 5, h2);
    expect(h4).toBe(h1);
    t.advance(200);
    expect(fired).toEqual([1, 4, 5, 3]);
    expect(t.pending).toBe(0);
  });
});

describe('keep-alive steady state', () => {
  it('keep-alives keep the record’s context and outcome objects', () => {
    const b = new BackToBack({}).start();
    const rec = b.station.command('assoc', testVsi(7)).record;
    b.runUntil(() => rec.state === 'ASSOCIATED', 5000);
    const ctx = rec.ctx;
    const outcome = rec.lastOutcome;
    expect(outcome?.kind).toBe('success');
    const latency = outcome?.kind === 'success' ? outcome.latencyMs : -1;
    const sent = b.station.counters.keepAlives;
    const ka0 = evbTimerMs(b.stationPort.operative.rka);
    b.advance(5 * ka0 + 100);
    expect(b.station.counters.keepAlives - sent).toBeGreaterThanOrEqual(4);
    expect(rec.state).toBe('ASSOCIATED');
    expect(rec.ctx).toBe(ctx);
    expect(rec.ctx.reason).toBe('keepalive-acknowledged');
    expect(rec.lastOutcome).toBe(outcome);
    // the command's latency, not the time since the command
    expect(outcome?.kind === 'success' ? outcome.latencyMs : -1).toBe(latency);
    expect(latency).toBeLessThan(ka0);
  });

  it('a new command still gets an outcome of its own', () => {
    const b = new BackToBack({}).start();
    const rec = b.station.command('preassoc', testVsi(8)).record;
    b.runUntil(() => rec.state === 'PREASSOCIATED', 5000);
    const first = rec.lastOutcome;
    b.station.command('assoc', testVsi(8));
    b.runUntil(() => rec.state === 'ASSOCIATED', 5000);
    expect(rec.lastOutcome).not.toBe(first);
    expect(rec.lastOutcome).toMatchObject({ kind: 'success', mode: 'assoc' });
  });
});

describe('keep-alive deadlines', () => {
  it('many associated VSIs hold one timer entry for their keep-alives, and each still sends them', () => {
    const b = new BackToBack({}).start();
    const idle = b.timers.pending; // LLDP and ECP timers of the two ports
    const recs = Array.from({ length: 50 }, (_, i) => b.station.command('assoc', testVsi(100 + i)).record);
    b.runUntil(() => recs.every((r) => r.state === 'ASSOCIATED'), 5000);
    b.advance(100); // the last answers' ECP acknowledgements
    // one entry for the keep-alive queue, not one per VSI (the bridge keeps its own per VSI)
    const perVsi = b.timers.pending - idle - 50;
    expect(perVsi).toBeLessThanOrEqual(2);
    const sent = b.station.counters.keepAlives;
    const ka = evbTimerMs(b.stationPort.operative.rka);
    b.advance(3 * ka + 100);
    expect(b.station.counters.keepAlives - sent).toBeGreaterThanOrEqual(3 * 50);
    expect(recs.every((r) => r.state === 'ASSOCIATED')).toBe(true);
  });
});

describe('copyStationContext', () => {
  it('copies every field the machine’s context has', () => {
    const from = createActor(stationMachine, { input: { mode: 'preassoc' } }).getSnapshot().context;
    const keys = Object.keys(from);
    // distinct values in every field, so a field left out shows
    const src = Object.fromEntries(keys.map((k, i) => [k, `v${i}`])) as unknown as StationContext;
    const to = Object.fromEntries(keys.map((k) => [k, 'old'])) as unknown as StationContext;
    copyStationContext(to, src);
    expect(to).toEqual(src);
  });
});
