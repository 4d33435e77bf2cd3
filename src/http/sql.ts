// The console's read statements, one named constant each, with their parameters.
import type { Database } from '../db/database.js';
import * as mysql from '../db/mysql/console-statements.js';
import { TASK_COLUMNS } from '../model/task-rows.js';

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

/** Sort keys of the list → SQL (id breaks ties, so pages never overlap). */
export const SORT_COLUMNS = {
  id: 't.id',
  name: 't.name',
  task: 't.task',
  enabled: 't.enabled',
  last_run_at: 't.last_run_at',
  total_run_count: 't.total_run_count',
  date_changed: 't.date_changed',
} as const;
export type SortKey = keyof typeof SORT_COLUMNS;

/**
 * One page of the task list. Parameters as LIST_FILTER, then $6 int limit, $7 int offset.
 * The page's ids are chosen from the task table alone (index-friendly, no joins); only
 * those rows are joined with their schedules and get a version digest, so a page costs
 * the same among 10 or 1,000,000 tasks but for the sort itself.
 * `sort` and `direction` come from SORT_COLUMNS and 'ASC'/'DESC' only, never from input text.
 */
export function listTasksSql(sort: SortKey, direction: 'ASC' | 'DESC'): string {
  const nulls = direction === 'ASC' ? 'NULLS FIRST' : 'NULLS LAST';
  const order = `${SORT_COLUMNS[sort]} ${direction} ${nulls}, t.id ${direction}`;
  return `WITH page AS (
  SELECT t.id FROM django_celery_beat_periodictask t ${LIST_FILTER}
  ORDER BY ${order}
  LIMIT $6 OFFSET $7
)
SELECT ${TASK_COLUMNS} FROM page JOIN django_celery_beat_periodictask t ON t.id = page.id
  LEFT JOIN django_celery_beat_crontabschedule c ON c.id = t.crontab_id
  LEFT JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id
  LEFT JOIN django_celery_beat_solarschedule s ON s.id = t.solar_id
  LEFT JOIN django_celery_beat_clockedschedule k ON k.id = t.clocked_id
ORDER BY ${order}`;
}

/** How many tasks match the list's filters; parameters as LIST_FILTER. */
export const COUNT_TASKS = `SELECT count(*)::int AS total FROM django_celery_beat_periodictask t ${LIST_FILTER}`;

/**
 * The task list's statements in the database's dialect (MySQL's in
 * src/db/mysql/console-statements.ts): the page, the count, and the parameters each
 * takes for the filters (enabled, kind, queue, task, search), limit and offset.
 */
export function taskListStatements(db: Pick<Database, 'kind'>) {
  if (db.kind === 'mysql') {
    return {
      page: (sort: SortKey, direction: 'ASC' | 'DESC') =>
        mysql.listTasksSql(`${SORT_COLUMNS[sort]} ${direction}, t.id ${direction}`),
      pageParams: (filter: readonly unknown[], limit: number, offset: number) => [
        ...mysql.listFilterParams(filter),
        limit,
        offset,
      ],
      count: mysql.COUNT_TASKS,
      countParams: (filter: readonly unknown[]) => mysql.listFilterParams(filter),
    };
  }
  return {
    page: listTasksSql,
    pageParams: (filter: readonly unknown[], limit: number, offset: number) => [...filter, limit, offset],
    count: COUNT_TASKS,
    countParams: (filter: readonly unknown[]) => [...filter],
  };
}

/** Every schedule row of each kind with the tasks that use it (id and name). */
export const SCHEDULES = {
  crontab: `SELECT c.id, c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year, c.timezone,
      coalesce(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY t.name) FILTER (WHERE t.id IS NOT NULL), '[]') AS tasks
    FROM django_celery_beat_crontabschedule c LEFT JOIN django_celery_beat_periodictask t ON t.crontab_id = c.id
    GROUP BY c.id ORDER BY c.id`,
  interval: `SELECT i.id, i.every, i.period,
      coalesce(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY t.name) FILTER (WHERE t.id IS NOT NULL), '[]') AS tasks
    FROM django_celery_beat_intervalschedule i LEFT JOIN django_celery_beat_periodictask t ON t.interval_id = i.id
    GROUP BY i.id ORDER BY i.id`,
  solar: `SELECT s.id, s.event, s.latitude::float8 AS latitude, s.longitude::float8 AS longitude,
      coalesce(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY t.name) FILTER (WHERE t.id IS NOT NULL), '[]') AS tasks
    FROM django_celery_beat_solarschedule s LEFT JOIN django_celery_beat_periodictask t ON t.solar_id = s.id
    GROUP BY s.id ORDER BY s.id`,
  clocked: `SELECT k.id, k.clocked_time,
      coalesce(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY t.name) FILTER (WHERE t.id IS NOT NULL), '[]') AS tasks
    FROM django_celery_beat_clockedschedule k LEFT JOIN django_celery_beat_periodictask t ON t.clocked_id = k.id
    GROUP BY k.id ORDER BY k.id`,
} as const;

/** The leases (one per beat group) by the database's clock. */
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
