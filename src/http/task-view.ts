// What the console shows of a task row: its columns as stored (JSON columns as
// their exact text), its schedule in readable form, its next run computed by the
// schedule engine in its own zone and in UTC, and whether the row is valid.
import { DateTime } from 'luxon';

import { firstBase, nextSlot } from '../beat/task-table.js';
import type { TaskRow } from '../db/store.js';
import { resolveTaskRow } from '../model/task-row.js';
import type { ConsoleTaskRow } from '../model/task-rows.js';
import type { Registration } from '../outcomes/remote-control-workers.js';

export type { ConsoleTaskRow } from '../model/task-rows.js';

/** The schedule of a task as the console shows it. */
export interface ScheduleView {
  kind: 'crontab' | 'interval' | 'solar' | 'clocked' | null;
  id: number | null;
  /** e.g. `*\/15 9-17 * * mon-fri (Asia/Shanghai)`, `every 10 seconds`, `sunrise at 52.52, 13.405`. */
  text: string;
  /** The schedule row's columns (camelCase, as `schedule()` takes them). */
  fields: Record<string, unknown> | null;
}

/** A run time in UTC and in the zone it is read in. */
export interface RunTime {
  /** ISO 8601 in UTC, ms precision. */
  utc: string;
  /** ISO 8601 with the zone's offset. */
  local: string;
  zone: string;
}

/** One task as the API answers it. */
export interface TaskView {
  id: number;
  name: string;
  task: string;
  description: string;
  enabled: boolean;
  oneOff: boolean;
  /** JSON text exactly as stored (never re-encoded). */
  args: string;
  kwargs: string;
  headers: string;
  queue: string | null;
  exchange: string | null;
  routingKey: string | null;
  priority: number | null;
  expires: string | null;
  expireSeconds: number | null;
  startTime: string | null;
  lastRunAt: string | null;
  totalRunCount: number;
  dateChanged: string;
  /** Send it back in `If-Match` (or `version`) when editing: a stale one gets 409. */
  version: string;
  schedule: ScheduleView;
  /** The next run by the engine; null when disabled, expired, invalid or with no run to come. */
  nextRun: RunTime | null;
  valid: boolean;
  /** What is wrong with an invalid row, naming field and value. */
  problem: string | null;
  /**
   * Whether a live worker consuming this task's queue has its `task` registered (see
   * task-registration.ts); null when disabled. Only in the list and get answers.
   */
  registration?: Registration | null;
}

/** A run time as shown: UTC, and wall time with offset in `zone`. */
export function runTime(at: Date, zone: string): RunTime {
  return {
    utc: at.toISOString(),
    local: DateTime.fromJSDate(at, { zone }).toISO({ suppressMilliseconds: true }) ?? at.toISOString(),
    zone,
  };
}

/** The schedule of a row, readable even when the row is invalid. */
export function scheduleView(row: TaskRow): ScheduleView {
  if (row.crontab_id !== null) {
    const fields = {
      minute: row.c_minute,
      hour: row.c_hour,
      dayOfMonth: row.c_day_of_month,
      monthOfYear: row.c_month_of_year,
      dayOfWeek: row.c_day_of_week,
      timezone: row.c_timezone,
    };
    const text = `${row.c_minute} ${row.c_hour} ${row.c_day_of_month} ${row.c_month_of_year} ${row.c_day_of_week} (${row.c_timezone})`;
    return { kind: 'crontab', id: row.crontab_id, text, fields };
  }
  if (row.interval_id !== null) {
    return {
      kind: 'interval',
      id: row.interval_id,
      text: `every ${row.i_every} ${row.i_period}`,
      fields: { every: row.i_every, period: row.i_period },
    };
  }
  if (row.solar_id !== null) {
    return {
      kind: 'solar',
      id: row.solar_id,
      text: `${row.s_event} at ${row.s_latitude}, ${row.s_longitude}`,
      fields: { event: row.s_event, latitude: row.s_latitude, longitude: row.s_longitude },
    };
  }
  if (row.clocked_id !== null) {
    const at = row.k_clocked_time === null ? '?' : new Date(row.k_clocked_time).toISOString();
    return { kind: 'clocked', id: row.clocked_id, text: `once at ${at}`, fields: { clockedTime: at } };
  }
  return { kind: null, id: null, text: '(no schedule)', fields: null };
}

/**
 * The API view of a row. `now` decides what counts as expired; `displayZone` is the
 * zone non-crontab runs are shown in (crontab runs: the row's own zone).
 */
export function taskView(row: ConsoleTaskRow, now: Date, displayZone: string): TaskView {
  const resolution = resolveTaskRow(row);
  let nextRun: RunTime | null = null;
  if (resolution.ok && row.enabled && !(row.expires !== null && row.expires <= now.getTime())) {
    // As the beat does (firstBase): from the last run, or, never run, from date_changed (a
    // clocked task: at its time, even saved after it); not before start_time.
    const { base, neverRun } = firstBase({
      lastRunAt: row.last_run_at,
      dateChanged: row.date_changed,
      clocked: row.clocked_id !== null,
    });
    const slot = nextSlot(resolution.task.schedule, base, row.start_time, neverRun);
    if (slot !== null)
      nextRun = runTime(new Date(slot), row.crontab_id !== null ? (row.c_timezone ?? 'UTC') : displayZone);
  }
  return {
    id: row.id,
    name: row.name,
    task: row.task,
    description: row.description,
    enabled: row.enabled,
    oneOff: row.one_off,
    args: row.args,
    kwargs: row.kwargs,
    headers: row.headers,
    queue: row.queue,
    exchange: row.exchange,
    routingKey: row.routing_key,
    priority: row.priority,
    expires: isoOrNull(row.expires),
    expireSeconds: row.expire_seconds,
    startTime: isoOrNull(row.start_time),
    lastRunAt: isoOrNull(row.last_run_at),
    totalRunCount: row.total_run_count,
    dateChanged: new Date(row.date_changed).toISOString(),
    version: row.version,
    schedule: scheduleView(row),
    nextRun,
    valid: resolution.ok,
    problem: resolution.ok ? null : resolution.problem,
  };
}

function isoOrNull(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}
