/**
 * vdpd's declarative configuration (YAML). The daemon reads it once and never rewrites it
 * (lldpad rewrites its config file; operators hate that). A bad config is refused at
 * start with the line and the reason, never half-applied.
 *
 *   role: station                  # default role for interfaces (station | bridge)
 *   log: { level: info, format: json }   # json | pretty
 *   socket: /run/vdpd/vdpd.sock    # client API (vdpctl)
 *   stateFile: /var/lib/vdpd/state.json
 *   capture: { dir: /var/log/vdpd/pcap, maxBytes: 67108864 }
 *   netlink: { enabled: true, profiles: { web: { managerId: 1, typeId: 100, typeVersion: 1 } } }
 *   lldpadCompat: { enabled: false, pidFile: /var/run/lldpad.pid, clif: true }
 *   deassocOnShutdown: false
 *   eventLoopResolutionMs: 10      # period of the event-loop delay monitor (ping); 1 to measure blocking to the ms
 *   warmUpVsis: 0                  # VSIs associated in memory at start so the first burst runs compiled code (e.g. 4000); 0: off
 *   defaults: { evb: {...}, lldp: {...}, ecp: {...}, groupAddress: ncb }
 *   interfaces:
 *     - name: eth0                 # or  pattern: "ens*"
 *       role: station
 *       groupAddress: ncb          # ncb | nb | nntpmrb | a MAC (unicast allowed)
 *       evb: { rte: 8, retries: 3, rwd: 20, rka: 20, rrreq: true, rrcap: false, gpid: false }
 *       lldp: { txInterval: 30, txHold: 4, fastStartCount: 7 }
 *       ecp: { minGapMs: 0 }
 *       bridge: { policy: [ ... ] }   # role: bridge only (see src/bridge-policy.ts)
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { isMac, normalizeMac } from '../pdu/bytes.js';
import { MAC_NEAREST_BRIDGE, MAC_NEAREST_CUSTOMER_BRIDGE, MAC_NEAREST_NONTPMR_BRIDGE } from '../pdu/types.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${reason}`);
  }
}

export type Role = 'station' | 'bridge';

export interface EvbConfig {
  rte: number;
  retries: number;
  rwd: number;
  rka: number;
  /** station: request reflective relay */
  rrreq: boolean;
  /** bridge: reflective relay capable */
  rrcap: boolean;
  /** advertise group-ID support (SGID / BGID) */
  gpid: boolean;
}

export interface LldpConfig {
  /** msgTxInterval, seconds */
  txInterval: number;
  /** msgTxHold: TTL = txInterval × txHold */
  txHold: number;
  /** LLDPDUs sent 1 s apart at start and after a change of the neighbour */
  fastStartCount: number;
}

export interface EcpConfig {
  /** minimum gap between two ECPDU exchanges (pacing towards a slow bridge such as lldpad) */
  minGapMs: number;
  /** VSI TLVs packed into one ECPDU at most; 0 = as many as fit */
  maxTlvsPerEcpdu: number;
}

/** One rule of the bridge emulator's policy, first match wins (see src/bridge-policy.ts). */
export interface PolicyRule {
  line?: number;
  match: {
    typeId?: number;
    typeVersion?: number;
    managerId?: string;
    mac?: string;
    vsiid?: string;
    mode?: string;
  };
  action: 'accept' | 'reject' | 'keep' | 'ignore';
  reason?: number;
  hard?: boolean;
  assignVid?: number | 'type-id';
  pcp?: number;
  delayMs?: number;
  dropAckPercent?: number;
  deassocAfterMs?: number;
}

export interface BridgeConfig {
  policy: PolicyRule[];
  /** answer insufficient resources once this many VSIs are associated */
  maxVsis?: number;
  /** share of received ECPDUs left unacknowledged, 0..100 (lab fault injection) */
  dropAckPercent: number;
}

export interface InterfaceConfig {
  /** exact name, or a glob pattern with * and ? */
  name?: string;
  pattern?: string;
  role: Role;
  groupAddress: string;
  evb: EvbConfig;
  lldp: LldpConfig;
  ecp: EcpConfig;
  bridge: BridgeConfig;
  line: number | undefined;
}

