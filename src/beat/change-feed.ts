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

/** Holes wider than this are a rolled-back bulk write, not changes still to come. */
const MAX_TRACKED_HOLE = 10_000;

/**
 * Reads what changed since the last look from the change log that the database
 * triggers write (any writer: our client, raw SQL, Django), and turns it into the ids
 * of the tasks to reload. Nothing here reads the whole task table, and each change is
 * read once: the feed reads above the highest id it has read, plus the holes below it
 * (ids taken by transactions that had not committed yet), each for a grace period.
 */
export class ChangeFeed {
  /** The highest change id read. */
  private top = 0;
  /** Ids below `top` not read yet, and when they were first missed. */
  private readonly holes = new Map<number, number>();
  private started = false;

  constructor(private readonly db: Pick<Database, 'query'>) {}

  /**
   * Starts the feed before a full load: every change visible now is covered by that
   * load. Ids missing among the recent ones belong to transactions still in flight:
   * they are read when they commit.
   */
  async startNow(): Promise<void> {
    const [row] = await this.db.query<{ top: number; missing: number[] }>(CHANGE_FEED_START, [GAP_GRACE_MS / 1000]);
    this.top = row?.top ?? 0;
    this.holes.clear();
    const now = Date.now();
    for (const id of row?.missing ?? []) this.holes.set(id, now);
    this.started = true;
  }

  /** Task ids touched by changes not read before (tasks edited, or whose schedule was). */
  async changedTaskIds(): Promise<number[]> {
    if (!this.started) await this.startNow();
    const rows = await this.db.query<{ id: number; table_name: string; row_id: number }>(READ_CHANGES_AFTER, [
      this.top,
      [...this.holes.keys()],
    ]);
    const now = Date.now();
    const taskIds = new Set<number>();
    const scheduleIds: number[][] = [[], [], [], []];
    let expected = this.top + 1;
    for (const row of rows) {
      if (row.id < expected) {
        this.holes.delete(row.id); // a late commit
      } else {
        if (row.id - expected <= MAX_TRACKED_HOLE) {
          for (let missing = expected; missing < row.id; missing += 1) this.holes.set(missing, now);
        }
        expected = row.id + 1;
      }
      if (row.table_name === 'django_celery_beat_periodictask') {
        taskIds.add(row.row_id);
      } else if (row.table_name in SCHEDULE_TABLES) {
        scheduleIds[SCHEDULE_TABLES[row.table_name as keyof typeof SCHEDULE_TABLES]]!.push(row.row_id);
      }
    }
    this.top = expected - 1;
    for (const [id, missedAt] of this.holes) {
      if (now - missedAt >= GAP_GRACE_MS) this.holes.delete(id); // rolled back: it will never come
    }
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
}
