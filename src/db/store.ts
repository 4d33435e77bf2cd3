// What the beat asks of a database, one method per purpose, dialect-neutral: plain JS
// values in and out, times as epoch milliseconds. Each dialect implements it in its own
// folder (postgres/ serves PostgreSQL and PGlite); the beat never sees SQL.

import type { SchemaObjectStatus } from './schema-objects.js';

/**
 * A periodic task joined with its schedule row, as the beat reads it. Column names are
 * django-celery-beat's; schedule columns carry a prefix (c_ crontab, i_ interval,
 * s_ solar, k_ clocked). Checked against the task field list in model/fields.ts.
 */
// A type alias, not an interface, so that it fits Database.query's row constraint.
export type TaskRow = {
  id: number;
  name: string;
  task: string;
  args: string;
  kwargs: string;
  headers: string;
  queue: string | null;
  exchange: string | null;
  routing_key: string | null;
  priority: number | null;
  /** Epoch ms. */
  expires: number | null;
  expire_seconds: number | null;
  one_off: boolean;
  /** Epoch ms. */
  start_time: number | null;
  enabled: boolean;
  /** Epoch ms. */
  last_run_at: number | null;
  total_run_count: number;
  /** Epoch ms. */
  date_changed: number;
  crontab_id: number | null;
  c_minute: string | null;
  c_hour: string | null;
  c_day_of_week: string | null;
  c_day_of_month: string | null;
  c_month_of_year: string | null;
  c_timezone: string | null;
  interval_id: number | null;
  i_every: number | null;
  i_period: string | null;
  solar_id: number | null;
  s_event: string | null;
  s_latitude: number | null;
  s_longitude: number | null;
  clocked_id: number | null;
  /** Epoch ms. */
  k_clocked_time: number | null;
};

/** The schedule columns of a TaskRow (c_ crontab, i_ interval, s_ solar, k_ clocked). */
type ScheduleColumns =
  | 'c_minute'
  | 'c_hour'
  | 'c_day_of_week'
  | 'c_day_of_month'
  | 'c_month_of_year'
  | 'c_timezone'
  | 'i_every'
  | 'i_period'
  | 's_event'
  | 's_latitude'
  | 's_longitude'
  | 'k_clocked_time';

/** A task row as the join-free page query selects it: the task's own columns, times as epoch ms. */
export type OwnTaskRow = Omit<TaskRow, ScheduleColumns>;

/** One crontab row, as the schedule statement selects it (`id` plus TaskRow's c_ columns, unprefixed). */
export interface CrontabRow {
  id: number;
  minute: string;
  hour: string;
  day_of_week: string;
  day_of_month: string;
  month_of_year: string;
  timezone: string;
}
export interface IntervalRow {
  id: number;
  every: number;
  period: string;
}
export interface SolarRow {
  id: number;
  event: string;
  latitude: number;
  longitude: number;
}
export interface ClockedRow {
  id: number;
  /** Epoch ms. */
  clocked_time: number;
}

/** The schedule rows one page of tasks refers to. */
export interface ScheduleRows {
  crontab: readonly CrontabRow[];
  interval: readonly IntervalRow[];
  solar: readonly SolarRow[];
  clocked: readonly ClockedRow[];
}

/** Whether the caller already has schedule row `id` of `kind`. */
export type KnownSchedule = (kind: keyof ScheduleRows, id: number) => boolean;

/** One page of enabled tasks, and the schedule rows they refer to (joined by the beat, see ./schedule-join.ts). */
export interface TaskPage {
  tasks: OwnTaskRow[];
  schedules: ScheduleRows;
}

/** One run to record: the task's new last_run_at, whether it counts as a run, and whether to disable it. */
export interface RunRecord {
  id: number;
  /** Epoch ms. */
  lastRunAt: number;
  /** Added to total_run_count: 1 per sent run, 0 for a skipped one (records of one task merge). */
  runs: number;
  /** One-off tasks are disabled after their run. */
  disable: boolean;
}

