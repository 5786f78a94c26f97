/**
 * What lldptool prints, as data: the EVB TLV view (`-t [-n] -V evb`, local = what lldpad
 * transmits, i.e. the operative values; -n = the neighbour's) and the LLDP counters (`-S`).
 */

/** The EVB TLV as lldptool prints it (`-V evb`, local or neighbour view). */
export interface EvbTlvView {
  bridgeFlags: string[];
  bridgeStatus: number;
  stationFlags: string[];
  stationStatus: number;
  retries: number;
  rte: number;
  mode: string;
  rwd: number;
  rwdRemote: boolean;
  rka: number;
  rkaRemote: boolean;
}

export interface LldpStats {
  tx: number;
  rx: number;
  rxDiscarded: number;
  rxErrors: number;
  ageouts: number;
}

export function parseEvbTlvView(text: string): EvbTlvView | undefined {
  const m = {
    bridge: /bridge:([\w,]*)\((0x[0-9a-f]+|0)\)/i.exec(text),
    station: /station:([\w,]*)\((0x[0-9a-f]+|0)\)/i.exec(text),
    rr: /retries:(\d+) rte:(\d+)/.exec(text),
    mode: /mode:(\S+) r\/l:(\d) rwd:(\d+)/.exec(text),
    rka: /r\/l:(\d) rka:(\d+)/.exec(text),
  };
  if (!m.bridge || !m.station || !m.rr || !m.mode || !m.rka) return undefined;
  const flags = (s: string) => (s ? s.split(',') : []);
  return {
    bridgeFlags: flags(m.bridge[1]!),
    bridgeStatus: Number(m.bridge[2]),
    stationFlags: flags(m.station[1]!),
    stationStatus: Number(m.station[2]),
    retries: Number(m.rr[1]),
    rte: Number(m.rr[2]),
    mode: m.mode[1]!,
    rwdRemote: m.mode[2] === '1',
    rwd: Number(m.mode[3]),
    rkaRemote: m.rka[1] === '1',
    rka: Number(m.rka[2]),
  };
}

export function parseLldpStats(text: string): LldpStats | undefined {
  const n = (label: string) => {
    const m = new RegExp(`${label}\\s*=\\s*(\\d+)`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const tx = n('Total Frames Transmitted');
  const rx = n('Total Frames Received');
  if (tx === undefined || rx === undefined) return undefined;
  return { tx, rx, rxDiscarded: n('Total Discarded Frames Received') ?? 0, rxErrors: n('Total Error Frames Received') ?? 0, ageouts: n('Total Ageouts') ?? 0 };
}
