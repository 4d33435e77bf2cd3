// The console's and the command line's statements on MySQL / MariaDB, under the same names
// as src/db/postgres/console-statements.ts (src/db/console-statements.ts picks one set per
// database): `?` placeholders, an array in `IN (?)` expanded by the driver. Task times come
// back as naive text in the database's zone and flags as 0/1 (queryTaskRows converts them);
// dbbeat's own tables are UTC and their times are returned as ISO 8601 text.

/**
 * A row's version on MySQL: MD5 of a JSON array of the same columns as PostgreSQL's
 * TASK_VERSION (JSON_ARRAY keeps NULLs apart from empty text). The digests of the two
 * dialects differ; each is only compared with itself.
 */
export const TASK_VERSION = `MD5(JSON_ARRAY(
  t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key, t.priority,
  t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled, t.date_changed, t.description,
  t.crontab_id, t.interval_id, t.solar_id, t.clocked_id,
  c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year, c.timezone,
  i.every, i.period, s.event, s.latitude, s.longitude, k.clocked_time))`;

export const TASK_COLUMNS = `
  t.id, t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key,
  t.priority, t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled,
  t.last_run_at, t.total_run_count, t.date_changed, t.description,
  t.crontab_id, c.minute AS c_minute, c.hour AS c_hour, c.day_of_week AS c_day_of_week,
  c.day_of_month AS c_day_of_month, c.month_of_year AS c_month_of_year, c.timezone AS c_timezone,
  t.interval_id, i.every AS i_every, i.period AS i_period,
  t.solar_id, s.event AS s_event, CAST(s.latitude AS DOUBLE) AS s_latitude, CAST(s.longitude AS DOUBLE) AS s_longitude,
  t.clocked_id, k.clocked_time AS k_clocked_time,
  ${TASK_VERSION} AS version`;

export const TASK_JOINS = `
  FROM django_celery_beat_periodictask t
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id`;

/** One task by id. ? int. */
export const TASK_BY_ID = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} WHERE t.id = ?`;

/** One task by name. ? text. */
export const TASK_BY_NAME = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} WHERE t.name = ?`;

/** Tasks by name (for the command line). ? text[] (not empty). */
export const TASKS_BY_NAMES = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} WHERE t.name IN (?) ORDER BY t.name`;

/** Every task name (for "did you mean"). */
export const ALL_TASK_NAMES = `SELECT name FROM django_celery_beat_periodictask ORDER BY name`;

/** Every task, by name (for `dbbeat tasks ls`). */
export const ALL_TASKS = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} ORDER BY t.name`;

/**
 * Locks a task row for an edit and returns its version (inside the edit's transaction).
 * ? int. No row: no such task. MariaDB has no `FOR UPDATE OF t`: the schedule row joined
 * is locked too, which only delays a concurrent edit of that schedule.
 */
export const LOCK_TASK_VERSION = `SELECT ${TASK_VERSION} AS version ${TASK_JOINS} WHERE t.id = ? FOR UPDATE`;

/**
 * The task list's WHERE clause (see src/http/sql.ts): the same five filters, each
 * parameter repeated where it is used (listFilterParams). Queue and task compare as
 * bytes (exact, as on PostgreSQL, whatever the column's collation); the search is
 * case-insensitive.
 */
const LIST_FILTER = `
WHERE (? IS NULL OR t.enabled = ?)
  AND (? IS NULL
       OR (? = 'crontab' AND t.crontab_id IS NOT NULL) OR (? = 'interval' AND t.interval_id IS NOT NULL)
       OR (? = 'solar' AND t.solar_id IS NOT NULL) OR (? = 'clocked' AND t.clocked_id IS NOT NULL))
  AND (? IS NULL OR BINARY COALESCE(t.queue, '') = BINARY ?)
  AND (? IS NULL OR BINARY t.task = BINARY ?)
  AND (? IS NULL OR LOCATE(LOWER(?), LOWER(t.name)) > 0 OR LOCATE(LOWER(?), LOWER(t.description)) > 0)`;

/** The list's five filter values (enabled, kind, queue, task, search) as LIST_FILTER's placeholders take them. */
export function listFilterParams(filter: readonly unknown[]): unknown[] {
  const [enabled, kind, queue, task, search] = filter;
  return [enabled, enabled, kind, kind, kind, kind, kind, queue, queue, task, task, search, search, search];
}

/**
 * One page of the task list, sorted by `column` (from the caller's fixed list, never input
 * text); MySQL sorts NULLs first ascending and last descending, as PostgreSQL's statement
 * asks. Parameters: listFilterParams, then limit, offset.
 */
export function listTasksSql(column: string, direction: 'ASC' | 'DESC'): string {
  const order = `${column} ${direction}, t.id ${direction}`;
  return `WITH page AS (
  SELECT t.id FROM django_celery_beat_periodictask t ${LIST_FILTER}
  ORDER BY ${order}
  LIMIT ? OFFSET ?
)
SELECT ${TASK_COLUMNS} FROM page JOIN django_celery_beat_periodictask t ON t.id = page.id
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id
ORDER BY ${order}`;
}

