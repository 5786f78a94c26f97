import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyzeFile } from '../../../src/replay/analyze.js';

const CAP = join(import.meta.dirname, '..', '..', '..', 'captures', 'lldpad-vdp22-keepalive.pcap');

describe('replay: collapsed and full timelines', () => {
  it('collapses uneventful keep-alive runs into one line with the same figures --full lists one by one', async () => {
    const short = (await analyzeFile(CAP)).report;
    const full = (await analyzeFile(CAP, { full: true })).report;
    for (const v of full.vsis) {
      const kas = v.timeline.filter((e) => e.kind === 'keepalive');
      expect(kas.length).toBe(v.keepalives);
      const s = short.vsis.find((x) => x.vsiid === v.vsiid)!;
      const run = s.timeline.find((e) => e.kind === 'keepalives');
      expect(run?.count).toBe(v.keepalives);
      expect(run?.frame).toBe(kas[0]!.frame);
      const resps = v.timeline.filter((e) => e.kind === 'response').slice(1);
      expect(run?.lastFrame).toBe(resps[resps.length - 1]!.frame);
      expect(run?.maxLatencyMs).toBe(Math.max(...resps.map((r) => r.latencyMs!)));
    }
    // the ECP list keeps only eventful ECPDUs unless --full
    expect(full.ecp.directions[0]!.list.length).toBe(full.ecp.directions[0]!.ecpdus);
    expect(short.ecp.directions[0]!.list.length).toBeLessThan(full.ecp.directions[0]!.list.length);
    expect(short.findings).toEqual(full.findings);
  });
});
