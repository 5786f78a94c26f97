/**
 * The conformance catalogue. Each scenario uses VSIs of its own (lab numbering from
 * 0xC00000 up), drives the real station engine against the bridge, judges what came back
 * and lists the frames involved. A scenario never throws: a surprise is a failure with
 * its reason.
 */
import { reasonText } from '../../../pdu/describe.js';
import { toHex } from '../../../pdu/bytes.js';
import { VDP_HINT_M, VDP_HINT_S, VDP_STATUS_RESPONSE, type VsiMode } from '../../../pdu/types.js';
import { evbTimerMs } from '../../../fsm/ulp.js';
import { respWaitDelayMs } from '../../../fsm/ulp.js';
import { vsiKey } from '../../../fsm/vsi.js';
import { vsiSpecToWire, type VsiSpec } from '../../api/vsi-spec.js';
import { labVsi } from '../vsis.js';
import type { CmdResult, LabStation } from './station.js';
import type { VsiSeen } from './tap.js';
import type { ScenarioName, ScenarioReport, ScenarioResult, ScenarioStep } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SCENARIO_VSI_BASE = 0xc00000;

export function describeResult(r: CmdResult): string {
  switch (r.kind) {
    case 'refused':
      return `refused locally (${r.code}): ${r.message}`;
    case 'success':
      return 'success';
    case 'bridge-error': {
      const o = r.outcome;
      return o.kind === 'bridge-error' ? `bridge error ${o.reason} (${reasonText(o.reason)})${o.keep ? ' keep' : ''}${o.hard ? ' hard' : ''}` : 'bridge error';
    }
    case 'timeout':
      return 'no VDP response within respWaitDelay (ECP delivered)';
    case 'no-bridge':
      return 'no bridge (ECP unacknowledged or EVB lost)';
    case 'deassoc-by-bridge':
      return 'de-associated by the bridge';
    case 'superseded':
      return 'superseded';
  }
}

class Failure extends Error {}

interface Ctx {
  st: LabStation;
  steps: ScenarioStep[];
  vsiids: Set<string>;
  informational: boolean;
  /** VSIs to de-associate if the scenario stops half-way */
  live: Map<string, VsiSpec>;
}

function vsi(scenario: number, k: number, extra: Partial<VsiSpec> = {}): VsiSpec {
  return labVsi(SCENARIO_VSI_BASE + scenario * 0x100 + k, extra);
}

async function run(c: Ctx, mode: VsiMode, spec: VsiSpec, label: string = mode): Promise<CmdResult> {
  c.vsiids.add(toHex(vsiSpecToWire(spec).vsiid));
  const r = await c.st.command(mode, spec);
  c.steps.push({ command: `${label} ${spec.vsiid}`, outcome: describeResult(r), latencyMs: r.latencyMs === null ? null : Math.round(r.latencyMs * 1000) / 1000 });
  if (r.kind === 'success') {
    if (mode === 'deassoc') c.live.delete(spec.vsiid);
    else c.live.set(spec.vsiid, spec);
  } else if (r.record?.state === 'END') c.live.delete(spec.vsiid);
  return r;
}

async function must(c: Ctx, mode: VsiMode, spec: VsiSpec, label: string = mode): Promise<CmdResult & { kind: 'success' }> {
  const r = await run(c, mode, spec, label);
  if (r.kind !== 'success') throw new Failure(`${label}: ${describeResult(r)}`);
  return r as CmdResult & { kind: 'success' };
}

/** Wait for the bridge's response to a hand-made request (by VSI key), up to `ms`. */
function responseTo(st: LabStation, key: string, ms: number): { promise: Promise<VsiSeen | undefined>; cancel: () => void } {
  let off: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<VsiSeen | undefined>((resolve) => {
    off = st.tap.onVsi((s) => {
      if (s.response && s.frame.dir === 'rx' && s.key === key) {
        off();
        clearTimeout(timer);
        resolve(s);
      }
    });
    timer = setTimeout(() => {
      off();
      resolve(undefined);
    }, ms);
  });
  return { promise, cancel: () => { off(); clearTimeout(timer); } };
}

type Body = (c: Ctx, idx: number) => Promise<{ result: ScenarioResult; reason: string }>;

