// The rows of the run-history reading statements (LIST_RUNS, LIST_TASK_RUNS, FAILING_TASKS)
// as the readers' plain values, on either dialect: PostgreSQL selects times as epoch ms,
// MySQL as UTC DATETIME text; ids may come back as text (bigint) and flags as 0/1.
import type { FailingTask, RunRecordView, RunState } from './run-store.js';

/** A row of LIST_RUNS / LIST_TASK_RUNS (times as epoch ms; bigint id as text or number). */
export interface RunColumns extends Record<string, unknown> {
  id: number | string;
  periodic_task_id: number;
  periodic_task_name: string;
  task: string;
  task_id: string | null;
  scheduled_at: number | string | null;
  sent_at: number | string;
  late_ms: number | null;
  broker: string;
  queue: string | null;
  manual: boolean | number;
  state: RunState;
  received_at: number | string | null;
  started_at: number | string | null;
  finished_at: number | string | null;
  runtime: number | null;
  worker: string | null;
  result: string | null;
  exception_type: string | null;
  exception_message: string | null;
  traceback: string | null;
}

/** A row of FAILING_TASKS. */
export interface FailingColumns extends Record<string, unknown> {
  periodic_task_id: number;
  periodic_task_name: string;
  reason: 'failures' | 'lost';
  failures: number | string;
  id: number | string;
  task_id: string | null;
  state: RunState;
  sent_at: number | string;
  exception_type: string | null;
  exception_message: string | null;
}

/** A time column as epoch ms: a number already (PostgreSQL) or UTC DATETIME text (MySQL). */
export function epochMsOf(value: number | string | null): number | null {
  if (value === null) return null;
  if (typeof value === 'number') return value;
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}

/** A run row as RunRecordView, on either dialect. */
export function runOf(row: RunColumns): RunRecordView {
  return {
    id: Number(row.id),
    periodicTaskId: Number(row.periodic_task_id),
    periodicTaskName: row.periodic_task_name,
    task: row.task,
    taskId: row.task_id,
    scheduledAt: epochMsOf(row.scheduled_at),
    sentAt: epochMsOf(row.sent_at)!,
    lateMs: row.late_ms === null ? null : Number(row.late_ms),
    broker: row.broker,
    queue: row.queue,
    manual: Boolean(row.manual),
    state: row.state,
    receivedAt: epochMsOf(row.received_at),
    startedAt: epochMsOf(row.started_at),
    finishedAt: epochMsOf(row.finished_at),
    runtime: row.runtime === null ? null : Number(row.runtime),
    worker: row.worker,
    result: row.result,
    exceptionType: row.exception_type,
    exceptionMessage: row.exception_message,
    traceback: row.traceback,
  };
}

/** A failing-task row as FailingTask, on either dialect. */
export function failingOf(row: FailingColumns): FailingTask {
  return {
    periodicTaskId: Number(row.periodic_task_id),
    periodicTaskName: row.periodic_task_name,
    reason: row.reason,
    failures: Number(row.failures),
    lastRun: {
      id: Number(row.id),
      taskId: row.task_id,
      state: row.state,
      sentAt: epochMsOf(row.sent_at)!,
      exceptionType: row.exception_type,
      exceptionMessage: row.exception_message,
    },
  };
}
