// BeatStore on PostgreSQL and PGlite: the statements of statements.ts, with their rows
// turned into the store's plain values (times as epoch ms).
import type { Database } from '../database.js';
import type { BeatStore, Change, ChangeFeedStart, Fence, LeaseGrant, RunRecord, ScheduleIds, TaskRow } from '../store.js';
import {
  ACQUIRE_LEASE,
  CHANGE_FEED_START,
  DATABASE_CLOCK,
  DISABLE_TASKS,
  INSTALLATION_ID,
  LOAD_BY_IDS,
  LOAD_ENABLED_PAGE,
  PRUNE_CHANGES,
  READ_CHANGES_AFTER,
  RECORD_RUNS,
  RELEASE_LEASE,
  TASKS_OF_SCHEDULES,
} from './statements.js';

/** The channel the change triggers of migrations/0003 notify. */
const CHANGE_CHANNEL = 'dbbeat_change';

/** A task row as the driver returns it: times as Date. */
type DriverTaskRow = Omit<TaskRow, 'expires' | 'start_time' | 'last_run_at' | 'date_changed' | 'k_clocked_time'> & {
  expires: Date | null;
  start_time: Date | null;
  last_run_at: Date | null;
  date_changed: Date;
  k_clocked_time: Date | null;
};

export class PostgresStore implements BeatStore {
  constructor(private readonly db: Pick<Database, 'query' | 'listen'>) {}

  async loadEnabledPage(afterId: number, limit: number): Promise<TaskRow[]> {
    return taskRows(await this.db.query<DriverTaskRow>(LOAD_ENABLED_PAGE, [afterId, limit]));
  }

  async loadByIds(ids: readonly number[]): Promise<TaskRow[]> {
    return taskRows(await this.db.query<DriverTaskRow>(LOAD_BY_IDS, [ids]));
  }

  async recordRuns(records: readonly RunRecord[], fence: Fence): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(RECORD_RUNS, [
      records.map((r) => r.id),
      records.map((r) => new Date(r.lastRunAt)),
      records.map((r) => r.runs),
      records.map((r) => r.disable),
      fence.name,
      fence.token,
    ]);
    return rows.map((row) => row.id);
  }

  async disableTasks(ids: readonly number[], fence: Fence): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(DISABLE_TASKS, [ids, fence.name, fence.token]);
    return rows.map((row) => row.id);
  }

  async acquireLease(name: string, holder: string, ttlSeconds: number): Promise<LeaseGrant | null> {
    const [row] = await this.db.query<{ token: string; seconds_left: number }>(ACQUIRE_LEASE, [name, holder, ttlSeconds]);
    return row === undefined ? null : { token: row.token, secondsLeft: row.seconds_left };
  }

  async releaseLease(name: string, holder: string, token: string): Promise<void> {
    await this.db.query(RELEASE_LEASE, [name, holder, token]);
  }

  async databaseClock(): Promise<number> {
    const [row] = await this.db.query<{ clock: Date }>(DATABASE_CLOCK);
    return row!.clock.getTime();
  }

  async installationId(): Promise<string | null> {
    const [row] = await this.db.query<{ id: string }>(INSTALLATION_ID);
    return row?.id ?? null;
  }

  async changeFeedStart(recentSeconds: number): Promise<ChangeFeedStart> {
    const [row] = await this.db.query<{ top: number; missing: number[] }>(CHANGE_FEED_START, [recentSeconds]);
    return { top: row?.top ?? 0, missing: row?.missing ?? [] };
  }

  async readChanges(after: number, holes: readonly number[]): Promise<Change[]> {
    const rows = await this.db.query<{ id: number; table_name: string; row_id: number }>(READ_CHANGES_AFTER, [after, holes]);
    return rows.map((row) => ({ id: row.id, table: row.table_name, rowId: row.row_id }));
  }

  async tasksOfSchedules(ids: ScheduleIds): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(TASKS_OF_SCHEDULES, [ids.crontab, ids.interval, ids.solar, ids.clocked]);
    return rows.map((row) => row.id);
  }

  async pruneChanges(keepSeconds: number): Promise<void> {
    await this.db.query(PRUNE_CHANGES, [keepSeconds]);
  }

  watchChanges(onChange: () => void): Promise<() => Promise<void>> {
    return this.db.listen(CHANGE_CHANNEL, () => onChange());
  }
}

function taskRows(rows: DriverTaskRow[]): TaskRow[] {
  // Rewritten in place: a page of 5,000 rows is not copied.
  for (const row of rows as unknown as Record<string, unknown>[]) {
    for (const column of TIME_COLUMNS) {
      const value = row[column];
      if (value instanceof Date) row[column] = value.getTime();
    }
  }
  return rows as unknown as TaskRow[];
}

const TIME_COLUMNS = ['expires', 'start_time', 'last_run_at', 'date_changed', 'k_clocked_time'] as const;