/** How many tasks match the list's filters; parameters: listFilterParams. */
export const COUNT_TASKS = `SELECT COUNT(*) AS total FROM django_celery_beat_periodictask t ${LIST_FILTER}`;

/** Every schedule row of each kind, by id (their tasks: SCHEDULE_TASKS). clocked_time: naive text in the database's zone. */
export const SCHEDULES = {
  crontab: `SELECT id, minute, hour, day_of_week, day_of_month, month_of_year, timezone
    FROM django_celery_beat_crontabschedule ORDER BY id`,
  interval: `SELECT id, every, period FROM django_celery_beat_intervalschedule ORDER BY id`,
  solar: `SELECT id, event, CAST(latitude AS DOUBLE) AS latitude, CAST(longitude AS DOUBLE) AS longitude
    FROM django_celery_beat_solarschedule ORDER BY id`,
  clocked: `SELECT id, clocked_time FROM django_celery_beat_clockedschedule ORDER BY id`,
} as const;

/** The tasks that use a schedule of each kind: schedule_id, id, name; by name. */
export const SCHEDULE_TASKS = {
  crontab: `SELECT crontab_id AS schedule_id, id, name FROM django_celery_beat_periodictask WHERE crontab_id IS NOT NULL ORDER BY name, id`,
  interval: `SELECT interval_id AS schedule_id, id, name FROM django_celery_beat_periodictask WHERE interval_id IS NOT NULL ORDER BY name, id`,
  solar: `SELECT solar_id AS schedule_id, id, name FROM django_celery_beat_periodictask WHERE solar_id IS NOT NULL ORDER BY name, id`,
  clocked: `SELECT clocked_id AS schedule_id, id, name FROM django_celery_beat_periodictask WHERE clocked_id IS NOT NULL ORDER BY name, id`,
} as const;

/** The tasks (id, name) that use one schedule row, by name. ? int schedule id. */
export const SCHEDULE_USERS = {
  crontab: `SELECT id, name FROM django_celery_beat_periodictask WHERE crontab_id = ? ORDER BY name`,
  interval: `SELECT id, name FROM django_celery_beat_periodictask WHERE interval_id = ? ORDER BY name`,
  solar: `SELECT id, name FROM django_celery_beat_periodictask WHERE solar_id = ? ORDER BY name`,
  clocked: `SELECT id, name FROM django_celery_beat_periodictask WHERE clocked_id = ? ORDER BY name`,
} as const;

/** One schedule row's id, if it exists. ? int. */
export const SCHEDULE_EXISTS = {
  crontab: `SELECT id FROM django_celery_beat_crontabschedule WHERE id = ?`,
  interval: `SELECT id FROM django_celery_beat_intervalschedule WHERE id = ?`,
  solar: `SELECT id FROM django_celery_beat_solarschedule WHERE id = ?`,
  clocked: `SELECT id FROM django_celery_beat_clockedschedule WHERE id = ?`,
} as const;

/** Deletes one schedule row (MySQL has no RETURNING; SCHEDULE_EXISTS first). ? int. */
export const DELETE_SCHEDULE = {
  crontab: `DELETE FROM django_celery_beat_crontabschedule WHERE id = ?`,
  interval: `DELETE FROM django_celery_beat_intervalschedule WHERE id = ?`,
  solar: `DELETE FROM django_celery_beat_solarschedule WHERE id = ?`,
  clocked: `DELETE FROM django_celery_beat_clockedschedule WHERE id = ?`,
} as const;

/** A UTC DATETIME(6) of dbbeat's own tables as ISO 8601 text, which `new Date()` reads. */
const iso = (column: string) => `DATE_FORMAT(${column}, '%Y-%m-%dT%H:%i:%s.%fZ')`;

/**
 * The leases (one per beat group) by the database's clock: name, holder, token (text),
 * expires_at and now (ISO text), valid (0/1).
 */
export const LEASES = `SELECT name, holder, CAST(token AS CHAR) AS token, ${iso('expires_at')} AS expires_at,
  expires_at > UTC_TIMESTAMP(6) AS valid, ${iso('UTC_TIMESTAMP(6)')} AS now
FROM dbbeat_lease ORDER BY name`;

/**
 * Every beat that recorded itself (dbbeat_beat), by the database's clock, as PostgreSQL's
 * BEATS: leader (0/1) is who holds its group's lease now; live (0/1) is seen within three
 * lease times. started_at and seen_at as ISO text.
 */
export const BEATS = `SELECT b.instance, b.lease_name, b.hostname, b.pid, b.version,
  ${iso('b.started_at')} AS started_at, ${iso('b.seen_at')} AS seen_at,
  (l.name IS NOT NULL) AS leader,
  b.seen_at > UTC_TIMESTAMP(6) - INTERVAL ROUND(3 * b.lease_seconds * 1000000) MICROSECOND AS live
FROM dbbeat_beat b
LEFT JOIN dbbeat_lease l ON l.name = b.lease_name AND l.holder = b.instance AND l.expires_at > UTC_TIMESTAMP(6)
ORDER BY live DESC, leader DESC, b.lease_name, b.started_at, b.instance`;
