// BeatStore on MySQL / MariaDB: the statements of statements.ts, with their rows turned into
// the store's plain values (times as epoch ms, read in the database's naive-time zone).
import type { SchemaObjectStatus } from '../schema-objects.js';
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
import type { MysqlDatabase } from './connection.js';
import type { NaiveTimeZone } from './naive-time.js';
import { MysqlLockHolders } from './lock-holders.js';
import { MysqlTaskReads } from './task-reads.js';
import { INSERT_RUNS, insertRunsParam } from './run-statements.js';
import { inspectMysqlSchema } from './schema-objects.js';
import {
  ACQUIRE_LEASE,
  CHANGE_FEED_START,
  CHANGE_LOG_MARK,
  CHECK_FENCE,
  DATABASE_CLOCK,
  DISABLE_TASKS,
  ENABLED_TASKS_FOR_UPDATE,
  EXISTING_TASKS,
  INSERT_LEASE,
  INSTALLATION_ID,
  LOCK_TASKS,
  PRUNE_CHANGES,
  READ_CHANGES_AFTER,
  READ_LEASE,
  RECORD_RUNS,
  RELEASE_LEASE,
  TASKS_OF_SCHEDULES,
  HEARTBEAT,
  PRUNE_BEATS,
  REMOVE_BEAT,
} from './statements.js';

/**
 * How often the change log is looked at, in ms. MySQL has no LISTEN/NOTIFY; this one
 * indexed query (CHANGE_LOG_MARK) is what stands in for it: 20 queries a second when idle.
 */
export const CHANGE_POLL_MS = 50;
/** How far below the highest id the watcher looks, so a late commit in a hole is seen too. */
const WATCH_WINDOW = 1000;

/** Stands in for an empty list in `IN (?)`: matches no row. */
const NONE = [null];
const listOrNone = (ids: readonly number[]): readonly (number | null)[] => (ids.length === 0 ? NONE : ids);

export class MysqlStore implements BeatStore {
  private readonly times: NaiveTimeZone;
  private readonly reads: MysqlTaskReads;
  private readonly lockHolders: MysqlLockHolders;

  constructor(private readonly db: MysqlDatabase) {
    this.times = db.naiveTimes;
    this.reads = new MysqlTaskReads(db);
    this.lockHolders = new MysqlLockHolders(db);
  }

  loadEnabledPage(afterId: number, limit: number, known?: KnownSchedule): Promise<TaskPage> {
    return this.reads.loadEnabledPage(afterId, limit, known);
  }

  loadByIds(ids: readonly number[]): Promise<TaskRow[]> {
    return this.reads.loadByIds(ids);
  }

  /**
   * Records runs under the fence: CHECK_FENCE takes a shared lock on the lease row (a
   * locking read, so it sees the lease as it stands now, not the transaction's snapshot,
   * and no takeover commits before this write does). Task rows locked by another
   * transaction are skipped (LOCK_TASKS, SKIP LOCKED) and returned as `locked`.
   */
  async recordRuns(records: readonly RunRecord[], fence: Fence): Promise<RecordOutcome> {
    if (records.length === 0) return { held: true, written: [], locked: [] };
    return this.db.transaction(async (tx) => {
      if ((await tx.query(CHECK_FENCE, [fence.name, fence.token])).length === 0)
        return { held: false, written: [], locked: [] };
      const ids = [...new Set(records.map((r) => r.id))];
      const mine = new Set((await tx.query<{ id: number }>(LOCK_TASKS, [ids])).map((row) => row.id));
      const writable = records.filter((r) => mine.has(r.id));
      if (writable.length > 0) {
        const runs = JSON.stringify(
          writable.map((r) => [r.id, this.times.fromEpochMs(r.lastRunAt), r.runs, r.disable ? 1 : 0]),
        );
        await tx.execute(RECORD_RUNS, [runs, [...mine]]);
      }
      if (mine.size === ids.length) return { held: true, written: ids, locked: [] };
      // Missing ids are deleted tasks (dropped by the caller); existing ones not locked by us are held.
      const existing = (await tx.query<{ id: number }>(EXISTING_TASKS, [ids])).map((row) => row.id);
      return { held: true, written: [...mine], locked: existing.filter((id) => !mine.has(id)) };
    });
  }

  /** dbbeat's tables and triggers on this database, and whether each is there (schema-objects.ts). */
  inspectSchema(): Promise<SchemaObjectStatus[]> {
    return inspectMysqlSchema(this.db);
  }

  /** Who holds the row locks of these tasks (see lock-holders.ts). */
  rowLockHolders(ids: readonly number[]): Promise<RowLockHolder[]> {
    return this.lockHolders.of(ids);
  }

  async insertRuns(entries: readonly RunEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.execute(INSERT_RUNS, [insertRunsParam(entries)]);
  }

  async disableTasks(ids: readonly number[], fence: Fence): Promise<number[]> {
    if (ids.length === 0) return [];
    return this.db.transaction(async (tx) => {
      if ((await tx.query(CHECK_FENCE, [fence.name, fence.token])).length === 0) return [];
      const enabled = (await tx.query<{ id: number }>(ENABLED_TASKS_FOR_UPDATE, [ids])).map((row) => row.id);
      if (enabled.length > 0) await tx.execute(DISABLE_TASKS, [enabled]);
      return enabled;
    });
  }

