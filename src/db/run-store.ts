// What run history (dbbeat_run) asks of a database beyond the beat's own write (which is
// BeatStore.recordRuns, under the lease's fence): retention, outcomes, reading. One
// implementation per dialect folder, the same statement names in each.
import type { RunEntry } from './store.js';

/**
 * A run's state in dbbeat_run. SENT and SKIPPED are written by the beat; the others come
 * from Celery (events, result backend) except LOST, which dbbeat sets when no outcome came
 * in time (src/outcomes/lost.ts).
 */
export type RunState =
  'SENT' | 'SKIPPED' | 'RECEIVED' | 'STARTED' | 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | 'REJECTED' | 'LOST';

/** States after which nothing moves a run: Celery's READY_STATES plus REJECTED. */
export const FINISHED_STATES: ReadonlySet<RunState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);

/** States still waiting for an outcome: what `openRuns` returns and LOST sweeps. */
export const OPEN_STATES: readonly RunState[] = ['SENT', 'RECEIVED', 'STARTED', 'RETRY'];

/** One observation of a run's outcome, matched to dbbeat_run by `taskId`. */
export interface OutcomeUpdate {
  /** The Celery task id (dbbeat_run.task_id). */
  taskId: string;
  state: RunState;
  /** When it happened (the event's timestamp), epoch ms. Fills the state's own time column if that is not given. */
  at: number;
  /** Epoch ms. */
  receivedAt?: number;
  /** Epoch ms. */
  startedAt?: number;
  /** Epoch ms. */
  finishedAt?: number;
  /** Seconds, as the worker measured it. */
  runtime?: number;
  /** The worker's hostname (celery@host). */
  worker?: string;
  /** repr of the return value (truncated by the caller; the store cuts at OUTCOME_LIMITS too). */
  result?: string;
  exceptionType?: string;
  exceptionMessage?: string;
  traceback?: string;
}

/** A run that `applyOutcomes` changed: its state before and after, and its runtime after. */
export interface AppliedOutcome {
  taskId: string;
  /** The state after the batch. Equal to `previous` when only empty times or the worker were filled. */
  state: RunState;
  /** The state before the batch. */
  previous: RunState;
  /** Seconds (dbbeat_run.runtime after the batch), null when none is known. */
  runtime: number | null;
}

/** A run that has no outcome yet. */
export interface OpenRun {
  /** dbbeat_run.id: the keyset for `openRuns`' `afterId`. */
  id: number;
  taskId: string;
  /** Epoch ms. */
  sentAt: number;
  state: RunState;
}

export interface RunStore {
  /**
   * Deletes up to `limit` rows sent more than `keepDays` days ago or beyond the newest
   * `maxRows`, oldest first. Returns how many went: call again while it equals `limit`.
   */
  pruneRuns(keepDays: number, maxRows: number, limit: number): Promise<number>;
  /**
   * Applies outcomes to runs by task id, in one statement per call (on MySQL/MariaDB, which
   * has no UPDATE … RETURNING, one transaction: the rows locked and read, the update, the
   * rows read again); returns the rows changed, in no particular order.
   * Several updates of one task id are folded first, in order (see foldOutcomes). A run's
   * state moves only as `outcomeMoves` allows: never out of SUCCESS, FAILURE, REVOKED or
   * REJECTED; after RETRY a new RECEIVED/STARTED is allowed (Celery retries keep the task
   * id); LOST is overwritten by any real outcome. An update that does not move the state
   * still fills received_at, started_at and worker where they are empty (a late event).
   * Task ids that are not in dbbeat_run (tasks dbbeat did not send) change nothing.
   */
  applyOutcomes(updates: readonly OutcomeUpdate[]): Promise<AppliedOutcome[]>;
  /**
   * Up to `limit` runs in SENT, RECEIVED, STARTED or RETRY sent before `sentBefore` (epoch
   * ms), by id (oldest first), only those with an id above `afterId` when given: keyset
   * paging for a caller that walks all open runs in rounds (the last `id` of a page).
   */
  openRuns(sentBefore: number, limit: number, afterId?: number): Promise<OpenRun[]>;
}

// ---- Reading run history (dbbeat runs, /api/runs, failing tasks) ----

/** What `listRuns` selects; every filter is optional and they combine (AND). */
export interface RunFilter {
  /** One periodic task's runs (django_celery_beat_periodictask.id), newest slot first, by its index. */
  periodicTaskId?: number;
  /**
   * Runs recorded under this periodic task name (exact; finds a deleted task's runs too).
   * Ignored with `periodicTaskId` (a renamed task's runs keep their old name).
   */
  name?: string;
  state?: RunState;
  /** Runs sent at or after this instant, epoch ms. */
  since?: number;
  /** Most rows answered (the caller caps it). */
  limit: number;
  /** Keyset paging: only runs older than the run with this id (the last id of the previous page). */
  before?: number;
}

/** One dbbeat_run row as the readers see it: what the beat wrote (RunEntry), then its outcome; times as epoch ms. */
export interface RunRecordView extends Omit<RunEntry, 'state'> {
  id: number;
  state: RunState;
  receivedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Seconds, as the worker measured it. */
  runtime: number | null;
  worker: string | null;
  result: string | null;
  exceptionType: string | null;
  exceptionMessage: string | null;
  traceback: string | null;
}

/** The states a failing-task check reads: a run that has finished one way or another. */
export const DECIDED_STATES: readonly RunState[] = ['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED', 'LOST'];

/** What `failingTasks` looks at. */
export interface FailingQuery {
  /** K: a task fails when its last K decided runs all failed. At least 1. */
  lastK: number;
  /** Only these periodic tasks (a page of the task list); all enabled tasks when absent. */
  periodicTaskIds?: readonly number[];
}

/** An enabled task whose last K decided runs are all FAILURE, or whose last one is LOST. */
export interface FailingTask {
  periodicTaskId: number;
  periodicTaskName: string;
  /** `failures`: the last K runs failed; `lost`: the last run never reported an outcome. */
  reason: 'failures' | 'lost';
  /** FAILURE runs among the last K decided ones. */
  failures: number;
  /** The last decided run: its row id, Celery task id, state, send time (epoch ms) and exception. */
  lastRun: {
    id: number;
    taskId: string | null;
    state: RunState;
    sentAt: number;
    exceptionType: string | null;
    exceptionMessage: string | null;
  };
}

/**
 * Reading run history (`dbbeat runs`, /api/runs, failing tasks), and the one write outside
 * the beat: a manual run's row. Implemented beside RunStore by each dialect's run store.
 */
export interface RunHistory {
  /** Adds rows as BeatStore.insertRuns does (one statement; a task id already there is left alone). */
  insertRuns(entries: readonly RunEntry[]): Promise<void>;
  /**
   * Runs matching `filter`, newest first (by id; with `periodicTaskId`, by send time then id,
   * through the (periodic_task_id, sent_at) index). Page on with `before` = the last id.
   */
  listRuns(filter: RunFilter): Promise<RunRecordView[]>;
  /** The id of the periodic task named `name`, if there is one. */
  periodicTaskIdOf(name: string): Promise<number | undefined>;
  /**
   * Enabled tasks that are failing (see {@link FailingTask}). Only decided runs count
   * (SUCCESS, FAILURE, REVOKED, REJECTED, LOST): a run in flight neither clears nor
   * extends a streak, and SKIPPED runs never ran. Manual runs count as runs.
   */
  failingTasks(query: FailingQuery): Promise<FailingTask[]>;
}
