import pino, { type DestinationStream, type Logger } from 'pino';

import type { ResolvedConfig } from '../config.js';

export type { Logger };

/** pino's numeric levels as Celery names them. */
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

/**
 * The beat's logger: on stdout, or in the file given with -f/--logfile; `json` writes one
 * object a line, `text` writes lines as Celery beat prints them:
 * `[2026-11-30 15:40:01,123: INFO/MainProcess] message`.
 */
export function createLogger(
  options: Pick<ResolvedConfig, 'logLevel' | 'logFile'> & Partial<Pick<ResolvedConfig, 'logFormat'>>,
): Logger {
  const destination = options.logFile
    ? pino.destination({ dest: options.logFile, mkdir: true, sync: false })
    : pino.destination({ dest: 1, sync: false });
  const stream = options.logFormat === 'text' ? textLines(destination) : destination;
  return pino(
    { level: options.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    stream,
  );
}

/** A stream that turns pino's JSON lines into Celery-style text lines on `out`. */
function textLines(out: ReturnType<typeof pino.destination>): DestinationStream {
  return Object.assign(Object.create(null) as object, {
    write: (line: string) => out.write(`${formatTextLine(line)}\n`),
    // logger.flush() reaches the file or stdout through these.
    flush: (callback?: (error?: Error) => void) => out.flush(callback),
    flushSync: () => out.flushSync(),
  });
}

/** One JSON log line as text: time (local, as Celery shows it), level, message, and an error's message. */
export function formatTextLine(line: string): string {
  let entry: { time?: string; level?: number; msg?: string; err?: { message?: string } };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return line.trimEnd();
  }
  const time = entry.time === undefined ? new Date() : new Date(entry.time);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const stamp =
    `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ` +
    `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())},${pad(time.getMilliseconds(), 3)}`;
  const level = LEVEL_NAMES[entry.level ?? 30] ?? String(entry.level);
  const error =
    entry.err?.message !== undefined && !(entry.msg ?? '').includes(entry.err.message) ? `: ${entry.err.message}` : '';
  return `[${stamp}: ${level}/MainProcess] ${entry.msg ?? ''}${error}`;
}
