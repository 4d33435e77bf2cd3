import type { TaskMessage } from '../broker/types.js';
import { checkPeriodicTask, type CheckOptions, type PeriodicTaskFields } from '../schema/validate.js';
import type { Schedule } from '../schedules/types.js';

/** A task row joined with its schedules, as the statements in sql.ts return it. */
// A type alias, not an interface, so that it fits Database.query's row constraint.
export type TaskRow = {
  id: number;
  name: string;
  task: string;
  args: string;
  kwargs: string;
  headers: string;
  queue: string | null;
  exchange: string | null;
  routing_key: string | null;
  priority: number | null;
  expires: Date | null;
  expire_seconds: number | null;
  one_off: boolean;
  start_time: Date | null;
  enabled: boolean;
  last_run_at: Date | null;
  total_run_count: number;
  date_changed: Date;
  crontab_id: number | null;
  c_minute: string | null;
  c_hour: string | null;
  c_day_of_week: string | null;
  c_day_of_month: string | null;
  c_month_of_year: string | null;
  c_timezone: string | null;
  interval_id: number | null;
  i_every: number | null;
  i_period: string | null;
  solar_id: number | null;
  s_event: string | null;
  s_latitude: number | null;
  s_longitude: number | null;
  clocked_id: number | null;
  k_clocked_time: Date | null;
};

/** A row that passed every check, with its JSON parsed and its schedule built. */
export interface ResolvedTask {
  row: TaskRow;
  args: unknown[];
  kwargs: Record<string, unknown>;
  headers: Record<string, unknown>;
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
      : `crontab:${row.c_minute} ${row.c_hour} ${row.c_day_of_month} ${row.c_month_of_year} ${row.c_day_of_week} ${row.c_timezone}`,
    row.interval_id === null ? '' : `interval:${row.i_every} ${row.i_period}`,
    row.solar_id === null ? '' : `solar:${row.s_event} ${row.s_latitude} ${row.s_longitude}`,
    row.clocked_id === null ? '' : `clocked:${row.k_clocked_time?.toISOString()}`,
  ].join('|');
}

function fieldsOf(row: TaskRow): PeriodicTaskFields {
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
    expires: row.expires,
    expireSeconds: row.expire_seconds,
    oneOff: row.one_off,
    startTime: row.start_time,
    enabled: row.enabled,
    crontab:
      row.crontab_id === null
        ? null
        : {
            minute: row.c_minute ?? '',
            hour: row.c_hour ?? '',
            dayOfWeek: row.c_day_of_week ?? '',
            dayOfMonth: row.c_day_of_month ?? '',
            monthOfYear: row.c_month_of_year ?? '',
            timezone: row.c_timezone ?? '',
          },
    interval: row.interval_id === null ? null : { every: row.i_every ?? 0, period: row.i_period ?? '' },
    solar:
      row.solar_id === null
        ? null
        : { event: row.s_event ?? '', latitude: row.s_latitude ?? NaN, longitude: row.s_longitude ?? NaN },
    clocked: row.clocked_id === null ? null : { clockedTime: row.k_clocked_time ?? new Date(NaN) },
  };
}

/**
 * Checks a row written by anyone (our client, raw SQL, Django admin) with the same
 * rules as our write API, and builds its schedule. A bad row yields one message that
 * names the fields, e.g. `crontab.minute: "61" is out of range 0-59`.
 */
export function resolveTaskRow(row: TaskRow, options: CheckOptions = {}): Resolution {
  const checked = checkPeriodicTask(fieldsOf(row), options);
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

/** The Celery message for one run of a resolved task. */
export function messageFor(task: ResolvedTask, id: string, slot: Date, now: Date): TaskMessage {
  const { row } = task;
  const expires =
    row.expires ?? (row.expire_seconds === null ? null : new Date(now.getTime() + row.expire_seconds * 1000));
  return {
    id,
    task: row.task,
    args: task.args,
    kwargs: task.kwargs,
    queue: row.queue || null,
    exchange: row.exchange || null,
    routingKey: row.routing_key || null,
    priority: row.priority,
    headers: task.headers,
    expires,
    periodicTaskName: row.name,
    scheduledAt: slot,
  };
}
