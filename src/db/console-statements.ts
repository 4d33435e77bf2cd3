// The console's and the command line's statements in the database's dialect: one set per
// database, each under the same names (src/db/postgres/console-statements.ts,
// src/db/mysql/console-statements.ts), so the routes, `dbbeat tasks` and the task edits
// never branch on the dialect. A name missing from one set is a compile error here.
import type { Database } from './database.js';
import * as mysql from './mysql/console-statements.js';
import * as postgres from './postgres/console-statements.js';

type ByKind = Readonly<Record<'crontab' | 'interval' | 'solar' | 'clocked', string>>;

/** The statements every dialect provides, under these names (each file's TSDoc gives the parameters). */
export interface ConsoleStatements {
  readonly TASK_VERSION: string;
  readonly TASK_COLUMNS: string;
  readonly TASK_JOINS: string;
  readonly TASK_BY_ID: string;
  readonly TASK_BY_NAME: string;
  readonly TASKS_BY_NAMES: string;
  readonly ALL_TASK_NAMES: string;
  readonly ALL_TASKS: string;
  readonly LOCK_TASK_VERSION: string;
  listFilterParams(filter: readonly unknown[]): unknown[];
  listTasksSql(column: string, direction: 'ASC' | 'DESC'): string;
  readonly COUNT_TASKS: string;
  readonly SCHEDULES: ByKind;
  readonly SCHEDULE_TASKS: ByKind;
  readonly SCHEDULE_USERS: ByKind;
  readonly SCHEDULE_EXISTS: ByKind;
  readonly DELETE_SCHEDULE: ByKind;
  readonly LEASES: string;
  readonly BEATS: string;
}

const mysqlStatements: ConsoleStatements = mysql;
const postgresStatements: ConsoleStatements = postgres;

/** The console statements for this database (PGlite speaks PostgreSQL's). */
export function consoleStatements(db: Pick<Database, 'kind'>): ConsoleStatements {
  return db.kind === 'mysql' ? mysqlStatements : postgresStatements;
}