const BODIES: Record<ScenarioName, Body> = {
  'assoc-deassoc': async (c, idx) => {
    const v = vsi(idx, 1);
    const a = await must(c, 'assoc', v);
    const d = await must(c, 'deassoc', v);
    return { result: 'pass', reason: `Assoc answered with success in ${a.latencyMs.toFixed(1)} ms, DeAssoc in ${d.latencyMs.toFixed(1)} ms` };
  },

  'preassoc-chain': async (c, idx) => {
    const v = vsi(idx, 1);
    const times: string[] = [];
    for (const mode of ['preassoc', 'preassoc-rr', 'assoc'] as const) {
      const r = await must(c, mode, v);
      const confirmed = r.record.ctx.confirmed;
      if (confirmed !== mode) throw new Failure(`${mode}: success but the VSI is confirmed as ${confirmed ?? 'nothing'}`);
      times.push(`${mode} ${r.latencyMs.toFixed(1)} ms`);
    }
    const d = await must(c, 'deassoc', v);
    times.push(`deassoc ${d.latencyMs.toFixed(1)} ms`);
    return { result: 'pass', reason: `every step answered with success: ${times.join(', ')}` };
  },

  'repeated-assoc': async (c, idx) => {
    const v = vsi(idx, 1);
    const first = await must(c, 'assoc', v);
    const filters = JSON.stringify(first.outcome.kind === 'success' ? first.outcome.filters : []);
    for (let i = 2; i <= 3; i++) {
      const r = await must(c, 'assoc', v, `assoc #${i}`);
      const again = JSON.stringify(r.outcome.kind === 'success' ? r.outcome.filters : []);
      if (again !== filters) throw new Failure(`assoc #${i}: the bridge returned other filters (${again}) than the first time (${filters})`);
      if (r.record.state !== 'ASSOCIATED') throw new Failure(`assoc #${i}: VSI in ${r.record.state}, not ASSOCIATED`);
    }
    await must(c, 'deassoc', v);
    return { result: 'pass', reason: 'three Assoc of the same VSI all answered with success, same filters, VSI stayed associated' };
  },

  'vlan0-replacement': async (c, idx) => {
    const base = vsi(idx, 1);
    const v = { ...base, filters: [{ vid: 0, mac: base.filters[0]!.mac! }] };
    const r = await must(c, 'assoc', v, 'assoc vid=0');
    const vids = r.outcome.kind === 'success' ? r.outcome.filters.map((f) => f.vid) : [];
    await must(c, 'deassoc', v);
    if (vids.length === 0) return { result: 'fail', reason: 'the response carried no filter entry' };
    if (vids.every((x) => x !== 0)) return { result: 'pass', reason: `the bridge replaced VID 0 with VID ${vids.join(', ')}` };
    return { result: 'fail', reason: 'bridge keeps VID 0: the Assoc was confirmed but the response still carries VID 0 (no VLAN assigned)' };
  },

  'qos-replacement': async (c, idx) => {
    c.informational = true;
    const base = vsi(idx, 1);
    const v = { ...base, filters: [{ ...base.filters[0]!, pcp: 5, ps: false }] };
    const r = await must(c, 'assoc', v, 'assoc pcp=5 ps=0');
    const f = r.outcome.kind === 'success' ? r.outcome.filters[0] : undefined;
    await must(c, 'deassoc', v);
    if (!f) return { result: 'fail', reason: 'the response carried no filter entry' };
    return { result: 'pass', reason: f.pcp !== 5 ? `the bridge changed the PCP 5 → ${f.pcp} (allowed with PS=0)` : 'the bridge kept PCP 5 (it may change it with PS=0; it did not)' };
  },

  'group-ids': async (c, idx) => {
    const op = c.st.rt.port.operative;
    if (!op.gpid) {
      const recv = c.st.rt.port.evb.received;
      return { result: 'n/a', reason: `group IDs not negotiated (station GPID ${c.st.rt.cfg.evb.gpid ? 'on' : 'off'}, bridge BGID ${recv?.bgid ? 'on' : 'off'}): filter formats 3 and 4 may not be used` };
    }
    const a = vsi(idx, 1);
    const b = vsi(idx, 2);
    const v4: VsiSpec = { ...a, filterFormat: 'group-mac-vid', filters: [{ vid: 100, mac: a.filters[0]!.mac!, groupId: 0x1001 }] };
    const v3: VsiSpec = { ...b, filterFormat: 'group-vid', filters: [{ vid: 100, groupId: 0x1002 }] };
    const r4 = await must(c, 'assoc', v4, 'assoc format 4 (GroupID/MAC/VID)');
    const r3 = await must(c, 'assoc', v3, 'assoc format 3 (GroupID/VID)');
    const gids = [r4, r3].map((r) => (r.outcome.kind === 'success' ? r.outcome.filters[0]?.groupId : undefined));
    await must(c, 'deassoc', v4);
    await must(c, 'deassoc', v3);
    if (gids[0] !== 0x1001 || gids[1] !== 0x1002) return { result: 'fail', reason: `the bridge answered with other group IDs (${gids.join(', ')})` };
    return { result: 'pass', reason: 'Assoc with filter formats 4 and 3 answered with success, group IDs echoed' };
  },

  'migration-hints': async (c, idx) => {
    const v = vsi(idx, 1);
    const from = c.st.tap.lastNo + 1;
    await must(c, 'assoc', { ...v, hints: 'to' }, 'assoc hints=M');
    await must(c, 'assoc', { ...v, hints: 'from' }, 'assoc hints=S');
    await must(c, 'deassoc', v);
    // what went out: the M bit on the first Assoc, the S bit on the second
    const hints: number[] = [];
    const id = toHex(vsiSpecToWire(v).vsiid);
    for (const f of c.st.tap.framesFor(from, new Set([id]))) {
      if (f.dir !== 'tx' || !(f.decoded && 'kind' in f.decoded && f.decoded.kind === 'ecp22' && f.decoded.vdp)) continue;
      for (const t of f.decoded.vdp.tlvs) if (t.kind === 'vsi' && t.mode === 'assoc' && toHex(t.vsiid) === id && (t.status & VDP_STATUS_RESPONSE) === 0) hints.push(t.status & (VDP_HINT_M | VDP_HINT_S));
    }
    if (!hints.includes(VDP_HINT_M) || !hints.includes(VDP_HINT_S)) return { result: 'fail', reason: `the station did not send both hints (saw status bits ${hints.map((h) => '0x' + h.toString(16)).join(', ')})` };
    return { result: 'pass', reason: 'Assoc with the M hint, then with the S hint, both answered with success' };
  },

  'error-handling': async (c, idx) => {
    const notes: string[] = [];
    // 1. the engine refuses a DeAssoc of a VSI it does not know, and sends nothing
    const unknown = vsi(idx, 1);
    const before = c.st.tap.lastNo;
    const r = await run(c, 'deassoc', unknown, 'deassoc (unknown VSI, through the engine)');
    if (r.kind !== 'refused') throw new Failure(`a DeAssoc of an unknown VSI was not refused locally: ${describeResult(r)}`);
    const sent = c.st.tap.framesFor(before + 1, new Set([toHex(vsiSpecToWire(unknown).vsiid)])).length;
    if (sent > 0) throw new Failure('the engine refused the DeAssoc but a frame went out for it');
    notes.push(`DeAssoc of an unknown VSI refused locally (${r.code}), nothing sent`);
    const op = c.st.rt.port.operative;
    const wait = Math.max(respWaitDelayMs(op), 1000);
    // 2. the same DeAssoc put on the wire by hand: the bridge must answer (success = nothing to remove, or an error)
    const w = vsiSpecToWire(unknown);
    const resp = responseTo(c.st, vsiKey(w), wait);
    const ecp = await c.st.inject([{ managerId: w.managerId, vsi: { kind: 'vsi', mode: 'deassoc', status: 0, typeId: w.typeId, typeVersion: w.typeVersion, vsiidFormat: w.vsiidFormat, vsiid: w.vsiid, filterFormat: w.filterFormat, filters: w.filters }, org: [] }]);
    if (ecp === 'abandoned') {
      resp.cancel();
      throw new Failure('the bridge did not acknowledge the ECPDU with the hand-made DeAssoc');
    }
    const ans = await resp.promise;
    const t1 = 'deassoc (unknown VSI, hand-made on the wire)';
    if (!ans) {
      c.steps.push({ command: t1, outcome: 'no response', latencyMs: null });
      throw new Failure(`the bridge did not answer a DeAssoc of an unknown VSI within ${Math.round(wait)} ms`);
    }
    const code1 = ans.vsi.status & 0x0f;
    c.steps.push({ command: t1, outcome: code1 === 0 ? `answered ${ans.vsi.mode} success` : `answered ${ans.vsi.mode} with reason ${code1} (${reasonText(code1)})`, latencyMs: null });
    notes.push(`a hand-made DeAssoc of an unknown VSI was answered with ${code1 === 0 ? 'success (nothing to remove)' : `reason ${code1} (${reasonText(code1)})`}`);
    // 3. an Assoc with the reserved VID 4095 (the engine refuses to send one): must be answered with an error
    const bad = vsiSpecToWire(vsi(idx, 2));
    c.vsiids.add(toHex(bad.vsiid));
    const badFilters = bad.filters.map((f) => ({ ...f, vid: 4095 }));
    const resp2 = responseTo(c.st, vsiKey(bad), wait);
    const ecp2 = await c.st.inject([{ managerId: bad.managerId, vsi: { kind: 'vsi', mode: 'assoc', status: 0, typeId: bad.typeId, typeVersion: bad.typeVersion, vsiidFormat: bad.vsiidFormat, vsiid: bad.vsiid, filterFormat: bad.filterFormat, filters: badFilters }, org: [] }]);
    if (ecp2 === 'abandoned') {
      resp2.cancel();
      throw new Failure('the bridge did not acknowledge the ECPDU with the VID-4095 Assoc');
    }
    const ans2 = await resp2.promise;
    const t2 = 'assoc vid=4095 (reserved, hand-made on the wire)';
    if (!ans2) {
      c.steps.push({ command: t2, outcome: 'no response', latencyMs: null });
      return { result: 'fail', reason: `${notes.join('; ')}; but an Assoc with the reserved VID 4095 got no answer within ${Math.round(wait)} ms (silently dropped)` };
    }
    const code2 = ans2.vsi.status & 0x0f;
    c.steps.push({ command: t2, outcome: code2 === 0 ? `answered ${ans2.vsi.mode} success` : `answered ${ans2.vsi.mode} with reason ${code2} (${reasonText(code2)})`, latencyMs: null });
    if (code2 === 0) {
      // clean up what the bridge wrongly accepted
      await c.st.inject([{ managerId: bad.managerId, vsi: { kind: 'vsi', mode: 'deassoc', status: 0, typeId: bad.typeId, typeVersion: bad.typeVersion, vsiidFormat: bad.vsiidFormat, vsiid: bad.vsiid, filterFormat: bad.filterFormat, filters: badFilters }, org: [] }]);
      return { result: 'fail', reason: `${notes.join('; ')}; but an Assoc with the reserved VID 4095 was answered with success` };
    }
    notes.push(`an Assoc with the reserved VID 4095 was answered with reason ${code2} (${reasonText(code2)})`);
    return { result: 'pass', reason: notes.join('; ') };
  },

  'keep-alive': async (c, idx) => {
    const v = vsi(idx, 1);
    const r = await must(c, 'assoc', v);
    const period = evbTimerMs(c.st.rt.port.operative.rka);
    const from = c.st.tap.lastNo + 1;
    const holdMs = 3 * period + Math.min(2000, period / 2);
    await sleep(holdMs);
    const rec = r.record;
    const id = toHex(vsiSpecToWire(v).vsiid);
    let kas = 0;
    let answered = 0;
    for (const f of c.st.tap.framesFor(from, new Set([id]))) {
      if (!(f.decoded && 'kind' in f.decoded && f.decoded.kind === 'ecp22' && f.decoded.vdp)) continue;
      for (const t of f.decoded.vdp.tlvs) {
        if (t.kind !== 'vsi' || toHex(t.vsiid) !== id) continue;
        if (f.dir === 'tx' && (t.status & VDP_STATUS_RESPONSE) === 0) kas++;
        if (f.dir === 'rx' && (t.status & VDP_STATUS_RESPONSE) !== 0) answered++;
      }
    }
    c.steps.push({ command: `hold ${(holdMs / 1000).toFixed(1)} s (3 keep-alive periods of ${period.toFixed(0)} ms)`, outcome: `${kas} keep-alives sent, ${answered} answered, VSI ${rec.state}`, latencyMs: null });
    const alive = rec.state === 'ASSOCIATED' || rec.state === 'TXMIT_KA';
    if (!alive) {
      c.live.delete(v.vsiid);
      return { result: 'fail', reason: `the VSI ended during the hold (${rec.ctx.reason}) after ${kas} keep-alives, ${answered} answered` };
    }
    await must(c, 'deassoc', v);
    if (kas < 2) return { result: 'fail', reason: `only ${kas} keep-alives went out in 3 periods` };
    return { result: 'pass', reason: `still associated after 3 keep-alive periods of ${period.toFixed(0)} ms; ${kas} keep-alives sent, ${answered} answered` };
  },
};

export async function runScenario(st: LabStation, name: ScenarioName, idx: number): Promise<ScenarioReport> {
  const c: Ctx = { st, steps: [], vsiids: new Set(), informational: false, live: new Map() };
  const from = st.tap.lastNo + 1;
  const t = st.timers.now();
  let out: { result: ScenarioResult; reason: string };
  try {
    out = await BODIES[name](c, idx);
  } catch (e) {
    out = { result: 'fail', reason: e instanceof Failure ? e.message : `driver error: ${(e as Error).stack ?? String(e)}` };
  }
  // leave nothing associated behind
  for (const spec of c.live.values()) {
    try {
      await st.command('deassoc', spec);
    } catch {
      // best effort
    }
  }
  // late ACKs of the last request arrive right after its response
  await sleep(20);
  return {
    name,
    result: out.result,
    reason: out.reason,
    informational: c.informational,
    durationMs: Math.round(st.timers.now() - t),
    steps: c.steps,
    frames: st.tap.refs(st.tap.framesFor(from, c.vsiids), st.t0),
  };
}
