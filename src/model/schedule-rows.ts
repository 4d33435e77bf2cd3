// The checks of the four schedule rows (crontab, interval, solar, clocked): column
// lengths and ranges here, the fields themselves by the schedule engine, so there is
// exactly one parser for each of them.
import { ScheduleError } from '../schedules/errors.js';
import { buildSchedule } from '../schedules/index.js';
import type { Schedule, ScheduleSpec } from '../schedules/types.js';
import {
  type CheckResult,
  hasMoreCharactersThan,
  fail,
  issue,
  isValidDate,
  toNumber,
  tooLong,
  type ValidationIssue,
} from './issues.js';

/** A Prisma Decimal, a number, or its text: what a `numeric` column arrives as. */
export type DecimalLike = number | string | { toString(): string };

/** CrontabSchedule's columns; omitted ones take the table's defaults (`*`, `UTC`). */
export interface CrontabFields {
  minute?: string;
  hour?: string;
  dayOfWeek?: string;
  dayOfMonth?: string;
  monthOfYear?: string;
  timezone?: string;
}

/** IntervalSchedule's columns. */
export interface IntervalFields {
  every: number;
  period: string;
}

/** SolarSchedule's columns. */
export interface SolarFields {
  event: string;
  latitude: DecimalLike;
  longitude: DecimalLike;
}

/** ClockedSchedule's columns. */
export interface ClockedFields {
  clockedTime: Date;
}

/** The largest value of a PostgreSQL int column. */
export const MAX_INT4 = 2_147_483_647;

// varchar lengths of django_celery_beat_crontabschedule, in the order Django declares them.
const CRONTAB_COLUMNS = [
  ['minute', 'minute', 240],
  ['hour', 'hour', 96],
  ['dayOfWeek', 'day_of_week', 64],
  ['dayOfMonth', 'day_of_month', 124],
  ['monthOfYear', 'month_of_year', 64],
  ['timezone', 'timezone', 63],
] as const;

/** Checks a crontab row: column lengths here, fields and time zone by the schedule engine. */
export function checkCrontab(fields: CrontabFields): CheckResult<Schedule> {
  const issues: ValidationIssue[] = [];
  for (const [key, column, maxLength] of CRONTAB_COLUMNS) {
    const value: unknown = fields[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      issues.push(issue(`crontab.${column}`, value, 'is not a string'));
    } else if (hasMoreCharactersThan(value, maxLength)) {
      issues.push(tooLong(`crontab.${column}`, value, maxLength));
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return build({
    kind: 'crontab',
    minute: fields.minute ?? '*',
    hour: fields.hour ?? '*',
    dayOfWeek: fields.dayOfWeek ?? '*',
    dayOfMonth: fields.dayOfMonth ?? '*',
    monthOfYear: fields.monthOfYear ?? '*',
    timezone: fields.timezone ?? 'UTC',
  });
}

/** Checks an interval row: `every` a whole number ≥ 1 that fits the int column, a known period. */
export function checkInterval(fields: IntervalFields): CheckResult<Schedule> {
  // The engine checks the rest; the column is a 4-byte integer.
  if (typeof fields.every === 'number' && fields.every > MAX_INT4) {
    return fail(issue('interval.every', fields.every, `is larger than ${MAX_INT4}`));
  }
  return build({ kind: 'interval', every: fields.every, period: fields.period });
}

/** Checks a solar row: a known event, latitude in [-90, 90] and longitude in [-180, 180]. */
export function checkSolar(fields: SolarFields): CheckResult<Schedule> {
  const latitude = toNumber(fields.latitude);
  const longitude = toNumber(fields.longitude);
  if (latitude === undefined) return fail(issue('solar.latitude', fields.latitude, 'is not a number'));
  if (longitude === undefined) return fail(issue('solar.longitude', fields.longitude, 'is not a number'));
  return build({ kind: 'solar', event: fields.event, latitude, longitude });
}

/** Checks a clocked row: a valid instant. */
export function checkClocked(fields: ClockedFields): CheckResult<Schedule> {
  if (!isValidDate(fields.clockedTime)) {
    return fail(issue('clocked.clocked_time', fields.clockedTime, 'is not a valid date and time'));
  }
  return build({ kind: 'clocked', clockedTime: fields.clockedTime });
}

function build(spec: ScheduleSpec): CheckResult<Schedule> {
  try {
    return { ok: true, value: buildSchedule(spec) };
  } catch (error) {
    if (error instanceof ScheduleError) {
      return fail({ field: error.field, value: error.value, message: error.message });
    }
    throw error;
  }
}
