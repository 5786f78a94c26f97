/**
 * `vdpctl lab run`: the real station engine in-process on one interface against the device
 * under test (the bridge). Waits for EVB, then runs the load or the conformance scenarios,
 * and returns the report. Never throws for what the bridge does; a setup problem (no such
 * interface, no privileges) throws before anything is sent.
 */
import { EVB_MODE_NAMES } from '../../../pdu/describe.js';
import { evbTimerMs } from '../../../fsm/ulp.js';
import { respWaitDelayMs, toutKeepAliveMs } from '../../../fsm/ulp.js';
import { DEFAULT_ECP, DEFAULT_EVB, DEFAULT_LLDP, interfaceConfigFor, loadConfig, type InterfaceConfig } from '../../config.js';
import { MAC_NEAREST_CUSTOMER_BRIDGE } from '../../../pdu/types.js';
import type { Logger } from '../../log.js';
import { runLoad, type LoadOptions, type ProgressSink } from './load.js';
import { runScenario } from './scenarios.js';
import { LabStation } from './station.js';
import { SCENARIOS, type BridgeView, type LabReport, type ScenarioName } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LabUsageError extends Error {
  override readonly name = 'LabUsageError';
}

export interface LabRunOptions {
  iface: string;
  /** station YAML (vdpd's config format); the entry for `iface`, or the only entry */
  configPath?: string;
  load?: LoadOptions;
  scenarios?: ScenarioName[];
  capturePath?: string;
  /** how long to wait for EVB (ms) */
  evbTimeoutMs: number;
  /** pause after EVB before the first VDP request (lldpad's VDP starts with zero timers) */
  settleMs: number;
  log: Logger;
  /** called once the station runs, with a function that stops it (for SIGINT: the TTL-0 LLDPDU tells the bridge to drop every VSI) */
  onStarted?: (stop: () => void) => void;
}

export function defaultStationConfig(): InterfaceConfig {
  return {
    role: 'station',
    groupAddress: MAC_NEAREST_CUSTOMER_BRIDGE,
    evb: { ...DEFAULT_EVB },
    lldp: { ...DEFAULT_LLDP },
    ecp: { ...DEFAULT_ECP },
    bridge: { policy: [], dropAckPercent: 0 },
    line: undefined,
  };
}

export function stationConfig(iface: string, path: string | undefined): InterfaceConfig {
  if (path === undefined) return defaultStationConfig();
  const cfg = loadConfig(path);
  const ic = interfaceConfigFor(cfg, iface) ?? (cfg.interfaces.length === 1 ? cfg.interfaces[0] : undefined);
  if (!ic) throw new LabUsageError(`${path} has no entry for ${iface} (and more than one interface)`);
  if (ic.role !== 'station') throw new LabUsageError(`${path}: the entry for ${iface} has role ${ic.role}; the lab driver is the station`);
  return ic;
}

/** Parse `--scenario`: a name, a comma-separated list, or `all`. */
export function parseScenarios(text: string): ScenarioName[] {
  if (text === 'all') return [...SCENARIOS];
  const out: ScenarioName[] = [];
  for (const n of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(n)) throw new LabUsageError(`unknown scenario ${JSON.stringify(n)} (known: ${SCENARIOS.join(', ')}, all)`);
    out.push(n as ScenarioName);
  }
  if (out.length === 0) throw new LabUsageError('--scenario needs a name or all');
  return out;
}

