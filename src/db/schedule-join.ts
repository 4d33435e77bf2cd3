// Task rows read without joins, joined here with their schedules: the page query scans
// the task table alone (its plan cannot go wrong, whatever the planner's statistics),
// and the schedules one page uses are read in one small statement by id. Both dialects
// build the same TaskRow values through this module.
import type {
  ClockedRow,
  CrontabRow,
  IntervalRow,
  KnownSchedule,
  OwnTaskRow,
  ScheduleRows,
  SolarRow,
  TaskRow,
} from './store.js';

export type { ClockedRow, CrontabRow, IntervalRow, OwnTaskRow, ScheduleRows, SolarRow } from './store.js';

/** The distinct schedule ids the tasks refer to, by kind (each list empty when none). */
export interface ScheduleIdSets {
  crontab: number[];
  interval: number[];
  solar: number[];
  clocked: number[];
}

/** The distinct schedule ids that `tasks` refer to, but those `known` has. */
export function scheduleIdsOf(tasks: readonly OwnTaskRow[], known: KnownSchedule = () => false): ScheduleIdSets {
  const crontab = new Set<number>();
  const interval = new Set<number>();
  const solar = new Set<number>();
  const clocked = new Set<number>();
  for (const task of tasks) {
    if (task.crontab_id !== null && !known('crontab', task.crontab_id)) crontab.add(task.crontab_id);
    if (task.interval_id !== null && !known('interval', task.interval_id)) interval.add(task.interval_id);
    if (task.solar_id !== null && !known('solar', task.solar_id)) solar.add(task.solar_id);
    if (task.clocked_id !== null && !known('clocked', task.clocked_id)) clocked.add(task.clocked_id);
  }
  return { crontab: [...crontab], interval: [...interval], solar: [...solar], clocked: [...clocked] };
}

/** No schedule rows. */
export const noScheduleRows = (): ScheduleRows => ({ crontab: [], interval: [], solar: [], clocked: [] });

/** Whether there are no ids at all. */
export const noIds = (ids: ScheduleIdSets): boolean =>
  ids.crontab.length + ids.interval.length + ids.solar.length + ids.clocked.length === 0;

function byId<Row extends { id: number }>(rows: readonly Row[]): Map<number, Row> {
  const map = new Map<number, Row>();
  for (const row of rows) map.set(row.id, row);
  return map;
}

/** Schedule rows by id, per kind. */
export interface ScheduleMaps {
  crontab: Pick<Map<number, CrontabRow>, 'get'>;
  interval: Pick<Map<number, IntervalRow>, 'get'>;
  solar: Pick<Map<number, SolarRow>, 'get'>;
  clocked: Pick<Map<number, ClockedRow>, 'get'>;
}

export function scheduleMapsOf(schedules: ScheduleRows): ScheduleMaps {
  return {
    crontab: byId(schedules.crontab),
    interval: byId(schedules.interval),
    solar: byId(schedules.solar),
    clocked: byId(schedules.clocked),
  };
}

/**
 * Each task with its schedules' columns, as a LEFT JOIN on the four schedule tables
 * gives them: null where the task has no such schedule or the schedule row is missing.
 */
export function joinSchedules(tasks: readonly OwnTaskRow[], schedules: ScheduleRows): TaskRow[] {
  const maps = scheduleMapsOf(schedules);
  return tasks.map((task) => joinTask(task, maps));
}

/** One task with its schedules' columns (see joinSchedules). */
export function joinTask(task: OwnTaskRow, maps: ScheduleMaps): TaskRow {
  const c = task.crontab_id === null ? undefined : maps.crontab.get(task.crontab_id);
  const i = task.interval_id === null ? undefined : maps.interval.get(task.interval_id);
  const s = task.solar_id === null ? undefined : maps.solar.get(task.solar_id);
  const k = task.clocked_id === null ? undefined : maps.clocked.get(task.clocked_id);
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
}
