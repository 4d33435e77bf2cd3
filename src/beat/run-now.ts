// Run a periodic task now, outside its schedule, as django-celery-beat's admin
// action "Run selected tasks" does: one message with the task's args, kwargs,
// headers, queue, exchange, routing key, priority and expiry, built by the same
// code as the beat's runs. The schedule, last_run_at and total_run_count are not
// touched. The message carries a fresh task id and the header `dbbeat_manual_run`.
import { randomUUID } from 'node:crypto';

import { publishOne } from '../broker/send-task.js';
import type { Broker, TaskMessage } from '../broker/types.js';
import { TaskNotFoundError } from '../model/task-edit.js';
import { queryTaskRows } from '../model/task-rows.js';
import { consoleStatements } from '../db/console-statements.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import type { TaskRow } from '../db/store.js';
import { resolveTaskRow } from '../model/task-row.js';
import { messageFor } from './dispatch.js';
import { sendSpecOf } from './task-table.js';

/** Header that marks a run started by hand; its value says by whom (`true` when unknown). */
export const MANUAL_RUN_HEADER = 'dbbeat_manual_run';

/** The task's row breaks a rule, so it cannot be sent (the same rules as the beat's). */
export class InvalidTaskError extends Error {
  override readonly name = 'InvalidTaskError';
  constructor(
    readonly taskName: string,
    readonly problem: string,
  ) {
    super(`task ${JSON.stringify(taskName)} cannot be run: ${problem}`);
  }
}

export interface RunNowOptions {
  /** The database (kept open). Default: opened from DATABASE_URL / DBBEAT_DATA_DIR and closed again. */
  database?: Pick<Database, 'kind' | 'query'>;
  /** A connected Broker (kept open) or a broker URL. Default: CELERY_BROKER_URL, BROKER_URL, redis://127.0.0.1:6379/0. */
  broker?: Broker | string;
  /** Who asked, for the header (e.g. the console's user). */
  requestedBy?: string;
  /** The send time (for `expire_seconds`). Default: now. */
  now?: Date;
}

/** The message of a manual run of `row`. @throws InvalidTaskError when the row breaks a rule */
export function manualRunMessage(row: TaskRow, now: Date, requestedBy?: string): TaskMessage {
  const resolution = resolveTaskRow(row);
  if (!resolution.ok) throw new InvalidTaskError(row.name, resolution.problem);
  const message = messageFor(sendSpecOf(resolution.task), randomUUID(), now, now);
  return {
    ...message,
    scheduledAt: null,
    headers: { ...message.headers, [MANUAL_RUN_HEADER]: requestedBy ?? true },
  };
}

/**
 * Sends the periodic task named `periodicTaskName` once, now, and returns the Celery task id
 * once the broker accepted it. Its schedule is not changed; a disabled task runs too.
 * @throws TaskNotFoundError (no such name), InvalidTaskError (a bad row), or the broker's error
 */
export async function runNow(periodicTaskName: string, options: RunNowOptions = {}): Promise<string> {
  const owned = options.database === undefined ? await openDatabase() : undefined;
  try {
    const db = options.database ?? owned!;
    const [row] = await queryTaskRows(db, consoleStatements(db).TASK_BY_NAME, [periodicTaskName]);
    if (row === undefined) throw new TaskNotFoundError(periodicTaskName);
    const message = manualRunMessage(row, options.now ?? new Date(), options.requestedBy);
    await publishOne(message, options.broker);
    return message.id;
  } finally {
    await owned?.close();
  }
}
