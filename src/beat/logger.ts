import pino, { type Logger } from 'pino';

import type { ResolvedConfig } from '../config.js';

export type { Logger };

/** The beat's logger: JSON lines on stdout, or in the file given with -f/--logfile. */
export function createLogger(options: Pick<ResolvedConfig, 'logLevel' | 'logFile'>): Logger {
  const destination = options.logFile
    ? pino.destination({ dest: options.logFile, mkdir: true, sync: false })
    : pino.destination({ dest: 1, sync: false });
  return pino({ level: options.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
