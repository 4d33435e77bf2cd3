// The schedule engine: pure time arithmetic, no database and no broker.

import { createClockedSchedule } from './clocked.js';
import { CrontabSchedule } from './crontab/schedule.js';
import { ScheduleError } from './errors.js';
import { createIntervalSchedule } from './interval.js';
import { createSolarSchedule } from './solar.js';
import type { DueCheck, Schedule, ScheduleSpec } from './types.js';

export { ClockedSchedule } from './clocked.js';
export { type CrontabFieldName, parseCrontabField } from './crontab/parser.js';
export { type CrontabRun, CrontabSchedule, type CrontabSpec } from './crontab/schedule.js';
export { ScheduleError } from './errors.js';
export { IntervalSchedule } from './interval.js';
export { zoneProblem } from './zone.js';
export type * from './types.js';

/**
 * Validates a schedule row and builds its schedule.
 *
 * Rejects everything Celery 5.2 rejects (and a few things it only fails on
 * later, like an unknown time zone), naming the field.
 *
 * @throws ScheduleError with `field` such as "crontab.minute", "crontab.timezone",
 *   "interval.every", "interval.period", "solar.event", "clocked.clocked_time".
 */
export function buildSchedule(spec: ScheduleSpec): Schedule {
  switch (spec.kind) {
    case 'crontab':
      return new CrontabSchedule(spec);
    case 'interval':
      return createIntervalSchedule(spec);
    case 'clocked':
      return createClockedSchedule(spec);
    case 'solar':
      return createSolarSchedule(spec);
    default:
      throw new ScheduleError('kind', (spec as { kind: unknown }).kind, 'is not a schedule kind');
  }
}

/**
 * Celery's `is_due`: due when the first run after `lastRunAt` is at or before
 * `now`.
 *
 * `nextCheckMs` is the time from `now` to the run after `now` when due, else to
 * the pending run; `Infinity` when there is no run to come (a clocked time
 * passed), so callers should cap it with their max interval before setTimeout.
 */
export function isDue(schedule: Schedule, lastRunAt: Date, now: Date): DueCheck {
  const next = schedule.nextAfter(lastRunAt);
  if (next === null) return { due: false, nextCheckMs: Number.POSITIVE_INFINITY };
  const due = next.getTime() <= now.getTime();
  const upcoming = due ? schedule.nextAfter(now) : next;
  const nextCheckMs = upcoming === null ? Number.POSITIVE_INFINITY : Math.max(0, upcoming.getTime() - now.getTime());
  return { due, nextCheckMs };
}
