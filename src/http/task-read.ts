// A task as the console's routes answer it: its view (task-view.ts) read by id, and whether
// it is failing (src/outcomes/failing.ts), for the list, one task and the writes' answers.
import { consoleStatements } from '../db/console-statements.js';
import { queryTaskRows } from '../model/task-rows.js';
import { failingJson } from '../outcomes/run-view.js';
import type { ConsoleContext } from './context.js';
import { type TaskView, taskView } from './task-view.js';

/** A TaskView with its `failing` entry (null: not failing). */
export type TaskAnswer = TaskView & { failing: ReturnType<typeof failingJson> | null };

/** Readers of task views on the context's database. */
export function taskViews(context: ConsoleContext): {
  /** Adds `failing` to each view (one query for all). */
  withFailing: (views: TaskView[]) => Promise<TaskAnswer[]>;
  /** One task's view with `failing`; undefined when there is no such task. */
  viewOf: (id: number) => Promise<TaskAnswer | undefined>;
} {
  const { db } = context;
  const { TASK_BY_ID } = consoleStatements(db);
  const withFailing = async (views: TaskView[]): Promise<TaskAnswer[]> => {
    const failing = await context.failing.of(views.map((view) => view.id));
    return views.map((view) => {
      const entry = failing.get(view.id);
      return { ...view, failing: entry === undefined ? null : failingJson(entry) };
    });
  };
  const viewOf = async (id: number): Promise<TaskAnswer | undefined> => {
    const [row] = await queryTaskRows(db, TASK_BY_ID, [id]);
    return row === undefined ? undefined : (await withFailing([taskView(row, context.now(), context.displayZone)]))[0];
  };
  return { withFailing, viewOf };
}
