// A task row read by the beat (written by anyone: our client, raw SQL, Django admin)
// checked with the same rules as our write API, and its schedule built.
import type { PyJsonText } from '../broker/pyjson.js';
import type { TaskRow } from '../db/store.js';
import type { Schedule } from '../schedules/types.js';
import {
  checkPeriodicTask,
  type CheckOptions,
  type ClockedFields,
  type CrontabFields,
  type IntervalFields,
  type PeriodicTaskFields,
  type SolarFields,
} from './validate.js';

export type { TaskRow } from '../db/store.js';

/** A row that passed every check, with its JSON parsed and its schedule built. */
export interface ResolvedTask {
  row: TaskRow;
  /** The JSON columns as stored, read as Python reads them (sent unchanged). */
  args: PyJsonText;
  kwargs: PyJsonText;
  headers: PyJsonText;
  schedule: Schedule;
  /** Identifies the schedule's content: a change means the schedule was edited. */
  scheduleKey: string;
}

export type Resolution = { ok: true; task: ResolvedTask } | { ok: false; problem: string };

/** The schedule row's content as a string; equal keys mean an equal schedule. */
export function scheduleKeyOf(row: TaskRow): string {
  return [
    row.crontab_id === null
      ? ''
      : crontabKey(
          row.c_minute,
          row.c_hour,
          row.c_day_of_month,
          row.c_month_of_year,
          row.c_day_of_week,
          row.c_timezone,
        ),
    row.interval_id === null ? '' : intervalKey(row.i_every, row.i_period),
    row.solar_id === null ? '' : solarKey(row.s_event, row.s_latitude, row.s_longitude),
    row.clocked_id === null ? '' : clockedKey(row.k_clocked_time),
  ].join('|');
}

// The parts of scheduleKeyOf, one per kind; a task with one schedule has the other three empty.
export const crontabKey = (
  minute: string | null,
  hour: string | null,
  dayOfMonth: string | null,
  monthOfYear: string | null,
  dayOfWeek: string | null,
  timezone: string | null,
): string => `crontab:${minute} ${hour} ${dayOfMonth} ${monthOfYear} ${dayOfWeek} ${timezone}`;
export const intervalKey = (every: number | null, period: string | null): string => `interval:${every} ${period}`;
export const solarKey = (event: string | null, latitude: number | null, longitude: number | null): string =>
  `solar:${event} ${latitude} ${longitude}`;
export const clockedKey = (time: number | null): string => `clocked:${time}`;

/** A crontab row's fields as the checks take them (row values as the join gives them). */
export function crontabFieldsOf(
  c: {
    minute: string | null;
    hour: string | null;
    dayOfWeek: string | null;
    dayOfMonth: string | null;
    monthOfYear: string | null;
    timezone: string | null;
  },
  crontabTimezone: string | null,
): CrontabFields {
  return {
    minute: c.minute ?? '',
    hour: c.hour ?? '',
    dayOfWeek: c.dayOfWeek ?? '',
    dayOfMonth: c.dayOfMonth ?? '',
    monthOfYear: c.monthOfYear ?? '',
    // DJANGO_CELERY_BEAT_TZ_AWARE=False: django-celery-beat builds a plain Celery
    // crontab, read in the app's timezone (CELERY_TIMEZONE), whatever the row says.
    timezone: crontabTimezone ?? c.timezone ?? '',
  };
}

export const intervalFieldsOf = (every: number | null, period: string | null): IntervalFields => ({
  every: every ?? 0,
  period: period ?? '',
});

export const solarFieldsOf = (
  event: string | null,
  latitude: number | null,
  longitude: number | null,
): SolarFields => ({
  event: event ?? '',
  latitude: latitude ?? NaN,
  longitude: longitude ?? NaN,
});

export const clockedFieldsOf = (time: number | null): ClockedFields => ({ clockedTime: new Date(time ?? NaN) });

function fieldsOf(row: TaskRow, crontabTimezone: string | null): PeriodicTaskFields {
  return {
    name: row.name,
    task: row.task,
    args: row.args,
    kwargs: row.kwargs,
    headers: row.headers,
    queue: row.queue,
    exchange: row.exchange,
    routingKey: row.routing_key,
    priority: row.priority,
    expires: dateOf(row.expires),
    expireSeconds: row.expire_seconds,
    oneOff: row.one_off,
    startTime: dateOf(row.start_time),
    enabled: row.enabled,
    crontab:
      row.crontab_id === null
        ? null
        : crontabFieldsOf(
            {
              minute: row.c_minute,
              hour: row.c_hour,
              dayOfWeek: row.c_day_of_week,
              dayOfMonth: row.c_day_of_month,
              monthOfYear: row.c_month_of_year,
              timezone: row.c_timezone,
            },
            crontabTimezone,
          ),
    interval: row.interval_id === null ? null : intervalFieldsOf(row.i_every, row.i_period),
    solar: row.solar_id === null ? null : solarFieldsOf(row.s_event, row.s_latitude, row.s_longitude),
    clocked: row.clocked_id === null ? null : clockedFieldsOf(row.k_clocked_time),
    // The ids let a schedule cache know a row it has checked (validate.ts).
    crontabId: row.crontab_id,
    intervalId: row.interval_id,
    solarId: row.solar_id,
    clockedId: row.clocked_id,
  };
}

/** How rows are read: CheckOptions, and the zone every crontab is read in. */
export interface ResolveOptions extends CheckOptions {
  /**
   * With django-celery-beat's DJANGO_CELERY_BEAT_TZ_AWARE=False: the zone
   * (CELERY_TIMEZONE) every crontab's fields are read in, instead of the row's
   * `timezone`. null or absent: each row's own zone.
   */
  crontabTimezone?: string | null;
}

/**
 * Checks a row written by anyone (our client, raw SQL, Django admin) with the same
 * rules as our write API, and builds its schedule. A bad row yields one message that
 * names the fields, e.g. `crontab.minute: "61" is out of range 0-59`.
 */
export function resolveTaskRow(row: TaskRow, options: ResolveOptions = {}): Resolution {
  const checked = checkPeriodicTask(fieldsOf(row, options.crontabTimezone ?? null), options);
  if (!checked.ok) {
    return { ok: false, problem: checked.issues.map((issue) => issue.message).join('; ') };
  }
  return {
    ok: true,
    task: {
      row,
      args: checked.value.args,
      kwargs: checked.value.kwargs,
      headers: checked.value.headers,
      schedule: checked.value.schedule,
      scheduleKey: scheduleKeyOf(row),
    },
  };
}

function dateOf(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
