/**
 * The scenario catalogue of lldpad's own vdp22 suite (reference §7.5), each run back to
 * back — station engine ↔ bridge engine through PortStacks, frames as bytes through the
 * real codecs — on virtual time.
 */
import { StoredMachine } from '../../../fsm/stored.js';
import { stationMachine, type StationContext } from '../../../fsm/vdp-station.js';
import { describe, expect, it } from 'vitest';
import { fromHex, uuidToBytes } from '../../../pdu/bytes.js';
import { decodeFrame } from '../../../pdu/frame.js';
import { vdpEntries } from '../../../pdu/vdp.js';
import type { FilterEntry, VsiMode, VsiTlv } from '../../../pdu/types.js';
import { BackToBack, type B2BOptions } from '../../../fsm/sim/b2b.js';
import { respWaitDelayMs, toutKeepAliveMs } from '../../../fsm/ulp.js';
import { EVB_DEFAULTS, evbTimerMs } from '../../../fsm/ulp.js';
import { VdpCommandError, type Outcome, type VsiWire } from '../../../fsm/vsi.js';

const KA = evbTimerMs(20); // reinitKeepAlive at RKA 20: 10.486 s

function vsi(i: number, filters: FilterEntry[] = [{ mac: `02:76:64:00:00:${i.toString(16).padStart(2, '0')}`, vid: 100, pcp: 0, ps: false }], extra: Partial<VsiWire> = {}): VsiWire {
  return {
    managerId: fromHex('7664706c616200000000000000000000'),
    typeId: 0x123456,
    typeVersion: 1,
    vsiidFormat: 5,
    vsiid: uuidToBytes(`76647000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`),
    filterFormat: filters[0]?.groupId !== undefined ? (filters[0].mac ? 4 : 3) : filters[0]?.mac ? 2 : 1,
    filters,
    hints: 0,
    ...extra,
  };
}

class Lab extends BackToBack {
  constructor(o: B2BOptions = {}) {
    super({ keepFrames: true, ...o });
    this.start();
  }

  /** run a command to its outcome (virtual time) */
  run(mode: VsiMode, w: VsiWire): Outcome {
    const { outcome } = this.station.command(mode, w);
    let out: Outcome | undefined;
    void outcome.then((o) => (out = o));
    this.runUntil(() => {
      // settle the promise chain between timer steps
      return out !== undefined || this.station.get(vsiKeyOf(w))?.pendingCmd === false;
    }, 120_000);
    return this.station.get(vsiKeyOf(w))?.lastOutcome ?? out!;
  }

  stateOf(w: VsiWire): string | undefined {
    return this.station.get(vsiKeyOf(w))?.state;
  }

  bridgeStateOf(w: VsiWire): string | undefined {
    return this.bridge.list().find((v) => v.vsiid === uuidOf(w))?.state;
  }

  /** VSI TLVs the bridge sent, in order */
  bridgeTlvs(): VsiTlv[] {
    const out: VsiTlv[] = [];
    for (const f of this.frames) {
      if (f.from !== 'b') continue;
      const d = decodeFrame(f.frame);
      if (d.kind === 'ecp22' && d.vdp) for (const e of vdpEntries(d.vdp)) out.push(e.vsi);
    }
    return out;
  }

  stationTlvs(): VsiTlv[] {
    const out: VsiTlv[] = [];
    for (const f of this.frames) {
      if (f.from !== 'a') continue;
      const d = decodeFrame(f.frame);
      if (d.kind === 'ecp22' && d.vdp) for (const e of vdpEntries(d.vdp)) out.push(e.vsi);
    }
    return out;
  }
}

import { vsiKey } from '../../../fsm/vsi.js';
import { uuidToString } from '../../../pdu/bytes.js';
const vsiKeyOf = (w: VsiWire) => vsiKey(w);
const uuidOf = (w: VsiWire) => uuidToString(w.vsiid);

function refused(fn: () => unknown): VdpCommandError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VdpCommandError);
    return e as VdpCommandError;
  }
  throw new Error('command was accepted');
}