function bridgeView(st: LabStation): BridgeView {
  const n = st.rt.port.lldp.current;
  const e = st.rt.port.evb.received;
  const ready = st.rt.port.ready;
  const o = st.rt.port.operative;
  return {
    chassis: n?.chassis ?? null,
    port: n?.port ?? null,
    ttlS: n?.ttl ?? null,
    evb: e ? { mode: EVB_MODE_NAMES[e.evbMode] ?? String(e.evbMode), r: e.r, rte: e.rte, rwd: e.rwd, rka: e.rka, rrcap: e.rrcap, rrctr: e.rrctr, bgid: e.bgid } : null,
    operative: ready
      ? {
          ...o,
          ackTimerMs: evbTimerMs(o.rte),
          resourceWaitDelayMs: evbTimerMs(o.rwd),
          keepAliveMs: evbTimerMs(o.rka),
          respWaitDelayMs: Math.round(respWaitDelayMs(o) * 1000) / 1000,
          toutKeepAliveMs: Math.round(toutKeepAliveMs(o) * 1000) / 1000,
        }
      : null,
    negotiatedAfterMs: st.negotiatedAt !== undefined ? Math.round((st.negotiatedAt - st.t0) * 10) / 10 : null,
  };
}

export async function runLab(o: LabRunOptions, progress: ProgressSink): Promise<LabReport> {
  const cfg = stationConfig(o.iface, o.configPath);
  const startedAt = new Date().toISOString();
  const st = new LabStation({ iface: o.iface, cfg, log: o.log, ...(o.capturePath !== undefined ? { capturePath: o.capturePath } : {}) });
  const report: LabReport = {
    version: 1,
    tool: 'vdpctl lab run',
    iface: o.iface,
    mac: st.mac,
    startedAt,
    durationMs: 0,
    station: {
      evb: { rte: cfg.evb.rte, retries: cfg.evb.retries, rwd: cfg.evb.rwd, rka: cfg.evb.rka, rrreq: cfg.evb.rrreq, gpid: cfg.evb.gpid },
      ecp: { ...cfg.ecp },
      groupAddress: cfg.groupAddress,
    },
    bridge: bridgeView(st),
    load: null,
    scenarios: [],
    capture: null,
    frames: 0,
    error: null,
    passed: false,
  };
  try {
    st.start();
    o.onStarted?.(() => st.stop());
    const ok = await st.waitEvb(o.evbTimeoutMs, () => progress(`waiting for EVB with the bridge on ${o.iface} (${st.rt.port.evb.state}) ${(st.elapsed() / 1000).toFixed(1)} s`));
    report.bridge = bridgeView(st);
    if (!ok) {
      report.error = `EVB not negotiated within ${o.evbTimeoutMs} ms (state ${st.rt.port.evb.state}${st.rt.port.lldp.current ? ', an LLDP neighbour without an EVB bridge TLV' : ', no LLDP neighbour'})`;
      return report;
    }
    const mode = st.rt.port.evb.received?.evbMode;
    if (mode !== 1) {
      report.error = `the peer is not an EVB bridge (EVB mode ${mode})`;
      return report;
    }
    progress(`EVB negotiated after ${report.bridge.negotiatedAfterMs} ms; settling ${o.settleMs} ms`);
    await sleep(o.settleMs);
    report.bridge = bridgeView(st);
    if (o.load) report.load = await runLoad(st, o.load, progress);
    const names = o.scenarios ?? [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      progress(`scenario ${i + 1}/${names.length}: ${name}`);
      const idx = SCENARIOS.indexOf(name);
      report.scenarios.push(await runScenario(st, name, idx));
      if (!st.rt.port.ready) {
        report.error = `EVB lost during scenario ${name}`;
        break;
      }
    }
    report.bridge = bridgeView(st);
  } finally {
    report.durationMs = Math.round(st.elapsed());
    // stopping sends the shutdown LLDPDU (TTL 0): it belongs to the capture
    st.stop();
    report.frames = st.tap.count;
    if (o.capturePath !== undefined) report.capture = { file: st.tap.files[0] ?? `${o.capturePath}.pcap`, frames: st.tap.frames };
    const l = report.load;
    const loadOk = !l || (l.failed === 0 && l.lost === 0 && l.deassocFailed === 0);
    report.passed = report.error === null && loadOk && report.scenarios.every((s) => s.result !== 'fail');
  }
  return report;
}
