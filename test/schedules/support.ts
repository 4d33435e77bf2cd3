// Helpers for schedule tests: build a crontab from cron order and list runs.

import { buildSchedule } from '../../src/schedules/index.js';
import { formatInstant } from '../../src/schedules/json-form.js';
import type { Schedule } from '../../src/schedules/types.js';

/** A crontab from "minute hour day_of_month month_of_year day_of_week" (cron order). */
export function cron(expression: string, timezone = 'UTC'): Schedule {
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = expression.split(' ');
  return buildSchedule({
    kind: 'crontab',
    minute: minute!,
    hour: hour!,
    dayOfMonth: dayOfMonth!,
    monthOfYear: monthOfYear!,
    dayOfWeek: dayOfWeek!,
    timezone,
  });
}

/**
 * The next `count` runs after `after`, each from the previous, as `...Z`
 * strings; stops early at the first run at or after `until`.
 */
export function runs(schedule: Schedule, after: string, count: number, until?: string): string[] {
  const result: string[] = [];
  const end = until === undefined ? Number.POSITIVE_INFINITY : Date.parse(until);
  let last: Date | null = new Date(after);
  while (result.length < count) {
    last = schedule.nextAfter(last);
    if (last === null || last.getTime() >= end) break;
    result.push(formatInstant(last));
  }
  return result;
}
