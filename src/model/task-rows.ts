// Reading task rows with their schedules, as the console and the command line show them:
// the beat's TaskRow columns (src/beat/task-row.ts) plus description and the row's version
// (for edits that must not overwrite another). The statements are each dialect's
// (src/db/console-statements.ts); this converts what their drivers return.
import type { Database } from '../db/database.js';
import { consoleStatements } from '../db/console-statements.js';
import type { MysqlDatabase } from '../db/mysql/connection.js';
import type { TaskRow } from '../db/store.js';

/** A task row as these statements return it: the beat's TaskRow (times in epoch ms), description and version. */
export type ConsoleTaskRow = TaskRow & { description: string; version: string };

const TIME_COLUMNS = ['expires', 'start_time', 'last_run_at', 'date_changed', 'k_clocked_time'] as const;
const FLAG_COLUMNS = ['one_off', 'enabled'] as const;

/**
 * Runs one of the task statements (src/db/console-statements.ts) and returns its rows with
 * times as epoch ms, as the beat's TaskRow has them, and flags as booleans.
 */
export async function queryTaskRows(
  db: Pick<Database, 'query'>,
  sql: string,
  params: readonly unknown[] = [],
): Promise<ConsoleTaskRow[]> {
  const rows = await queryRows(db, sql, params, TIME_COLUMNS, FLAG_COLUMNS);
  return rows as unknown as ConsoleTaskRow[];
}

/**
 * Runs a statement on django-celery-beat's tables and returns its rows with the named
 * time columns as epoch ms (or null) and the named flag columns as booleans, whatever the
 * dialect: PostgreSQL's driver gives Dates and booleans; MySQL gives naive DATETIME text in
 * the database's zone (--db-timezone) and tinyint(1) 0/1.
 */
export async function queryRows(
  db: Pick<Database, 'query'>,
  sql: string,
  params: readonly unknown[],
  times: readonly string[],
  flags: readonly string[] = [],
): Promise<Record<string, unknown>[]> {
  const rows = await db.query<Record<string, unknown>>(sql, params);
  const naive = (db as Partial<MysqlDatabase>).kind === 'mysql' ? (db as MysqlDatabase).naiveTimes : undefined;
  for (const row of rows) {
    for (const column of times) {
      const value = row[column];
      if (value instanceof Date) row[column] = value.getTime();
      else if (naive !== undefined && typeof value === 'string') row[column] = naive.toEpochMs(value);
    }
    if (naive !== undefined) for (const column of flags) row[column] = row[column] === 1 || row[column] === true;
  }
  return rows;
}

/**
 * The console statements of this database (the same names on every dialect).
 * Kept for callers that knew it by this name; see src/db/console-statements.ts.
 */
export const taskRowStatements = consoleStatements;