/**
 * One row of run history (dbbeat_run) as the beat writes it: a run sent, or skipped by the
 * starting deadline. Its outcome (events, result backend) is filled in later.
 */
export interface RunEntry {
  periodicTaskId: number;
  periodicTaskName: string;
  /** The Celery task name. */
  task: string;
  /** The Celery task id; null for a skipped run. */
  taskId: string | null;
  /** Epoch ms of the slot; null for a manual run. */
  scheduledAt: number | null;
  /** Epoch ms. */
  sentAt: number;
  /** sentAt minus scheduledAt, ms; null for a manual run. */
  lateMs: number | null;
  /** The broker URL without its password. */
  broker: string;
  /** The queue the message was routed to (null: unknown). */
  queue: string | null;
  manual: boolean;
  state: 'SENT' | 'SKIPPED';
}

/** late_ms as dbbeat_run's int column holds it: whole ms, at most 2^31 - 1 (about 24 days). */
export function lateMsColumn(lateMs: number | null): number | null {
  return lateMs === null ? null : Math.min(Math.round(lateMs), 2 ** 31 - 1);
}

/** The lease a fenced write checks: it writes only while `token` still holds lease `name`. */
export interface Fence {
  name: string;
  token: string;
}

/** A lease this process holds. */
export interface LeaseGrant {
  /** The fencing token (a decimal integer as text). */
  token: string;
  /** Seconds until it lapses, by the database's clock. */
  secondsLeft: number;
  /** The database's clock when it answered, epoch ms (the beat schedules by it). */
  databaseNow: number;
}

/** What a fenced recordRuns did. */
export interface RecordOutcome {
  /** The fence held; false: the lease is gone (or another token holds it) and nothing was written. */
  held: boolean;
  /** Ids written. */
  written: number[];
  /** Ids of existing rows that another transaction had locked: not written, not waited for. */
  locked: number[];
}

/** Who holds a task row's lock, as far as the database can tell. */
export interface RowLockHolder {
  id: number;
  name: string;
  /** The blocking session's process id; null when the database cannot tell. */
  pid: number | null;
  application: string | null;
  client: string | null;
  /** e.g. "idle in transaction". */
  state: string | null;
  /** When its transaction began, epoch ms. */
  since: number | null;
  /** Its current (or last) statement, cut to 200 characters. */
  query: string | null;
}

/** A row lock whose holder the database could not tell: only the task's id and name (`#id` when unknown). */
export function unknownLockHolder(id: number, name = `#${id}`): RowLockHolder {
  return { id, name, pid: null, application: null, client: null, state: null, since: null, query: null };
}

/** One row of the change log (dbbeat_change). */
export interface Change {
  id: number;
  /** django-celery-beat's table name, e.g. django_celery_beat_periodictask. */
  table: string;
  rowId: number;
  /** Ms from the change's write to its read, by the database's clock (metrics). */
  ageMs?: number;
}

/** Where a change feed starts: the highest change id, and the ids missing among the recent ones. */
export interface ChangeFeedStart {
  top: number;
  missing: number[];
}

/** Ids of schedule rows, by kind. */
export interface ScheduleIds {
  crontab: number[];
  interval: number[];
  solar: number[];
  clocked: number[];
}

/** One running beat as it records itself (dbbeat_beat), so the console lists standbys too. */
export interface BeatPresence {
  /** Unique per process: the lease holder string ("host:pid:random"). */
  instance: string;
  leaseName: string;
  hostname: string;
  pid: number;
  version: string;
  role: 'leader' | 'standby';
  /** The lease's time to live: a row unseen for a few of these is a beat that died. */
  leaseSeconds: number;
}

