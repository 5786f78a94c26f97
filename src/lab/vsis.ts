/** The lab's numbered VSIs (the same scheme as the lldpad captures): VSI i has UUID …-<i> and MAC 02:76:64:<i>. */
import type { VsiSpec } from '../api/vsi-spec.js';

export function labVsi(i: number, extra: Partial<VsiSpec> = {}): VsiSpec {
  const hex = i.toString(16).padStart(12, '0');
  return {
    managerId: 'vdplab',
    typeId: 1193046,
    typeVersion: 1,
    vsiid: `76647000-0000-4000-8000-${hex}`,
    filters: [{ vid: 100, mac: `02:76:64:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}` }],
    ...extra,
  };
}
