/**
 * The libconfig file an lldpad peer starts from. The VDP22 role is latched when lldpad
 * first starts ECP/VDP, so `evbmode` (and the timers) must be in this file before the
 * daemon runs; setting them later with lldptool only changes what the EVB TLV says.
 * Keys and ranges: docs/vdp-reference.md §2.3.1.
 */
import { LabError } from './netns.js';

export type LldpadRole = 'bridge' | 'station';

/** EVB22 policy (tlvid0080c20d). Unset timers are left to lldpad's defaults (R 3, RTE 8, RWD 20, RKA 20). */
export interface LldpadEvb {
  /** ECP retransmission timer exponent, 0..31 (`ecprte`) */
  rte?: number;
  /** ECP max retries, 0..7 (`ecpretries`) */
  retries?: number;
  /** resource-wait-delay exponent, 0..31 (`vdprwd`) */
  rwd?: number;
  /** reinit-keep-alive exponent, 0..31 (`vdprka`) */
  rka?: number;
  /** station asks for reflective relay (`evbrrreq`, station only; default true) */
  rrreq?: boolean;
  /** bridge offers reflective relay (`evbrrcap`, bridge only; default true) */
  rrcap?: boolean;
  /** group ID support (`evbgpid`; default false) */
  gpid?: boolean;
  /** send the EVB TLV at all (`enableTx`; default true — without it VDP refuses every request) */
  enableTx?: boolean;
}

function checkRange(name: string, v: number | undefined, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) {
    throw new LabError(`lldpad EVB ${name} must be an integer 0..${max}, got ${v}`);
  }
}

/** The EVB settings as lldptool `-V evb -c key=value` pairs, in the order the config file lists them. */
export function evbSettings(role: LldpadRole, evb: LldpadEvb = {}): [string, string][] {
  checkRange('rte', evb.rte, 31);
  checkRange('retries', evb.retries, 7);
  checkRange('rwd', evb.rwd, 31);
  checkRange('rka', evb.rka, 31);
  const yes = (b: boolean) => (b ? 'true' : 'false');
  const out: [string, string][] = [
    ['enableTx', yes(evb.enableTx ?? true)],
    ['evbmode', `"${role}"`],
    // lldpad reads only the key of its own role; writing both keeps the file explicit
    ['evbrrreq', yes(role === 'station' && (evb.rrreq ?? true))],
    ['evbrrcap', yes(role === 'bridge' && (evb.rrcap ?? true))],
    ['evbgpid', yes(evb.gpid ?? false)],
  ];
  if (evb.rte !== undefined) out.push(['ecprte', String(evb.rte)]);
  if (evb.retries !== undefined) out.push(['ecpretries', String(evb.retries)]);
  if (evb.rwd !== undefined) out.push(['vdprwd', String(evb.rwd)]);
  if (evb.rka !== undefined) out.push(['vdprka', String(evb.rka)]);
  return out;
}

/** Interface names go into libconfig as a group name: keep to what the kernel allows and libconfig parses. */
function checkIfname(ifname: string): void {
  if (!/^[A-Za-z][-A-Za-z0-9_]{0,14}$/.test(ifname)) {
    throw new LabError(`interface name ${JSON.stringify(ifname)} cannot be used as a libconfig group name (letter first, then letters, digits, - or _)`);
  }
}

/**
 * The whole -f file: LLDP rx+tx on the nearest-customer-bridge agent (the only agent lldpad
 * runs EVB22/VDP22 on) with the EVB TLV policy. lldpad rewrites this file while it runs.
 */
export function renderLldpadConfig(ifname: string, role: LldpadRole, evb: LldpadEvb = {}): string {
  checkIfname(ifname);
  const keys = evbSettings(role, evb)
    .map(([k, v]) => `      ${k} = ${v};`)
    .join('\n');
  return `# written by vdpd's lab (src/lab/lldpad-config.ts), ${role} role; lldpad rewrites this file
# evbmode must be here at start-up: lldpad latches the VDP22 role when it starts ECP/VDP
dcbx :
{
  version = "1.0";
  dcbx_version = 2;
};
nearest_customer_bridge :
{
  ${ifname} :
  {
    adminStatus = 3;
    tlvid0080c20d :
    {
${keys}
    };
  };
};
`;
}
