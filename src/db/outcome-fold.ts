// The rules by which outcomes move a run's state, in TypeScript: the batch is folded per
// task id with them before it reaches the database, whose statements (postgres/ and mysql/
// run-statements.ts, APPLY_OUTCOMES) apply the same rules against the stored row.
import { FINISHED_STATES, type OutcomeUpdate, type RunState } from './run-store.js';

/**
 * Bounds on outcome text (characters), so that a huge return value or traceback cannot
 * bloat the history: result and exception message 4 KiB, traceback 32 KiB, exception type
 * and worker 255 (MySQL's varchar(255)). Longer text is cut and ends with '…'.
 */
export const OUTCOME_LIMITS = {
  result: 4096,
  exceptionMessage: 4096,
  traceback: 32_768,
  exceptionType: 255,
  worker: 255,
} as const;

/** Rank of the open states within one delivery: SENT < RECEIVED < STARTED. */
const RANK: Partial<Record<RunState, number>> = { SENT: 0, RECEIVED: 1, STARTED: 2 };

/**
 * Whether an update in state `to` moves a run from state `from`:
 * - never out of a finished state (SUCCESS, FAILURE, REVOKED, REJECTED);
 * - LOST only out of an open state (SENT, RECEIVED, STARTED, RETRY), and any real state out of LOST;
 * - into a finished state or RETRY from any open state;
 * - after RETRY into RECEIVED or STARTED (the retry is a new delivery of the same task id);
 * - otherwise forward only: SENT -> RECEIVED -> STARTED (the same state again refreshes its fields).
 * `afterRetry`: the update went through RETRY earlier in the same batch, so it moves any open state.
 * The SQL of APPLY_OUTCOMES spells out the same rules.
 */
export function outcomeMoves(from: RunState, to: RunState, afterRetry = false): boolean {
  if (FINISHED_STATES.has(from) || from === 'SKIPPED') return false;
  if (to === 'LOST') return from !== 'LOST';
  if (from === 'LOST') return true;
  if (FINISHED_STATES.has(to) || to === 'RETRY' || afterRetry) return true;
  if (from === 'RETRY') return to === 'RECEIVED' || to === 'STARTED';
  return (RANK[to] ?? -1) >= (RANK[from] ?? 0);
}

/** States whose update replaces result, exception, traceback, runtime and finished_at (even with nothing). */
export function replacesOutcome(state: RunState): boolean {
  return FINISHED_STATES.has(state) || state === 'RETRY';
}

/** An update as the statements take it: every column present, text cut to OUTCOME_LIMITS. */
export interface FoldedOutcome {
  taskId: string;
  state: RunState;
  /** The fold went through RETRY before `state`: it moves any open state. */
  afterRetry: boolean;
  receivedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  runtime: number | null;
  worker: string | null;
  result: string | null;
  exceptionType: string | null;
  exceptionMessage: string | null;
  traceback: string | null;
}

function cut(text: string | undefined, limit: number): string | null {
  if (text === undefined) return null;
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function normalise(update: OutcomeUpdate): FoldedOutcome {
  const { state, at } = update;
  return {
    taskId: update.taskId,
    state,
    afterRetry: false,
    receivedAt: update.receivedAt ?? (state === 'RECEIVED' ? at : null),
    startedAt: update.startedAt ?? (state === 'STARTED' ? at : null),
    finishedAt: update.finishedAt ?? (FINISHED_STATES.has(state) ? at : null),
    runtime: update.runtime ?? null,
    worker: cut(update.worker, OUTCOME_LIMITS.worker),
    result: cut(update.result, OUTCOME_LIMITS.result),
    exceptionType: cut(update.exceptionType, OUTCOME_LIMITS.exceptionType),
    exceptionMessage: cut(update.exceptionMessage, OUTCOME_LIMITS.exceptionMessage),
    traceback: cut(update.traceback, OUTCOME_LIMITS.traceback),
  };
}

const OUTCOME_FIELDS = ['finishedAt', 'runtime', 'result', 'exceptionType', 'exceptionMessage', 'traceback'] as const;
const TRACE_FIELDS = ['receivedAt', 'startedAt', 'worker'] as const;

/** `next` applied onto `current` by the rules of outcomeMoves (the statement's SET, in TypeScript). */
function merge(current: FoldedOutcome, next: FoldedOutcome): FoldedOutcome {
  const moves = outcomeMoves(current.state, next.state, next.afterRetry);
  const merged = { ...current };
  for (const field of TRACE_FIELDS) {
    // Moving: the newer value wins; not moving: only fills what is empty.
    (merged[field] as unknown) = moves ? (next[field] ?? current[field]) : (current[field] ?? next[field]);
  }
  if (!moves) return merged;
  for (const field of OUTCOME_FIELDS) {
    (merged[field] as unknown) = replacesOutcome(next.state) ? next[field] : (next[field] ?? current[field]);
  }
  merged.state = next.state;
  merged.afterRetry = current.afterRetry || current.state === 'RETRY' || next.afterRetry;
  return merged;
}

/**
 * The updates of one batch as one per task id, in order of first appearance: each task
 * id's updates applied onto each other in arrival order by the rules of outcomeMoves.
 */
export function foldOutcomes(updates: readonly OutcomeUpdate[]): FoldedOutcome[] {
  const byTask = new Map<string, FoldedOutcome>();
  for (const update of updates) {
    const next = normalise(update);
    const current = byTask.get(update.taskId);
    byTask.set(update.taskId, current === undefined ? next : merge(current, next));
  }
  return [...byTask.values()];
}
