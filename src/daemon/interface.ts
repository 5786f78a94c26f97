/**
 * One interface of the daemon: raw sockets (LLDP and ECP22, joined to the group address
 * in use), the PortStack (LLDP agent, EVB, ECP) and the VDP engine of its role, wired
 * together on real time. The link is watched so that a link going down and up keeps the
 * VSIs and re-associates them.
 */
import { ETH_P_ECP22, ETH_P_ECP_DRAFT, ETH_P_LLDP, MAC_NEAREST_BRIDGE, MAC_NEAREST_CUSTOMER_BRIDGE, MAC_NEAREST_NONTPMR_BRIDGE } from '../../pdu/types.js';
import { isMulticastMac } from '../../pdu/bytes.js';
import { PortStack } from '../../fsm/port.js';
import type { RealTimers } from '../../fsm/timers.js';
import type { TransitionSink } from '../../fsm/transitions.js';
import { VdpBridgeEngine } from '../../fsm/vdp-bridge-engine.js';
import { VdpStationEngine, type StationRecord } from '../../fsm/vdp-station-engine.js';
import type { Outcome } from '../../fsm/vsi.js';
import type { InterfaceConfig } from '../config.js';
import { linkInfo, PacketSocket, type LinkInfo } from '../io/packet-socket.js';
import type { Logger } from '../log.js';
import { PcapWriter } from '../pcap/file.js';
import { compilePolicy } from './bridge-policy.js';

export interface InterfaceHooks {
  onTransition: TransitionSink;
  onOutcome: (iface: string, rec: StationRecord, o: Outcome, solicited: boolean) => void;
  onEnded: (iface: string, rec: StationRecord, reason: string) => void;
  onChange: () => void;
}

export class InterfaceRuntime {
  readonly port: PortStack;
  readonly station: VdpStationEngine | undefined;
  readonly bridge: VdpBridgeEngine | undefined;
  private sockets: PacketSocket[] = [];
  private watch: NodeJS.Timeout | undefined;
  link: LinkInfo;
  readonly drops: Record<string, number> = {};
  /** kernel PACKET_STATISTICS per socket, accumulated (the kernel resets them on each read) */
  private kernel: { packets: number; drops: number }[] = [];

  constructor(
    readonly name: string,
    readonly cfg: InterfaceConfig,
    timers: RealTimers,
    private readonly log: Logger,
    hooks: InterfaceHooks,
    capture?: PcapWriter,
  ) {
    this.link = linkInfo(name);
    const evb = cfg.evb;
    this.port = new PortStack({
      ifname: name,
      mac: this.link.mac,
      timers,
      evb: { role: cfg.role, rrreq: evb.rrreq, rrcap: evb.rrcap, gpid: evb.gpid, r: evb.retries, rte: evb.rte, rwd: evb.rwd, rka: evb.rka },
      lldp: cfg.lldp,
      groupAddress: cfg.groupAddress,
      minGapMs: cfg.ecp.minGapMs,
      transmit: (frame) => this.transmit(frame),
      onTransition: hooks.onTransition,
      onOperative: (op) => {
        this.station?.setOperative(op);
        this.bridge?.setOperative(op);
        log.info({ iface: name, operative: op }, `evb operative values: R=${op.r} RTE=${op.rte} RWD=${op.rwd} RKA=${op.rka} gpid=${op.gpid} rr=${op.rr}`);
      },
      onReady: (ready) => {
        this.station?.setReady(ready);
        log.info({ iface: name, ready }, ready ? 'evb negotiated with the bridge' : 'evb peer lost');
      },
      onPeerRestart: () => {
        log.warn({ iface: name }, 'the bridge restarted: re-sending every VSI');
        this.station?.peerRestarted();
      },
      onDrop: (reason, err) => {
        this.drops[reason] = (this.drops[reason] ?? 0) + 1;
        if (err) log.debug({ iface: name, reason, error: err.toJSON() }, 'frame dropped');
      },
      ...(capture ? { onFrame: (_dir: 'rx' | 'tx', frame: Uint8Array) => capture.write(PcapWriter.now(), frame) } : {}),
      ...(cfg.role === 'bridge' ? { suppressAck: (pdu: { ulpdu: Uint8Array }) => this.bridge?.suppressAck(pdu.ulpdu) ?? false } : {}),
    });
    if (cfg.role === 'station') {
      this.station = new VdpStationEngine({
        id: name,
        timers,
        onTransition: hooks.onTransition,
        onOutcome: (rec, o, solicited) => hooks.onOutcome(name, rec, o, solicited),
        onEnded: (rec, reason) => hooks.onEnded(name, rec, reason),
        onChange: hooks.onChange,
        maxTlvsPerEcpdu: cfg.ecp.maxTlvsPerEcpdu,
        deferCommands: true,
      });
      this.station.attachLower(this.port.attachUlp(this.station));
    } else {
      this.bridge = new VdpBridgeEngine({
        id: name,
        timers,
        policy: compilePolicy(cfg.bridge.policy),
        ...(cfg.bridge.maxVsis !== undefined ? { maxVsis: cfg.bridge.maxVsis } : {}),
        dropAckPercent: cfg.bridge.dropAckPercent,
        onTransition: hooks.onTransition,
      });
      this.bridge.hasAckRules = cfg.bridge.policy.some((r) => r.dropAckPercent !== undefined);
      this.bridge.attachLower(this.port.attachUlp(this.bridge));
    }
  }