export interface VdpdConfig {
  file: string;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; format: 'json' | 'pretty' };
  socket: string;
  stateFile: string;
  capture?: { dir: string; maxBytes: number };
  /** NETLINK_ROUTE socket bound to the pid: libvirt's requests and the iovnl family */
  netlink: { enabled: boolean; profiles: Record<string, NetlinkProfile> };
  /** drop-in for lldpad: its pid file (libvirt reads it) and its client socket address (@/com/intel/lldpad) */
  lldpadCompat: { enabled: boolean; pidFile: string; clif: boolean };
  deassocOnShutdown: boolean;
  /**
   * period of the event-loop delay monitor that `ping` reports from: its figures include
   * up to one period, so 10 (the default: 100 wake-ups a second) overstates a block by up
   * to 10 ms and 1 measures it to the millisecond (what the benchmarks use)
   */
  eventLoopResolutionMs: number;
  /** VSIs the engines associate and de-associate in memory before the daemon serves (src/daemon/warm-up.ts); 0: none */
  warmUpVsis: number;
  interfaces: InterfaceConfig[];
}

/** An iovnl port-profile name and the VSI type it stands for. */
export interface NetlinkProfile {
  managerId: string | number;
  typeId: number;
  typeVersion: number;
}

export const DEFAULT_EVB: EvbConfig = { rte: 8, retries: 3, rwd: 20, rka: 20, rrreq: true, rrcap: true, gpid: false };
export const DEFAULT_LLDP: LldpConfig = { txInterval: 30, txHold: 4, fastStartCount: 7 };
export const DEFAULT_ECP: EcpConfig = { minGapMs: 0, maxTlvsPerEcpdu: 0 };

const GROUP_ALIASES: Record<string, string> = {
  ncb: MAC_NEAREST_CUSTOMER_BRIDGE,
  'nearest-customer-bridge': MAC_NEAREST_CUSTOMER_BRIDGE,
  nb: MAC_NEAREST_BRIDGE,
  'nearest-bridge': MAC_NEAREST_BRIDGE,
  nntpmrb: MAC_NEAREST_NONTPMR_BRIDGE,
  'nearest-nontpmr-bridge': MAC_NEAREST_NONTPMR_BRIDGE,
};

type Path = (string | number)[];

/** Walks the parsed YAML with line numbers so every complaint names its line. */
class Checker {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  lineOf(path: Path): number | undefined {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : undefined;
  }

  fail(path: Path, reason: string): never {
    throw new ConfigError(this.file, this.lineOf(path), `${path.length ? path.join('.') + ': ' : ''}${reason}`);
  }

