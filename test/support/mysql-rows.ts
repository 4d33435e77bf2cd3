// Inserts schedule and task rows into MySQL/MariaDB with plain SQL, as another service
// would: the same inputs as rows.ts (PostgreSQL), times written as naive DATETIMEs in the
// database's zone (db.naiveTimes, --db-timezone).
import type { MysqlDatabase } from '../../src/db/mysql/connection.js';
import type { ScheduleRow, TaskRowInput } from './rows.js';

/** Inserts the schedule row (in one transaction, to read its id); returns its column name and id. */
export async function insertMysqlSchedule(
  db: MysqlDatabase,
  schedule: ScheduleRow,
): Promise<{ column: string; id: number }> {
  return db.transaction(async (tx) => {
    const insertId = async (sql: string, params: unknown[]) => {
      await tx.execute(sql, params);
      const [row] = await tx.query<{ id: number }>('SELECT LAST_INSERT_ID() AS id');
      return row!.id;
    };
    if ('interval' in schedule) {
      const id = await insertId('INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (?, ?)', [
        schedule.interval.every,
        schedule.interval.period,
      ]);
      return { column: 'interval_id', id };
    }
    if ('crontab' in schedule) {
      const c = schedule.crontab;
      const id = await insertId(
        'INSERT INTO django_celery_beat_crontabschedule (minute, hour, day_of_week, day_of_month, month_of_year, timezone) VALUES (?, ?, ?, ?, ?, ?)',
        [
          c.minute ?? '*',
          c.hour ?? '*',
          c.day_of_week ?? '*',
          c.day_of_month ?? '*',
          c.month_of_year ?? '*',
          c.timezone ?? 'UTC',
        ],
      );
      return { column: 'crontab_id', id };
    }
    if ('solar' in schedule) {
      const s = schedule.solar;
      const [existing] = await tx.query<{ id: number }>(
        'SELECT id FROM django_celery_beat_solarschedule WHERE event = ? AND latitude = ? AND longitude = ?',
        [s.event, s.latitude, s.longitude],
      );
      if (existing !== undefined) return { column: 'solar_id', id: existing.id };
      const id = await insertId(
        'INSERT INTO django_celery_beat_solarschedule (event, latitude, longitude) VALUES (?, ?, ?)',
        [s.event, s.latitude, s.longitude],
      );
      return { column: 'solar_id', id };
    }
    const id = await insertId('INSERT INTO django_celery_beat_clockedschedule (clocked_time) VALUES (?)', [
      db.naiveTimes.fromEpochMs(schedule.clocked.clocked_time.getTime()),
    ]);
    return { column: 'clocked_id', id };
  });
}

/** Inserts a schedule and a task that uses it; returns the task's id. */
export async function insertMysqlTask(db: MysqlDatabase, input: TaskRowInput): Promise<number> {
  const { column, id: scheduleId } = await insertMysqlSchedule(db, input.schedule);
  const time = (value: Date | null | undefined) =>
    value === null || value === undefined ? null : db.naiveTimes.fromEpochMs(value.getTime());
  return db.transaction(async (tx) => {
    await tx.execute(
      `INSERT INTO django_celery_beat_periodictask
         (name, task, args, kwargs, headers, queue, exchange, routing_key, priority, expires, expire_seconds,
          one_off, start_time, enabled, last_run_at, total_run_count, date_changed, description, ${column})
       VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', ?)`,
      [
        input.name,
        input.task ?? 'dbbeat_test.record',
        input.args ?? '[]',
        input.kwargs ?? '{}',
        input.headers ?? '{}',
        input.queue ?? null,
        input.priority ?? null,
        time(input.expires),
        input.expireSeconds ?? null,
        input.oneOff ?? false,
        time(input.startTime),
        input.enabled ?? true,
        time(input.lastRunAt),
        time(input.dateChanged ?? new Date()),
        scheduleId,
      ],
    );
    const [row] = await tx.query<{ id: number }>('SELECT LAST_INSERT_ID() AS id');
    return row!.id;
  });
}
