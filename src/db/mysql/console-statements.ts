// The console's task reads on MySQL / MariaDB, under the same names as
// src/model/task-rows.ts (PostgreSQL): `?` placeholders, an array in `IN (?)` expanded by
// the driver. Times come back as naive text and flags as 0/1; queryTaskRows converts them.

/**
 * A row's version on MySQL: MD5 of a JSON array of the same columns as PostgreSQL's
 * TASK_VERSION (JSON_ARRAY keeps NULLs apart from empty text). The digests of the two
 * dialects differ; each is only compared with itself.
 */
const TASK_VERSION = `MD5(JSON_ARRAY(
  t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key, t.priority,
  t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled, t.date_changed, t.description,
  t.crontab_id, t.interval_id, t.solar_id, t.clocked_id,
  c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year, c.timezone,
  i.every, i.period, s.event, s.latitude, s.longitude, k.clocked_time))`;

const TASK_COLUMNS = `
  t.id, t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key,
  t.priority, t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled,
  t.last_run_at, t.total_run_count, t.date_changed, t.description,
  t.crontab_id, c.minute AS c_minute, c.hour AS c_hour, c.day_of_week AS c_day_of_week,
  c.day_of_month AS c_day_of_month, c.month_of_year AS c_month_of_year, c.timezone AS c_timezone,
  t.interval_id, i.every AS i_every, i.period AS i_period,
  t.solar_id, s.event AS s_event, s.latitude AS s_latitude, s.longitude AS s_longitude,
  t.clocked_id, k.clocked_time AS k_clocked_time,
  ${TASK_VERSION} AS version`;

const TASK_JOINS = `
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
 * One page of the task list: `order` is the ORDER BY text (from SORT_COLUMNS only; MySQL
 * sorts NULLs first ascending and last descending, as PostgreSQL's statement asks).
 * Parameters: listFilterParams, then limit, offset.
 */
export function listTasksSql(order: string): string {
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
