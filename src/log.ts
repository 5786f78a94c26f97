/**
 * pino logging: JSON lines by default (machine-readable, one line per state change with
 * its reason), a pretty mode for people at a terminal.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LogOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  format: 'json' | 'pretty';
  /** file descriptor to write to (default 1, stdout) */
  fd?: number;
}

export function createLogger(opts: LogOptions, name = 'vdpd'): Logger {
  if (opts.format === 'pretty') {
    // In-process stream (not a worker transport): log order stays exact and exit is clean.
    return pino({ name, level: opts.level }, pretty({ colorize: false, destination: opts.fd ?? 1, sync: true, translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return pino({ name, level: opts.level }, pino.destination({ fd: opts.fd ?? 1, sync: false }));
}