  /** reject keys this version does not know: a typo must not be silently ignored */
  keys(path: Path, obj: unknown, allowed: readonly string[]): Record<string, unknown> {
    if (obj === undefined || obj === null) return {};
    if (typeof obj !== 'object' || Array.isArray(obj)) this.fail(path, 'must be a mapping');
    const rec = obj as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown key (allowed: ${allowed.join(', ')})`);
    }
    return rec;
  }

  int(path: Path, v: unknown, min: number, max: number, dflt: number): number {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  num(path: Path, v: unknown, min: number, max: number, dflt: number): number {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(path, `must be a number ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(path: Path, v: unknown, dflt: boolean): boolean {
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(path: Path, v: unknown, dflt?: string): string {
    if (v === undefined) {
      if (dflt === undefined) this.fail(path, 'is required');
      return dflt;
    }
    if (typeof v !== 'string' || v.length === 0) this.fail(path, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(path: Path, v: unknown, options: readonly T[], dflt: T): T {
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || !options.includes(v as T)) {
      this.fail(path, `must be one of ${options.join(' | ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }
}

function parseEvb(c: Checker, path: Path, raw: unknown, base: EvbConfig): EvbConfig {
  const o = c.keys(path, raw, ['rte', 'retries', 'rwd', 'rka', 'rrreq', 'rrcap', 'gpid']);
  return {
    rte: c.int([...path, 'rte'], o['rte'], 0, 31, base.rte),
    retries: c.int([...path, 'retries'], o['retries'], 0, 7, base.retries),
    rwd: c.int([...path, 'rwd'], o['rwd'], 0, 31, base.rwd),
    rka: c.int([...path, 'rka'], o['rka'], 0, 31, base.rka),
    rrreq: c.bool([...path, 'rrreq'], o['rrreq'], base.rrreq),
    rrcap: c.bool([...path, 'rrcap'], o['rrcap'], base.rrcap),
    gpid: c.bool([...path, 'gpid'], o['gpid'], base.gpid),
  };
}

function parseLldp(c: Checker, path: Path, raw: unknown, base: LldpConfig): LldpConfig {
  const o = c.keys(path, raw, ['txInterval', 'txHold', 'fastStartCount']);
  return {
    txInterval: c.num([...path, 'txInterval'], o['txInterval'], 0.1, 3600, base.txInterval),
    txHold: c.int([...path, 'txHold'], o['txHold'], 1, 100, base.txHold),
    fastStartCount: c.int([...path, 'fastStartCount'], o['fastStartCount'], 0, 100, base.fastStartCount),
  };
}

function parseEcp(c: Checker, path: Path, raw: unknown, base: EcpConfig): EcpConfig {
  const o = c.keys(path, raw, ['minGapMs', 'maxTlvsPerEcpdu']);
  return {
    minGapMs: c.num([...path, 'minGapMs'], o['minGapMs'], 0, 10_000, base.minGapMs),
    maxTlvsPerEcpdu: c.int([...path, 'maxTlvsPerEcpdu'], o['maxTlvsPerEcpdu'], 0, 1000, base.maxTlvsPerEcpdu),
  };
}

function parseGroup(c: Checker, path: Path, raw: unknown, dflt: string): string {
  const v = c.str(path, raw, dflt);
  const alias = GROUP_ALIASES[v.toLowerCase()];
  if (alias) return alias;
  if (!isMac(v)) c.fail(path, `must be ncb, nb, nntpmrb or a MAC address, got ${JSON.stringify(v)}`);
  return normalizeMac(v);
}

function parsePolicy(c: Checker, path: Path, raw: unknown): PolicyRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) c.fail(path, 'must be a list of rules');
  return raw.map((r: unknown, i: number): PolicyRule => {
    const p = [...path, i];
    const o = c.keys(p, r, ['match', 'action', 'reason', 'hard', 'assignVid', 'pcp', 'delayMs', 'dropAckPercent', 'deassocAfterMs']);
    const m = c.keys([...p, 'match'], o['match'], ['typeId', 'typeVersion', 'managerId', 'mac', 'vsiid', 'mode']);
    const match: PolicyRule['match'] = {};
    if (m['typeId'] !== undefined) match.typeId = c.int([...p, 'match', 'typeId'], m['typeId'], 0, 0xffffff, 0);
    if (m['typeVersion'] !== undefined) match.typeVersion = c.int([...p, 'match', 'typeVersion'], m['typeVersion'], 0, 255, 0);
    if (m['managerId'] !== undefined) match.managerId = c.str([...p, 'match', 'managerId'], m['managerId']);
    if (m['vsiid'] !== undefined) match.vsiid = c.str([...p, 'match', 'vsiid'], m['vsiid']).toLowerCase();
    if (m['mode'] !== undefined) {
      match.mode = c.oneOf([...p, 'match', 'mode'], m['mode'], ['preassoc', 'preassoc-rr', 'assoc', 'deassoc'] as const, 'assoc');
    }
    if (m['mac'] !== undefined) {
      const mac = c.str([...p, 'match', 'mac'], m['mac']);
      if (!isMac(mac)) c.fail([...p, 'match', 'mac'], `not a MAC address: ${JSON.stringify(mac)}`);
      match.mac = normalizeMac(mac);
    }
    const rule: PolicyRule = {
      line: c.lineOf(p),
      match,
      action: c.oneOf([...p, 'action'], o['action'], ['accept', 'reject', 'keep', 'ignore'] as const, 'accept'),
    };
    if (o['reason'] !== undefined) rule.reason = c.int([...p, 'reason'], o['reason'], 1, 15, 4);
    if (o['hard'] !== undefined) rule.hard = c.bool([...p, 'hard'], o['hard'], false);
    if (o['assignVid'] !== undefined) {
      rule.assignVid = o['assignVid'] === 'type-id' ? 'type-id' : c.int([...p, 'assignVid'], o['assignVid'], 1, 4094, 1);
    }
    if (o['pcp'] !== undefined) rule.pcp = c.int([...p, 'pcp'], o['pcp'], 0, 7, 0);
    if (o['delayMs'] !== undefined) rule.delayMs = c.num([...p, 'delayMs'], o['delayMs'], 0, 3_600_000, 0);
    if (o['dropAckPercent'] !== undefined) rule.dropAckPercent = c.num([...p, 'dropAckPercent'], o['dropAckPercent'], 0, 100, 0);
    if (o['deassocAfterMs'] !== undefined) rule.deassocAfterMs = c.num([...p, 'deassocAfterMs'], o['deassocAfterMs'], 0, 86_400_000, 0);
    if ((rule.action === 'reject' || rule.action === 'keep') && rule.reason === undefined) {
      c.fail([...p, 'reason'], `action ${rule.action} needs a reason code (1..5)`);
    }
    return rule;
  });
}

export function parseConfig(text: string, file = '<config>'): VdpdConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, lines.linePos(e.pos[0]).line, `YAML: ${e.message.split('\n')[0]}`);
  }
  const c = new Checker(file, doc, lines);
  if (doc.contents !== null && !isMap(doc.contents)) c.fail([], 'the top level must be a mapping');
  const root = c.keys([], doc.toJS() as unknown, [
    'role', 'log', 'socket', 'stateFile', 'capture', 'netlink', 'lldpadCompat', 'deassocOnShutdown', 'eventLoopResolutionMs', 'warmUpVsis', 'defaults', 'interfaces',
  ]);

  const log = c.keys(['log'], root['log'], ['level', 'format']);
  const defaults = c.keys(['defaults'], root['defaults'], ['evb', 'lldp', 'ecp', 'groupAddress']);
  const role = c.oneOf(['role'], root['role'], ['station', 'bridge'] as const, 'station');
  const dEvb = parseEvb(c, ['defaults', 'evb'], defaults['evb'], DEFAULT_EVB);
  const dLldp = parseLldp(c, ['defaults', 'lldp'], defaults['lldp'], DEFAULT_LLDP);
  const dEcp = parseEcp(c, ['defaults', 'ecp'], defaults['ecp'], DEFAULT_ECP);
  const dGroup = parseGroup(c, ['defaults', 'groupAddress'], defaults['groupAddress'], 'ncb');

  const rawIfs = root['interfaces'];
  if (rawIfs === undefined) c.fail(['interfaces'], 'is required: list the interfaces vdpd runs on');
  if (!Array.isArray(rawIfs) || rawIfs.length === 0 || !isSeq(doc.get('interfaces'))) {
    c.fail(['interfaces'], 'must be a non-empty list');
  }
  const seen = new Set<string>();
  const interfaces = (rawIfs as unknown[]).map((raw: unknown, i: number): InterfaceConfig => {
    const p: Path = ['interfaces', i];
    const o = c.keys(p, raw, ['name', 'pattern', 'role', 'groupAddress', 'evb', 'lldp', 'ecp', 'bridge']);
    const name = o['name'] === undefined ? undefined : c.str([...p, 'name'], o['name']);
    const pattern = o['pattern'] === undefined ? undefined : c.str([...p, 'pattern'], o['pattern']);
    if ((name === undefined) === (pattern === undefined)) c.fail(p, 'give exactly one of name or pattern');
    if (name !== undefined && !/^[^\s/]{1,15}$/.test(name)) c.fail([...p, 'name'], `not a Linux interface name: ${JSON.stringify(name)}`);
    const key = name ?? `pattern:${pattern}`;
    if (seen.has(key)) c.fail(p, `${key} is listed twice`);
    seen.add(key);
    const ifRole = c.oneOf([...p, 'role'], o['role'], ['station', 'bridge'] as const, role);
    const br = c.keys([...p, 'bridge'], o['bridge'], ['policy', 'maxVsis', 'dropAckPercent']);
    if (ifRole === 'station' && o['bridge'] !== undefined) c.fail([...p, 'bridge'], 'only allowed with role: bridge');
    const bridge: BridgeConfig = {
      policy: parsePolicy(c, [...p, 'bridge', 'policy'], br['policy']),
      dropAckPercent: c.num([...p, 'bridge', 'dropAckPercent'], br['dropAckPercent'], 0, 100, 0),
    };
    if (br['maxVsis'] !== undefined) bridge.maxVsis = c.int([...p, 'bridge', 'maxVsis'], br['maxVsis'], 0, 10_000_000, 0);
    const ifc: InterfaceConfig = {
      role: ifRole,
      groupAddress: parseGroup(c, [...p, 'groupAddress'], o['groupAddress'], dGroup),
      evb: parseEvb(c, [...p, 'evb'], o['evb'], dEvb),
      lldp: parseLldp(c, [...p, 'lldp'], o['lldp'], dLldp),
      ecp: parseEcp(c, [...p, 'ecp'], o['ecp'], dEcp),
      bridge,
      line: c.lineOf(p),
    };
    if (name !== undefined) ifc.name = name;
    if (pattern !== undefined) ifc.pattern = pattern;
    return ifc;
  });

  const cap = c.keys(['capture'], root['capture'], ['dir', 'maxBytes']);
  const compat = c.keys(['lldpadCompat'], root['lldpadCompat'], ['enabled', 'pidFile', 'clif']);
  const nl = c.keys(['netlink'], root['netlink'], ['enabled', 'profiles']);
  const profiles: Record<string, NetlinkProfile> = {};
  if (nl['profiles'] !== undefined) {
    const raw = nl['profiles'];
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) c.fail(['netlink', 'profiles'], 'must be a mapping of profile name to { managerId, typeId, typeVersion }');
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
      const p = ['netlink', 'profiles', name];
      if (name.length === 0 || name.length > 32) c.fail(p, 'a profile name is 1..32 characters (iovnl IOV_ATTR_PORT_PROFILE)');
      const o = c.keys(p, v, ['managerId', 'typeId', 'typeVersion']);
      const mgr = o['managerId'];
      for (const k of ['managerId', 'typeId', 'typeVersion']) if (o[k] === undefined) c.fail([...p, k], 'is required');
      profiles[name] = {
        managerId: typeof mgr === 'number' ? c.int([...p, 'managerId'], mgr, 0, 255, 0) : c.str([...p, 'managerId'], mgr),
        typeId: c.int([...p, 'typeId'], o['typeId'], 0, 2 ** 24 - 1, 0),
        typeVersion: c.int([...p, 'typeVersion'], o['typeVersion'], 0, 255, 0),
      };
    }
  }
  const cfg: VdpdConfig = {
    file,
    log: {
      level: c.oneOf(['log', 'level'], log['level'], ['trace', 'debug', 'info', 'warn', 'error'] as const, 'info'),
      format: c.oneOf(['log', 'format'], log['format'], ['json', 'pretty'] as const, 'json'),
    },
    socket: c.str(['socket'], root['socket'], '/run/vdpd/vdpd.sock'),
    stateFile: c.str(['stateFile'], root['stateFile'], '/var/lib/vdpd/state.json'),
    lldpadCompat: {
      enabled: c.bool(['lldpadCompat', 'enabled'], compat['enabled'], false),
      pidFile: c.str(['lldpadCompat', 'pidFile'], compat['pidFile'], '/var/run/lldpad.pid'),
      clif: c.bool(['lldpadCompat', 'clif'], compat['clif'], true),
    },
    netlink: { enabled: c.bool(['netlink', 'enabled'], nl['enabled'], true), profiles },
    deassocOnShutdown: c.bool(['deassocOnShutdown'], root['deassocOnShutdown'], false),
    eventLoopResolutionMs: c.int(['eventLoopResolutionMs'], root['eventLoopResolutionMs'], 1, 1000, 10),
    warmUpVsis: c.int(['warmUpVsis'], root['warmUpVsis'], 0, 100_000, 0),
    interfaces,
  };
  if (root['capture'] !== undefined) {
    cfg.capture = {
      dir: c.str(['capture', 'dir'], cap['dir']),
      maxBytes: c.int(['capture', 'maxBytes'], cap['maxBytes'], 4096, 2 ** 40, 64 * 1024 * 1024),
    };
  }
  return cfg;
}

export function loadConfig(path: string): VdpdConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, undefined, `cannot read: ${(e as Error).message}`);
  }
  return parseConfig(text, path);
}

/** glob with * and ? only: interface names have no other special characters */
export function matchesPattern(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

/** The config entry that applies to an interface: an exact name wins over a pattern. */
export function interfaceConfigFor(cfg: VdpdConfig, ifname: string): InterfaceConfig | undefined {
  return (
    cfg.interfaces.find((i) => i.name === ifname) ??
    cfg.interfaces.find((i) => i.pattern !== undefined && matchesPattern(i.pattern, ifname))
  );
}
