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
