// What run history (dbbeat_run) asks of a database beyond the beat's own write (which is
// BeatStore.recordRuns, under the lease's fence): retention, outcomes, reading. One
// implementation per dialect folder, the same statement names in each.

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

/** A run that has no outcome yet. */
export interface OpenRun {
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
   * Applies outcomes to runs by task id, in one statement per call; returns the rows changed.
   * Several updates of one task id are folded first, in order (see foldOutcomes). A run's
   * state moves only as `outcomeMoves` allows: never out of SUCCESS, FAILURE, REVOKED or
   * REJECTED; after RETRY a new RECEIVED/STARTED is allowed (Celery retries keep the task
   * id); LOST is overwritten by any real outcome. An update that does not move the state
   * still fills received_at, started_at and worker where they are empty (a late event).
   * Task ids that are not in dbbeat_run (tasks dbbeat did not send) change nothing.
   */
  applyOutcomes(updates: readonly OutcomeUpdate[]): Promise<number>;
  /**
   * Up to `limit` runs in SENT, RECEIVED, STARTED or RETRY sent before `sentBefore` (epoch
   * ms), oldest first (for LOST and the result-backend poll).
   */
  openRuns(sentBefore: number, limit: number): Promise<OpenRun[]>;
}