describe('VDP scenario catalogue (lldpad vdp22 tests), station ↔ bridge back to back', () => {
  it('103: associate then de-associate; the transitions say why', () => {
    const lab = new Lab();
    const v = vsi(1);
    expect(lab.run('assoc', v)).toMatchObject({ kind: 'success', mode: 'assoc' });
    expect(lab.stateOf(v)).toBe('ASSOCIATED');
    expect(lab.bridgeStateOf(v)).toBe('BR_WAITCMD');
    expect(lab.run('deassoc', v)).toMatchObject({ kind: 'success', mode: 'deassoc' });
    expect(lab.stateOf(v)).toBe('END');
    expect(lab.bridgeStateOf(v)).toBeUndefined();
    const st = lab.transitions.filter((t) => t.machine === 'vdp-station').map((t) => `${t.from}->${t.to}:${t.reason}`);
    expect(st).toEqual(['INIT->STATION_PROC:command-assoc', 'STATION_PROC->ASSOCIATED:bridge-response-success', 'ASSOCIATED->STATION_PROC:command-deassoc', 'STATION_PROC->END:bridge-response-success']);
    // exactly one request and one response per command on the wire
    expect(lab.stationTlvs().map((t) => `${t.mode}/${t.status}`)).toEqual(['assoc/0', 'deassoc/0']);
    expect(lab.bridgeTlvs().map((t) => `${t.mode}/${t.status}`)).toEqual(['assoc/64', 'deassoc/64']);
  });

  it('104: two VSIs', () => {
    const lab = new Lab();
    const a = vsi(1);
    const b = vsi(2);
    lab.station.command('assoc', a);
    lab.station.command('assoc', b);
    lab.advance(50);
    expect([lab.stateOf(a), lab.stateOf(b)]).toEqual(['ASSOCIATED', 'ASSOCIATED']);
    // both requests went in one ECPDU (packing)
    expect(lab.stationPort.ecp.counters.txReq).toBe(1);
    expect(lab.bridge.active).toBe(2);
    lab.run('deassoc', a);
    lab.run('deassoc', b);
    expect(lab.bridge.size).toBe(0);
  });

  it('105/106/107: pre-associate and pre-associate-RR, then de-associate', () => {
    const lab = new Lab();
    const a = vsi(1);
    const b = vsi(2);
    expect(lab.run('preassoc', a)).toMatchObject({ kind: 'success', mode: 'preassoc' });
    expect(lab.run('preassoc-rr', b)).toMatchObject({ kind: 'success', mode: 'preassoc-rr' });
    expect([lab.stateOf(a), lab.stateOf(b)]).toEqual(['PREASSOCIATED', 'PREASSOCIATED']);
    expect(lab.run('deassoc', a).kind).toBe('success');
    expect(lab.run('deassoc', b).kind).toBe('success');
  });

  it('108: associate → pre-associate is refused (EINVAL), nothing sent', () => {
    const lab = new Lab();
    const v = vsi(1);
    lab.run('assoc', v);
    const sent = lab.stationTlvs().length;
    expect(refused(() => lab.station.command('preassoc', v)).code).toBe('EINVAL');
    lab.advance(100);
    expect(lab.stationTlvs().length).toBe(sent);
    expect(lab.stateOf(v)).toBe('ASSOCIATED');
  });

  it('110: pre-associate → pre-associate-RR → associate → de-associate', () => {
    const lab = new Lab();
    const v = vsi(1);
    expect(['preassoc', 'preassoc-rr', 'assoc', 'deassoc'].map((m) => lab.run(m as VsiMode, v).kind)).toEqual(['success', 'success', 'success', 'success']);
    expect(lab.bridgeTlvs().map((t) => t.mode)).toEqual(['preassoc', 'preassoc-rr', 'assoc', 'deassoc']);
  });

  it('111/112/113: the same command twice is accepted and re-sent', () => {
    const lab = new Lab();
    const v = vsi(1);
    for (const m of ['preassoc', 'preassoc', 'assoc', 'assoc'] as VsiMode[]) expect(lab.run(m, v).kind).toBe('success');
    expect(lab.stationTlvs().map((t) => t.mode)).toEqual(['preassoc', 'preassoc', 'assoc', 'assoc']);
  });

  it('114: de-associate of an unknown VSI is refused; a second command while one is pending is busy', () => {
    const lab = new Lab();
    expect(refused(() => lab.station.command('deassoc', vsi(9))).code).toBe('EINVAL');
    const v = vsi(1);
    lab.station.command('assoc', v);
    expect(refused(() => lab.station.command('assoc', v)).code).toBe('EBUSY');
    // but a de-associate supersedes a pending command
    lab.station.command('deassoc', v);
    lab.advance(50);
    expect(lab.stateOf(v)).toBe('END');
  });

  it('115/118: the bridge answers error 2 (insufficient resources) to assoc and to pre-assoc', () => {
    const lab = new Lab({ policy: (r) => (r.entry.vsi.typeId === 201 ? { action: 'reject', reason: 2 } : { action: 'accept' }) });
    const v = vsi(1, undefined, { typeId: 201 });
    expect(lab.run('assoc', v)).toMatchObject({ kind: 'bridge-error', reason: 2, keep: false, hard: false });
    expect(lab.stateOf(v)).toBe('END');
    const p = vsi(2, undefined, { typeId: 201 });
    expect(lab.run('preassoc', p)).toMatchObject({ kind: 'bridge-error', reason: 2 });
    // answered with the request's own TLV type (not lldpad's DeAssoc)
    expect(lab.bridgeTlvs().map((t) => `${t.mode}/0x${t.status.toString(16)}`)).toEqual(['assoc/0x42', 'preassoc/0x42']);
  });

  it('116/119: an error on the first keep-alive ends the VSI and tells the requester', () => {
    let calls = 0;
    const lab = new Lab({ policy: () => (++calls === 2 ? { action: 'reject', reason: 2 } : { action: 'accept' }) });
    const ended: string[] = [];
    const v = vsi(1);
    lab.station['o'].onEnded = (r, why) => ended.push(`${uuidOf(r.wire)}:${why}`);
    expect(lab.run('assoc', v).kind).toBe('success');
    // the keep-alive is a new decision only when it differs; force the bridge to re-decide
    lab.bridge.setPolicy(() => ({ action: 'reject', reason: 2 }));
    lab.bridge.deassociate(vsiKeyOf(v), 'test-reset');
    lab.advance(50);
    expect(lab.stateOf(v)).toBe('END');
    expect(ended).toEqual([`${uuidOf(v)}:unsolicited-deassoc`]);
    // and the first-keep-alive error proper: a bridge that rejects the keep-alive's re-processing
    const lab2 = new Lab({ policy: (r) => (r.activeVsis === 0 && calls++ >= 0 ? { action: 'accept' } : { action: 'accept' }) });
    const w = vsi(2);
    lab2.run('assoc', w);
    lab2.bridge.clear(); // the bridge forgot the VSI (restart): the keep-alive is a new request
    lab2.bridge.setPolicy(() => ({ action: 'reject', reason: 4 }));
    const ended2: string[] = [];
    lab2.station['o'].onEnded = (_r, why) => ended2.push(why);
    lab2.advance(KA + 100);
    expect(lab2.stateOf(w)).toBe('END');
    expect(ended2).toEqual(['keepalive-error(code=4)']);
  });

  it('a bridge De-Associate that crosses a request the bridge has not yet received is stale: the request decides', () => {
    // the station's frames take 50 ms to the bridge, the bridge's 0.05 ms to the station
    const lab = new Lab({ stationToBridge: { delayMs: 50 } });
    const v = vsi(1);
    expect(lab.run('assoc', v).kind).toBe('success');
    // the station re-associates (changed hints, a restored VSI after a restart, …) and,
    // before that request reaches it, the bridge de-associates the VSI on its own
    lab.station.command('assoc', v);
    lab.advance(1);
    lab.bridge.deassociate(vsiKeyOf(v), 'test-timeout');
    const rec = (): ReturnType<typeof lab.station.get> => lab.station.get(vsiKeyOf(v));
    lab.runUntil(() => rec()?.pendingCmd === false, 10_000);
    // the bridge took the request as a new association: both ends hold the VSI
    expect(rec()?.lastOutcome?.kind).toBe('success');
    expect(lab.stateOf(v)).toBe('ASSOCIATED');
    expect(lab.bridgeStateOf(v)).toBe('BR_WAITCMD');
    expect(lab.station.counters.staleDeassocIgnored).toBe(1);
    // a De-Associate after the bridge has the request (its resource wait ran out, say) still ends it: scenario 123
  });

  it('117/120: the bridge de-associates on its own (after 35 s); the station ends the VSI and notifies', () => {
    const lab = new Lab({ policy: (r) => (r.entry.vsi.typeId === 200 ? { action: 'accept', deassocAfterMs: 35_000 } : { action: 'accept' }) });
    const ended: string[] = [];
    lab.station['o'].onEnded = (_r, why) => ended.push(why);
    const a = vsi(1, undefined, { typeId: 200 });
    const p = vsi(2, undefined, { typeId: 200 });
    lab.run('assoc', a);
    lab.run('preassoc', p);
    lab.advance(34_000);
    expect(lab.stateOf(a)).not.toBe('END');
    lab.advance(2_000);
    expect([lab.stateOf(a), lab.stateOf(p)]).toEqual(['END', 'END']);
    expect(ended).toEqual(['unsolicited-deassoc', 'unsolicited-deassoc']);
    // the unsolicited DeAssoc is a DeAssoc TLV without the response bit
    expect(lab.bridgeTlvs().filter((t) => t.mode === 'deassoc').map((t) => t.status)).toEqual([0, 0]);
  });

  it('121: KEEP on a keep-alive: the station de-associates, then ends and notifies', () => {
    const lab = new Lab();
    const v = vsi(1);
    lab.run('assoc', v);
    lab.bridge.clear();
    lab.bridge.setPolicy(() => ({ action: 'keep', reason: 3 }));
    const ended: string[] = [];
    lab.station['o'].onEnded = (_r, why) => ended.push(why);
    lab.advance(KA + 100);
    expect(lab.stateOf(v)).toBe('END');
    expect(lab.stationTlvs().map((t) => t.mode)).toEqual(['assoc', 'assoc', 'deassoc']);
    expect(ended).toEqual(['deassoc-acknowledged']);
  });

  it('KEEP on a command: previous state kept, and keep-alives carry the confirmed mode (lldpad kept the refused one)', () => {
    const lab = new Lab();
    const v = vsi(1);
    lab.run('preassoc', v);
    lab.bridge.setPolicy(() => ({ action: 'keep', reason: 3 }));
    expect(lab.run('assoc', v)).toMatchObject({ kind: 'bridge-error', reason: 3, keep: true });
    expect(lab.stateOf(v)).toBe('PREASSOCIATED');
    lab.bridge.setPolicy(() => ({ action: 'accept' }));
    lab.advance(KA + 100);
    expect(lab.stationTlvs().map((t) => t.mode)).toEqual(['preassoc', 'assoc', 'preassoc']);
    expect(lab.stateOf(v)).toBe('PREASSOCIATED');
  });

  it('a DeAssoc asked for while a keep-alive is in flight: the keep-alive\'s answer is not taken for the DeAssoc\'s', () => {
    const m = new StoredMachine<typeof stationMachine, StationContext>(stationMachine);
    const ctx = { mode: 'deassoc' as const, confirmed: 'assoc' as const, status: 0x40, reason: 'command-deassoc' };
    // the answer to the earlier keep-alive (Assoc, success) arrives first: ignored, still waiting, nothing done
    const stale = m.step('STATION_PROC', ctx, { type: 'RESPONSE', mode: 'assoc', status: 0x40, filtersOk: true });
    expect(stale.value).toBe('STATION_PROC');
    expect(stale.actions).toEqual([]);
    expect(stale.context.reason).toBe('stale-response(assoc)-ignored');
    // then the DeAssoc's own answer ends the VSI
    const done = m.step('STATION_PROC', stale.context, { type: 'RESPONSE', mode: 'deassoc', status: 0x40, filtersOk: true });
    expect(done.value).toBe('END');
    expect(done.actions).toContain('outcomeSuccess');
    // an error answer in another mode (a KEEP naming the kept mode) still answers the command
    const keep = m.step('STATION_PROC', { ...ctx, mode: 'assoc', confirmed: 'preassoc' }, { type: 'RESPONSE', mode: 'preassoc', status: 0x40 | 0x20 | 3, filtersOk: true });
    expect(keep.actions).toContain('outcomeError');
  });

  it('122: hard error (0x12) ends the VSI', () => {
    const lab = new Lab({ policy: () => ({ action: 'reject', reason: 2, hard: true }) });
    const v = vsi(1);
    expect(lab.run('preassoc', v)).toMatchObject({ kind: 'bridge-error', reason: 2, hard: true, status: 0x52 });
    expect(lab.station.get(vsiKeyOf(v))!.ctx.status & 0x3f).toBe(0x12);
  });

  it('123: resource wait: no decision within resourceWaitDelay → unsolicited de-associate', () => {
    const lab = new Lab({ policy: () => ({ action: 'ignore' }) });
    const v = vsi(1);
    const out = lab.run('assoc', v);
    expect(out.kind).toBe('deassoc-by-bridge');
    expect(lab.timers.now()).toBeGreaterThan(evbTimerMs(20));
    expect(lab.bridgeTlvs().map((t) => `${t.mode}/${t.status}`)).toEqual(['deassoc/0']);
  });

  it('station timeout: the bridge acks by ECP but never answers → timeout after respWaitDelay, record reaped later', () => {
    const lab = new Lab();
    // the bridge's ECP acknowledges, its VDP never sees the request (lldpad's lost-TLV defect)
    lab.bridge.receive = () => {};
    const v = vsi(1);
    const t0 = lab.timers.now();
    expect(lab.run('assoc', v).kind).toBe('timeout');
    const waited = lab.timers.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(respWaitDelayMs(EVB_DEFAULTS) - 1);
    // the request was re-sent while waiting (recovery of a lost answer)
    expect(lab.station.counters.resends).toBeGreaterThan(0);
    lab.advance(61_000);
    expect(lab.station.get(vsiKeyOf(v))).toBeUndefined();
  });

  it('no bridge at all: no-bridge outcome', () => {
    const lab = new Lab();
    lab.link.up = false;
    const v = vsi(1);
    expect(lab.run('assoc', v).kind).toBe('no-bridge');
  });

  it('124: keep-alive timeout on the bridge (station silent) → unsolicited de-associate after toutKeepAlive', () => {
    const lab = new Lab();
    const v = vsi(1);
    lab.run('assoc', v);
    const t0 = lab.timers.now();
    lab.link.setImpairment('a', { lossPercent: 100 });
    lab.runUntil(() => lab.bridge.size === 0, 60_000);
    expect(lab.timers.now() - t0).toBeCloseTo(toutKeepAliveMs(EVB_DEFAULTS), 0);
    expect(lab.bridge.counters.keepAliveTimeouts).toBe(1);
  });

  it('202/203: VID 0 answered by the bridge; de-associate carries the assigned VID (format 2)', () => {
    const lab = new Lab({ policy: () => ({ action: 'accept', assignVid: 205 }) });
    const v = vsi(1, [{ mac: '02:76:64:00:00:01', vid: 0, pcp: 0, ps: false }]);
    const out = lab.run('assoc', v);
    expect(out).toMatchObject({ kind: 'success', filters: [{ vid: 205 }] });
    lab.advance(KA + 100);
    // keep-alive and de-associate use the bridge's VID
    expect(lab.run('deassoc', v).kind).toBe('success');
    expect(lab.stationTlvs().map((t) => t.filters[0]!.vid)).toEqual([0, 205, 205]);
  });

  it('VID 0 replacement with filter formats 1 and 4, and the wrong filter on de-associate', () => {
    const lab = new Lab({ station: { gpid: true }, bridge: { gpid: true }, policy: () => ({ action: 'accept', assignVid: 300 }) });
    const f1 = vsi(1, [{ vid: 0, pcp: 0, ps: false }]);
    expect(lab.run('assoc', f1)).toMatchObject({ kind: 'success', filters: [{ vid: 300 }] });
    const f4 = vsi(2, [{ groupId: 7, mac: '02:76:64:00:00:02', vid: 0, pcp: 0, ps: false }]);
    expect(lab.run('assoc', f4)).toMatchObject({ kind: 'success', filters: [{ vid: 300, groupId: 7 }] });
    // de-associate with a different MAC than the VSI has: refused locally (the filter list is part of the VSI)
    expect(refused(() => lab.station.command('deassoc', { ...f4, filters: [{ groupId: 7, mac: '02:76:64:00:00:99', vid: 0, pcp: 0, ps: false }] })).code).toBe('EINVAL');
    expect(lab.run('deassoc', f4).kind).toBe('success');
  });

  it('a bridge that changes a requested non-zero VID, or a PS=1 field, is a filter mismatch (reason 5)', () => {
    const lab = new Lab({ policy: () => ({ action: 'accept', assignVid: 999, pcp: 6 }) });
    // PS=1: the whole PS/PCP/VID field is the station's; the emulator leaves it alone
    const v = vsi(1, [{ mac: '02:76:64:00:00:01', vid: 0, pcp: 2, ps: true }]);
    expect(lab.run('assoc', v)).toMatchObject({ kind: 'success', filters: [{ vid: 0, pcp: 2, ps: true }] });
    const u = vsi(3, [{ mac: '02:76:64:00:00:03', vid: 0, pcp: 2, ps: false }]);
    expect(lab.run('assoc', u)).toMatchObject({ kind: 'success', filters: [{ vid: 999, pcp: 6, ps: false }] });
    // the bridge emulator itself keeps PS=1 values; a rogue bridge answer is checked by the station:
    const lab2 = new Lab({ policy: () => ({ action: 'accept' }) });
    const w = vsi(2, [{ mac: '02:76:64:00:00:02', vid: 10, pcp: 0, ps: false }]);
    lab2.station.command('assoc', w);
    // answer by hand with VID 11 instead of 10
    const rec = lab2.station.get(vsiKeyOf(w))!;
    lab2.station['receiveEntry']({ managerId: w.managerId, vsi: { kind: 'vsi', mode: 'assoc', status: 0x40, typeId: w.typeId, typeVersion: w.typeVersion, vsiidFormat: 5, vsiid: w.vsiid, filterFormat: 2, filters: [{ mac: '02:76:64:00:00:02', vid: 11, pcp: 0, ps: false }] }, org: [] });
    expect(rec.lastOutcome).toMatchObject({ kind: 'bridge-error', reason: 5 });
    expect(rec.state).toBe('END');
  });

  it('204/205: QoS (PCP) replacement kept through keep-alive and de-associate', () => {
    const lab = new Lab({ policy: () => ({ action: 'accept', pcp: 5 }) });
    const v = vsi(1, [{ mac: '02:76:64:00:00:01', vid: 2, pcp: 0, ps: false }]);
    expect(lab.run('assoc', v)).toMatchObject({ kind: 'success', filters: [{ vid: 2, pcp: 5, ps: false }] });
    lab.run('deassoc', v);
    expect(lab.stationTlvs().map((t) => t.filters[0]!.pcp)).toEqual([0, 5]);
  });

  it('211: several VIDs in one VSI, only the VID-0 entry replaced', () => {
    const lab = new Lab({ policy: () => ({ action: 'accept', assignVid: 77 }) });
    const v = vsi(1, [3, 0, 5, 6, 7, 8].map((vid) => ({ vid, pcp: 0, ps: false })).slice(1, 2).concat([5, 6, 7, 8].map((vid) => ({ vid, pcp: 0, ps: false }))));
    // VID 0 may only be the single VID-only entry: refused locally
    expect(refused(() => lab.station.command('assoc', v)).code).toBe('EINVAL');
    const ok = vsi(2, [2, 3, 4, 5, 6, 7].map((vid) => ({ vid, pcp: 0, ps: false })));
    expect(lab.run('assoc', ok)).toMatchObject({ kind: 'success' });
    expect(lab.bridge.list()[0]!.filters.map((f) => f.vid)).toEqual([2, 3, 4, 5, 6, 7]);
    const macs = vsi(3, [0, 0, 9].map((vid, i) => ({ mac: `02:00:00:00:01:0${i}`, vid, pcp: 0, ps: false })));
    expect(lab.run('assoc', macs)).toMatchObject({ kind: 'success', filters: [{ vid: 77 }, { vid: 77 }, { vid: 9 }] });
  });

  it('201/220–225: group IDs need negotiation; with it, formats 3 and 4 work', () => {
    const noGid = new Lab();
    expect(refused(() => noGid.station.command('assoc', vsi(1, [{ groupId: 5, vid: 3, pcp: 0, ps: false }]))).code).toBe('EINVAL');
    const lab = new Lab({ station: { gpid: true }, bridge: { gpid: true } });
    expect(lab.stationPort.operative.gpid).toBe(true);
    expect(lab.run('assoc', vsi(1, [{ groupId: 5, vid: 3, pcp: 0, ps: false }])).kind).toBe('success');
    expect(lab.run('assoc', vsi(2, [1, 2, 3].map((g) => ({ groupId: g, mac: `02:00:00:00:00:0${g}`, vid: 10 + g, pcp: 0, ps: false })))).kind).toBe('success');
  });

  it('240/241: migration hints M and S are carried in the request status', () => {
    const lab = new Lab();
    lab.run('preassoc', vsi(1, undefined, { hints: 0x10 }));
    lab.run('assoc', vsi(2, undefined, { hints: 0x20 }));
    expect(lab.stationTlvs().map((t) => t.status)).toEqual([0x10, 0x20]);
  });

  it('insufficient resources when the bridge is full', () => {
    const lab = new Lab({ maxVsis: 2 });
    expect([1, 2, 3].map((i) => lab.run('assoc', vsi(i)).kind)).toEqual(['success', 'success', 'bridge-error']);
    expect(lab.station.get(vsiKeyOf(vsi(3)))!.lastOutcome).toMatchObject({ reason: 2 });
  });

  it('malformed request (all-zero UUID) is answered with its own TLV type and reason 1', () => {
    const lab = new Lab();
    lab.bridge.receive(
      (() => {
        const w = vsi(1, undefined, { vsiid: new Uint8Array(16) });
        return encodeEntries(w);
      })(),
    );
    lab.advance(10);
    expect(lab.bridgeTlvs().map((t) => `${t.mode}/0x${t.status.toString(16)}`)).toEqual(['assoc/0x41']);
  });

  it('responses for VSIs never requested are ignored and counted', () => {
    const lab = new Lab();
    lab.station.receive(encodeEntries(vsi(5), 0x40));
    expect(lab.station.counters.unknownVsi).toBe(1);
  });

  it('link down and up: VSIs survive and re-associate; a request pending at link-down completes after', () => {
    const lab = new Lab();
    const a = vsi(1);
    lab.run('assoc', a);
    const b = vsi(2);
    lab.stationPort.linkDown();
    lab.station.linkDown();
    lab.station.command('assoc', b);
    lab.advance(30_000);
    expect(lab.stateOf(b)).toBe('STATION_PROC');
    lab.bridge.clear(); // the bridge lost everything meanwhile
    lab.stationPort.linkUp();
    lab.station.linkUpAgain();
    lab.advance(200);
    expect([lab.stateOf(a), lab.stateOf(b)]).toEqual(['ASSOCIATED', 'ASSOCIATED']);
    expect(lab.bridge.active).toBe(2);
  });
});

