// RunStore on MySQL / MariaDB: the statements of run-statements.ts.
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
import type { MysqlDatabase } from './connection.js';
import {
  APPLY_OUTCOMES,
  INSERT_RUNS,
  LIST_RUNS,
  LIST_TASK_RUNS,
  OPEN_RUNS,
  OUTCOME_ROWS_FOR_UPDATE,
  PRUNE_RUNS,
  TASK_ID_BY_NAME,
  RUN_CAP_ID,
  failingCandidatesStatement,
  failingTasksStatement,
  insertRunsParam,
  utcDatetime,
} from './run-statements.js';

/** A run as OUTCOME_ROWS_FOR_UPDATE reads it. */
interface OutcomeRow extends Record<string, unknown> {
  id: number | string;
  task_id: string;
  state: RunState;
  runtime: number | string | null;
  updated_at: unknown;
}

const datetimeOrNull = (ms: number | null) => (ms === null ? null : utcDatetime(ms));

export class MysqlRunStore implements RunStore, RunHistory {
  constructor(private readonly db: MysqlDatabase) {}

  async pruneRuns(keepDays: number, maxRows: number, limit: number): Promise<number> {
    const [cap] = await this.db.query<{ id: number | string }>(RUN_CAP_ID, [maxRows]);
    return this.db.execute(PRUNE_RUNS, [Math.round(keepDays * 86_400), cap === undefined ? 0 : Number(cap.id), limit]);
  }

  async applyOutcomes(updates: readonly OutcomeUpdate[]): Promise<AppliedOutcome[]> {
    const folded = foldOutcomes(updates);
    if (folded.length === 0) return [];
    const rows = folded.map((u) => [
      u.taskId,
      u.state,
      u.afterRetry ? 1 : 0,
      datetimeOrNull(u.receivedAt),
      datetimeOrNull(u.startedAt),
      datetimeOrNull(u.finishedAt),
      u.runtime,
      u.worker,
      u.result,
      u.exceptionType,
      u.exceptionMessage,
      u.traceback,
    ]);
    const ids = folded.map((u) => u.taskId);
    // No UPDATE … RETURNING: lock and read the batch's rows, update, read them again. Every
    // updated row gets a new updated_at (UTC_TIMESTAMP(6), later than the locked value).
    return this.db.transaction(async (tx) => {
      const before = await tx.query<OutcomeRow>(OUTCOME_ROWS_FOR_UPDATE, [ids]);
      if (before.length === 0) return [];
      const changed = await tx.execute(APPLY_OUTCOMES, [JSON.stringify(rows), ids]);
      if (changed === 0) return [];
      const after = new Map((await tx.query<OutcomeRow>(OUTCOME_ROWS_FOR_UPDATE, [ids])).map((r) => [String(r.id), r]));
      const applied: AppliedOutcome[] = [];
      for (const old of before) {
        const now = after.get(String(old.id));
        if (now === undefined || String(now.updated_at) === String(old.updated_at)) continue;
        applied.push({
          taskId: now.task_id,
          state: now.state,
          previous: old.state,
          runtime: now.runtime === null ? null : Number(now.runtime),
        });
      }
      return applied;
    });
  }

  async openRuns(sentBefore: number, limit: number, afterId = 0): Promise<OpenRun[]> {
    const rows = await this.db.query<{ id: number | string; task_id: string; sent_at: string; state: RunState }>(
      OPEN_RUNS,
      [utcDatetime(sentBefore), afterId, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      taskId: r.task_id,
      sentAt: Date.parse(`${r.sent_at.replace(' ', 'T')}Z`),
      state: r.state,
    }));
  }

  async insertRuns(entries: readonly RunEntry[]): Promise<void> {
    if (entries.length > 0) await this.db.execute(INSERT_RUNS, [insertRunsParam(entries)]);
  }

  async listRuns(filter: RunFilter): Promise<RunRecordView[]> {
    const twice = (value: unknown) => [value, value];
    const common = [
      ...twice(filter.state ?? null),
      ...twice(filter.since === undefined ? null : utcDatetime(filter.since)),
      ...twice(filter.before ?? null),
      filter.limit,
    ];
    const rows =
      filter.periodicTaskId !== undefined
        ? await this.db.query<RunColumns>(LIST_TASK_RUNS, [filter.periodicTaskId, ...common])
        : await this.db.query<RunColumns>(LIST_RUNS, [...twice(filter.name ?? null), ...common]);
    return rows.map(runOf);
  }

  async periodicTaskIdOf(name: string): Promise<number | undefined> {
    const [row] = await this.db.query<{ id: number }>(TASK_ID_BY_NAME, [name]);
    return row === undefined ? undefined : Number(row.id);
  }

  async failingTasks(query: FailingQuery): Promise<FailingTask[]> {
    const asked = query.periodicTaskIds;
    if (asked !== undefined && asked.length === 0) return [];
    // First the tasks whose last decided run failed or was lost (an index probe each), then
    // the last K runs of those few.
    const candidates = (
      await this.db.query<{ periodic_task_id: number }>(
        failingCandidatesStatement(asked !== undefined),
        asked !== undefined ? [asked] : [],
      )
    ).map((row) => Number(row.periodic_task_id));
    if (candidates.length === 0) return [];
    const k = Math.max(1, Math.floor(query.lastK));
    const rows = await this.db.query<FailingColumns>(failingTasksStatement(true), [candidates, k, k]);
    return rows.map(failingOf);
  }
}
