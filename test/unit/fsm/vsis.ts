/** Test VSIs for the in-memory machines: UUID VSIID i, one MAC/VID filter, manager "vdplab". */
import { fromHex, uuidToBytes } from '../../../pdu/bytes.js';
import type { VsiWire } from '../../../fsm/vsi.js';

export const testVsi = (i: number): VsiWire => ({
  managerId: fromHex('7664706c616200000000000000000000'),
  typeId: 0x123456,
  typeVersion: 1,
  vsiidFormat: 5,
  vsiid: uuidToBytes(`76647000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`),
  filterFormat: 2,
  filters: [{ mac: `02:76:64:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, vid: 100, pcp: 0, ps: false }],
  hints: 0,
});
