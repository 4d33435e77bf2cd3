// Task rows read without joins, joined here with their schedules: the page query scans
// the task table alone (its plan cannot go wrong, whatever the planner's statistics),
// and the schedules one page uses are read in one small statement by id. Both dialects
// build the same TaskRow values through this module.
import type { TaskRow } from './store.js';

/** The schedule columns of a TaskRow (c_ crontab, i_ interval, s_ solar, k_ clocked). */
type ScheduleColumns =
  | 'c_minute'
  | 'c_hour'
  | 'c_day_of_week'
  | 'c_day_of_month'
  | 'c_month_of_year'
  | 'c_timezone'
  | 'i_every'
  | 'i_period'
  | 's_event'
  | 's_latitude'
  | 's_longitude'
  | 'k_clocked_time';

/** A task row as the join-free page query selects it: the task's own columns, times as epoch ms. */
export type OwnTaskRow = Omit<TaskRow, ScheduleColumns>;

/** One crontab row, as the schedule statement selects it (`id` plus TaskRow's c_ columns, unprefixed). */
export interface CrontabRow {
  id: number;
  minute: string;
  hour: string;
  day_of_week: string;
  day_of_month: string;
  month_of_year: string;
  timezone: string;
}
export interface IntervalRow {
  id: number;
  every: number;
  period: string;
}
export interface SolarRow {
  id: number;
  event: string;
  latitude: number;
  longitude: number;
}
export interface ClockedRow {
  id: number;
  /** Epoch ms. */
  clocked_time: number;
}

/** The schedule rows one page of tasks refers to. */
export interface ScheduleRows {
  crontab: readonly CrontabRow[];
  interval: readonly IntervalRow[];
  solar: readonly SolarRow[];
  clocked: readonly ClockedRow[];
}

/** The distinct schedule ids the tasks refer to, by kind (each list empty when none). */
export interface ScheduleIdSets {
  crontab: number[];
  interval: number[];
  solar: number[];
  clocked: number[];
}

/** The distinct schedule ids that `tasks` refer to. */
export function scheduleIdsOf(tasks: readonly OwnTaskRow[]): ScheduleIdSets {
  const crontab = new Set<number>();
  const interval = new Set<number>();
  const solar = new Set<number>();
  const clocked = new Set<number>();
  for (const task of tasks) {
    if (task.crontab_id !== null) crontab.add(task.crontab_id);
    if (task.interval_id !== null) interval.add(task.interval_id);
    if (task.solar_id !== null) solar.add(task.solar_id);
    if (task.clocked_id !== null) clocked.add(task.clocked_id);
  }
  return { crontab: [...crontab], interval: [...interval], solar: [...solar], clocked: [...clocked] };
}

function byId<Row extends { id: number }>(rows: readonly Row[]): Map<number, Row> {
  const map = new Map<number, Row>();
  for (const row of rows) map.set(row.id, row);
  return map;
}

/**
 * Each task with its schedules' columns, as a LEFT JOIN on the four schedule tables
 * gives them: null where the task has no such schedule or the schedule row is missing.
 */
export function joinSchedules(tasks: readonly OwnTaskRow[], schedules: ScheduleRows): TaskRow[] {
  const crontab = byId(schedules.crontab);
  const interval = byId(schedules.interval);
  const solar = byId(schedules.solar);
  const clocked = byId(schedules.clocked);
  return tasks.map((task) => {
    const c = task.crontab_id === null ? undefined : crontab.get(task.crontab_id);
    const i = task.interval_id === null ? undefined : interval.get(task.interval_id);
    const s = task.solar_id === null ? undefined : solar.get(task.solar_id);
    const k = task.clocked_id === null ? undefined : clocked.get(task.clocked_id);
    // Every field written out (no spread): one object shape for all rows, built fast.
    return {
      id: task.id,
      name: task.name,
      task: task.task,
      args: task.args,
      kwargs: task.kwargs,
      headers: task.headers,
      queue: task.queue,
      exchange: task.exchange,
      routing_key: task.routing_key,
      priority: task.priority,
      expires: task.expires,
      expire_seconds: task.expire_seconds,
      one_off: task.one_off,
      start_time: task.start_time,
      enabled: task.enabled,
      last_run_at: task.last_run_at,
      total_run_count: task.total_run_count,
      date_changed: task.date_changed,
      crontab_id: task.crontab_id,
      interval_id: task.interval_id,
      solar_id: task.solar_id,
      clocked_id: task.clocked_id,
      c_minute: c?.minute ?? null,
      c_hour: c?.hour ?? null,
      c_day_of_week: c?.day_of_week ?? null,
      c_day_of_month: c?.day_of_month ?? null,
      c_month_of_year: c?.month_of_year ?? null,
      c_timezone: c?.timezone ?? null,
      i_every: i?.every ?? null,
      i_period: i?.period ?? null,
      s_event: s?.event ?? null,
      s_latitude: s?.latitude ?? null,
      s_longitude: s?.longitude ?? null,
      k_clocked_time: k?.clocked_time ?? null,
    };
  });
}
