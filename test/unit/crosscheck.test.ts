/**
 * Independent decoders agree with vdpd's encoders: frames vdpd builds, written to a pcap
 * with vdpd's writer, read back by tcpdump -vv (ratified EVB TLV, CDCP) and tshark -T json
 * (draft EVB TLV via `lldp`, ECP header via `ecp21`, Assoc/DeAssoc via `vdp21` up to the
 * filter format). Where tshark 4.0 is wrong, the disagreement is asserted exactly, with the
 * reason, so a change in tshark is noticed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../pdu/bytes.js';
import { encodeEcp22 } from '../../pdu/ecp.js';
import { encodeEthernet } from '../../pdu/ethernet.js';
import { encodeLldpdu } from '../../pdu/lldp.js';
import { encodeVdpEntries } from '../../pdu/vdp.js';
import type { CdcpTlv, EvbDraftTlv, EvbTlv, LldpTlv, VsiMode, VsiTlv } from '../../pdu/types.js';
import { PcapWriter } from '../../src/pcap/file.js';

function need(cmd: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${cmd} is not installed: apt-get install ${pkg} (scripts/setup.sh does)`);
  }
}

const SRC = '02:76:64:70:00:01';
const head: LldpTlv[] = [
  { kind: 'chassis-id', subtype: 4, id: fromHex('027664700001') },
  { kind: 'port-id', subtype: 3, id: fromHex('027664700001') },
  { kind: 'ttl', seconds: 120 },
];

const evbs: EvbTlv[] = [
  { bgid: false, rrcap: true, rrctr: false, bridgeReserved: 0, sgid: false, rrreq: false, rrstat: 0, stationReserved: 0, r: 3, rte: 8, evbMode: 1, rolRwd: false, rwd: 20, rkaReserved: 0, rolRka: false, rka: 20 },
  { bgid: true, rrcap: true, rrctr: true, bridgeReserved: 0, sgid: true, rrreq: true, rrstat: 1, stationReserved: 0, r: 7, rte: 31, evbMode: 2, rolRwd: true, rwd: 5, rkaReserved: 0, rolRka: true, rka: 27 },
  { bgid: false, rrcap: false, rrctr: false, bridgeReserved: 0, sgid: true, rrreq: true, rrstat: 3, stationReserved: 0, r: 0, rte: 14, evbMode: 2, rolRwd: false, rwd: 31, rkaReserved: 0, rolRka: false, rka: 0 },
];
const cdcps: CdcpTlv[] = [
  { role: 1, scomp: true, reserved: 0, chnCap: 167, channels: [{ scid: 1, svid: 1 }, { scid: 2, svid: 100 }] },
  { role: 0, scomp: false, reserved: 0, chnCap: 4095, channels: [] },
];
const draft: EvbDraftTlv = { supportedForwarding: 0xc0, supportedCapabilities: 7, configuredForwarding: 0x40, configuredCapabilities: 3, supportedVsis: 3295, configuredVsis: 100, rte: 15 };

function vsi(mode: VsiMode, status: number, typeId: number, mac: string, vid: number, pcp = 0, ps = false): VsiTlv {
  return {
    kind: 'vsi',
    mode,
    status,
    typeId,
    typeVersion: 7,
    vsiidFormat: 5,
    vsiid: fromHex('76647000000040008000000000000042'),
    filterFormat: 2,
    filters: [{ mac, vid, pcp, ps }],
  };
}
const vsis: VsiTlv[] = [
  vsi('assoc', 0x00, 0x123456, '02:76:64:00:00:01', 100),
  vsi('assoc', 0x40, 0xabcdef, '02:aa:bb:cc:dd:ee', 4094, 5, true),
  vsi('deassoc', 0x00, 0x000001, '02:00:00:00:12:34', 7),
  vsi('deassoc', 0x72, 0x654321, '02:11:22:33:44:55', 1), // response, KEEP, HARD, reason 2
  vsi('assoc', 0x30, 0x010203, '02:01:02:03:04:05', 9), // request with M and S hints
  vsi('preassoc', 0x00, 0x111111, '02:00:00:00:00:09', 9),
  vsi('preassoc-rr', 0x40, 0x222222, '02:00:00:00:00:0a', 9),
];

let dir = '';
let pcap = '';
const frames: Uint8Array[] = [];

beforeAll(() => {
  need('tcpdump', 'tcpdump');
  need('tshark', 'tshark');
  dir = mkdtempSync(join(tmpdir(), 'vdpd-xcheck-'));
  const lldp = (tlv: LldpTlv, dst = '01:80:c2:00:00:00'): Uint8Array => encodeEthernet({ dst, src: SRC, ethertype: 0x88cc }, encodeLldpdu({ tlvs: [...head, tlv, { kind: 'end' }] }));
  for (const e of evbs) frames.push(lldp({ kind: 'evb', ...e }));
  for (const c of cdcps) frames.push(lldp({ kind: 'cdcp', ...c }, '01:80:c2:00:00:03'));
  frames.push(lldp({ kind: 'evb-draft', ...draft }));
  vsis.forEach((v, i) => {
    const ulpdu = encodeVdpEntries([{ managerId: fromHex('7664706c616200000000000000000000'), vsi: v, org: [] }]);
    frames.push(encodeEthernet({ dst: '01:80:c2:00:00:00', src: SRC, ethertype: 0x8940 }, encodeEcp22({ version: 1, op: 0, subtype: 1, sequence: 100 + i, ulpdu })));
  });
  frames.push(encodeEthernet({ dst: '01:80:c2:00:00:00', src: SRC, ethertype: 0x8940 }, encodeEcp22({ version: 1, op: 1, subtype: 1, sequence: 0xfffe, ulpdu: new Uint8Array(0) })));
  const w = new PcapWriter({ path: join(dir, 'vdpd') });
  frames.forEach((f, i) => w.write(1_700_000_000_000_000_000n + BigInt(i) * 1000n, f));
  w.close();
  pcap = w.files[0]!;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** tcpdump -vv output split per packet */
