// The console's and the command line's statements on PostgreSQL (and PGlite), one named
// constant each, with their parameters. MySQL's are in src/db/mysql/console-statements.ts
// under the same names; src/db/console-statements.ts picks one set per database, so the
// routes and `dbbeat tasks` never branch on the dialect.

/**
 * A row's version: a digest of every column a person edits (not the beat's
 * bookkeeping, last_run_at and total_run_count) and of its schedule row. Any edit,
 * by the console, Django admin or plain SQL, changes it, so a PATCH that names an
 * older version gets 409 instead of overwriting the other edit. date_changed is in
 * it, so an edit that writes the same values again still counts.
 */
export const TASK_VERSION = `md5(row(
  t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key, t.priority,
  t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled, t.date_changed, t.description,
  t.crontab_id, t.interval_id, t.solar_id, t.clocked_id,
  c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year, c.timezone,
  i.every, i.period, s.event, s.latitude, s.longitude, k.clocked_time)::text)`;

/** The columns of the beat's TaskRow, then description and version. */
export const TASK_COLUMNS = `
  t.id, t.name, t.task, t.args, t.kwargs, t.headers, t.queue, t.exchange, t.routing_key,
  t.priority, t.expires, t.expire_seconds, t.one_off, t.start_time, t.enabled,
  t.last_run_at, t.total_run_count, t.date_changed, t.description,
  t.crontab_id, c.minute AS c_minute, c.hour AS c_hour, c.day_of_week AS c_day_of_week,
  c.day_of_month AS c_day_of_month, c.month_of_year AS c_month_of_year, c.timezone AS c_timezone,
  t.interval_id, i.every AS i_every, i.period AS i_period,
  t.solar_id, s.event AS s_event, s.latitude::float8 AS s_latitude, s.longitude::float8 AS s_longitude,
  t.clocked_id, k.clocked_time AS k_clocked_time,
  ${TASK_VERSION} AS version`;

/** A task with its four possible schedule rows. */
export const TASK_JOINS = `
  FROM django_celery_beat_periodictask t
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id`;

/** One task by id. $1 int. */
export const TASK_BY_ID = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} WHERE t.id = $1`;

/** One task by name. $1 text. */
export const TASK_BY_NAME = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} WHERE t.name = $1`;

/** Tasks by name (for the command line). $1 text[]. */
export const TASKS_BY_NAMES = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} WHERE t.name = ANY($1::text[]) ORDER BY t.name`;

/** Every task name (for "did you mean"). */
export const ALL_TASK_NAMES = `SELECT name FROM django_celery_beat_periodictask ORDER BY name`;

/** Every task, by name (for `dbbeat tasks ls`). */
export const ALL_TASKS = `SELECT ${TASK_COLUMNS} ${TASK_JOINS} ORDER BY t.name`;

/**
 * Locks a task row for an edit and returns its version (inside the edit's transaction, so
 * no other edit slips in between the check and the write). $1 int. No row: no such task.
 */
export const LOCK_TASK_VERSION = `SELECT ${TASK_VERSION} AS version ${TASK_JOINS} WHERE t.id = $1 FOR UPDATE OF t`;

/**
 * The WHERE clause of the task list; every parameter may be NULL (no filter).
 * $1 bool enabled; $2 text schedule kind (interval, crontab, solar, clocked);
 * $3 text queue (exact; '' matches the default queue: NULL or empty);
 * $4 text Celery task name (exact); $5 text search in name and description (case-insensitive substring).
 */
const LIST_FILTER = `
WHERE ($1::bool IS NULL OR t.enabled = $1)
  AND ($2::text IS NULL
       OR ($2 = 'crontab' AND t.crontab_id IS NOT NULL) OR ($2 = 'interval' AND t.interval_id IS NOT NULL)
       OR ($2 = 'solar' AND t.solar_id IS NOT NULL) OR ($2 = 'clocked' AND t.clocked_id IS NOT NULL))
  AND ($3::text IS NULL OR coalesce(t.queue, '') = $3)
  AND ($4::text IS NULL OR t.task = $4)
  AND ($5::text IS NULL OR strpos(lower(t.name), lower($5)) > 0 OR strpos(lower(t.description), lower($5)) > 0)`;

/** The list's five filter values (enabled, kind, queue, task, search) as LIST_FILTER takes them: as they are. */
export function listFilterParams(filter: readonly unknown[]): unknown[] {
  return [...filter];
}

/**
 * One page of the task list, sorted by `column` (a column of `t`, from the caller's fixed
 * list, never input text) with NULLs first ascending and last descending, id breaking ties
 * so pages never overlap. Parameters: listFilterParams, then limit, offset.
 * The page's ids are chosen from the task table alone (index-friendly, no joins); only
 * those rows are joined with their schedules and get a version digest, so a page costs
 * the same among 10 or 1,000,000 tasks but for the sort itself.
 */
export function listTasksSql(column: string, direction: 'ASC' | 'DESC'): string {
  const nulls = direction === 'ASC' ? 'NULLS FIRST' : 'NULLS LAST';
  const order = `${column} ${direction} ${nulls}, t.id ${direction}`;
  const filterParams = 5;
  return `WITH page AS (
  SELECT t.id FROM django_celery_beat_periodictask t ${LIST_FILTER}
  ORDER BY ${order}
  LIMIT $${filterParams + 1} OFFSET $${filterParams + 2}
)
SELECT ${TASK_COLUMNS} FROM page JOIN django_celery_beat_periodictask t ON t.id = page.id
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id
ORDER BY ${order}`;
}

/** How many tasks match the list's filters; parameters: listFilterParams. */
export const COUNT_TASKS = `SELECT count(*)::int AS total FROM django_celery_beat_periodictask t ${LIST_FILTER}`;

/** Every schedule row of each kind, by id (their tasks: SCHEDULE_TASKS). Times as the driver gives them. */
export const SCHEDULES = {
  crontab: `SELECT id, minute, hour, day_of_week, day_of_month, month_of_year, timezone
    FROM django_celery_beat_crontabschedule ORDER BY id`,
  interval: `SELECT id, every, period FROM django_celery_beat_intervalschedule ORDER BY id`,
  solar: `SELECT id, event, latitude::float8 AS latitude, longitude::float8 AS longitude
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

