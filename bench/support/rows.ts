// Bulk creation of PeriodicTask rows straight in SQL (INSERT … SELECT generate_series):
// a million rows take seconds this way, where an ORM would take minutes.
// Only columns common to django-celery-beat 2.4 and 2.9 are written, so the same code
// fills the peer's (Django-migrated) and dbbeat's (dbbeat-migrated) databases.
import type pg from 'pg';

/** Table names of django-celery-beat. */
export const TASK_TABLE = 'django_celery_beat_periodictask';
export const INTERVAL_TABLE = 'django_celery_beat_intervalschedule';
export const CHANGES_TABLE = 'django_celery_beat_periodictasks';

/** The Celery task name every benchmark row sends (no worker runs it). */
export const BENCH_TASK_NAME = 'bench.tasks.noop';

export interface IntervalTaskBatch {
  /** How many rows to insert. */
  count: number;
  /** Row names are `<namePrefix><index>`; must be unique in the table. */
  namePrefix: string;
  /** Queue column of every row (the Redis list the benchmark counts). */
  queue: string;
  /** The interval, in seconds. */
  everySeconds: number;
  /**
   * last_run_at of row 0. Row i gets `lastRunAt + (i mod spreadSlots) × slotMs`, so
   * runs can be spread evenly over time (steady load). Without a spread all rows share it.
   */
  lastRunAt: Date;
  spreadSlots?: number;
  slotMs?: number;
  /** Task args column; defaults to a list holding the row index (a realistic small body). */
  argsSql?: string;
}

/** Returns the id of an IntervalSchedule row `every` seconds, creating it when needed. */
export async function ensureIntervalSchedule(pool: pg.Pool, everySeconds: number): Promise<number> {
  const found = await pool.query<{ id: number }>(
    `SELECT id FROM ${INTERVAL_TABLE} WHERE every = $1 AND period = 'seconds' ORDER BY id LIMIT 1`,
    [everySeconds],
  );
  const existing = found.rows[0];
  if (existing !== undefined) return existing.id;
  const created = await pool.query<{ id: number }>(
    `INSERT INTO ${INTERVAL_TABLE} (every, period) VALUES ($1, 'seconds') RETURNING id`,
    [everySeconds],
  );
  return created.rows[0]!.id;
}

/** Inserts `batch.count` enabled interval tasks in one statement, then ANALYZEs the table (unless `analyze` is false). */
export async function insertIntervalTasks(
  pool: pg.Pool,
  batch: IntervalTaskBatch & { analyze?: boolean },
): Promise<void> {
  const intervalId = await ensureIntervalSchedule(pool, batch.everySeconds);
  const spreadSlots = batch.spreadSlots ?? 1;
  const slotMs = batch.slotMs ?? 0;
  const args = batch.argsSql ?? `'[' || g || ']'`;
  await pool.query(
    `INSERT INTO ${TASK_TABLE}
       (name, task, args, kwargs, queue, exchange, routing_key, expires, enabled, last_run_at,
        total_run_count, date_changed, description, interval_id, one_off, start_time,
        priority, headers, expire_seconds)
     SELECT $1 || g, $2, ${args}, '{}', $3, NULL, NULL, NULL, true,
            $4::timestamptz + ((g % $5) * $6::float8) * interval '1 millisecond',
            0, now(), '', $7, false, NULL, NULL, '{}', NULL
       FROM generate_series(0, $8 - 1) AS g`,
    [
      batch.namePrefix,
      BENCH_TASK_NAME,
      batch.queue,
      batch.lastRunAt.toISOString(),
      spreadSlots,
      slotMs,
      intervalId,
      batch.count,
    ],
  );
  if (batch.analyze !== false) await pool.query(`ANALYZE ${TASK_TABLE}`);
}

/** The zones the mixed startup workload spreads its crontab schedules over. */
export const MIXED_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'] as const;
export const CRONTAB_TABLE = 'django_celery_beat_crontabschedule';

/**
 * The startup workload: `count` enabled tasks, none due soon: half crontab tasks spread
 * over `crontabs` daily schedules (`m h * * *`) in the four MIXED_ZONES, half interval tasks
 * every day that ran just now. With `analyze` false, the tables are left without planner
 * statistics (autovacuum is switched off on them, so it cannot gather any meanwhile):
 * the state right after a bulk insert.
 */
export async function insertMixedTasks(
  pool: pg.Pool,
  options: { count: number; crontabs: number; queue: string; analyze: boolean },
): Promise<void> {
  if (!options.analyze) {
    for (const table of [TASK_TABLE, CRONTAB_TABLE, INTERVAL_TABLE]) {
      await pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    }
  }
  const intervalId = await ensureIntervalSchedule(pool, 86_400);
  const first = await pool.query<{ id: number }>(
    `INSERT INTO ${CRONTAB_TABLE} (minute, hour, day_of_week, day_of_month, month_of_year, timezone)
     SELECT (g % 60)::text, ((g / 60) % 24)::text, '*', '*', '*', ($2::text[])[1 + g % 4]
       FROM generate_series(0, $1 - 1) AS g
     RETURNING id`,
    [options.crontabs, MIXED_ZONES],
  );
  const crontabIds = first.rows.map((row) => row.id);
  const half = Math.floor(options.count / 2);
  await pool.query(
    `INSERT INTO ${TASK_TABLE}
       (name, task, args, kwargs, queue, enabled, last_run_at, total_run_count, date_changed,
        description, crontab_id, interval_id, one_off, headers)
     SELECT 'mixed_' || g, $1, '[' || g || ']', '{}', $2, true, now(), 0, now(), '',
            CASE WHEN g < $3 THEN ($4::int[])[1 + g % $5] END,
            CASE WHEN g >= $3 THEN $6::int END, false, '{}'
       FROM generate_series(0, $7 - 1) AS g`,
    [BENCH_TASK_NAME, options.queue, half, crontabIds, crontabIds.length, intervalId, options.count],
  );
  if (options.analyze) {
    for (const table of [TASK_TABLE, CRONTAB_TABLE, INTERVAL_TABLE]) await pool.query(`ANALYZE ${table}`);
  }
}

/**
 * Bumps PeriodicTasks.last_update as Django's model signals would: what a raw-SQL writer
 * must do for django-celery-beat to notice a change.
 */
export async function bumpPeriodicTasks(pool: pg.Pool): Promise<void> {
  await pool.query(
    `INSERT INTO ${CHANGES_TABLE} (ident, last_update) VALUES (1, now())
     ON CONFLICT (ident) DO UPDATE SET last_update = excluded.last_update`,
  );
}
