// BeatStore on PostgreSQL and PGlite: the statements of statements.ts, with their rows
// turned into the store's plain values (times as epoch ms).
import type { Database } from '../database.js';
import {
  type BeatPresence,
  type BeatStore,
  type Change,
  type ChangeFeedStart,
  type Fence,
  type LeaseGrant,
  type RecordOutcome,
  type RowLockHolder,
  type RunEntry,
  type RunRecord,
  type ScheduleIds,
  type KnownSchedule,
  type TaskPage,
  type TaskRow,
} from '../store.js';
import {
  type ClockedRow,
  type CrontabRow,
  type IntervalRow,
  type OwnTaskRow,
  noIds,
  noScheduleRows,
  scheduleIdsOf,
  type SolarRow,
} from '../schedule-join.js';
import { readByRanges, SpanHint } from '../id-ranges.js';
import { booleanArray, numberArray } from './array-literal.js';
import { decodeOwnTaskRow, enabledTasksCopy } from './enabled-tasks-copy.js';
import { INSERT_RUNS, insertRunsParams } from './run-statements.js';
import type { SchemaObjectStatus } from '../schema-objects.js';
import { inspectPostgresSchema } from './schema-objects.js';
import {
  ACQUIRE_LEASE,
  CHANGE_FEED_START,
  DATABASE_CLOCK,
  DISABLE_TASKS,
  INSTALLATION_ID,
  LOAD_BY_IDS,
  LOAD_ENABLED_TASKS_RANGE,
  SCHEDULES_BY_IDS,
  PRUNE_CHANGES,
  READ_CHANGES_AFTER,
  RECORD_RUNS,
  RELEASE_LEASE,
  ROW_LOCK_HOLDERS,
  TABLES_WITHOUT_STATISTICS,
  TASKS_OF_SCHEDULES,
  NEXT_ENABLED_TASK_ID,
  HEARTBEAT,
  REMOVE_BEAT,
} from './statements.js';

/** The channel the change triggers of migrations/0003 notify. */
const CHANGE_CHANNEL = 'dbbeat_change';

export class PostgresStore implements BeatStore {
  /** How wide a page's range of ids is, from the pages read before (performance only). */
  private readonly span = new SpanHint();

  constructor(private readonly db: Pick<Database, 'query' | 'listen' | 'copyOut'>) {}

