// The task list's sort keys and its statements in the database's dialect (the statements
// themselves: src/db/postgres/console-statements.ts and src/db/mysql/console-statements.ts).
import { consoleStatements } from '../db/console-statements.js';
import type { Database } from '../db/database.js';

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
 * The task list's statements for this database: the page (sorted by a key of
 * SORT_COLUMNS, NULLs first ascending and last descending), the count, and the parameters
 * each takes for the filters (enabled, kind, queue, task, search), limit and offset.
 */
export function taskListStatements(db: Pick<Database, 'kind'>) {
  const statements = consoleStatements(db);
  return {
    page: (sort: SortKey, direction: 'ASC' | 'DESC') => statements.listTasksSql(SORT_COLUMNS[sort], direction),
    pageParams: (filter: readonly unknown[], limit: number, offset: number) => [
      ...statements.listFilterParams(filter),
      limit,
      offset,
    ],
    count: statements.COUNT_TASKS,
    countParams: (filter: readonly unknown[]) => statements.listFilterParams(filter),
  };
}
