import { describe, expect, it } from 'vitest';
import { ConfigError, interfaceConfigFor, parseConfig } from '../../src/config.js';

function refuse(text: string): ConfigError {
  try {
    parseConfig(text, 'vdpd.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  it('fills defaults and resolves group address aliases', () => {
    const cfg = parseConfig('interfaces:\n  - name: eth0\n  - pattern: "ens*"\n    role: bridge\n    groupAddress: nb\n');
    expect(cfg.interfaces).toHaveLength(2);
    const eth0 = cfg.interfaces[0]!;
    expect(eth0.role).toBe('station');
    expect(eth0.groupAddress).toBe('01:80:c2:00:00:00');
    expect(eth0.evb).toEqual({ rte: 8, retries: 3, rwd: 20, rka: 20, rrreq: true, rrcap: true, gpid: false });
    expect(cfg.interfaces[1]!.groupAddress).toBe('01:80:c2:00:00:0e');
    expect(cfg.lldpadCompat.enabled).toBe(false);
    expect(cfg.deassocOnShutdown).toBe(false);
    expect(cfg.eventLoopResolutionMs).toBe(10);
    expect(cfg.warmUpVsis).toBe(0);
    expect(interfaceConfigFor(cfg, 'ens3')?.role).toBe('bridge');
    expect(interfaceConfigFor(cfg, 'eth0')?.role).toBe('station');
    expect(interfaceConfigFor(cfg, 'wlan0')).toBeUndefined();
  });

  it('applies per-interface EVB overrides over defaults', () => {
    const cfg = parseConfig('defaults:\n  evb: { rte: 14 }\ninterfaces:\n  - name: eth0\n    evb: { rka: 22, gpid: true }\n');
    expect(cfg.interfaces[0]!.evb).toMatchObject({ rte: 14, rka: 22, gpid: true, rwd: 20 });
  });

  it('refuses an out-of-range value with its line', () => {
    const e = refuse('log:\n  level: info\ninterfaces:\n  - name: eth0\n    evb:\n      rte: 40\n');
    expect(e.line).toBe(6);
    expect(e.message).toMatch(/vdpd\.yaml:6: interfaces\.0\.evb\.rte: must be an integer 0\.\.31, got 40/);
  });

  it('takes the event-loop monitor period from 1 to 1000 ms', () => {
    expect(parseConfig('eventLoopResolutionMs: 1\ninterfaces:\n  - name: eth0\n').eventLoopResolutionMs).toBe(1);
    expect(refuse('eventLoopResolutionMs: 0\ninterfaces:\n  - name: eth0\n').message).toMatch(/vdpd\.yaml:1: eventLoopResolutionMs: must be an integer 1\.\.1000, got 0/);
  });

  it('takes the warm-up size from 0 (off) to 100,000 VSIs', () => {
    expect(parseConfig('warmUpVsis: 4000\ninterfaces:\n  - name: eth0\n').warmUpVsis).toBe(4000);
    expect(refuse('warmUpVsis: -1\ninterfaces:\n  - name: eth0\n').message).toMatch(/vdpd\.yaml:1: warmUpVsis: must be an integer 0\.\.100000, got -1/);
  });

  it('refuses unknown keys (typos) with their line', () => {
    const e = refuse('interfaces:\n  - name: eth0\n    evb:\n      rtee: 8\n');
    expect(e.line).toBe(4);
    expect(e.reason).toMatch(/unknown key/);
  });

  it('refuses YAML syntax errors with the line', () => {
    const e = refuse('interfaces:\n  - name: eth0\n   bad: [\n');
    expect(e.line).toBeGreaterThanOrEqual(2);
    expect(e.reason).toMatch(/^YAML:/);
  });

  it('refuses a missing interface list, a bad group address, bridge policy on a station, reject without reason', () => {
    expect(refuse('log: {level: info}\n').reason).toMatch(/interfaces: is required/);
    expect(refuse('interfaces:\n  - name: eth0\n    groupAddress: nowhere\n').line).toBe(3);
    expect(refuse('interfaces:\n  - name: eth0\n    bridge: { policy: [] }\n').reason).toMatch(/only allowed with role: bridge/);
    const e = refuse('interfaces:\n  - name: eth0\n    role: bridge\n    bridge:\n      policy:\n        - match: { typeId: 5 }\n          action: reject\n');
    expect(e.reason).toMatch(/needs a reason code/);
  });

  it('parses a bridge policy', () => {
    const cfg = parseConfig(
      'interfaces:\n  - name: br0\n    role: bridge\n    bridge:\n      maxVsis: 10\n      policy:\n        - match: { typeId: 201 }\n          action: reject\n          reason: 2\n          hard: true\n        - match: { mac: "02:AA:00:00:00:01" }\n          assignVid: 300\n          pcp: 5\n',
    );
    const br = cfg.interfaces[0]!.bridge;
    expect(br.maxVsis).toBe(10);
    expect(br.policy[0]).toMatchObject({ action: 'reject', reason: 2, hard: true, match: { typeId: 201 }, line: 7 });
    expect(br.policy[1]).toMatchObject({ action: 'accept', assignVid: 300, pcp: 5, match: { mac: '02:aa:00:00:00:01' } });
  });

  it('refuses duplicate interfaces and names that cannot exist', () => {
    expect(refuse('interfaces:\n  - name: eth0\n  - name: eth0\n').reason).toMatch(/listed twice/);
    expect(refuse('interfaces:\n  - name: "a very long interface name"\n').reason).toMatch(/not a Linux interface name/);
  });
});
