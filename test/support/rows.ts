// Inserts schedule and task rows with plain SQL, as another service (or psql) would:
// every column given, since Django's tables have no database defaults.
import type pg from 'pg';

import type { RunEntry, TaskRow } from '../../src/db/store.js';

export type ScheduleRow =
  | { interval: { every: number; period: string } }
  | {
      crontab: {
        minute?: string;
        hour?: string;
        day_of_week?: string;
        day_of_month?: string;
        month_of_year?: string;
        timezone?: string;
      };
    }
  | { solar: { event: string; latitude: number; longitude: number } }
  | { clocked: { clocked_time: Date } };

export interface TaskRowInput {
  name: string;
  task?: string;
  schedule: ScheduleRow;
  args?: string;
  kwargs?: string;
  headers?: string;
  queue?: string | null;
  priority?: number | null;
  expireSeconds?: number | null;
  expires?: Date | null;
  oneOff?: boolean;
  enabled?: boolean;
  lastRunAt?: Date | null;
  dateChanged?: Date;
  startTime?: Date | null;
}

type Queryable = Pick<pg.Pool, 'query'>;

/** Inserts the schedule row; returns its column name (interval_id …) and id. */
export async function insertSchedule(db: Queryable, schedule: ScheduleRow): Promise<{ column: string; id: number }> {
  if ('interval' in schedule) {
    const { rows } = await db.query<{ id: number }>(
      'INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES ($1, $2) RETURNING id',
      [schedule.interval.every, schedule.interval.period],
    );
    return { column: 'interval_id', id: rows[0]!.id };
  }
  if ('crontab' in schedule) {
    const c = schedule.crontab;
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        c.minute ?? '*',
        c.hour ?? '*',
        c.day_of_week ?? '*',
        c.day_of_month ?? '*',
        c.month_of_year ?? '*',
        c.timezone ?? 'UTC',
      ],
    );
    return { column: 'crontab_id', id: rows[0]!.id };
  }
  if ('solar' in schedule) {
    const s = schedule.solar;
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO django_celery_beat_solarschedule (event, latitude, longitude) VALUES ($1, $2, $3)
       ON CONFLICT (event, latitude, longitude) DO UPDATE SET event = excluded.event RETURNING id`,
      [s.event, s.latitude, s.longitude],
    );
    return { column: 'solar_id', id: rows[0]!.id };
  }
  const { rows } = await db.query<{ id: number }>(
    'INSERT INTO django_celery_beat_clockedschedule (clocked_time) VALUES ($1) RETURNING id',
    [schedule.clocked.clocked_time],
  );
  return { column: 'clocked_id', id: rows[0]!.id };
}

/** Inserts a schedule and a task that uses it; returns the task's id. */
export async function insertTask(db: Queryable, input: TaskRowInput): Promise<number> {
  const { column, id: scheduleId } = await insertSchedule(db, input.schedule);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO django_celery_beat_periodictask
       (name, task, args, kwargs, headers, queue, exchange, routing_key, priority, expires, expire_seconds,
        one_off, start_time, enabled, last_run_at, total_run_count, date_changed, description, ${column})
     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7, $8, $9, $10, $11, $12, $13, 0, $14, '', $15)
     RETURNING id`,
    [
      input.name,
      input.task ?? 'dbbeat_test.record',
      input.args ?? '[]',
      input.kwargs ?? '{}',
      input.headers ?? '{}',
      input.queue ?? null,
      input.priority ?? null,
      input.expires ?? null,
      input.expireSeconds ?? null,
      input.oneOff ?? false,
      input.startTime ?? null,
      input.enabled ?? true,
      input.lastRunAt ?? null,
      input.dateChanged ?? new Date(),
      scheduleId,
    ],
  );
  return rows[0]!.id;
}

/**
 * A task row as the store reads it (the task joined with its schedule), for the tests of
 * what is made of one without a database: every schedule column null unless `over` sets it.
 */
export function taskRowOf(over: Partial<TaskRow>): TaskRow {
  return {
    id: 1,
    name: 'task',
    task: 't',
    args: '[]',
    kwargs: '{}',
    headers: '{}',
    queue: null,
    exchange: null,
    routing_key: null,
    priority: null,
    expires: null,
    expire_seconds: null,
    one_off: false,
    start_time: null,
    enabled: true,
    last_run_at: null,
    total_run_count: 0,
    date_changed: 0,
    crontab_id: null,
    c_minute: null,
    c_hour: null,
    c_day_of_week: null,
    c_day_of_month: null,
    c_month_of_year: null,
    c_timezone: null,
    interval_id: null,
    i_every: null,
    i_period: null,
    solar_id: null,
    s_event: null,
    s_latitude: null,
    s_longitude: null,
    clocked_id: null,
    k_clocked_time: null,
    ...over,
  };
}

/**
 * The run-history row the beat writes for a run of `task` sent on time at `sentAt` (epoch
 * ms) to the default queue; `over` changes any field.
 */
export function sentRun(
  task: { id: number; name: string },
  taskId: string,
  sentAt: number,
  over: Partial<RunEntry> = {},
): RunEntry {
  return {
    periodicTaskId: task.id,
    periodicTaskName: task.name,
    task: 'proj.tasks.x',
    taskId,
    scheduledAt: sentAt,
    sentAt,
    lateMs: 0,
    broker: 'redis://127.0.0.1:6379/0',
    queue: 'celery',
    manual: false,
    state: 'SENT',
    ...over,
  };
}
