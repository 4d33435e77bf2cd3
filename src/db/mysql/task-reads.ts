// The task reads of the MySQL / MariaDB store: the load's pages and the reload of tasks by
// id, their rows turned into the store's plain values (times as epoch ms, read in the
// database's naive-time zone; flags as booleans).
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
import type { KnownSchedule, TaskPage, TaskRow } from '../store.js';
import type { MysqlDatabase } from './connection.js';
import type { NaiveTimeZone } from './naive-time.js';
import {
  CLOCKEDS_BY_IDS,
  CRONTABS_BY_IDS,
  INTERVALS_BY_IDS,
  LOAD_BY_IDS,
  LOAD_ENABLED_TASKS_PAGE,
  SOLARS_BY_IDS,
} from './statements.js';

const TIME_COLUMNS = ['expires', 'start_time', 'last_run_at', 'date_changed', 'k_clocked_time'] as const;
const FLAG_COLUMNS = ['one_off', 'enabled'] as const;

/** BeatStore's loadEnabledPage and loadByIds on MySQL / MariaDB. */
export class MysqlTaskReads {
  private readonly times: NaiveTimeZone;

  constructor(private readonly db: MysqlDatabase) {
    this.times = db.naiveTimes;
  }

  async loadEnabledPage(afterId: number, limit: number, known?: KnownSchedule): Promise<TaskPage> {
    // Rows as arrays, each made into one object here, times and flags converted as it is
    // built: named rows rewritten in place change shape (text to number, 0/1 to boolean)
    // on every row of a load.
    const rows = await this.db.queryArrays(LOAD_ENABLED_TASKS_PAGE, [afterId, limit]);
    const tasks = rows.map((row) => this.ownTaskRow(row));
    const ids = scheduleIdsOf(tasks, known);
    if (noIds(ids)) return { tasks, schedules: noScheduleRows() };
    const read = <Row extends Record<string, unknown>>(sql: string, list: number[]): Promise<Row[]> =>
      list.length === 0 ? Promise.resolve([]) : this.db.query<Row>(sql, [list]);
    const [crontab, interval, solar, clocked] = await Promise.all([
      read<CrontabRow & Record<string, unknown>>(CRONTABS_BY_IDS, ids.crontab),
      read<IntervalRow & Record<string, unknown>>(INTERVALS_BY_IDS, ids.interval),
      read<SolarRow & Record<string, unknown>>(SOLARS_BY_IDS, ids.solar),
      read<ClockedRow & Record<string, unknown>>(CLOCKEDS_BY_IDS, ids.clocked),
    ]);
    // clocked_time is the naive text Django wrote: as epoch ms, like the task's times.
    for (const row of clocked as unknown as Record<string, unknown>[]) {
      if (typeof row.clocked_time === 'string') row.clocked_time = this.times.toEpochMs(row.clocked_time);
    }
    return { tasks, schedules: { crontab, interval, solar, clocked } };
  }

  async loadByIds(ids: readonly number[]): Promise<TaskRow[]> {
    if (ids.length === 0) return [];
    return this.taskRows(await this.db.query(LOAD_BY_IDS, [ids]));
  }

  /** One row of LOAD_ENABLED_TASKS_PAGE (columns in OWN_COLUMNS's order) as an OwnTaskRow. */
  private ownTaskRow(row: unknown[]): OwnTaskRow {
    // The driver's values (text as strings, integers as numbers, DATETIMEs as naive text),
    // typed as the columns are; the row resolver checks each, as it checks named rows.
    return {
      id: row[0] as number,
      name: row[1] as string,
      task: row[2] as string,
      args: row[3] as string,
      kwargs: row[4] as string,
      headers: row[5] as string,
      queue: row[6] as string | null,
      exchange: row[7] as string | null,
      routing_key: row[8] as string | null,
      priority: row[9] as number | null,
      expires: this.time(row[10]),
      expire_seconds: row[11] as number | null,
      one_off: flag(row[12]),
      start_time: this.time(row[13]),
      enabled: flag(row[14]),
      last_run_at: this.time(row[15]),
      total_run_count: row[16] as number,
      date_changed: this.time(row[17]) as number,
      crontab_id: row[18] as number | null,
      interval_id: row[19] as number | null,
      solar_id: row[20] as number | null,
      clocked_id: row[21] as number | null,
    };
  }

  /** A DATETIME's naive text as epoch ms; any other value (null) as it is. */
  private time(value: unknown): number | null {
    return typeof value === 'string' ? this.times.toEpochMs(value) : (value as null);
  }

  /** Task rows with their times as epoch ms and their flags as booleans (in place). */
  private taskRows(rows: Record<string, unknown>[]): TaskRow[] {
    // Rewritten in place: a page of 5,000 rows is not copied.
    for (const row of rows) {
      for (const column of TIME_COLUMNS) {
        const value = row[column];
        if (typeof value === 'string') row[column] = this.times.toEpochMs(value);
      }
      for (const column of FLAG_COLUMNS) row[column] = flag(row[column]);
    }
    return rows as unknown as TaskRow[];
  }
}

/** A TINYINT(1) flag as a boolean. */
function flag(value: unknown): boolean {
  return value === 1 || value === true;
}
