// Run a periodic task now, outside its schedule, as django-celery-beat's admin
// action "Run selected tasks" does: one message with the task's args, kwargs,
// headers, queue, exchange, routing key, priority and expiry, built by the same
// code as the beat's runs. The schedule, last_run_at and total_run_count are not
// touched. The message carries a fresh task id and the header `dbbeat_manual_run`.
// Once the broker has it, the run goes into run history (dbbeat_run) as manual, with no
// slot and no lateness, so its outcome is followed like a scheduled run's.
import { randomUUID } from 'node:crypto';

import { PyDict, PyJsonText } from '../broker/pyjson.js';
import { type RoutingSettings, routeTask } from '../broker/routing.js';
import { brokerUrlFromEnv, publishOne } from '../broker/send-task.js';
import type { Broker, TaskMessage } from '../broker/types.js';
import { TaskNotFoundError } from '../model/task-edit.js';
import { queryTaskRows } from '../model/task-rows.js';
import { consoleStatements } from '../db/console-statements.js';
import type { Database } from '../db/database.js';
import { openDatabase, runStoreFor } from '../db/open.js';
import type { RunHistory } from '../db/run-store.js';
import type { RunEntry, TaskRow } from '../db/store.js';
import { redactUrl } from '../redact-url.js';
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
  /**
   * Write the run into run history (dbbeat_run, manual, no slot). Default true. The broker
   * column gets `brokerUrl` (or the URL given as `broker`, or the environment's; its
   * password removed); the queue is routed by `routing` as the beat routes.
   */
  history?: boolean;
  /** The broker's URL, for the history row when `broker` is a connected Broker. */
  brokerUrl?: string;
  /** Celery's routing settings (CELERY_TASK_ROUTES, …), for the history row's queue. Default Celery's. */
  routing?: RoutingSettings;
  /** Told when the history row could not be written (the run was sent all the same). */
  onHistoryError?: (error: Error) => void;
}

/** The message of a manual run of `row`. @throws InvalidTaskError when the row breaks a rule */
export function manualRunMessage(row: TaskRow, now: Date, requestedBy?: string): TaskMessage {
  const resolution = resolveTaskRow(row);
  if (!resolution.ok) throw new InvalidTaskError(row.name, resolution.problem);
  const message = messageFor(sendSpecOf(resolution.task), randomUUID(), now, now);
  // The row's headers are parsed text (PyJsonText): the mark is added to its entries, each
  // value kept as Python reads it (spreading the text object would send its fields instead).
  const rowHeaders = PyJsonText.of(message.headers, 'headers').value;
  const entries = rowHeaders instanceof PyDict ? rowHeaders.entries.filter(([key]) => key !== MANUAL_RUN_HEADER) : [];
  return {
    ...message,
    scheduledAt: null,
    headers: PyJsonText.of(new PyDict([...entries, [MANUAL_RUN_HEADER, requestedBy ?? true]]), 'headers'),
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
    const now = options.now ?? new Date();
    const message = manualRunMessage(row, now, options.requestedBy);
    await publishOne(message, options.broker);
    if (options.history !== false) {
      const url = options.brokerUrl ?? (typeof options.broker === 'string' ? options.broker : undefined);
      const broker =
        url !== undefined
          ? redactUrl(url)
          : typeof options.broker === 'object'
            ? options.broker.kind
            : redactUrl(brokerUrlFromEnv());
      await recordManualRun(
        runStoreFor(db),
        manualRunEntry(row, message, now.getTime(), broker, options.routing),
      ).catch((error: unknown) => options.onHistoryError?.(error instanceof Error ? error : new Error(String(error))));
    }
    return message.id;
  } finally {
    await owned?.close();
  }
}

/**
 * The run-history row of a manual run of `row` sent as `message` at `sentAt` (epoch ms):
 * manual, no slot, no lateness, state SENT; the queue routed as the beat routes.
 * `broker` is the broker URL without its password.
 */
export function manualRunEntry(
  row: Pick<TaskRow, 'id' | 'name'>,
  message: TaskMessage,
  sentAt: number,
  broker: string,
  routing?: RoutingSettings,
): RunEntry {
  const route = routeTask(
    message.task,
    { queue: message.queue, exchange: message.exchange, routingKey: message.routingKey, priority: message.priority },
    routing,
  );
  return {
    periodicTaskId: row.id,
    periodicTaskName: row.name,
    task: message.task,
    taskId: message.id,
    scheduledAt: null,
    sentAt,
    lateMs: null,
    broker,
    queue: route.declare?.name ?? route.routingKey,
    manual: true,
    state: 'SENT',
  };
}

/** Writes a manual run's row (one statement). @throws the database's error */
export async function recordManualRun(store: Pick<RunHistory, 'insertRuns'>, entry: RunEntry): Promise<void> {
  await store.insertRuns([entry]);
}