function tcpdumpPackets(): string[] {
  const out = execFileSync('tcpdump', ['-vv', '-n', '-r', pcap], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split(/\n(?=\d\d:\d\d:\d\d\.)/);
}

type Json = Record<string, unknown>;
function tsharkPackets(): Json[] {
  const out = execFileSync('tshark', ['-r', pcap, '-T', 'json', '--no-duplicate-keys'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  return (JSON.parse(out) as { _source: { layers: Json } }[]).map((p) => p._source.layers);
}

/** every value of a field anywhere in a tshark layer tree */
function fieldValues(o: unknown, name: string, acc: string[] = []): string[] {
  if (Array.isArray(o)) for (const x of o) fieldValues(x, name, acc);
  else if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      if (k === name) {
        if (Array.isArray(v)) acc.push(...v.map(String));
        else acc.push(String(v));
      } else fieldValues(v, name, acc);
    }
  }
  return acc;
}
const num = (s: string | undefined): number => Number(s);

describe('tcpdump -vv reads the ratified EVB TLV and CDCP as vdpd wrote them', () => {
  it('EVB TLV fields', () => {
    const pkts = tcpdumpPackets();
    evbs.forEach((e, i) => {
      const p = pkts[i]!;
      expect(p).toContain('EVB Subtype (13)');
      const br = /RES: (\d+), BGID: (\d), RRCAP: (\d), RRCTR: (\d)/.exec(p)!;
      expect(br.slice(1).map(Number)).toEqual([e.bridgeReserved, +e.bgid, +e.rrcap, +e.rrctr]);
      const st = /RES: (\d+), SGID: (\d), RRREQ: (\d),RRSTAT: (\d)/.exec(p)!;
      expect(st.slice(1).map(Number)).toEqual([e.stationReserved, +e.sgid, +e.rrreq, e.rrstat]);
      const rr = /R: (\d+), RTE: (\d+), EVB Mode: [^[]*\[(\d)\]/.exec(p)!;
      expect(rr.slice(1).map(Number)).toEqual([e.r, e.rte, e.evbMode]);
      const rol = /ROL: (\d), RWD: (\d+), RES: (\d+), ROL: (\d), RKA: (\d+)/.exec(p)!;
      expect(rol.slice(1).map(Number)).toEqual([+e.rolRwd, e.rwd, e.rkaReserved, +e.rolRka, e.rka]);
    });
  });

  it('CDCP TLV fields and S-channel list', () => {
    const pkts = tcpdumpPackets();
    cdcps.forEach((c, i) => {
      const p = pkts[evbs.length + i]!;
      expect(p).toContain('CDCP Subtype (14)');
      const h = /Role: (\d), RES: (\d+), Scomp: (\d) ChnCap: (\d+)/.exec(p)!;
      expect(h.slice(1).map(Number)).toEqual([c.role, c.reserved, +c.scomp, c.chnCap]);
      const ch = [...p.matchAll(/SCID: (\d+), SVID: (\d+)/g)].map((m) => ({ scid: Number(m[1]), svid: Number(m[2]) }));
      expect(ch).toEqual(c.channels);
    });
  });
});

describe('tshark -T json agrees on the draft EVB TLV, the ECP header and the VDP TLVs it decodes', () => {
  it('draft EVB TLV (lldp.ieee.802_1qbg.*)', () => {
    const p = tsharkPackets()[evbs.length + cdcps.length]!;
    expect(num(fieldValues(p, 'lldp.ieee.802_1qbg.evb_support_caps')[0])).toBe((draft.supportedForwarding << 8) | draft.supportedCapabilities);
    expect(num(fieldValues(p, 'lldp.ieee.802_1qbg.evb_configure_caps')[0])).toBe((draft.configuredForwarding << 8) | draft.configuredCapabilities);
    expect(num(fieldValues(p, 'lldp.ieee.802_1qbg.evb_supported_vsi')[0])).toBe(draft.supportedVsis);
    expect(num(fieldValues(p, 'lldp.ieee.802_1qbg.evb_configured_vsi')[0])).toBe(draft.configuredVsis);
    expect(num(fieldValues(p, 'lldp.ieee.802_1qbg.evb_retrans_timer')[0])).toBe(draft.rte);
  });

  it('ECP22 header (ecp21: ecp.ver/op/subtype/seqno) on requests and the ACK', () => {
    const pkts = tsharkPackets();
    const ecpFrames = pkts.slice(evbs.length + cdcps.length + 1);
    expect(ecpFrames).toHaveLength(vsis.length + 1);
    ecpFrames.forEach((p, i) => {
      const isAck = i === vsis.length;
      expect(num(fieldValues(p, 'ecp.ver')[0])).toBe(1);
      expect(num(fieldValues(p, 'ecp.op')[0])).toBe(isAck ? 1 : 0);
      expect(num(fieldValues(p, 'ecp.subtype')[0])).toBe(1);
      expect(num(fieldValues(p, 'ecp.seqno')[0])).toBe(isAck ? 0xfffe : 100 + i);
      expect(JSON.stringify(p)).not.toMatch(/malformed/i);
    });
  });

  it('Assoc/DeAssoc TLVs (vdp21) up to the filter format, with the documented disagreements', () => {
    const pkts = tsharkPackets().slice(evbs.length + cdcps.length + 1);
    vsis.forEach((v, i) => {
      const p = pkts[i]!;
      const types = fieldValues(p, 'vdp21.tlvtype').map(Number);
      // Manager ID TLV (5) then the VSI TLV
      expect(types).toEqual([5, { preassoc: 1, 'preassoc-rr': 2, assoc: 3, deassoc: 4 }[v.mode]]);
      expect(fieldValues(p, 'vdp21.tlvlen').map(Number)).toEqual([16, 33]);
      if (v.mode === 'preassoc' || v.mode === 'preassoc-rr') {
        // Disagreement 1 — tshark 4.0's vdp21 decodes PreAssoc and PreAssoc-RR TLVs as type and
        // length only: none of the body fields exist. vdpd decodes the whole TLV (the standard
        // gives all four VSI TLVs the same layout).
        expect(fieldValues(p, 'vdp21.vsitypeid')).toEqual([]);
        return;
      }
      expect(num(fieldValues(p, 'vdp21.vsitypeid')[0])).toBe(v.typeId);
      expect(num(fieldValues(p, 'vdp21.vsiversion')[0])).toBe(v.typeVersion);
      expect(num(fieldValues(p, 'vdp21.vsiidformat')[0])).toBe(v.vsiidFormat);
      expect(fieldValues(p, 'vdp21.VSIID')[0]!.replace(/:/g, '')).toBe(toHex(v.vsiid));
      expect(num(fieldValues(p, 'vdp21.filterformat')[0])).toBe(v.filterFormat);
      const response = (v.status & 0x40) !== 0;
      expect(fieldValues(p, 'vdp21.assoc.flags.req_rsp')[0]).toBe(response ? '1' : '0');
      if (response) {
        expect(fieldValues(p, 'vdp21.assoc.flags.keep')[0]).toBe((v.status & 0x20) !== 0 ? '1' : '0');
        expect(fieldValues(p, 'vdp21.assoc.flags.hard_error')[0]).toBe((v.status & 0x10) !== 0 ? '1' : '0');
        expect(num(fieldValues(p, 'vdp21.assoc.error')[0])).toBe(v.status & 0x0f);
      } else {
        expect(fieldValues(p, 'vdp21.assoc.flags.mbit')[0]).toBe((v.status & 0x10) !== 0 ? '1' : '0');
        expect(fieldValues(p, 'vdp21.assoc.flags.sbit')[0]).toBe((v.status & 0x20) !== 0 ? '1' : '0');
      }
      // Disagreement 2 — vdp21 has no "number of entries" field: it reads the MAC starting at the
      // 2-octet entry count (so count(2) + MAC[0..3]) and the PS/PCP/VID from MAC[4..5]. The
      // captures and the standard have the count; vdpd is right, tshark is shifted by 2 octets.
      const f = v.filters[0]!;
      const macBytes = fromHex(f.mac!);
      const shifted = [0, 1, ...macBytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(':');
      expect(fieldValues(p, 'vdp21.assoc.mac_id')[0]).toBe(shifted);
      const fake = (macBytes[4]! << 8) | macBytes[5]!;
      expect(num(fieldValues(p, 'vdp21.vidstr.vid')[0])).toBe(fake & 0xfff);
      expect(num(fieldValues(p, 'vdp21.vidstr.vid')[0])).not.toBe(f.vid);
    });
  });

  it('the VSI Manager ID is shown by vdp21 as an IPv6 address (its choice of rendering, same 16 octets)', () => {
    const p = tsharkPackets()[evbs.length + cdcps.length + 1]!;
    expect(fieldValues(p, 'vdp21.manager_id')[0]).toBe('7664:706c:6162::');
  });
});