  async ensureStatistics(): Promise<string[]> {
    const tables = (await this.db.query<{ name: string }>(TABLES_WITHOUT_STATISTICS)).map((row) => row.name);
    // Names come from pg_class for a fixed list of our tables; quoted all the same.
    // A role that does not own a table gets a warning from ANALYZE, not an error.
    if (tables.length > 0)
      await this.db.query(`ANALYZE ${tables.map((name) => `"${name.replace(/"/g, '""')}"`).join(', ')}`);
    return tables;
  }

  async loadEnabledPage(afterId: number, limit: number, known?: KnownSchedule): Promise<TaskPage> {
    // Read by bounded ranges of ids: no sequential scan, with or without statistics.
    // A server's rows come by binary COPY (far less work per row on both sides, see
    // postgres/copy-out.ts); PGlite runs the query. Both give times as epoch ms.
    const copy = this.db.copyOut?.bind(this.db);
    const range = copy
      ? (after: number, upTo: number, rows: number) => copy(enabledTasksCopy(after, upTo, rows), decodeOwnTaskRow)
      : (after: number, upTo: number, rows: number) =>
          this.db.query<OwnTaskRow>(LOAD_ENABLED_TASKS_RANGE, [after, upTo, rows]);
    const next = async (after: number) =>
      (await this.db.query<{ next: number | null }>(NEXT_ENABLED_TASK_ID, [after]))[0]?.next ?? null;
    const tasks = await readByRanges(range, next, afterId, limit, this.span);
    const ids = scheduleIdsOf(tasks, known);
    if (noIds(ids)) return { tasks, schedules: noScheduleRows() };
    const [row] = await this.db.query<{
      c: CrontabRow[] | null;
      i: IntervalRow[] | null;
      s: SolarRow[] | null;
      k: ClockedRow[] | null;
    }>(SCHEDULES_BY_IDS, [ids.crontab, ids.interval, ids.solar, ids.clocked]);
    return {
      tasks,
      schedules: { crontab: row?.c ?? [], interval: row?.i ?? [], solar: row?.s ?? [], clocked: row?.k ?? [] },
    };
  }

  async loadByIds(ids: readonly number[]): Promise<TaskRow[]> {
    return this.db.query<TaskRow>(LOAD_BY_IDS, [ids]);
  }

  async recordRuns(records: readonly RunRecord[], fence: Fence): Promise<RecordOutcome> {
    // Whole ms, as a Date would hold them (its time value is truncated the same way).
    const [row] = await this.db.query<{ held: boolean; written: number[]; locked: number[] }>(RECORD_RUNS, [
      numberArray(records.map((r) => r.id)),
      numberArray(records.map((r) => Math.trunc(r.lastRunAt))),
      numberArray(records.map((r) => r.runs)),
      booleanArray(records.map((r) => r.disable)),
      fence.name,
      fence.token,
    ]);
    return { held: row?.held === true, written: row?.written ?? [], locked: row?.locked ?? [] };
  }

  async insertRuns(entries: readonly RunEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.query(INSERT_RUNS, insertRunsParams(entries));
  }

  inspectSchema(): Promise<SchemaObjectStatus[]> {
    return inspectPostgresSchema(this.db);
  }

  async rowLockHolders(ids: readonly number[]): Promise<RowLockHolder[]> {
    const rows = await this.db.query<{
      id: number;
      name: string;
      pid: number | null;
      application_name: string | null;
      client_addr: string | null;
      state: string | null;
      xact_start: Date | null;
      query: string | null;
    }>(ROW_LOCK_HOLDERS, [ids]);
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      pid: row.pid,
      application: row.application_name,
      client: row.client_addr,
      state: row.state,
      since: row.xact_start?.getTime() ?? null,
      query: row.query,
    }));
  }

  async disableTasks(ids: readonly number[], fence: Fence): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(DISABLE_TASKS, [ids, fence.name, fence.token]);
    return rows.map((row) => row.id);
  }

  async acquireLease(name: string, holder: string, ttlSeconds: number): Promise<LeaseGrant | null> {
    const [row] = await this.db.query<{ token: string; seconds_left: number; clock_ms: number }>(ACQUIRE_LEASE, [
      name,
      holder,
      ttlSeconds,
    ]);
    return row === undefined ? null : { token: row.token, secondsLeft: row.seconds_left, databaseNow: row.clock_ms };
  }

  async releaseLease(name: string, holder: string, token: string): Promise<void> {
    await this.db.query(RELEASE_LEASE, [name, holder, token]);
  }

  async heartbeat(beat: BeatPresence): Promise<void> {
    await this.db.query(HEARTBEAT, [
      beat.instance,
      beat.leaseName,
      beat.hostname,
      beat.pid,
      beat.version,
      beat.role,
      beat.leaseSeconds,
    ]);
  }

  async removeBeat(instance: string): Promise<void> {
    await this.db.query(REMOVE_BEAT, [instance]);
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
    const rows = await this.db.query<{ id: number; table_name: string; row_id: number; age_ms: number }>(
      READ_CHANGES_AFTER,
      [after, holes],
    );
    return rows.map((row) => ({ id: row.id, table: row.table_name, rowId: row.row_id, ageMs: row.age_ms }));
  }

  async tasksOfSchedules(ids: ScheduleIds): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(TASKS_OF_SCHEDULES, [
      ids.crontab,
      ids.interval,
      ids.solar,
      ids.clocked,
    ]);
    return rows.map((row) => row.id);
  }

  async pruneChanges(keepSeconds: number): Promise<void> {
    await this.db.query(PRUNE_CHANGES, [keepSeconds]);
  }

  watchChanges(onChange: () => void): Promise<() => Promise<void>> {
    return this.db.listen(CHANGE_CHANNEL, () => onChange());
  }
}