/** The tasks (id, name) that use one schedule row, by name. $1 int schedule id. */
export const SCHEDULE_USERS = {
  crontab: `SELECT id, name FROM django_celery_beat_periodictask WHERE crontab_id = $1 ORDER BY name`,
  interval: `SELECT id, name FROM django_celery_beat_periodictask WHERE interval_id = $1 ORDER BY name`,
  solar: `SELECT id, name FROM django_celery_beat_periodictask WHERE solar_id = $1 ORDER BY name`,
  clocked: `SELECT id, name FROM django_celery_beat_periodictask WHERE clocked_id = $1 ORDER BY name`,
} as const;

/** One schedule row's id, if it exists. $1 int. */
export const SCHEDULE_EXISTS = {
  crontab: `SELECT id FROM django_celery_beat_crontabschedule WHERE id = $1`,
  interval: `SELECT id FROM django_celery_beat_intervalschedule WHERE id = $1`,
  solar: `SELECT id FROM django_celery_beat_solarschedule WHERE id = $1`,
  clocked: `SELECT id FROM django_celery_beat_clockedschedule WHERE id = $1`,
} as const;

/** Deletes one schedule row (no RETURNING: MySQL has none; SCHEDULE_EXISTS first). $1 int. */
export const DELETE_SCHEDULE = {
  crontab: `DELETE FROM django_celery_beat_crontabschedule WHERE id = $1`,
  interval: `DELETE FROM django_celery_beat_intervalschedule WHERE id = $1`,
  solar: `DELETE FROM django_celery_beat_solarschedule WHERE id = $1`,
  clocked: `DELETE FROM django_celery_beat_clockedschedule WHERE id = $1`,
} as const;

/**
 * The leases (one per beat group) by the database's clock: name, holder, token (text),
 * expires_at and now (timestamptz), valid (bool).
 */
export const LEASES = `SELECT name, holder, token::text AS token, expires_at, expires_at > now() AS valid, now() AS now
FROM dbbeat_lease ORDER BY name`;

/**
 * Every beat that recorded itself (dbbeat_beat), by the database's clock: leader is who
 * holds its group's lease now; a row unseen for three lease times is a beat that died
 * (gone). Live beats first, the leader first among them.
 */
export const BEATS = `SELECT b.instance, b.lease_name, b.hostname, b.pid, b.version, b.started_at, b.seen_at,
  (l.name IS NOT NULL) AS leader,
  b.seen_at > now() - make_interval(secs => 3 * b.lease_seconds) AS live
FROM dbbeat_beat b
LEFT JOIN dbbeat_lease l ON l.name = b.lease_name AND l.holder = b.instance AND l.expires_at > now()
ORDER BY live DESC, leader DESC, b.lease_name, b.started_at, b.instance`;
