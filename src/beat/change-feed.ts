import type { Database } from '../schema/database.js';
import { CHANGE_FEED_START, PRUNE_CHANGES, READ_CHANGES_AFTER, TASKS_OF_SCHEDULES } from './sql.js';

/**
 * How long a hole in the change-log ids is waited for. Ids come from a sequence, so a
 * hole is a change whose transaction has not committed yet (it will show up) or was
 * rolled back (it never will).
 */
const GAP_GRACE_MS = 10_000;
/** Change-log rows older than this are deleted by the leader. */
const KEEP_CHANGES_MS = 60 * 60 * 1000;

const SCHEDULE_TABLES = {
  django_celery_beat_crontabschedule: 0,
  django_celery_beat_intervalschedule: 1,
  django_celery_beat_solarschedule: 2,
  django_celery_beat_clockedschedule: 3,
} as const;

/**
 * Reads what changed since the last look from the change log that the database
 * triggers write (any writer: our client, raw SQL, Django), and turns it into the ids
 * of the tasks to reload. Nothing here reads the whole task table, and each change is
 * read once: the feed keeps a floor below which every change id was handled, and
 * waits a while for the holes above it (transactions that commit out of id order).
 */
export class ChangeFeed {
  private floor = 0;
  private maxSeen = 0;
  /** Handled ids above the floor. */
  private readonly seen = new Set<number>();
  /** Missing ids just above the floor, and when they were first noticed. */
  private readonly gapNoticed = new Map<number, number>();
  private started = false;

  constructor(private readonly db: Pick<Database, 'query'>) {}

  /**
   * Starts the feed before a full load: every change visible now is covered by that
   * load, so it is taken as handled. Older rows set the floor; recent ones are kept as
   * seen, so a transaction still in flight with a lower id is still noticed.
   */
  async startNow(): Promise<void> {
    const [row] = await this.db.query<{ floor: number; recent: number[] }>(CHANGE_FEED_START, [GAP_GRACE_MS / 1000]);
    this.floor = row?.floor ?? 0;
    this.seen.clear();
    this.gapNoticed.clear();
    this.maxSeen = this.floor;
    for (const id of row?.recent ?? []) this.markSeen(id);
    this.advanceFloor(Date.now());
    this.started = true;
  }

  /** Task ids touched by changes not seen before (tasks edited, or whose schedule was). */
  async changedTaskIds(): Promise<number[]> {
    if (!this.started) await this.startNow();
    const rows = await this.db.query<{ id: number; table_name: string; row_id: number }>(READ_CHANGES_AFTER, [this.floor]);
    const taskIds = new Set<number>();
    const scheduleIds: number[][] = [[], [], [], []];
    for (const row of rows) {
      if (this.seen.has(row.id)) continue;
      this.markSeen(row.id);
      if (row.table_name === 'django_celery_beat_periodictask') {
        taskIds.add(row.row_id);
      } else if (row.table_name in SCHEDULE_TABLES) {
        scheduleIds[SCHEDULE_TABLES[row.table_name as keyof typeof SCHEDULE_TABLES]]!.push(row.row_id);
      }
    }
    this.advanceFloor(Date.now());
    if (scheduleIds.some((ids) => ids.length > 0)) {
      const users = await this.db.query<{ id: number }>(TASKS_OF_SCHEDULES, scheduleIds);
      for (const { id } of users) taskIds.add(id);
    }
    return [...taskIds];
  }

  /** Deletes change-log rows that no reader needs any more. */
  async prune(): Promise<void> {
    await this.db.query(PRUNE_CHANGES, [KEEP_CHANGES_MS / 1000]);
  }

  private markSeen(id: number): void {
    if (id <= this.floor) return;
    this.seen.add(id);
    if (id > this.maxSeen) this.maxSeen = id;
  }

  /** Moves the floor over handled ids, and over holes that outlived their grace. */
  private advanceFloor(now: number): void {
    for (;;) {
      const next = this.floor + 1;
      if (this.seen.delete(next)) {
        this.gapNoticed.delete(next);
        this.floor = next;
        continue;
      }
      if (next > this.maxSeen) return; // no hole: nothing above has been seen
      const noticed = this.gapNoticed.get(next) ?? now;
      this.gapNoticed.set(next, noticed);
      if (now - noticed < GAP_GRACE_MS) return;
      this.gapNoticed.delete(next); // rolled back: it will never come
      this.floor = next;
    }
  }
}