  async acquireLease(name: string, holder: string, ttlSeconds: number): Promise<LeaseGrant | null> {
    const ttlMicros = Math.round(ttlSeconds * 1_000_000);
    return this.db.transaction(async (tx) => {
      let held = (await tx.execute(ACQUIRE_LEASE, [holder, holder, ttlMicros, name, holder])) > 0;
      if (!held) held = (await tx.execute(INSERT_LEASE, [name, holder, ttlMicros])) > 0;
      if (!held) return null;
      const [row] = await tx.query<{ token: string; seconds_left: number }>(READ_LEASE, [name]);
      // The database's clock with each renewal: the beat schedules by it (beat/database-clock.ts).
      const [clock] = await tx.query<{ clock: string }>(DATABASE_CLOCK);
      return row === undefined
        ? null
        : { token: row.token, secondsLeft: Number(row.seconds_left), databaseNow: parseClock(clock!.clock) };
    });
  }

  async releaseLease(name: string, holder: string, token: string): Promise<void> {
    await this.db.execute(RELEASE_LEASE, [name, holder, token]);
  }

  async heartbeat(beat: BeatPresence): Promise<void> {
    await this.db.execute(HEARTBEAT, [
      beat.instance,
      beat.leaseName,
      beat.hostname,
      beat.pid,
      beat.version,
      beat.role,
      beat.leaseSeconds,
    ]);
    await this.db.execute(PRUNE_BEATS, [beat.instance]);
  }

  async removeBeat(instance: string): Promise<void> {
    await this.db.execute(REMOVE_BEAT, [instance]);
  }

  async databaseClock(): Promise<number> {
    const [row] = await this.db.query<{ clock: string }>(DATABASE_CLOCK);
    return parseClock(row!.clock);
  }

  async installationId(): Promise<string | null> {
    const [row] = await this.db.query<{ id: string }>(INSTALLATION_ID);
    return row?.id ?? null;
  }

  async changeFeedStart(recentSeconds: number): Promise<ChangeFeedStart> {
    const rows = await this.db.query<{ top: number; gap_after: number | null; gap_before: number | null }>(
      CHANGE_FEED_START,
      [Math.round(recentSeconds * 1_000_000)],
    );
    const missing: number[] = [];
    for (const row of rows) {
      if (row.gap_after === null || row.gap_before === null) continue;
      for (let id = row.gap_after + 1; id < row.gap_before; id += 1) missing.push(id);
    }
    return { top: rows[0]?.top ?? 0, missing };
  }

  async readChanges(after: number, holes: readonly number[]): Promise<Change[]> {
    const rows = await this.db.query<{ id: number; table_name: string; row_id: number; age_ms: unknown }>(
      READ_CHANGES_AFTER,
      [after, listOrNone(holes)],
    );
    // The division gives a DECIMAL, which the driver hands over as text.
    return rows.map((row) => ({ id: row.id, table: row.table_name, rowId: row.row_id, ageMs: Number(row.age_ms) }));
  }

  async tasksOfSchedules(ids: ScheduleIds): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(TASKS_OF_SCHEDULES, [
      listOrNone(ids.crontab),
      listOrNone(ids.interval),
      listOrNone(ids.solar),
      listOrNone(ids.clocked),
    ]);
    return rows.map((row) => row.id);
  }

  async pruneChanges(keepSeconds: number): Promise<void> {
    await this.db.execute(PRUNE_CHANGES, [Math.round(keepSeconds * 1_000_000)]);
  }

  /**
   * Polls the change log every CHANGE_POLL_MS (one indexed query) and calls `onChange` when
   * it grew, or when a change committed late into a hole near the top. A failed poll is
   * retried on the next tick; the beat's own polling covers any longer outage.
   */
  async watchChanges(onChange: () => void): Promise<() => Promise<void>> {
    // The floor moves with the top, so the counted range stays small (an index range of
    // at most WATCH_WINDOW ids plus what arrived since the last look).
    const mark = async (floor: number) => {
      const [row] = await this.db.query<{ n: number; top: number }>(CHANGE_LOG_MARK, [floor]);
      return { floor, n: Number(row?.n ?? 0), top: Number(row?.top ?? 0) };
    };
    const [first] = await this.db.query<{ top: number }>(CHANGE_LOG_MARK, [0]);
    let last = await mark(Math.max(0, Number(first?.top ?? 0) - WATCH_WINDOW));
    let stopped = false;
    let running: Promise<void> | undefined;
    const timer = setInterval(() => {
      if (running !== undefined) return; // the last look has not answered yet
      running = (async () => {
        try {
          const now = await mark(last.floor);
          if (stopped || (now.top === last.top && now.n === last.n)) return;
          // Re-marked before telling: whatever this mark counts, the reader reads after it.
          last = await mark(Math.max(0, now.top - WATCH_WINDOW));
          if (!stopped) onChange();
        } catch {
          // The database is away: the next tick asks again.
        } finally {
          running = undefined;
        }
      })();
    }, CHANGE_POLL_MS);
    timer.unref();
    return async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    };
  }
}

/** DATABASE_CLOCK's UTC text ("2026-11-30 15:00:00.123456") as epoch ms. */
function parseClock(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}