describe('under loss the engines still converge', () => {
  it('30 % loss each way: 200 VSIs all associate, and all survive ten keep-alive periods', () => {
    const lab = new Lab({ seed: 7, stationToBridge: { lossPercent: 30 }, bridgeToStation: { lossPercent: 30 } });
    const ws = Array.from({ length: 200 }, (_, i) => vsi(i + 1));
    const outs: Outcome[] = [];
    for (const w of ws) void lab.station.command('assoc', w).outcome.then((o) => outs.push(o));
    lab.runUntil(() => [...lab.station.records()].every((r) => !r.pendingCmd), 60_000);
    expect(ws.map((w) => lab.stateOf(w)).filter((s) => s !== 'ASSOCIATED' && s !== 'TXMIT_KA')).toEqual([]);
    lab.advance(10 * KA);
    expect(ws.map((w) => lab.stateOf(w)).filter((s) => s !== 'ASSOCIATED' && s !== 'TXMIT_KA')).toEqual([]);
    expect(lab.bridge.active).toBe(200);
    expect(lab.bridge.counters.keepAliveTimeouts).toBe(0);
    expect(lab.stationPort.ecp.counters.txRetransmit).toBeGreaterThan(0);
  });
});

import { encodeVdpEntries } from '../../../pdu/vdp.js';
function encodeEntries(w: VsiWire, status = 0): Uint8Array {
  return encodeVdpEntries([{ managerId: w.managerId, vsi: { kind: 'vsi', mode: 'assoc', status, typeId: w.typeId, typeVersion: w.typeVersion, vsiidFormat: w.vsiidFormat, vsiid: w.vsiid, filterFormat: w.filterFormat, filters: w.filters }, org: [] }]);
}
