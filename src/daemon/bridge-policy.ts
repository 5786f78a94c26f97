/** The bridge emulator's policy rules from the config file, compiled to a policy function (first match wins). */
import { toHex } from '../../pdu/bytes.js';
import type { BridgeDecision, BridgePolicy } from '../../fsm/vdp-bridge-engine.js';
import { managerIdToBytes, vsiidToString } from '../api/vsi-spec.js';
import type { PolicyRule } from '../config.js';

export function compilePolicy(rules: PolicyRule[]): BridgePolicy {
  const compiled = rules.map((r) => ({ r, mgr: r.match.managerId !== undefined ? toHex(managerIdToBytes(r.match.managerId)) : undefined }));
  return (req) => {
    const v = req.entry.vsi;
    for (const { r, mgr } of compiled) {
      const m = r.match;
      if (m.typeId !== undefined && m.typeId !== v.typeId) continue;
      if (m.typeVersion !== undefined && m.typeVersion !== v.typeVersion) continue;
      if (m.mode !== undefined && m.mode !== req.mode) continue;
      if (mgr !== undefined && mgr !== toHex(req.entry.managerId)) continue;
      if (m.vsiid !== undefined && m.vsiid !== vsiidToString(v.vsiidFormat, v.vsiid)) continue;
      if (m.mac !== undefined && !v.filters.some((f) => f.mac === m.mac)) continue;
      const d: BridgeDecision = { action: r.action };
      if (r.reason !== undefined) d.reason = r.reason;
      if (r.hard !== undefined) d.hard = r.hard;
      if (r.assignVid !== undefined) d.assignVid = r.assignVid === 'type-id' ? v.typeId & 0xfff : r.assignVid;
      if (r.pcp !== undefined) d.pcp = r.pcp;
      if (r.delayMs !== undefined) d.delayMs = r.delayMs;
      if (r.deassocAfterMs !== undefined) d.deassocAfterMs = r.deassocAfterMs;
      if (r.dropAckPercent !== undefined) d.dropAckPercent = r.dropAckPercent;
      return d;
    }
    return { action: 'accept' };
  };
}
