/** vdpd ↔ vdpd with random frame loss on the veth (nftables ingress drop on both sides; this kernel has no sch_netem). */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { CommandOutcome } from '../../src/api/protocol.js';
import { requireCommand, VethLab } from '../../src/lab/netns.js';
import type { VdpdProc } from '../../src/lab/vdpd-proc.js';
import { prepare, sleep, startPair, stopPair, vsiSpec } from './helpers.js';

let dir = '';
let lab: VethLab;
let bridge: VdpdProc;
let station: VdpdProc;
let bc: ApiClient;
let sc: ApiClient;

beforeAll(async () => {
  dir = prepare();
  requireCommand('nft', 'nftables');
  lab = new VethLab().up();
  ({ bridge, station, bc, sc } = await startPair(lab, dir, {
    bridge: `role: bridge\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    evb: { rka: 17 }\n`,
    station: `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: 17 }\n`,
  }));
  lab.setLoss('station', 20);
  lab.setLoss('bridge', 20);
}, 60_000);

afterAll(async () => {
  await stopPair({ bridge, station, bc, sc });
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('20 % loss each way', () => {
  it('all 200 associations complete, and all survive several keep-alive rounds', async () => {
    const outs = (await Promise.all(
      Array.from({ length: 200 }, (_, i) => sc.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi: vsiSpec(i + 1), waitMs: 30_000 })),
    )) as { outcome: CommandOutcome }[];
    expect(outs.filter((o) => o.outcome.kind !== 'success').map((o) => o.outcome.kind)).toEqual([]);
    // frames really were lost and retransmitted
    const c = ((await sc.call({ op: 'counters', iface: lab.station.ifname })) as { ecp: { txRetransmit: number } }).ecp;
    expect(c.txRetransmit).toBeGreaterThan(0);
    // RKA 17: a keep-alive every 1.31 s, the bridge times out after 2 s of silence
    await sleep(8000);
    const rows = (await sc.call({ op: 'status', iface: lab.station.ifname })) as { state: string }[];
    expect(rows.filter((r) => r.state !== 'ASSOCIATED' && r.state !== 'TXMIT_KA')).toEqual([]);
    const table = (await bc.call({ op: 'list' })) as unknown[];
    expect(table).toHaveLength(200);
  });
});
