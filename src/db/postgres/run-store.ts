// RunStore on PostgreSQL and PGlite: the statements of run-statements.ts.
import type { Database } from '../database.js';
import { foldOutcomes } from '../outcome-fold.js';
import { type FailingColumns, type RunColumns, failingOf, runOf } from '../run-rows.js';
import type {
  AppliedOutcome,
  FailingQuery,
  FailingTask,
  OpenRun,
  OutcomeUpdate,
  RunFilter,
  RunHistory,
  RunRecordView,
  RunState,
  RunStore,
} from '../run-store.js';
import type { RunEntry } from '../store.js';
import {
  APPLY_OUTCOMES,
  FAILING_TASKS,
  INSERT_RUNS,
  LIST_RUNS,
  LIST_TASK_RUNS,
  OPEN_RUNS,
  PRUNE_RUNS,
  TASK_ID_BY_NAME,
  insertRunsParams,
} from './run-statements.js';

export class PostgresRunStore implements RunStore, RunHistory {
  constructor(private readonly db: Pick<Database, 'query'>) {}

  async pruneRuns(keepDays: number, maxRows: number, limit: number): Promise<number> {
    const [row] = await this.db.query<{ deleted: number }>(PRUNE_RUNS, [keepDays, maxRows, limit]);
    return row?.deleted ?? 0;
  }

  async applyOutcomes(updates: readonly OutcomeUpdate[]): Promise<AppliedOutcome[]> {
    const folded = foldOutcomes(updates);
    if (folded.length === 0) return [];
    const rows = await this.db.query<{ task_id: string; state: RunState; previous: RunState; runtime: number | null }>(
      APPLY_OUTCOMES,
      [
        folded.map((u) => u.taskId),
        folded.map((u) => u.state),
        folded.map((u) => u.afterRetry),
        folded.map((u) => u.receivedAt),
        folded.map((u) => u.startedAt),
        folded.map((u) => u.finishedAt),
        folded.map((u) => u.runtime),
        folded.map((u) => u.worker),
        folded.map((u) => u.result),
        folded.map((u) => u.exceptionType),
        folded.map((u) => u.exceptionMessage),
        folded.map((u) => u.traceback),
      ],
    );
    return rows.map((r) => ({
      taskId: r.task_id,
      state: r.state,
      previous: r.previous,
      runtime: r.runtime === null ? null : Number(r.runtime),
    }));
  }

  async openRuns(sentBefore: number, limit: number, afterId = 0): Promise<OpenRun[]> {
    const rows = await this.db.query<{ id: number | string; task_id: string; sent_at: number; state: RunState }>(
      OPEN_RUNS,
      [sentBefore, limit, afterId],
    );
    return rows.map((r) => ({ id: Number(r.id), taskId: r.task_id, sentAt: Number(r.sent_at), state: r.state }));
  }

  async insertRuns(entries: readonly RunEntry[]): Promise<void> {
    if (entries.length > 0) await this.db.query(INSERT_RUNS, insertRunsParams(entries));
  }

  async listRuns(filter: RunFilter): Promise<RunRecordView[]> {
    const common = [filter.state ?? null, filter.since ?? null, filter.before ?? null, filter.limit];
    const rows =
      filter.periodicTaskId !== undefined
        ? await this.db.query<RunColumns>(LIST_TASK_RUNS, [filter.periodicTaskId, ...common])
        : await this.db.query<RunColumns>(LIST_RUNS, [filter.name ?? null, ...common]);
    return rows.map(runOf);
  }

  async periodicTaskIdOf(name: string): Promise<number | undefined> {
    const [row] = await this.db.query<{ id: number }>(TASK_ID_BY_NAME, [name]);
    return row === undefined ? undefined : Number(row.id);
  }

  async failingTasks(query: FailingQuery): Promise<FailingTask[]> {
    if (query.periodicTaskIds !== undefined && query.periodicTaskIds.length === 0) return [];
    const rows = await this.db.query<FailingColumns>(FAILING_TASKS, [
      Math.max(1, Math.floor(query.lastK)),
      query.periodicTaskIds ?? null,
    ]);
    return rows.map(failingOf);
  }
}