  /** Group addresses this interface must hear: the one in use plus lldpad's three, as lldpad joins them all. */
  private groups(): string[] {
    const g = new Set([MAC_NEAREST_CUSTOMER_BRIDGE, MAC_NEAREST_BRIDGE, MAC_NEAREST_NONTPMR_BRIDGE]);
    if (isMulticastMac(this.cfg.groupAddress)) g.add(this.cfg.groupAddress);
    return [...g];
  }

  start(): void {
    // LLDP, ECP22 and draft-0.2 ECP (0x88B7: received so it is counted and reported, not run)
    for (const ethertype of [ETH_P_LLDP, ETH_P_ECP22, ETH_P_ECP_DRAFT]) {
      this.sockets.push(PacketSocket.open({ ifname: this.name, ethertype, multicast: this.groups(), onFrame: (f) => this.port.receiveFrame(f) }));
    }
    this.port.start();
    // sysfs poll: a link that goes down and up keeps its VSIs and re-associates them
    this.watch = setInterval(() => this.checkLink(), 1000);
    this.watch.unref();
    this.log.info({ iface: this.name, role: this.cfg.role, mac: this.link.mac, ifindex: this.link.ifindex, rcvbuf: this.sockets[0]?.rcvbuf }, `interface ${this.name} started as ${this.cfg.role}`);
  }

  private checkLink(): void {
    let now: LinkInfo;
    try {
      now = linkInfo(this.name);
    } catch {
      now = { ...this.link, up: false };
    }
    if (now.up === this.link.up) return;
    this.link = now;
    if (now.up) {
      this.log.info({ iface: this.name }, 'link up: re-associating VSIs');
      this.port.linkUp();
      this.station?.linkUpAgain();
    } else {
      this.log.warn({ iface: this.name }, 'link down: VSIs kept');
      this.port.linkDown();
      this.station?.linkDown();
    }
  }

  private transmit(frame: Uint8Array): void {
    const ethertype = (frame[12]! << 8) | frame[13]!;
    const s = this.sockets[ethertype === ETH_P_LLDP ? 0 : 1];
    s?.send(frame);
  }

  /** Frames the kernel queued for our sockets (`packets`, dropped ones included) and dropped for lack of receive buffer. */
  private readKernelStats(): void {
    this.sockets.forEach((s, i) => {
      const k = (this.kernel[i] ??= { packets: 0, drops: 0 });
      try {
        const now = s.kernelStats();
        k.packets += now.packets;
        k.drops += now.drops;
      } catch {
        // socket closed
      }
    });
    const lost = this.kernel.reduce((n, k) => n + k.drops, 0);
    if (lost > 0) this.drops['kernel-rcvbuf'] = lost;
  }

  counters(): Record<string, unknown> {
    this.readKernelStats();
    return {
      port: this.port.counters,
      ecp: this.port.ecp.counters,
      lldp: this.port.lldp.counters,
      vdp: this.station?.counters ?? this.bridge?.counters,
      sockets: this.sockets.map((s, i) => ({ ...s.counters, kernelPackets: this.kernel[i]?.packets ?? 0, kernelDrops: this.kernel[i]?.drops ?? 0 })),
      drops: this.drops,
    };
  }

  summary(): Record<string, unknown> {
    const n = this.port.lldp.current;
    return {
      name: this.name,
      role: this.cfg.role,
      mac: this.link.mac,
      up: this.link.up,
      evb: this.port.evb.state,
      operative: this.port.operative,
      neighbour: n ? { chassis: n.chassis, port: n.port, ttl: n.ttl } : null,
      vsis: this.station?.size ?? this.bridge?.size ?? 0,
    };
  }

  stop(): void {
    if (this.watch) clearInterval(this.watch);
    this.port.stop();
    for (const s of this.sockets) s.close();
    this.sockets = [];
  }
}
