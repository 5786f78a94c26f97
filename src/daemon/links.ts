import { readdirSync } from 'node:fs';

/** Interface names of the current network namespace (for config patterns). */
export function listInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}
