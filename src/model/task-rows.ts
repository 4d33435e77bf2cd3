// Statements that read task rows with their schedules, as the console and the
// command line show them: the beat's TaskRow columns (src/beat/task-row.ts) plus
// description and the row's version (for edits that must not overwrite another).
import type { Database } from '../db/database.js';
import * as mysqlStatements from '../db/mysql/console-statements.js';
import type { MysqlDatabase } from '../db/mysql/connection.js';
import type { TaskRow } from '../db/store.js';

/** A task row as these statements return it: the beat's TaskRow (times in epoch ms), description and version. */
export type ConsoleTaskRow = TaskRow & { description: string; version: string };

const TIME_COLUMNS = ['expires', 'start_time', 'last_run_at', 'date_changed', 'k_clocked_time'] as const;
const FLAG_COLUMNS = ['one_off', 'enabled'] as const;

/**
 * Runs one of the statements below and returns its rows with times as epoch ms, as the
 * beat's TaskRow has them (the driver gives Dates).
 */
export async function queryTaskRows(
  db: Pick<Database, 'query'>,
  sql: string,
  params: readonly unknown[] = [],
): Promise<ConsoleTaskRow[]> {
  const rows = await db.query<Record<string, unknown>>(sql, params);
  // MySQL: naive DATETIME text in the database's zone (--db-timezone) and tinyint(1) flags.
  const naive = (db as Partial<MysqlDatabase>).kind === 'mysql' ? (db as MysqlDatabase).naiveTimes : undefined;
  for (const row of rows) {
    for (const column of TIME_COLUMNS) {
      const value = row[column];
      if (value instanceof Date) row[column] = value.getTime();
      else if (naive !== undefined && typeof value === 'string') row[column] = naive.toEpochMs(value);
    }
    if (naive !== undefined) for (const column of FLAG_COLUMNS) row[column] = row[column] === 1 || row[column] === true;
  }
  return rows as unknown as ConsoleTaskRow[];
}

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

/** The columns of TaskRow, then description and version. */
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

/** The statements above in the database's dialect (MySQL's in src/db/mysql/console-statements.ts, same names). */
export function taskRowStatements(db: Pick<Database, 'kind'>) {
  if (db.kind === 'mysql') return mysqlStatements;
  return { TASK_BY_ID, TASK_BY_NAME, TASKS_BY_NAMES, ALL_TASK_NAMES, ALL_TASKS };
}
