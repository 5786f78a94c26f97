/** fast-check generators of valid wire values, shared by the property and mutation tests. */
import fc from 'fast-check';
import { macToString } from '../../../pdu/bytes.js';
import type { CdcpTlv, EvbDraftTlv, EvbTlv, FilterEntry, LldpTlv, VdpEntry, VdpTlv, VsiMode, VsiTlv } from '../../../pdu/types.js';
import { MAX_FILTERS } from '../../../pdu/vdp.js';

export const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macToString(b));
export const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });

export const evb: fc.Arbitrary<EvbTlv> = fc.record({
  bgid: fc.boolean(),
  rrcap: fc.boolean(),
  rrctr: fc.boolean(),
  bridgeReserved: fc.integer({ min: 0, max: 31 }),
  sgid: fc.boolean(),
  rrreq: fc.boolean(),
  rrstat: fc.integer({ min: 0, max: 3 }),
  stationReserved: fc.integer({ min: 0, max: 15 }),
  r: fc.integer({ min: 0, max: 7 }),
  rte: fc.integer({ min: 0, max: 31 }),
  evbMode: fc.integer({ min: 0, max: 3 }),
  rolRwd: fc.boolean(),
  rwd: fc.integer({ min: 0, max: 31 }),
  rkaReserved: fc.integer({ min: 0, max: 3 }),
  rolRka: fc.boolean(),
  rka: fc.integer({ min: 0, max: 31 }),
});

export const evbDraft: fc.Arbitrary<EvbDraftTlv> = fc.record({
  supportedForwarding: fc.integer({ min: 0, max: 255 }),
  supportedCapabilities: fc.integer({ min: 0, max: 255 }),
  configuredForwarding: fc.integer({ min: 0, max: 255 }),
  configuredCapabilities: fc.integer({ min: 0, max: 255 }),
  supportedVsis: fc.integer({ min: 0, max: 0xffff }),
  configuredVsis: fc.integer({ min: 0, max: 0xffff }),
  rte: fc.integer({ min: 0, max: 255 }),
});

export const cdcp: fc.Arbitrary<CdcpTlv> = fc.record({
  role: fc.integer({ min: 0, max: 1 }),
  scomp: fc.boolean(),
  reserved: fc.integer({ min: 0, max: (1 << 18) - 1 }),
  chnCap: fc.integer({ min: 0, max: 0xfff }),
  channels: fc.array(fc.record({ scid: fc.integer({ min: 0, max: 0xfff }), svid: fc.integer({ min: 0, max: 0xfff }) }), { maxLength: 20 }),
});

export const lldpTlv: fc.Arbitrary<LldpTlv> = fc.oneof(
  evb.map((t): LldpTlv => ({ kind: 'evb', ...t })),
  evbDraft.map((t): LldpTlv => ({ kind: 'evb-draft', ...t })),
  cdcp.map((t): LldpTlv => ({ kind: 'cdcp', ...t })),
  fc
    .record({ oui: fc.integer({ min: 0, max: 0xffffff }), subtype: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 100 }) })
    // skip the OUI/subtype pairs that decode to a specific kind
    .filter((o) => !((o.oui === 0x0080c2 && (o.subtype === 0x0d || o.subtype === 0x0e)) || (o.oui === 0x001b3f && o.subtype === 0)))
    .map((o): LldpTlv => ({ kind: 'org', ...o })),
  fc.record({ tlvType: fc.integer({ min: 4, max: 126 }), value: fc.uint8Array({ maxLength: 100 }) }).map((o): LldpTlv => ({ kind: 'unknown', ...o })),
);

export const lldpdu = fc
  .record({
    chassis: fc.record({ subtype: fc.integer({ min: 0, max: 255 }), id: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    port: fc.record({ subtype: fc.integer({ min: 0, max: 255 }), id: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    ttl: fc.integer({ min: 0, max: 0xffff }),
    rest: fc.array(lldpTlv, { maxLength: 4 }),
  })
  .map(({ chassis, port, ttl, rest }) => ({
    tlvs: [{ kind: 'chassis-id' as const, ...chassis }, { kind: 'port-id' as const, ...port }, { kind: 'ttl' as const, seconds: ttl }, ...rest, { kind: 'end' as const }],
  }));

export function filterEntry(format: number): fc.Arbitrary<FilterEntry> {
  return fc
    .record({
      vid: fc.integer({ min: 0, max: 4095 }),
      pcp: fc.integer({ min: 0, max: 7 }),
      ps: fc.boolean(),
      mac,
      groupId: fc.integer({ min: 0, max: 0xffffffff }),
    })
    .map(({ vid, pcp, ps, mac: m, groupId }) => {
      const e: FilterEntry = { vid, pcp, ps };
      if (format === 3 || format === 4) e.groupId = groupId;
      if (format === 2 || format === 4) e.mac = m;
      return e;
    });
}

export const vsiMode = fc.constantFrom<VsiMode>('preassoc', 'preassoc-rr', 'assoc', 'deassoc');

export const vsi: fc.Arbitrary<VsiTlv> = fc.integer({ min: 1, max: 4 }).chain((filterFormat) =>
  fc.record({
    kind: fc.constant('vsi' as const),
    mode: vsiMode,
    status: fc.integer({ min: 0, max: 255 }),
    typeId: fc.integer({ min: 0, max: 0xffffff }),
    typeVersion: fc.integer({ min: 0, max: 255 }),
    vsiidFormat: fc.integer({ min: 1, max: 5 }),
    vsiid: bytes16,
    filterFormat: fc.constant(filterFormat),
    filters: fc.array(filterEntry(filterFormat), { minLength: 0, maxLength: Math.min(8, MAX_FILTERS[filterFormat]!) }),
  }),
);

export const vdpEntry: fc.Arbitrary<VdpEntry> = fc.record({
  managerId: bytes16,
  vsi,
  org: fc.array(fc.record({ oui: fc.integer({ min: 0, max: 0xffffff }), data: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 2 }),
});

export const vdpTlv: fc.Arbitrary<VdpTlv> = fc.oneof(
  vsi,
  bytes16.map((managerId): VdpTlv => ({ kind: 'mgrid', managerId })),
  fc.record({ oui: fc.integer({ min: 0, max: 0xffffff }), data: fc.uint8Array({ maxLength: 60 }) }).map((o): VdpTlv => ({ kind: 'org', ...o })),
  fc.record({ tlvType: fc.integer({ min: 6, max: 126 }), value: fc.uint8Array({ maxLength: 60 }) }).map((o): VdpTlv => ({ kind: 'unknown', ...o })),
);