/** The beat's statements. One object per database; safe to share within a process. */
export interface BeatStore {
  /**
   * Gathers planner statistics on the task, schedule and change-log tables where they are
   * missing or far behind the table (right after a bulk insert), so that the plans of the
   * reads after the load (the change feed's, before every batch) do not depend on luck. The
   * load's own reads must not need them: the beat runs this beside its load. Returns the
   * tables analysed. Optional: a dialect whose plans need no statistics leaves it out.
   */
  ensureStatistics?(): Promise<string[]>;
  /**
   * Up to `limit` enabled tasks with id > `afterId`, in id order (keyset pagination), with
   * the schedule rows they use (joinSchedules gives the TaskRows loadByIds would give),
   * except those `known` says the caller has already (read with an earlier page).
   */
  loadEnabledPage(afterId: number, limit: number, known?: KnownSchedule): Promise<TaskPage>;
  /** The tasks with these ids, enabled or not (missing ones are absent). */
  loadByIds(ids: readonly number[]): Promise<TaskRow[]>;
  /**
   * Records runs the broker accepted (one record per task id), in one statement, only
   * while `fence` holds when the write is made (not merely when it was sent: a write that
   * waited is checked against the lease as it is then); a leader that lost its lease
   * writes nothing. Rows locked by another transaction are skipped, never waited for.
   */
  recordRuns(records: readonly RunRecord[], fence: Fence): Promise<RecordOutcome>;
  /**
   * Adds run-history rows (dbbeat_run) in one statement. A task id already there (a re-send
   * after a crash, or by a former leader) is left alone. Not fenced: every row is a run that
   * was sent (or skipped).
   */
  insertRuns(entries: readonly RunEntry[]): Promise<void>;
  /** Disables tasks (expired ones), fenced as recordRuns, skipping locked rows. Returns the ids disabled. */
  disableTasks(ids: readonly number[], fence: Fence): Promise<number[]>;
  /** dbbeat's own objects (tables, triggers, functions) and whether each is there. */
  inspectSchema(): Promise<SchemaObjectStatus[]>;
  /** Who holds the row locks of these tasks (for the log line of a held record). */
  rowLockHolders(ids: readonly number[]): Promise<RowLockHolder[]>;
  /**
   * Takes or renews lease `name` for `holder` by the database's clock: a holder renews its
   * own lease (same token), anyone takes a lapsed one with the next token. Null: someone
   * else holds it.
   */
  acquireLease(name: string, holder: string, ttlSeconds: number): Promise<LeaseGrant | null>;
  /** Lets the lease lapse now, if `holder` still holds it with `token`. */
  releaseLease(name: string, holder: string, token: string): Promise<void>;
  /**
   * Records that this beat is alive (seen_at = the database's clock; started_at kept from
   * its first heartbeat) and deletes rows of other beats unseen for an hour. One statement
   * on PostgreSQL.
   */
  heartbeat(beat: BeatPresence): Promise<void>;
  /** Deletes this beat's heartbeat row (on a clean stop). */
  removeBeat(instance: string): Promise<void>;
  /** The database's clock, epoch ms. */
  databaseClock(): Promise<number>;
  /** This database's random id (dbbeat_installation), mixed into task ids; null before migrations. */
  installationId(): Promise<string | null>;
  /** The change log's highest id, and the ids missing among changes of the last `recentSeconds`. */
  changeFeedStart(recentSeconds: number): Promise<ChangeFeedStart>;
  /** Changes with id > `after` or among `holes`, in id order. */
  readChanges(after: number, holes: readonly number[]): Promise<Change[]>;
  /** Ids of the tasks that use any of these schedules. */
  tasksOfSchedules(ids: ScheduleIds): Promise<number[]>;
  /** Deletes change-log rows older than `keepSeconds`. */
  pruneChanges(keepSeconds: number): Promise<void>;
  /**
   * Calls `onChange` as soon as the change log grows (PostgreSQL: LISTEN/NOTIFY). Where the
   * database cannot tell, it never calls: polling covers it. Returns a function that stops.
   */
  watchChanges(onChange: () => void): Promise<() => Promise<void>>;
}
